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

from collections.abc import Callable
from functools import partial
from importlib.resources import files as resource_files
from pathlib import Path

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMenu

from rnnviz.gui.files.prompts import DISCARD, SAVE, Prompts
from rnnviz.gui.files.recent import RecentFiles
from rnnviz.gui.files.recovery import Autosave
from rnnviz.io.errors import FileFormatError
from rnnviz.io.opener import file_kind, open_file
from rnnviz.io.session_file import SESSION_SUFFIX, save_session
from rnnviz.io.weights import SAVE_SUFFIXES, save_weights, weight_prefixes
from rnnviz.session import Document, ViewState
from rnnviz.session.demos import DEMOS, load_demo

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
                return self.failed(
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
            return self.failed(
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
                prefixes = weight_prefixes(path)
                if len(prefixes) > 1:
                    prefix = self.prompts.choose_prefix(self.window, name, prefixes)
                    if prefix is None:
                        self.window.show_message(f"{name}: not loaded")
                        return False
            opened = open_file(path, self.session.document, prefix=prefix, expect=kind,
                               model=self.session.view.model)
        except (FileFormatError, OSError, ValueError) as exc:
            return self.failed(f"cannot open {name}: {_problem(exc, path)}", interactive)
        label = "load weights" if opened.kind == "weights" else "import sequence"
        self.window.editor.apply(opened.document, f"{label} {name}")
        self.recent.add(path)
        self.window.show_message(opened.message)
        return True

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
