"""Autosave and crash recovery of the window's session.

While there are unsaved changes they are written every :data:`AUTOSAVE_MS` to an
:class:`~rnnviz.io.autosave.AutosaveStore` in the app's data folder. On start, what a session
that did not exit cleanly left there is offered back once. A clean exit, or a save, removes it.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QTimer

from rnnviz.io.autosave import AutosaveStore
from rnnviz.io.errors import FileFormatError
from rnnviz.session import Document, ViewState

AUTOSAVE_ENV = "RNNVIZ_AUTOSAVE_DIR"
AUTOSAVE_MS = 5000


def autosave_dir() -> Path:
    """Where the autosave lives: ``$RNNVIZ_AUTOSAVE_DIR`` if set, else ``<app data>/autosave``."""
    forced = os.environ.get(AUTOSAVE_ENV, "").strip()
    if forced:
        return Path(forced)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".rnnviz") / "autosave"


class Autosave(QObject):
    """Autosave and recovery for ``files`` (the window's
    :class:`~rnnviz.gui.files.controller.FileController`, whose prompts and document
    replacement it uses). ``store`` is None until :meth:`start` (and when autosave is off);
    ``timer`` fires the periodic writes."""

    def __init__(self, files) -> None:
        super().__init__(files)
        self.files = files
        self.window = files.window
        self.store: AutosaveStore | None = None
        self._written: tuple[Document, ViewState] | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(AUTOSAVE_MS)
        self.timer.timeout.connect(self.write_now)
        self.window.session.dirty_changed.connect(self._dirty_changed)

    @property
    def session(self):
        return self.window.session

    def _dirty_changed(self, dirty: bool) -> None:
        if dirty and self.store is not None and not self.timer.isActive():
            self.timer.start()

    def start(self, directory: str | Path | None = None) -> bool:
        """Autosave into ``directory`` (default :func:`autosave_dir`) from now on, first
        offering to recover what a session that did not exit cleanly left there. True when a
        document was recovered."""
        self.store = AutosaveStore(directory if directory is not None else autosave_dir())
        recovered = False
        try:
            info = self.store.pending()
            if info is not None:
                if self.files.prompts.recover(self.window, info):
                    recovered = self._recover()
                else:
                    self.store.clear()
        except OSError as exc:
            self.window.show_message(f"autosave is off: {exc.strerror or exc}")
            self.store = None
            return False
        if self.session.dirty:
            self.timer.start()
        return recovered

    def _recover(self) -> bool:
        assert self.store is not None
        try:
            document, view, original = self.store.take()
        except FileFormatError as exc:
            return self.files.failed(str(exc))
        # The recovered file stays until the recovered document is autosaved or saved.
        self.files.replace_document(document, view, original, saved=False)
        self.window.show_message("Recovered the autosaved session: save it to keep it")
        return True

    def write_now(self) -> bool:
        """Write the autosave if there are unsaved changes not yet autosaved; True if written."""
        if self.store is None or not self.session.dirty:
            self.timer.stop()
            return False
        current = (self.session.document, self.session.view)
        last = self._written
        if last is not None and last[0] is current[0] and last[1] is current[1]:
            return False
        try:
            written = self.store.write(*current, self.session.path)
        except (FileFormatError, OSError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            self.window.show_message(f"autosave failed: {' '.join(str(reason).split())}")
            return False
        if written:
            self._written = current
        return written

    def clear(self) -> None:
        """The work is saved: remove the autosave."""
        if self.store is None:
            return
        self._written = None
        try:
            self.store.clear()
        except OSError as exc:
            self.window.show_message(f"cannot remove the autosave: {exc.strerror or exc}")

    def shutdown(self) -> None:
        """A clean exit: stop autosaving and remove the autosave."""
        self.timer.stop()
        self.session.dirty_changed.disconnect(self._dirty_changed, missing_ok=True)
        if self.store is not None:
            self.clear()
            self.store.close()
            self.store = None
