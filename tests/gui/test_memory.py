"""The allocator tuning that keeps recomputes from page-faulting takes effect on Linux."""

import sys

from rnnviz.gui.memory import reuse_freed_memory


def test_reuse_freed_memory_applies_on_linux():
    assert reuse_freed_memory() is sys.platform.startswith("linux")
