"""Files in the app: New, Open, Open Recent, Open Sample, Save, Save As, trained weights,
drag and drop, the window title's unsaved-changes marker, autosave and crash recovery.

Every question to the user goes through a :class:`Prompts` object, so tests (and embedders) can
answer without a modal loop. The question about unsaved changes is asked with a callback: the
default dialog is window-modal but does not block, so closing a window never hangs.

Opening a session (or a sample, a demo, New) replaces the document and clears the undo
history; opening a sequence or weights into the current document is one undoable edit.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from importlib.resources import files as resource_files
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSettings, QStandardPaths, QTimer
from PySide6.QtGui import QAction, QDropEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMainWindow, QMenu, QMessageBox

from rnnviz.io.autosave import AutosaveStore, RecoveryInfo
from rnnviz.io.errors import FileFormatError
from rnnviz.io.opener import file_kind, open_file
from rnnviz.io.session_file import SESSION_SUFFIX, save_session
from rnnviz.io.weights import (
    SAVE_SUFFIXES,
    find_rnn_prefixes,
    read_weight_arrays,
    save_weights,
)
from rnnviz.session import Document, ViewState
from rnnviz.session.demos import DEMOS, load_demo

AUTOSAVE_ENV = "RNNVIZ_AUTOSAVE_DIR"
AUTOSAVE_MS = 5000
MAX_RECENT = 10
RECENT_KEY = "files/recent"
UNTITLED = "untitled"
SAMPLE_SUFFIX = SESSION_SUFFIX

OPEN_FILTER = (
    "Sessions, sequences and weights (*.rnnviz *.csv *.tsv *.txt *.npy *.npz *.safetensors "
    "*.pt *.pth);;Sessions (*.rnnviz);;Sequences (*.csv *.tsv *.txt *.npy *.npz);;"
    "Weights (*.npz *.safetensors *.pt *.pth);;All files (*)"
)
SESSION_FILTER = "rnnviz sessions (*.rnnviz)"
WEIGHTS_FILTER = "Weights (*.npz *.safetensors *.pt *.pth);;All files (*)"
SAVE_WEIGHTS_FILTER = "NumPy archive (*.npz);;safetensors (*.safetensors)"

# Answers to "save changes?"
SAVE, DISCARD, CANCEL = "save", "discard", "cancel"


def autosave_dir() -> Path:
    """Where the autosave lives: ``$RNNVIZ_AUTOSAVE_DIR`` if set, else ``<app data>/autosave``."""
    forced = os.environ.get(AUTOSAVE_ENV, "").strip()
    if forced:
        return Path(forced)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".rnnviz") / "autosave"


def sample_paths() -> list[Path]:
    """The bundled sample sessions (``rnnviz.resources/samples/*.rnnviz``), sorted by name."""
    try:
        folder = resource_files("rnnviz.resources") / "samples"
        entries = list(folder.iterdir()) if folder.is_dir() else []
    except (ModuleNotFoundError, OSError):
        return []
    return sorted(
        (Path(str(e)) for e in entries if e.name.endswith(SAMPLE_SUFFIX)), key=lambda p: p.name
    )


def _problem(exc: BaseException, path: str | Path) -> str:
    """``exc`` as one line, without a leading "<file name>: " (the caller names the file)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text.removeprefix(f"{Path(path).name}: ")


# ------------------------------------------------------------------------------------ prompts


class Prompts:
    """The questions the file commands ask, as dialogs. Replace (subclass) to answer them
    without dialogs; every method gets the window as the dialogs' parent."""

    def unsaved_changes(self, window: QMainWindow, name: str, answer: Callable[[str], None]):
        """Ask whether to save ``name`` first; call ``answer`` with SAVE, DISCARD or CANCEL.
        The dialog is window-modal and returns at once (``answer`` runs when it closes)."""
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Unsaved changes",
            f"Save the changes to {name}?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            window,
        )
        box.setInformativeText("Your changes are lost if you don't save them.")
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        box.setEscapeButton(QMessageBox.StandardButton.Cancel)
        choices = {
            QMessageBox.StandardButton.Save: SAVE,
            QMessageBox.StandardButton.Discard: DISCARD,
        }

        def finished(_result: int) -> None:
            answer(choices.get(box.standardButton(box.clickedButton()), CANCEL))
            box.deleteLater()

        box.finished.connect(finished)
        box.open()

    def recover(self, window: QMainWindow, info: RecoveryInfo) -> bool:
        """Offer the autosave of a session that did not exit cleanly: True = recover."""
        name = Path(info.original_path).name if info.original_path else "an untitled session"
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Recover unsaved work?",
            f"rnnviz did not close properly. Recover the unsaved changes to {name}, "
            f"autosaved {info.saved_at:%Y-%m-%d %H:%M}?",
            parent=window,
        )
        recover = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(recover)
        box.setEscapeButton(recover)  # dismissing the box must not throw work away
        box.exec()
        return box.clickedButton() is recover

    def choose_prefix(self, window: QMainWindow, file_name: str, prefixes: list[str]) -> str | None:
        """Pick one of several RNNs in a weights file (None = cancel)."""
        shown = [p or "(no prefix)" for p in prefixes]
        item, ok = QInputDialog.getItem(
            window,
            "Choose the RNN",
            f"{file_name} holds several RNNs; show which one?",
            shown,
            0,
            False,
        )
        return prefixes[shown.index(item)] if ok and item in shown else None

    def open_paths(self, window: QMainWindow, title: str, file_filter: str) -> list[str]:
        paths, _ = QFileDialog.getOpenFileNames(window, title, "", file_filter)
        return list(paths)

    def save_path(
        self, window: QMainWindow, title: str, suggested: str, file_filter: str
    ) -> str | None:
        path, _ = QFileDialog.getSaveFileName(window, title, suggested, file_filter)
        return path or None

    def warn(self, window: QMainWindow, text: str) -> None:
        """Show a one-line failure (a window-modal box that does not block)."""
        box = QMessageBox(QMessageBox.Icon.Warning, "rnnviz", text, parent=window)
        box.finished.connect(box.deleteLater)
        box.open()


# ---------------------------------------------------------------------------------- recent files


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


# ---------------------------------------------------------------------------------- controller


class FileController(QObject):
    """The File menu's commands, drag and drop, the title and autosave of ``window`` (a
    :class:`~rnnviz.gui.main_window.MainWindow`)."""

    def __init__(self, window, prompts: Prompts | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.prompts = prompts or Prompts()
        self.recent = RecentFiles(window.settings.store)
        self.store: AutosaveStore | None = None
        self._autosaved: tuple[Document, ViewState] | None = None
        self._may_close = False
        self._in_close_event = False
        self._close_answer: bool | None = None

        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(AUTOSAVE_MS)
        self.autosave_timer.timeout.connect(self.autosave_now)

        self._build_menu()
        window.setAcceptDrops(True)
        window.installEventFilter(self)
        window.session.dirty_changed.connect(self._dirty_changed)
        self.update_title()

    @property
    def session(self):
        return self.window.session

    # ---- menu --------------------------------------------------------------------------------
    def _build_menu(self) -> None:
        w = self.window
        menu: QMenu = w.file_menu
        anchor = w.file_menu_end

        def action(text: str, slot, shortcut=None) -> QAction:
            act = QAction(text, w)
            act.triggered.connect(lambda _=False: slot())
            if shortcut is not None:
                act.setShortcut(QKeySequence(shortcut))
            menu.insertAction(anchor, act)
            return act

        self.new_action = action("&New", self.new, QKeySequence.StandardKey.New)
        self.open_action = action("&Open…", self.open_dialog, QKeySequence.StandardKey.Open)
        self.recent_menu = QMenu("Open &Recent", w)
        self.recent_menu.aboutToShow.connect(self.fill_recent_menu)
        menu.insertMenu(anchor, self.recent_menu)
        self.sample_menu = QMenu("Open &Sample", w)
        self.sample_actions: dict[str, QAction] = {}
        for path in sample_paths():
            act = self.sample_menu.addAction(path.stem)
            act.triggered.connect(partial(self._sample_chosen, path))
            self.sample_actions[path.stem] = act
        if not self.sample_actions:
            self.sample_menu.addAction("(no samples installed)").setEnabled(False)
        menu.insertMenu(anchor, self.sample_menu)
        demos = QMenu("Open &Demo", w)
        w.demo_actions = {}
        for name, demo in DEMOS.items():
            act = demos.addAction(f"{name}: {demo.description}")
            act.triggered.connect(lambda _=False, n=name: self.when_safe(lambda: w.open_demo(n)))
            w.demo_actions[name] = act
        menu.insertMenu(anchor, demos)
        menu.insertSeparator(anchor)
        self.save_action = action("&Save", self.save, QKeySequence.StandardKey.Save)
        self.save_as_action = action("Save &As…", self.save_as, QKeySequence("Ctrl+Shift+S"))
        menu.insertSeparator(anchor)
        self.load_weights_action = action("&Load Weights…", self.load_weights_dialog)
        self.save_weights_action = action("Save &Weights…", self.save_weights_dialog)
        self.fill_recent_menu()

    def _sample_chosen(self, path: Path, _checked: bool = False) -> None:
        self.when_safe(partial(self.open_sample, path))

    def fill_recent_menu(self) -> None:
        """Rebuild Open Recent, first dropping files that are gone (with a message)."""
        gone = self.recent.prune()
        if gone:
            names = ", ".join(Path(p).name for p in gone)
            self.window.show_message(f"removed from Open Recent (no longer found): {names}")
        self.recent_menu.clear()
        for path in self.recent.paths():
            act = self.recent_menu.addAction(Path(path).name)
            act.setToolTip(path)
            act.setStatusTip(path)
            act.triggered.connect(lambda _=False, p=path: self.open_recent(p))
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("(none)").setEnabled(False)

    # ---- title -------------------------------------------------------------------------------
    def display_name(self) -> str:
        path = self.session.path
        return Path(path).name if path else UNTITLED

    def update_title(self) -> None:
        """``name[*] — rnnviz``; Qt shows the ``*`` while there are unsaved changes."""
        self.window.setWindowTitle(f"{self.display_name()}[*] — rnnviz")
        self.window.setWindowModified(self.session.dirty)

    def _dirty_changed(self, dirty: bool) -> None:
        self.window.setWindowModified(dirty)
        if dirty and self.store is not None and not self.autosave_timer.isActive():
            self.autosave_timer.start()

    # ---- unsaved changes ---------------------------------------------------------------------
    def when_safe(
        self, action: Callable[[], object], otherwise: Callable[[], object] | None = None
    ) -> bool:
        """Run ``action`` once unsaved changes are saved or discarded (asking first), else
        ``otherwise``. True when ``action`` ran now; False when cancelled or still waiting for
        the answer."""
        if not self.session.dirty:
            action()
            return True
        done: list[bool] = []

        def answer(choice: str) -> None:
            ok = choice == DISCARD or (choice == SAVE and self.save())
            done.append(ok)
            if ok:
                action()
            elif otherwise is not None:
                otherwise()

        self.prompts.unsaved_changes(self.window, self.display_name(), answer)
        return bool(done and done[0])

    def may_close(self) -> bool:
        """For ``closeEvent``: True when the window may close now (no unsaved changes, or the
        user saved or discarded them); otherwise the question is asked and, if the answer
        comes later and allows it, the window is closed again."""
        if self._may_close or not self.session.dirty:
            return True
        self._in_close_event, self._close_answer = True, None
        try:
            # closeEvent stopped the computation; it resumes when the window stays open
            self.when_safe(self._close_after_answer, self.window.compute.request)
        finally:
            self._in_close_event = False
        return bool(self._close_answer)

    def _close_after_answer(self) -> None:
        self._may_close = True
        if self._in_close_event:
            self._close_answer = True
        else:
            self.window.close()

    # ---- replacing the document --------------------------------------------------------------
    def replace_document(
        self, document: Document, view: ViewState | None, path: str | None, *, saved: bool = True
    ) -> None:
        """Make ``document`` the open document (undo history cleared). ``saved``: it is what is
        in ``path`` (or a fresh document); False for a recovered one, which must be saved."""
        w = self.window
        w.player.stop()
        self.session.set_document(document)
        self.session.set_view(view or ViewState())
        if saved:
            self.session.mark_saved()
        self.session.path = path
        w.editor.reset()
        self.update_title()

    def new(self) -> bool:
        """File → New: the sine demo, untitled (asks about unsaved changes first)."""
        return self.when_safe(lambda: self.open_demo("sine"))

    def open_demo(self, name: str) -> None:
        self.replace_document(load_demo(name), None, None)
        self.window.show_message(f"demo “{name}”: {DEMOS[name].description}")

    def open_sample(self, path: Path) -> bool:
        """A bundled sample, as an untitled document (Save asks where to keep it)."""
        try:
            opened = open_file(path, self.session.document)
        except (FileFormatError, OSError) as exc:
            return self._failed(f"cannot open sample {path.stem}: {_problem(exc, path)}")
        self.replace_document(opened.document, opened.view, None)
        self.window.show_message(f"sample “{path.stem}”")
        return True

    # ---- opening files -----------------------------------------------------------------------
    def open_dialog(self) -> None:
        paths = self.prompts.open_paths(self.window, "Open", OPEN_FILTER)
        if paths:
            self.open_paths(paths, interactive=True)

    def load_weights_dialog(self) -> None:
        paths = self.prompts.open_paths(self.window, "Load weights", WEIGHTS_FILTER)
        if paths:
            self.open_paths(paths[:1], interactive=True, kind="weights")

    def open_recent(self, path: str) -> bool:
        if not Path(path).is_file():
            self.recent.remove(path)
            self.fill_recent_menu()
            return self._failed(
                f"cannot open {Path(path).name}: no such file (removed from Open Recent)",
                interactive=True,
            )
        return self.open_paths([path], interactive=True)

    def open_paths(
        self, paths: list[str], *, interactive: bool = False, kind: str | None = None
    ) -> bool:
        """Open files in order: a session replaces the document (asking about unsaved changes
        first), sequences and weights apply to it as one undoable edit each. Stops at the first
        failure (a one-line message; the document stays as it was). True when all were opened
        now. ``kind`` forces how a file is read ("weights" for Load Weights)."""
        for i, path in enumerate(paths):
            try:
                this_kind = kind or file_kind(path)
            except FileFormatError as exc:
                return self._failed(
                    f"cannot open {Path(path).name}: {_problem(exc, path)}", interactive
                )
            if this_kind == "session":
                return self._open_session_then(path, paths[i + 1 :], interactive)
            if not self._apply_file(path, this_kind, interactive):
                return False
        return True

    def _open_session_then(self, path: str, rest: list[str], interactive: bool) -> bool:
        """Open the session at ``path`` once unsaved changes are dealt with, then ``rest``."""
        opened: list[bool] = []

        def go() -> None:
            opened.append(
                self._open_session(path, interactive)
                and self.open_paths(rest, interactive=interactive)
            )

        self.when_safe(go)
        return bool(opened and opened[0])

    def _open_session(self, path: str, interactive: bool) -> bool:
        try:
            opened = open_file(path, self.session.document)
        except (FileFormatError, OSError) as exc:
            return self._failed(
                f"cannot open {Path(path).name}: {_problem(exc, path)}", interactive
            )
        self.replace_document(opened.document, opened.view, str(Path(path).absolute()))
        self.recent.add(path)
        self.window.show_message(opened.message)
        return True

    def _apply_file(self, path: str, kind: str, interactive: bool) -> bool:
        name = Path(path).name
        prefix = None
        try:
            if kind == "weights":
                prefixes = find_rnn_prefixes(read_weight_arrays(path))
                if len(prefixes) > 1:
                    prefix = self.prompts.choose_prefix(self.window, name, prefixes)
                    if prefix is None:
                        self.window.show_message(f"{name}: not loaded")
                        return False
            opened = open_file(path, self.session.document, prefix=prefix, expect=kind,
                               model=self.session.view.model)
        except (FileFormatError, OSError, ValueError) as exc:
            return self._failed(f"cannot open {name}: {_problem(exc, path)}", interactive)
        label = "load weights" if opened.kind == "weights" else "import sequence"
        self.window.editor.apply(opened.document, f"{label} {name}")
        self.recent.add(path)
        self.window.show_message(opened.message)
        return True

    def _failed(self, message: str, interactive: bool = True) -> bool:
        self.window.show_message(message)
        if interactive:
            self.prompts.warn(self.window, message)
        return False

    # ---- saving ------------------------------------------------------------------------------
    def save(self) -> bool:
        """File → Save (Save As when the document has no file yet). True when saved."""
        if not self.session.path:
            return self.save_as()
        return self.save_to(self.session.path)

    def save_as(self) -> bool:
        suggested = self.session.path or str(Path.cwd() / f"{UNTITLED}{SESSION_SUFFIX}")
        path = self.prompts.save_path(self.window, "Save session", suggested, SESSION_FILTER)
        if not path:
            return False
        if not path.lower().endswith(SESSION_SUFFIX):
            path += SESSION_SUFFIX
        return self.save_to(path)

    def save_to(self, path: str | Path) -> bool:
        """Save the session to ``path`` (atomically); on failure a message, still unsaved."""
        path = str(Path(path).absolute())
        try:
            save_session(path, self.session.document, self.session.view)
        except (FileFormatError, OSError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            return self._failed(f"cannot save {Path(path).name}: {_problem(reason, path)}")
        self.session.mark_saved(path)
        self.recent.add(path)
        self.update_title()
        if self.store is not None:
            self._clear_autosave()
        self.window.show_message(f"Saved {Path(path).name}")
        return True

    def save_weights_dialog(self) -> bool:
        stem = Path(self.session.path).stem if self.session.path else UNTITLED
        suggested = str(Path.cwd() / f"{stem}-weights.npz")
        path = self.prompts.save_path(self.window, "Save weights", suggested, SAVE_WEIGHTS_FILTER)
        if not path:
            return False
        if Path(path).suffix.lower() not in SAVE_SUFFIXES:
            path += SAVE_SUFFIXES[0]
        return self.save_weights_to(path)

    def save_weights_to(self, path: str | Path) -> bool:
        """Write the network's weights (PyTorch names) to an .npz or .safetensors file."""
        model = self.session.model
        try:
            save_weights(path, model.network().state_dict(), model.config.cell)
        except (FileFormatError, OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            return self._failed(f"cannot save {Path(path).name}: {_problem(reason, path)}")
        self.window.show_message(f"Saved the weights to {Path(path).name}")
        return True

    # ---- drag and drop -----------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if watched is self.window:
            if event.type() in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
                if _local_paths(event):
                    event.acceptProposedAction()
                    return True
            elif event.type() == QEvent.Type.Drop:
                paths = _local_paths(event)
                if paths:
                    event.acceptProposedAction()
                    self.window.activateWindow()
                    self.open_paths(paths, interactive=True)
                    return True
        return super().eventFilter(watched, event)

    # ---- autosave and recovery ---------------------------------------------------------------
    def start_autosave(self, directory: str | Path | None = None) -> bool:
        """Autosave into ``directory`` (default :func:`autosave_dir`) from now on, first
        offering to recover what a session that did not exit cleanly left there. True when a
        document was recovered."""
        self.store = AutosaveStore(directory if directory is not None else autosave_dir())
        recovered = False
        try:
            info = self.store.pending()
            if info is not None:
                if self.prompts.recover(self.window, info):
                    recovered = self._recover()
                else:
                    self.store.clear()
        except OSError as exc:
            self.window.show_message(f"autosave is off: {exc.strerror or exc}")
            self.store = None
            return False
        if self.session.dirty:
            self.autosave_timer.start()
        return recovered

    def _recover(self) -> bool:
        assert self.store is not None
        try:
            document, view, original = self.store.take()
        except FileFormatError as exc:
            return self._failed(str(exc))
        self.replace_document(document, view, original, saved=False)
        self.store.clear()
        self.window.show_message("Recovered the autosaved session: save it to keep it")
        return True

    def autosave_now(self) -> bool:
        """Write the autosave if there are unsaved changes not yet autosaved; True if written."""
        if self.store is None or not self.session.dirty:
            self.autosave_timer.stop()
            return False
        current = (self.session.document, self.session.view)
        last = self._autosaved
        if last is not None and last[0] is current[0] and last[1] is current[1]:
            return False
        try:
            written = self.store.write(*current, self.session.path)
        except (FileFormatError, OSError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            self.window.show_message(f"autosave failed: {' '.join(str(reason).split())}")
            return False
        if written:
            self._autosaved = current
        return written

    def _clear_autosave(self) -> None:
        assert self.store is not None
        self._autosaved = None
        try:
            self.store.clear()
        except OSError as exc:
            self.window.show_message(f"cannot remove the autosave: {exc.strerror or exc}")

    def shutdown(self) -> None:
        """A clean exit: stop autosaving and remove the autosave."""
        self.autosave_timer.stop()
        self.session.dirty_changed.disconnect(self._dirty_changed, missing_ok=True)
        if self.store is not None:
            self._clear_autosave()
            self.store.close()
            self.store = None


def _local_paths(event: QEvent) -> list[str]:
    if not isinstance(event, QDropEvent):  # drag enter and move events are drop events too
        return []
    mime = event.mimeData()
    if mime is None or not mime.hasUrls():
        return []
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]


def install(window, prompts: Prompts | None = None) -> FileController:
    """Add the file commands to ``window`` (its File menu must end with ``file_menu_end``)."""
    return FileController(window, prompts)


__all__ = [
    "AUTOSAVE_ENV",
    "CANCEL",
    "DISCARD",
    "SAVE",
    "FileController",
    "Prompts",
    "RecentFiles",
    "autosave_dir",
    "install",
    "sample_paths",
]
