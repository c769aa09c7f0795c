"""Persistent settings: window geometry and dock layout, playback speed.

Everything goes through one QSettings object so tests can pass their own (an INI file in a
temporary directory) and never touch the user's.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QDockWidget, QMainWindow

ORGANISATION = "rnnviz"
APPLICATION = "rnnviz"
# Bump when the arrangement of the docks changes, so old saved layouts are ignored. A layout
# saved with another set of docks is ignored in any case (see dock_names).
LAYOUT_VERSION = 1


def user_settings() -> QSettings:
    """The user's settings store."""
    return QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION
    )


def dock_names(window: QMainWindow) -> str:
    """The window's docks by object name, sorted, comma-separated (what a layout lays out)."""
    return ",".join(sorted(d.objectName() for d in window.findChildren(QDockWidget)))


class WindowSettings:
    """Reads and writes the window's persistent state in ``store``."""

    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store if store is not None else user_settings()

    def save_window(self, window: QMainWindow) -> None:
        self.store.setValue("window/geometry", window.saveGeometry())
        self.store.setValue("window/state", window.saveState(LAYOUT_VERSION))
        self.store.setValue("window/docks", dock_names(window))

    def restore_window(self, window: QMainWindow) -> bool:
        """Restore geometry and dock layout; False when nothing (usable) was saved."""
        geometry = self.store.value("window/geometry")
        state = self.store.value("window/state")
        ok = False
        if isinstance(geometry, QByteArray | bytes) and geometry:
            ok = window.restoreGeometry(QByteArray(geometry))
        # a layout of other docks (saved before a panel was added) would leave the new ones
        # wherever Qt puts unknown docks, squeezing the plots: the default layout instead
        same_docks = self.store.value("window/docks") == dock_names(window)
        if isinstance(state, QByteArray | bytes) and state and same_docks:
            ok = window.restoreState(QByteArray(state), LAYOUT_VERSION) and ok
        else:
            ok = False
        return ok

    def forget_layout(self) -> None:
        self.store.remove("window/state")
        self.store.remove("window/geometry")
        self.store.remove("window/docks")

    def value(self, key: str, default: object, kind: type) -> object:
        """A stored option converted to ``kind`` (the default when missing or malformed)."""
        raw = self.store.value(key, default)
        try:
            if kind is bool:
                return raw if isinstance(raw, bool) else str(raw).lower() in ("1", "true", "yes")
            return kind(raw)
        except (TypeError, ValueError):
            return default

    def set_value(self, key: str, value: object) -> None:
        self.store.setValue(key, value)

    def sync(self) -> None:
        self.store.sync()
