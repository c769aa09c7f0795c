"""Lesson files: the bundled lessons read, and every kind of malformed file is refused with one
line naming the file, the step and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnviz.io.errors import FileFormatError
from rnnviz.io.lesson_file import LessonError, load_lesson, parse_lesson, translated
from rnnviz.io.opener import file_kind, open_file
from rnnviz.session.demos import load_demo

LESSONS = Path(__file__).resolve().parents[2] / "resources" / "lessons"
GOOD = """format = "rnnviz-lesson"
version = 1
title = "A lesson"
session = "s.rnnviz"

[[steps]]
text = "Look."
[steps.show]
open = "lesson"
view = { step = 3, reveal = true, phase = "backward", units = [0, 2] }
model = { recurrent_scale = 1.2 }
diagram = { unit = 1, colour = "unit", gradients = true, show = "diagram" }
panels = ["diagram"]
focus = true
actions = "view.reset_layout"
play = true
"""


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "s.rnnviz").write_bytes(b"")  # the lesson only checks that it exists
    return tmp_path


def test_bundled_lessons_follow_the_seeds_order_in_two_languages():
    paths = sorted(LESSONS.glob("*.toml"))
    lessons = [load_lesson(p) for p in paths]
    assert [translated(lesson.title, "en") for lesson in lessons] == [
        "The recurrence and the readout",
        "Forgetting with distance",
        "Vanishing and exploding gradients",
        "The LSTM's gates and memory cell",
        "The GRU's update and reset gates",
        "Train an RNN and an LSTM: watch one fail",
    ]
    for lesson in lessons:
        assert lesson.languages == ("en", "zh")
        assert lesson.session_file().is_file()
        assert 5 <= len(lesson.steps) <= 7
        for step in lesson.steps:
            assert set(step.text) == {"en", "zh"} and step.show is not None
    assert translated(lessons[0].title, "zh") == "递归与读出"


def test_a_good_lesson_reads_every_field(folder):
    lesson = parse_lesson(GOOD, folder / "l.toml")
    show = lesson.steps[0].show
    assert lesson.session == "s.rnnviz" and lesson.session_file() == (folder / "s.rnnviz")
    assert show.open == "lesson"
    assert dict(show.view) == {"step": 3, "reveal": True, "phase": "backward", "units": (0, 2)}
    assert dict(show.model) == {"recurrent_scale": 1.2}
    assert dict(show.diagram) == {"unit": 1, "colour": "unit", "gradients": True,
                                  "show": "diagram"}
    assert show.panels == ("diagram",) and show.actions == ("view.reset_layout",)
    assert show.focus and show.play
    assert translated(lesson.title, "zh") == "A lesson"  # English when there is no Chinese


def edit(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


BAD = {
    "toml": (edit(GOOD, 'title = "A lesson"', 'title = "A lesson'), "not valid TOML"),
    "format": (edit(GOOD, '"rnnviz-lesson"', '"lesson"'), "format must be 'rnnviz-lesson'"),
    "version": (edit(GOOD, "version = 1", "version = 2"), "version must be 1, got 2"),
    "title": (edit(GOOD, 'title = "A lesson"\n', ""), "a lesson needs a title"),
    "top key": (edit(GOOD, "version = 1", "version = 1\ntitel = 'x'"),
                "unknown key 'titel' (choose from format, version, title"),
    "no steps": (GOOD.split("[[steps]]")[0], "a lesson needs at least one step"),
    "no text": (edit(GOOD, 'text = "Look."', ""), "step 1: a step needs a text"),
    "empty text": (edit(GOOD, 'text = "Look."', 'text = "  "'),
                   "step 1: text.en: must be a non-empty string"),
    "language": (edit(GOOD, 'text = "Look."', 'text = { english = "Look." }'),
                 "step 1: text: 'english' is not a language code"),
    "show key": (edit(GOOD, "focus = true", "pannels = ['x']"),
                 "step 1: show: unknown key 'pannels' (choose from open, view"),
    "phase": (edit(GOOD, '"backward"', '"back"'),
              "step 1: show.view.phase: must be one of forward, backward, got 'back'"),
    "step": (edit(GOOD, "step = 3", "step = -1"),
             "step 1: show.view.step: must be a whole number from 0 to 1000000, got -1"),
    "step word": (edit(GOOD, "step = 3", 'step = "first"'), "show.view.step: must be a whole"),
    "view key": (edit(GOOD, "step = 3", "stpe = 3"), "show.view: unknown key 'stpe'"),
    "units": (edit(GOOD, "units = [0, 2]", "units = []"), "show.view.units: must be a list"),
    "scale": (edit(GOOD, "recurrent_scale = 1.2", "recurrent_scale = -1"),
              "step 1: show.model: recurrent_scale must be a finite number >= 0.0, got -1.0"),
    "model key": (edit(GOOD, "recurrent_scale = 1.2", "input_size = 3"),
                  "show.model: unknown key 'input_size'"),
    "cell": (edit(GOOD, "recurrent_scale = 1.2", 'cell = "transformer"'),
             "show.model: cell must be one of"),
    "colour": (edit(GOOD, 'colour = "unit"', 'colour = "red"'),
               "show.diagram.colour: must be one of mean, unit, got 'red'"),
    "panels": (edit(GOOD, 'panels = ["diagram"]', "panels = 3"),
               "show.panels: must be a name or a list of names, got 3"),
    "panel name": (edit(GOOD, 'panels = ["diagram"]', 'panels = ["a b"]'),
                   "show.panels: 'a b' is not a name"),
    "play": (edit(GOOD, "play = true", 'play = "yes"'),
             "show.play: must be true or false, got 'yes'"),
    "sample": (edit(GOOD, 'open = "lesson"', 'open = "sample:nope"'),
               "show.open: there is no sample 'nope'"),
    "demo": (edit(GOOD, 'open = "lesson"', 'open = "demo:nope"'),
             "show.open: there is no demo 'nope'; choose from sine"),
    "file": (edit(GOOD, 'open = "lesson"', 'open = "gone.rnnviz"'),
             "show.open: 'gone.rnnviz': no such session file beside the lesson"),
    "not a session": (edit(GOOD, 'session = "s.rnnviz"', 'session = "s.csv"'),
                      "session: 's.csv' is not a session file (.rnnviz)"),
    "session lesson": (edit(GOOD, 'session = "s.rnnviz"', 'session = "lesson"'),
                       "session: the lesson's own session cannot be \"lesson\""),
    "no session": (edit(GOOD, 'session = "s.rnnviz"\n', ""),
                   "step 1: show.open: \"lesson\" needs the lesson's session"),
    "show table": (edit(GOOD, "[steps.show]", "show = 3\n[steps.extra]"),
                   "step 1: unknown key 'extra'"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_malformed_lessons_get_one_line(folder, case):
    text, expected = BAD[case]
    path = folder / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LessonError) as caught:
        load_lesson(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("bad.toml: ")
    assert expected in message, message


def test_unreadable_files(folder):
    binary = folder / "bin.toml"
    binary.write_bytes(b'format = "rnnviz-lesson"\n\xff\xfe')
    with pytest.raises(LessonError, match=r"^bin.toml: not UTF-8 text \(byte 25\)$"):
        load_lesson(binary)
    huge = folder / "huge.toml"
    huge.write_bytes(b"#" * 1_000_001)
    with pytest.raises(LessonError, match="at most 1000000 bytes"):
        load_lesson(huge)
    with pytest.raises(LessonError, match="^none.toml: cannot read file"):
        load_lesson(folder / "none.toml")


def test_the_opener_knows_lessons_but_does_not_open_them_as_documents(folder):
    path = folder / "l.toml"
    path.write_text(GOOD, encoding="utf-8")
    assert file_kind(path) == "lesson"
    with pytest.raises(FileFormatError, match="^l.toml: a lesson, not a document"):
        open_file(path, load_demo("sine"))
