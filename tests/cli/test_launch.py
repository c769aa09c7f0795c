"""``rnnviz`` without a usable display: one line saying what is missing and that ``rnnviz
export`` works without one, exit status 2 (not Qt's abort)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from rnnviz.gui import display


def launch(**env_changes) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(env_changes)
    code = "import sys; from rnnviz.cli import main; sys.exit(main([]))"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the X11 check is Linux's")
def test_without_a_display_rnnviz_says_so_in_one_line():
    done = launch()
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "DISPLAY is not set" in lines[0] and "rnnviz export" in lines[0]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the X11 check is Linux's")
def test_an_unreachable_display_is_one_line_too():
    done = launch(DISPLAY=":987")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    missing = display.missing_xcb_library()
    if missing is None:
        assert "cannot connect to the display ':987'" in lines[0]
    else:  # a machine without Qt's X11 libraries is told that first, in the same one line
        assert missing in lines[0] and "apt install" in lines[0]


def test_missing_xcb_libraries_are_named(monkeypatch):
    def refuse(path, *args, **kwargs):
        raise OSError(f"libxcb-cursor.so.0: cannot open shared object file: No such file or "
                      f"directory (needed by {path})")

    monkeypatch.setattr(display.sys, "platform", "linux")
    monkeypatch.setattr(display, "_xcb_plugin", lambda: "/x/libqxcb.so")
    monkeypatch.setattr(display.ctypes, "CDLL", refuse)
    problem = display.display_problem({"DISPLAY": ":0"})
    assert "libxcb-cursor.so.0" in problem and "apt install" in problem
    assert "\n" not in problem


def test_other_platforms_are_left_to_qt():
    assert display.display_problem({"QT_QPA_PLATFORM": "offscreen"}) is None
    assert display.display_problem({"WAYLAND_DISPLAY": "wayland-0"}) is None or \
        not sys.platform.startswith("linux")
    assert display.missing_library_name("libfoo.so.3: cannot open shared object file") == \
        "libfoo.so.3"
