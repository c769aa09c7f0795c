"""Lesson files: short guided lessons as data, written in TOML by a teacher. No Qt here.

A lesson is a title, an optional session it opens, and numbered steps. Each step says in a
sentence or two what to do or look at, and may have a "Show me" that sets the app to that
state. The bundled lessons live in ``resources/lessons/`` (their sessions are made by
``tools/make_lessons.py``); File → Open and Help → Lessons open any lesson file.

The format (``format = "rnnviz-lesson"``, ``version = 1``)::

    format = "rnnviz-lesson"
    version = 1
    title = "The recurrence and the readout"    # or title.en = "…", title.zh = "…"
    summary = "One step of a vanilla RNN, by hand."     # optional, same forms
    session = "01-recurrence.rnnviz"   # optional: a session file beside this one, or
                                       # "sample:NAME" (File → Open Sample) or "demo:NAME"

    [[steps]]
    text = "Press → to step. $h_t = \\tanh(W_h h_{t-1} + W_x x_t + b_h)$ …"
    # text.en / text.zh for several languages; $…$ is a formula (see the cell diagram's
    # typesetter: _ and ^ for sub- and superscripts, \\sigma, \\odot, \\tanh, …)

    [steps.show]                # what "Show me" does, in this order (every key optional):
    open = "lesson"             # the lesson's session, "sample:NAME", "demo:NAME" or a file
    view = { model = 0, step = 12, layer = 0, reveal = true, phase = "forward",
             units = [0, 1, 2] }      # step may be "last"
    model = { recurrent_scale = 1.0 }  # the selected model's settings, one undoable edit
    diagram = { unit = 3, colour = "unit", gradients = false, show = "both" }
    panels = ["diagram", "gates"]     # docks to show and bring to the front
    focus = true                      # and hide the other plot panels
    actions = ["train.start"]         # commands of the window (its action names) to run
    play = true                       # start playing

Text in any language: a plain string is English ("en"); a table maps language codes ("en",
"zh", "pt-BR") to strings. Every error is a :class:`LessonError` with one line naming the file,
the step and the key. Whether panels and actions exist is for the window to check: this module
only checks that they are names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from rnnviz.engine import EngineError, NetworkConfig
from rnnviz.engine.config import describe
from rnnviz.io.errors import FileFormatError
from rnnviz.session.demos import DEMOS

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

LESSON_SUFFIX = ".toml"
FORMAT = "rnnviz-lesson"
VERSION = 1
MAX_BYTES = 1_000_000
MAX_STEPS = 60
MAX_TEXT = 4000
DEFAULT_LANGUAGE = "en"

TOP_KEYS = ("format", "version", "title", "summary", "session", "steps")
STEP_KEYS = ("text", "show")
SHOW_KEYS = ("open", "view", "model", "diagram", "panels", "focus", "actions", "play")
VIEW_KEYS = ("model", "step", "layer", "reveal", "phase", "units")
MODEL_KEYS = ("cell", "hidden_size", "num_layers", "bias", "readout", "seed", "init",
              "recurrent_scale", "forget_bias", "dtype")
DIAGRAM_KEYS = ("unit", "colour", "gradients", "show")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,80}$")


class LessonError(FileFormatError):
    """A lesson file that cannot be used; the message says why, in one line."""


Text = Mapping[str, str]


@dataclass(frozen=True)
class Show:
    """What a step's "Show me" does (see the module docstring); empty fields do nothing."""

    open: str | None = None
    view: Mapping[str, Any] = field(default_factory=dict)
    model: Mapping[str, Any] = field(default_factory=dict)
    diagram: Mapping[str, Any] = field(default_factory=dict)
    panels: tuple[str, ...] = ()
    focus: bool = False
    actions: tuple[str, ...] = ()
    play: bool = False


@dataclass(frozen=True)
class Step:
    """One numbered step: its text by language, and what "Show me" does (None: nothing)."""

    text: Text
    show: Show | None


@dataclass(frozen=True)
class Lesson:
    """A lesson read from ``path``: title and summary by language, the session it opens
    (a path relative to the lesson's folder, "sample:NAME", "demo:NAME", or None) and its
    steps."""

    path: Path
    title: Text
    summary: Text
    session: str | None
    steps: tuple[Step, ...]

    @property
    def languages(self) -> tuple[str, ...]:
        """Every language the lesson has text in, English first."""
        found: list[str] = []
        for text in (self.title, self.summary, *(s.text for s in self.steps)):
            found += [k for k in text if k not in found]
        return tuple(sorted(found, key=lambda k: (k != DEFAULT_LANGUAGE, found.index(k))))

    def session_file(self) -> Path | None:
        """The session file beside the lesson, or None (no session, or a sample or demo)."""
        if self.session is None or ":" in self.session:
            return None
        return (self.path.parent / self.session).resolve()


