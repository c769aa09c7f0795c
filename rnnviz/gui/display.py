"""Before the window opens: is there a display Qt can use? Qt itself aborts the process
(exit 134, several lines about platform plugins) when there is none, or when the X11 (xcb)
libraries its plugin needs are missing; :func:`display_problem` finds both first and says, in
one line, what is missing."""

from __future__ import annotations

import ctypes
import os
import re
import sys
from pathlib import Path

HEADLESS_HINT = "'rnnviz export' writes figures and data without one"


def display_problem(environ: dict[str, str] | None = None) -> str | None:
    """What keeps the window from opening, in one line, or None when a display looks usable.

    Only Linux's X11 (xcb) path is checked: another platform plugin chosen with
    ``QT_QPA_PLATFORM`` (offscreen, wayland, ...) is left to Qt."""
    env = os.environ if environ is None else environ
    if not sys.platform.startswith("linux"):
        return None
    platform = env.get("QT_QPA_PLATFORM", "").split(":")[0].strip()
    if platform and platform != "xcb":
        return None
    display = env.get("DISPLAY", "")
    if not display:
        if env.get("WAYLAND_DISPLAY") and not platform:
            return None  # Qt picks its Wayland plugin
        return "no display to open the window on (DISPLAY is not set)"
    missing = missing_xcb_library()
    if missing is not None:
        return (f"the X11 libraries Qt needs are missing ({missing}; on Debian or Ubuntu: "
                "apt install libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1)")
    if not can_connect(display):
        return f"cannot connect to the display {display!r} (is the X server running?)"
    return None


def missing_xcb_library() -> str | None:
    """The first shared library Qt's xcb platform plugin cannot load, or None."""
    plugin = _xcb_plugin()
    if plugin is None:
        return None
    try:
        ctypes.CDLL(str(plugin))
    except OSError as exc:
        return missing_library_name(str(exc)) or "a library of its xcb plugin"
    return None


def missing_library_name(message: str) -> str | None:
    """The library a loader error names ("libxcb-cursor.so.0: cannot open shared object
    file: ..." -> "libxcb-cursor.so.0")."""
    match = re.search(r"(lib[\w.+-]+\.so[\w.]*): cannot open shared object file", message)
    return match.group(1) if match else None


def can_connect(display: str) -> bool:
    """Whether an X connection to ``display`` can be made (True when libxcb cannot be
    loaded to try: then Qt says what is wrong)."""
    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        return True
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(display.encode(), None)
    try:
        return connection is not None and xcb.xcb_connection_has_error(connection) == 0
    finally:
        if connection is not None:
            xcb.xcb_disconnect(connection)


def _xcb_plugin() -> Path | None:
    try:
        import PySide6
    except ImportError:
        return None
    for folder in PySide6.__path__:
        plugin = Path(folder) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        if plugin.is_file():
            return plugin
    return None
