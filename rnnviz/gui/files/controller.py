"""Files in the app: New, Open, Open Recent, Open Sample, Open Demo, Save, Save As, trained
weights, drag and drop and the window title's unsaved-changes marker.

Every question to the user goes through a :class:`~rnnviz.gui.files.prompts.Prompts` object,
so tests (and embedders) can answer without a modal loop. The question about unsaved changes is
asked with a callback: the default dialog is window-modal but does not block, so closing a
window never hangs.

Opening a session (or a sample, a demo, New) replaces the document and clears the undo
history; opening a sequence or weights into the current document is one undoable edit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from importlib.resources import files as resource_files
from pathlib import Path

from PySide6.QtCore import QEvent, QEventLoop, QObject
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication, QMenu

from rnnviz.gui.files.prompts import DISCARD, SAVE, Prompts
from rnnviz.gui.files.recent import RecentFiles
from rnnviz.gui.files.recovery import Autosave
from rnnviz.io.errors import FileFormatError
from rnnviz.io.lesson_file import LESSON_SUFFIX
from rnnviz.io.opener import file_kind, open_file
from rnnviz.io.session_file import SESSION_SUFFIX, save_session
from rnnviz.io.weights import SAVE_SUFFIXES, save_weights, weight_prefixes
from rnnviz.jobs import FunctionJob
from rnnviz.session import Document, ViewState
from rnnviz.session.demos import DEMOS, load_demo

UNTITLED = "untitled"
OPEN_SLOT = "open"


@dataclass
class _Opening:
    """Files being opened, in order: ``index`` the next one; ``ok`` None until done."""

    paths: list[str]
    interactive: bool
    kind: str | None
    index: int = 0
    ok: bool | None = None


@dataclass
class _Read:
    """What a reading job found: the kind of file and the document it gives (or, for weights
    holding several RNNs, their prefixes to choose from), read onto ``document``."""

    kind: str
    opened: object
    prefixes: list[str]
    document: Document
SAMPLE_SUFFIX = SESSION_SUFFIX

OPEN_FILTER = (
    "Sessions, sequences, weights and lessons (*.rnnviz *.csv *.tsv *.txt *.npy *.npz "
    "*.safetensors *.pt *.pth *.toml);;Sessions (*.rnnviz);;Sequences (*.csv *.tsv *.txt *.npy "
    "*.npz);;Weights (*.npz *.safetensors *.pt *.pth);;Lessons (*.toml);;All files (*)"
)
SESSION_FILTER = "rnnviz sessions (*.rnnviz)"
WEIGHTS_FILTER = "Weights (*.npz *.safetensors *.pt *.pth);;All files (*)"
SAVE_WEIGHTS_FILTER = "NumPy archive (*.npz);;safetensors (*.safetensors)"


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


class FileController(QObject):
    """The File menu's commands, drag and drop, the title and autosave of ``window`` (a
    :class:`~rnnviz.gui.main_window.MainWindow`)."""

    def __init__(self, window, prompts: Prompts | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.prompts = prompts or Prompts()
        self.recent = RecentFiles(window.settings.store)
        self._may_close = False
        self._opening: _Opening | None = None
        self._in_close_event = False
        self._close_answer: bool | None = None
        self.autosave = Autosave(self)
        window.setAcceptDrops(True)
        window.installEventFilter(self)
        window.session.dirty_changed.connect(self._dirty_changed)
        self.update_title()

    @property
    def session(self):
        return self.window.session

    # ---- submenus (filled each time they open) -----------------------------------------------
    def fill_recent_menu(self, menu: QMenu) -> None:
        """File → Open Recent, first dropping files that are gone (with a message)."""
        gone = self.recent.prune()
        if gone:
            names = ", ".join(Path(p).name for p in gone)
            self.window.show_message(f"removed from Open Recent (no longer found): {names}")
        menu.clear()
        for path in self.recent.paths():
            act = menu.addAction(Path(path).name)
            act.setToolTip(path)
            act.setStatusTip(path)
            act.triggered.connect(lambda _=False, p=path: self.open_recent(p))
        if menu.isEmpty():
            menu.addAction("(none)").setEnabled(False)

    def fill_sample_menu(self, menu: QMenu) -> None:
        """File → Open Sample: the bundled sample sessions."""
        menu.clear()
        for path in sample_paths():
            act = menu.addAction(path.stem)
            act.triggered.connect(lambda _=False, p=path: self.when_safe(
                partial(self.open_sample, p)))
        if menu.isEmpty():
            menu.addAction("(no samples installed)").setEnabled(False)

    def fill_demo_menu(self, menu: QMenu) -> None:
        """File → Open Demo: the built-in demos."""
        menu.clear()
        for name, demo in DEMOS.items():
            act = menu.addAction(f"{name}: {demo.description}".replace("&", "&&"))
            act.setData(name)
            act.triggered.connect(lambda _=False, n=name: self.when_safe(
                lambda: self.open_demo(n)))

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

    def shutdown(self) -> None:
        """A clean exit: stop autosaving and remove the autosave."""
        self.autosave.shutdown()

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
        w.reset_zoom()  # a new document: its whole time range, whatever was zoomed before
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
            return self.failed(f"cannot open sample {path.stem}: {_problem(exc, path)}")
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
            self.fill_recent_menu(self.window.actions["file.recent"].menu())
            return self.failed(
                f"cannot open {Path(path).name}: no such file (removed from Open Recent)",
                interactive=True,
            )
        return self.open_paths([path], interactive=True)

    def open_paths(
        self, paths: list[str], *, interactive: bool = False, kind: str | None = None,
        wait: bool = False,
    ) -> bool:
        """Open files in order: a session replaces the document (asking about unsaved changes
        first), sequences and weights apply to it as one undoable edit each. Stops at the first
        failure (a one-line message; the document stays as it was). ``kind`` forces how a file
        is read ("weights" for Load Weights).

        Files are read in a job of the window's runner (slot "open"), so the window keeps
        drawing however large a file is; the documents are applied on the GUI thread as each
        one is read. Returns at once (True: started) unless ``wait``, which runs the event
        loop until every file is dealt with and returns whether all were opened."""
        opening = _Opening(list(paths), interactive, kind)
        self._opening = opening
        self._open_next(opening)
        if wait:
            self.wait()
            return bool(opening.ok)
        return True

    @property
    def opening(self) -> bool:
        """Whether files are being read (a job in the "open" slot, or a question pending)."""
        return self._opening is not None and self._opening.ok is None

    def wait(self, timeout_s: float = 60.0) -> None:
        """Run the event loop until the files being opened are dealt with (for scripts and
        tests; the window keeps drawing meanwhile)."""
        deadline = time.monotonic() + timeout_s
        while self.opening and time.monotonic() < deadline:
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
            if self.window.runner.running(OPEN_SLOT):
                self.window.runner.wait(OPEN_SLOT, 20)

    def _open_next(self, opening: _Opening, prefix: str | None = None) -> None:
        if opening is not self._opening:
            return  # a newer open replaced this one
        if opening.index >= len(opening.paths):
            opening.ok = True
            return
        path = opening.paths[opening.index]
        if opening.kind is None and Path(path).suffix.lower() == LESSON_SUFFIX:
            # a lesson is the lessons' to open; it ends the list, as a session does
            lessons = getattr(self.window, "lessons", None)
            opening.ok = bool(lessons is not None and lessons.open_file(
                path, interactive=opening.interactive))
            return
        document = self.session.document
        model = self.session.view.model
        forced = opening.kind

        def read(ctx) -> _Read:
            this_kind = forced or file_kind(path)
            if this_kind == "weights" and prefix is None:
                prefixes = weight_prefixes(path)
                if len(prefixes) > 1:
                    return _Read(this_kind, None, prefixes, document)
            try:
                opened = open_file(path, document, prefix=prefix, expect=forced or (
                    this_kind if this_kind != "session" else None), model=model)
            except MemoryError:
                raise FileFormatError(f"{Path(path).name}: not enough memory to read it") \
                    from None
            return _Read(this_kind, opened, [], document)

        self.window.show_message(f"reading {Path(path).name}…")
        self.window.runner.start(
            OPEN_SLOT, FunctionJob(f"reading {Path(path).name}", read),
            done=lambda result: self._read(opening, path, result),
            failed=lambda message: self._finish_failed(
                opening, f"cannot open {Path(path).name}: {_problem(message, path)}"))

    def _read(self, opening: _Opening, path: str, result: _Read) -> None:
        if opening is not self._opening:
            return
        name = Path(path).name
        if result.prefixes:  # several RNNs in one file: which one?
            prefix = self.prompts.choose_prefix(self.window, name, result.prefixes)
            if prefix is None:
                self.window.show_message(f"{name}: not loaded")
                opening.ok = False
                return
            self._open_next(opening, prefix)
            return
        opened = result.opened
        if result.kind == "session":
            def replace() -> None:
                self.replace_document(opened.document, opened.view, str(Path(path).absolute()))
                self.recent.add(path)
                self.window.show_message(opened.message)
                opening.index += 1
                self._open_next(opening)

            self.when_safe(replace, lambda: setattr(opening, "ok", False))
            return
        if self.session.document is not result.document:
            self._open_next(opening)  # the document changed while reading: read onto it
            return
        label = "load weights" if opened.kind == "weights" else "import sequence"
        self.window.editor.apply(opened.document, f"{label} {name}")
        self.recent.add(path)
        self.window.show_message(opened.message)
        opening.index += 1
        self._open_next(opening)

    def _finish_failed(self, opening: _Opening, message: str) -> None:
        if opening is not self._opening:
            return
        opening.ok = False
        self.failed(message, opening.interactive)

    def failed(self, message: str, interactive: bool = True) -> bool:
        """Report a failure (status bar, and a box when ``interactive``); returns False."""
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
            return self.failed(f"cannot save {Path(path).name}: {_problem(reason, path)}")
        self.session.mark_saved(path)
        self.recent.add(path)
        self.update_title()
        self.autosave.clear()
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
            return self.failed(f"cannot save {Path(path).name}: {_problem(reason, path)}")
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

def _local_paths(event: QEvent) -> list[str]:
    if not isinstance(event, QDropEvent):  # drag enter and move events are drop events too
        return []
    mime = event.mimeData()
    if mime is None or not mime.hasUrls():
        return []
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]