def translated(text: Text, language: str) -> str:
    """``text`` in ``language``, else in English, else in its first language ("" if none)."""
    for key in (language, language.split("-")[0], DEFAULT_LANGUAGE):
        if key in text:
            return text[key]
    return next(iter(text.values()), "")


def sample_file(name: str) -> Path | None:
    """The bundled sample session ``name`` (File → Open Sample), or None."""
    try:
        entry = resources.files("rnnviz.resources") / "samples" / f"{name}.rnnviz"
        return Path(str(entry)) if entry.is_file() else None
    except (ModuleNotFoundError, OSError):
        return None


# ---- reading ------------------------------------------------------------------------------------
def load_lesson(path: str | Path) -> Lesson:
    """Read and check the lesson at ``path``. LessonError (one line) for anything wrong."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise LessonError(f"{p.name}: a lesson file is at most {MAX_BYTES} bytes, "
                              f"this one has {size}")
        data = p.read_bytes()
    except OSError as exc:
        raise LessonError(f"{p.name}: cannot read file ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LessonError(f"{p.name}: not UTF-8 text (byte {exc.start})") from None
    return parse_lesson(text, p)


def parse_lesson(text: str, path: str | Path) -> Lesson:
    """Check the TOML ``text`` of a lesson whose file is ``path`` (for its name and the folder
    its session is found in). LessonError (one line) for anything wrong."""
    p = Path(path)
    name = p.name
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LessonError(f"{name}: not valid TOML: {_one_line(str(exc))}") from None
    where = _Where(name)
    _keys(where, data, TOP_KEYS)
    if data.get("format") != FORMAT:
        raise where.error(f"format must be {FORMAT!r} (the first line of a lesson: "
                          f"format = \"{FORMAT}\"), got {describe(data.get('format'))}")
    version = data.get("version", VERSION)
    if version != VERSION or isinstance(version, bool):
        raise where.error(f"version must be {VERSION}, got {describe(version)}")
    if "title" not in data:
        raise where.error("a lesson needs a title")
    title = _text(where.at("title"), data["title"])
    summary = _text(where.at("summary"), data["summary"]) if "summary" in data else {}
    session = None
    if "session" in data:
        session = _source(where.at("session"), data["session"], p, lesson=False)
    steps = data.get("steps")
    if not isinstance(steps, list) or not steps:
        raise where.error("a lesson needs at least one step: [[steps]] tables with a text")
    if len(steps) > MAX_STEPS:
        raise where.error(f"a lesson has at most {MAX_STEPS} steps, this one {len(steps)}")
    parsed = tuple(_step(where.step(k + 1), s, p, session) for k, s in enumerate(steps))
    return Lesson(p, title, summary, session, parsed)


class _Where:
    """Where in the file a value is, for messages: "lesson.toml: step 3: show.view.step"."""

    def __init__(self, name: str, step: int | None = None, key: str = "") -> None:
        self.name, self.step_number, self.key = name, step, key

    def at(self, key: str) -> _Where:
        return _Where(self.name, self.step_number, f"{self.key}.{key}" if self.key else key)

    def step(self, number: int) -> _Where:
        return _Where(self.name, number)

    def error(self, message: str) -> LessonError:
        parts = [self.name]
        if self.step_number is not None:
            parts.append(f"step {self.step_number}")
        if self.key:
            parts.append(self.key)
        return LessonError(_one_line(": ".join(parts) + ": " + message))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _keys(where: _Where, table: Any, allowed: tuple[str, ...]) -> None:
    if not isinstance(table, dict):
        raise where.error(f"must be a table, got {describe(table)}")
    unknown = [k for k in table if k not in allowed]
    if unknown:
        raise where.error(f"unknown key {describe(unknown[0])} (choose from "
                          f"{', '.join(allowed)})")


def _text(where: _Where, value: Any) -> Text:
    if isinstance(value, str):
        value = {DEFAULT_LANGUAGE: value}
    if not isinstance(value, dict) or not value:
        raise where.error("must be a string, or a table of language = string "
                          f"(en = \"…\", zh = \"…\"), got {describe(value)}")
    out: dict[str, str] = {}
    for lang, text in value.items():
        if not _LANGUAGE.match(lang):
            raise where.error(f"{describe(lang)} is not a language code (en, zh, pt-BR)")
        if not isinstance(text, str) or not text.strip():
            raise where.at(lang).error(f"must be a non-empty string, got {describe(text)}")
        if len(text) > MAX_TEXT:
            raise where.at(lang).error(f"is {len(text)} characters long; at most {MAX_TEXT}")
        out[lang] = text.strip()
    return MappingProxyType(out)


def _source(where: _Where, value: Any, lesson_path: Path, lesson: bool) -> str:
    """A session to open: "lesson" (when allowed), "sample:NAME", "demo:NAME" or a session
    file relative to the lesson's folder (which must exist)."""
    if not isinstance(value, str) or not value.strip():
        raise where.error(f"must name a session, got {describe(value)}")
    value = value.strip()
    if value == "lesson":
        if not lesson:
            raise where.error("the lesson's own session cannot be \"lesson\"")
        return value
    if value.startswith("sample:"):
        sample = value.removeprefix("sample:")
        if sample_file(sample) is None:
            raise where.error(f"there is no sample {sample!r}")
        return value
    if value.startswith("demo:"):
        demo = value.removeprefix("demo:")
        if demo not in DEMOS:
            raise where.error(f"there is no demo {demo!r}; choose from {', '.join(DEMOS)}")
        return value
    target = (lesson_path.parent / value).resolve()
    if target.suffix.lower() != ".rnnviz":
        raise where.error(f"{value!r} is not a session file (.rnnviz)")
    if not target.is_file():
        raise where.error(f"{value!r}: no such session file beside the lesson")
    return value


