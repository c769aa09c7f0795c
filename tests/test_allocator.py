"""With the allocator tuned, a recompute's buffers are reused instead of page-faulted afresh."""

import subprocess
import sys

import pytest

PROBE = """
import resource, sys
import numpy as np
if sys.argv[1] == "tuned":
    from rnnviz.allocator import reuse_freed_memory
    assert reuse_freed_memory()
from rnnviz.engine import Network
net = Network(cell="lstm", input_size=2, hidden_size=128, seed=0)
x = np.random.default_rng(0).standard_normal((1000, 2))
g = np.ones((1000, 128))
def cycle():
    net.backward(net.forward(x), d_hidden=g)
cycle()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    cycle()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True,
                         check=True)
    return int(out.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator only")
def test_freed_buffers_are_reused_without_page_faults():
    plain, tuned = _faults("plain"), _faults("tuned")
    # ten recomputes of an LSTM, T=1000, H=128: thousands of faults each with glibc's defaults
    assert plain > 10 * 1000
    assert tuned < plain / 20
