"""Help → Lessons: guided lessons in a side panel whose "Show me" buttons set the app to what
each step talks about.

:class:`LessonController` (``window.lessons``) loads lesson files (:mod:`rnnviz.io.lesson_file`:
a malformed one is refused with a one-line message and nothing changes), checks the names a
lesson uses against this window (a step whose panel or command the window does not have keeps
its text but not its button, and opening the lesson says so in one line), and carries out a
step's "Show me": open a session, select a model and change its settings (one undoable edit),
move the view, set up the cell diagram, show panels, run commands, play.
"""

from __future__ import annotations

from dataclasses import replace
from importlib.resources import files as resource_files
from pathlib import Path

from PySide6.QtCore import QLocale, QObject
from PySide6.QtWidgets import QFileDialog, QMenu

from rnnviz.engine import EngineError
from rnnviz.gui.lesson_dock import LessonDock
from rnnviz.gui.panels.mathtext import MathSyntaxError, render_text
from rnnviz.gui.panels.registry import PANELS
from rnnviz.io.errors import FileFormatError
from rnnviz.io.lesson_file import (
    LESSON_SUFFIX,
    Lesson,
    LessonError,
    Show,
    load_lesson,
    sample_file,
    translated,
)
from rnnviz.io.opener import open_file
from rnnviz.session import Document, SessionError, ViewState
from rnnviz.session.demos import load_demo

DOCK = "lesson"
LESSON_FILTER = "Lessons (*.toml);;All files (*)"
_KEEP = 32  # documents remembered as the lesson's own (replaced without asking)


def bundled_lessons() -> list[Path]:
    """The lessons that come with rnnviz (``rnnviz.resources/lessons/*.toml``), in order."""
    try:
        folder = resource_files("rnnviz.resources") / "lessons"
        entries = list(folder.iterdir()) if folder.is_dir() else []
    except (ModuleNotFoundError, OSError):
        return []
    return sorted((Path(str(e)) for e in entries if e.name.endswith(LESSON_SUFFIX)),
                  key=lambda p: p.name)


def system_language() -> str:
    """The user's language code ("en", "zh", …) from the system locale."""
    name = QLocale.system().name()  # "zh_CN"
    return (name.split("_")[0] or "en").lower()


def missing_summary(problems: dict[int, str]) -> str:
    """One line for the steps that cannot be shown: "steps 5, 6: needs …"."""
    numbers = ", ".join(str(k + 1) for k in problems)
    reasons = list(dict.fromkeys(problems.values()))
    word = "step" if len(problems) == 1 else "steps"
    return f"{word} {numbers} cannot be shown: " + "; ".join(
        r.removeprefix("needs ").removesuffix(", which this version lacks") for r in reasons
    ) + " — not in this version"


def _settings_text(changes: dict) -> str:
    return ", ".join(f"{k} = {v}" for k, v in changes.items())


