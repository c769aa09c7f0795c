"""File → Open Recent: the most recently opened or saved files, kept in the settings."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

MAX_RECENT = 10
RECENT_KEY = "files/recent"



class RecentFiles:
    """The most recently opened or saved files (newest first, at most ``MAX_RECENT``), kept in
    ``store`` under ``files/recent``."""

    def __init__(self, store: QSettings) -> None:
        self.store = store

    def paths(self) -> list[str]:
        raw = self.store.value(RECENT_KEY, [])
        if isinstance(raw, str):  # an INI file gives a one-item list back as a string
            raw = [raw] if raw else []
        return [str(p) for p in raw or [] if isinstance(p, str) and p][:MAX_RECENT]

    def add(self, path: str | Path) -> None:
        path = str(Path(path).absolute())
        self._write([path] + [p for p in self.paths() if p != path])

    def remove(self, path: str) -> None:
        self._write([p for p in self.paths() if p != path])

    def prune(self) -> list[str]:
        """Drop files that no longer exist; returns the dropped paths."""
        kept, gone = [], []
        for p in self.paths():
            (kept if Path(p).is_file() else gone).append(p)
        if gone:
            self._write(kept)
        return gone

    def _write(self, paths: list[str]) -> None:
        self.store.setValue(RECENT_KEY, paths[:MAX_RECENT])
        self.store.sync()