def _int(where: _Where, value: Any, low: int = 0, high: int = 1_000_000) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise where.error(f"must be a whole number from {low} to {high}, got {describe(value)}")
    return value


def _bool(where: _Where, value: Any) -> bool:
    if not isinstance(value, bool):
        raise where.error(f"must be true or false, got {describe(value)}")
    return value


def _choice(where: _Where, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise where.error(f"must be one of {', '.join(choices)}, got {describe(value)}")
    return value


def _names(where: _Where, value: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise where.error(f"must be a name or a list of names, got {describe(value)}")
    for item in items:
        if not isinstance(item, str) or not _NAME.match(item):
            raise where.error(f"{describe(item)} is not a name")
    return tuple(items)


def _step(where: _Where, data: Any, path: Path, session: str | None) -> Step:
    _keys(where, data, STEP_KEYS)
    if "text" not in data:
        raise where.error("a step needs a text")
    text = _text(where.at("text"), data["text"])
    show = _show(where.at("show"), data["show"], path, session) if "show" in data else None
    return Step(text, show)


def _show(where: _Where, data: Any, path: Path, session: str | None) -> Show:
    _keys(where, data, SHOW_KEYS)
    opened = None
    if "open" in data:
        opened = _source(where.at("open"), data["open"], path, lesson=True)
        if opened == "lesson" and session is None:
            raise where.at("open").error("\"lesson\" needs the lesson's session = \"…\"")
    view: dict[str, Any] = {}
    if "view" in data:
        w = where.at("view")
        _keys(w, data["view"], VIEW_KEYS)
        for key, value in data["view"].items():
            if key == "step" and value == "last":
                view[key] = "last"
            elif key in ("model", "step", "layer"):
                view[key] = _int(w.at(key), value)
            elif key == "reveal":
                view[key] = _bool(w.at(key), value)
            elif key == "phase":
                view[key] = _choice(w.at(key), value, ("forward", "backward"))
            else:  # units
                if not isinstance(value, list) or not 1 <= len(value) <= 16:
                    raise w.at(key).error(f"must be a list of 1 to 16 units, got "
                                          f"{describe(value)}")
                view[key] = tuple(_int(w.at(key), u) for u in value)
    model: dict[str, Any] = {}
    if "model" in data:
        w = where.at("model")
        _keys(w, data["model"], MODEL_KEYS)
        model = dict(data["model"])
        try:
            NetworkConfig(**model)
        except EngineError as exc:
            raise w.error(str(exc)) from None
        except TypeError:
            raise w.error("settings of the wrong kind") from None
    diagram: dict[str, Any] = {}
    if "diagram" in data:
        w = where.at("diagram")
        _keys(w, data["diagram"], DIAGRAM_KEYS)
        for key, value in data["diagram"].items():
            if key == "unit":
                diagram[key] = _int(w.at(key), value)
            elif key == "colour":
                diagram[key] = _choice(w.at(key), value, ("mean", "unit"))
            elif key == "gradients":
                diagram[key] = _bool(w.at(key), value)
            else:
                diagram[key] = _choice(w.at(key), value, ("both", "diagram", "equations"))
    return Show(
        open=opened,
        view=MappingProxyType(view),
        model=MappingProxyType(model),
        diagram=MappingProxyType(diagram),
        panels=_names(where.at("panels"), data["panels"]) if "panels" in data else (),
        focus=_bool(where.at("focus"), data["focus"]) if "focus" in data else False,
        actions=_names(where.at("actions"), data["actions"]) if "actions" in data else (),
        play=_bool(where.at("play"), data["play"]) if "play" in data else False,
    )