class LessonController(QObject):
    """The lessons of ``window``: ``lesson`` (the open one or None), ``current`` (the index
    of the step last shown, -1 for none), ``problems`` (step index -> what it needs that this
    window lacks), ``language``; the side panel ``dock_widget`` in the dock ``"lesson"``."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.lesson: Lesson | None = None
        self.current = -1
        self.problems: dict[int, str] = {}
        stored = window.settings.value("lessons/language", "", str)
        self.language = stored or system_language()
        self.dock_widget = LessonDock()
        self.dock_widget.show_requested.connect(self.show_step)
        self.dock_widget.language_requested.connect(self.set_language)
        self.dock = window.add_dock(DOCK, "Lesson", self.dock_widget)
        self.dock.toggleViewAction().toggled.connect(self._dock_toggled)
        self._own: list[Document] = []  # documents the lesson put there, newest last
        self._opened: dict[str, Document] = {}  # source -> the document it opened
        self._focus_hidden: list[str] = []

    # ---- menus -------------------------------------------------------------------------------
    def fill_menu(self, menu: QMenu) -> None:
        """Help → Lessons: the bundled lessons, then "Open lesson file…"."""
        menu.clear()
        for number, path in enumerate(bundled_lessons(), start=1):
            try:
                title = translated(load_lesson(path).title, self.language)
            except LessonError:
                continue
            act = menu.addAction(f"&{number}. {title.replace('&', '&&')}")
            act.setData(str(path))
            act.triggered.connect(lambda _=False, p=path: self.open_file(p))
        if not menu.isEmpty():
            menu.addSeparator()
        menu.addAction("Open lesson file…").triggered.connect(lambda _=False: self.open_dialog())

    def open_dialog(self) -> bool:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open lesson", "", LESSON_FILTER)
        return bool(path) and self.open_file(path)

    # ---- opening -----------------------------------------------------------------------------
    def check(self, lesson: Lesson) -> dict[int, str]:
        """What each step needs that this window does not have, as one line per step; and
        LessonError for text whose formulas cannot be typeset."""
        docks, actions = set(self.window.docks), set(self.window.actions)
        problems: dict[int, str] = {}
        for k, step in enumerate(lesson.steps):
            for lang, text in step.text.items():
                try:
                    render_text(text)
                except MathSyntaxError as exc:
                    raise LessonError(f"{lesson.path.name}: step {k + 1}: text.{lang}: "
                                      f"{exc}") from None
            if step.show is None:
                continue
            missing = [f"the panel “{p}”" for p in step.show.panels if p not in docks]
            missing += [f"the command “{a}”" for a in step.show.actions if a not in actions]
            if missing:
                problems[k] = f"needs {' and '.join(missing)}, which this version lacks"
        for lang, text in (*lesson.title.items(), *lesson.summary.items()):
            try:
                render_text(text)
            except MathSyntaxError as exc:
                raise LessonError(f"{lesson.path.name}: title or summary ({lang}): "
                                  f"{exc}") from None
        return problems

    def open_file(self, path: str | Path, interactive: bool = True) -> bool:
        """Load the lesson at ``path`` and start it (its session opens, asking about unsaved
        changes first). False with a one-line message, and nothing changed, when the file is
        not a usable lesson."""
        try:
            lesson = load_lesson(path)
            problems = self.check(lesson)
        except LessonError as exc:
            return self.window.files.failed(f"cannot open lesson {exc}", interactive)
        return self.start(lesson, problems)

    def start(self, lesson: Lesson, problems: dict[int, str] | None = None) -> bool:
        """Show ``lesson`` in the side panel and open its session. True when started now."""
        problems = self.check(lesson) if problems is None else problems

        def begin() -> None:
            self.lesson, self.problems, self.current = lesson, problems, -1
            self._opened = {}
            self._unfocus()
            panel = self.window.panels.get("diagram")
            if panel is not None:  # what an earlier lesson chose does not carry over
                panel.set_options(unit=0, colour_by_unit=False, show_gradients=False,
                                  show="both")
            self.dock_widget.accent = self.window.theme.cursor
            self.dock_widget.set_lesson(lesson, self.language, problems)
            self.dock.show()
            self.dock.raise_()
            name = translated(lesson.title, self.language)
            if problems:
                self.window.show_message(f"lesson “{name}”: {missing_summary(problems)}")
            else:
                self.window.show_message(f"lesson “{name}”: {len(lesson.steps)} steps")

        if lesson.session is None:
            begin()
            return True
        try:
            document, view = self._load(lesson.session, lesson)
        except FileFormatError as exc:
            return self.window.files.failed(f"cannot open lesson {lesson.path.name}: {exc}")
        started: list[bool] = []

        def go() -> None:
            self._install(lesson.session, document, view)
            begin()
            self._opened["lesson"] = document
            started.append(True)

        if self._own_document():
            go()  # what an earlier lesson put there (and changed): no question
        else:
            self.window.files.when_safe(go)
        return bool(started)

    def set_language(self, language: str) -> None:
        self.language = language
        self.window.settings.set_value("lessons/language", language)
        if self.lesson is not None:
            current = self.current
            self.dock_widget.set_lesson(self.lesson, language, self.problems)
            self.dock_widget.set_current(current)

    # ---- "Show me" ---------------------------------------------------------------------------
    def show_step(self, index: int) -> bool:
        """Set the app to what step ``index`` shows. True when done now; False (with a
        message) when the step needs what this window lacks, or is waiting for an answer
        about unsaved changes."""
        lesson = self.lesson
        if lesson is None or not 0 <= index < len(lesson.steps):
            return False
        if index in self.problems:
            self.window.show_message(f"step {index + 1} {self.problems[index]}")
            return False
        self.current = index
        self.dock_widget.set_current(index)
        show = lesson.steps[index].show
        if show is None:
            return True
        if show.open is None or self._showing(show.open):
            return self._apply(show)
        try:
            document, view = self._load(show.open, lesson)
        except FileFormatError as exc:
            self.window.show_message(f"step {index + 1}: {exc}")
            return False
        done: list[bool] = []

        def go() -> None:
            self._install(show.open, document, view)
            self._opened[show.open] = document
            done.append(self._apply(show))

        if self._own_document():
            go()  # the lesson's own document (maybe changed by earlier steps): no question
        else:
            self.window.files.when_safe(go)
        return bool(done and done[0])

    def _showing(self, source: str) -> bool:
        return self._opened.get(source) is self.window.session.document

    def _own_document(self) -> bool:
        """Whether the document is one a lesson opened or made by a "Show me", unchanged by
        the user since (replacing it loses nothing of theirs)."""
        document = self.window.session.document
        return any(d is document for d in self._own)

    def _remember(self, document: Document) -> None:
        self._own.append(document)
        del self._own[:-_KEEP]

    def _load(self, source: str, lesson: Lesson) -> tuple[Document, ViewState | None]:
        """The document (and saved view) that ``source`` names; FileFormatError otherwise."""
        if source == "lesson":
            if lesson.session is None:
                raise FileFormatError("the lesson has no session")
            return self._load(lesson.session, lesson)
        if source.startswith("demo:"):
            return load_demo(source.removeprefix("demo:")), None
        if source.startswith("sample:"):
            path = sample_file(source.removeprefix("sample:"))
            if path is None:
                raise FileFormatError(f"there is no sample {source.removeprefix('sample:')!r}")
        else:
            path = lesson.path.parent / source
        opened = open_file(path, self.window.session.document, expect="session")
        return opened.document, opened.view

    def _install(self, source: str, document: Document, view: ViewState | None) -> None:
        self.window.files.replace_document(document, view, None)
        self._remember(document)

    def _apply(self, show: Show) -> bool:
        """Carry out everything of ``show`` but opening a session."""
        w = self.window
        session = w.session
        view = dict(show.view)
        if "model" in view:
            session.set_view(model=view.pop("model"))
        if show.model:
            try:
                config = session.model.config.replace(**show.model)
                if config != session.model.config:
                    document = session.document.with_config(session.view.model, config)
                    w.editor.apply(document, f"lesson: {_settings_text(dict(show.model))}")
                    self._remember(document)
            except (EngineError, SessionError) as exc:
                w.show_message(f"cannot change the model: {exc}")
                return False
        if view.get("step") == "last":
            view["step"] = session.document.sequence.steps - 1
        if view:
            session.set_view(replace(session.view, **view))
        if show.diagram:
            d = show.diagram
            panel = w.panels.get("diagram")
            if panel is not None:
                colour = d.get("colour")
                panel.set_options(unit=d.get("unit"),
                                  colour_by_unit=None if colour is None else colour == "unit",
                                  show_gradients=d.get("gradients"), show=d.get("show"))
        if show.focus:
            self._focus(show.panels)
        else:
            self._unfocus()
        for key in show.panels:
            dock = w.docks[key]
            dock.show()
            dock.raise_()
        for name in show.actions:
            w.actions[name].trigger()
        if show.play:
            w.player.play()
        w.redraw.request(view=True)
        return True

    # ---- focus -------------------------------------------------------------------------------
    def _focus(self, keep: tuple[str, ...]) -> None:
        """Hide the plot panels a step does not name, so the named ones get the room."""
        self._unfocus()
        for spec in PANELS:
            dock = self.window.docks.get(spec.key)
            if dock is not None and spec.key not in keep and not dock.isHidden():
                dock.hide()
                self._focus_hidden.append(spec.key)

    def _unfocus(self) -> None:
        """Show again the panels a focused step hid."""
        for key in self._focus_hidden:
            self.window.docks[key].show()
        self._focus_hidden = []

    def _dock_toggled(self, shown: bool) -> None:
        if not shown:  # the lesson panel was closed: the layout comes back
            self._unfocus()


def install(window) -> LessonController:
    """Make ``window.lessons``."""
    window.lessons = LessonController(window)
    return window.lessons
