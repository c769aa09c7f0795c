"""Lessons in the window: Help → Lessons lists them, every step's "Show me" (whose features this
version has) reaches the state it promises, steps needing what the window lacks say so, and a
malformed lesson file gets one line and changes nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rnnviz.gui.files.prompts import CANCEL, Prompts
from rnnviz.gui.lessons import bundled_lessons
from rnnviz.gui.panels.registry import PANELS
from rnnviz.io.lesson_file import load_lesson, translated
from rnnviz.io.session_file import load_session

LESSONS = bundled_lessons()
# Steps whose features come with other parts of the app (names as the lessons use them); their
# tests follow once those parts are in: lesson file -> {step number: what it needs}.
AWAITING: dict[str, dict[int, str]] = {}


class Answers(Prompts):
    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.asked: list[str] = []
        self.warnings: list[str] = []

    def unsaved_changes(self, window, name, answer) -> None:
        self.asked.append(name)
        answer(self.answer)

    def warn(self, window, text) -> None:
        self.warnings.append(text)


def in_front(window, key: str) -> bool:
    """Whether the dock ``key`` is open and not behind another tab."""
    dock = window.docks[key]
    return not dock.isHidden() and not dock.visibleRegion().isEmpty()


def check_state(window, lesson, show, opened) -> None:
    """The app is in the state ``show`` promises."""
    session = window.session
    view = session.view
    if show.open is not None:
        source = lesson.session_file() if show.open == "lesson" else None
        if source is not None:
            doc, _ = load_session(source)
            np.testing.assert_array_equal(session.document.sequence.inputs, doc.sequence.inputs)
            assert [m.name for m in session.document.models] == [m.name for m in doc.models]
    for key, value in show.view.items():
        if key == "step" and value == "last":
            value = session.document.sequence.steps - 1
        assert getattr(view, key) == value, key
    for key, value in show.model.items():
        assert getattr(session.model.config, key) == value, key
    panel = window.panels["diagram"]
    d = show.diagram
    if "unit" in d:
        assert panel.unit == d["unit"]
    if "colour" in d:
        assert panel.colour_by_unit == (d["colour"] == "unit")
    if "gradients" in d:
        assert panel.gradients_check.isChecked() == d["gradients"]
    if "show" in d:
        assert panel.show_combo.currentData() == d["show"]
    for key in show.panels:
        assert in_front(window, key), key
    if show.focus:
        for spec in PANELS:
            assert window.docks[spec.key].isHidden() == (spec.key not in show.panels), spec.key
    assert window.player.playing == show.play
    window.player.stop()


def test_help_menu_lists_the_lessons(window, menu_entry):
    assert len(LESSONS) == 6
    last = menu_entry(window, "help.lessons", "&6.")
    assert "watch one fail" in last.text()
    assert menu_entry(window, "help.lessons", "Open lesson file")
    first = menu_entry(window, "help.lessons", "&1.")  # (each opening refills the menu)
    assert first.text() == "&1. The recurrence and the readout"
    first.trigger()
    assert window.lessons.lesson.path == LESSONS[0]
    assert in_front(window, "lesson")


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_every_show_me_reaches_its_state(window, path):
    window.files.prompts = Answers(CANCEL)  # a question would stop the test: none is asked
    assert window.lessons.open_file(path)
    lesson = window.lessons.lesson
    awaiting = AWAITING.get(path.name, {})
    assert {k + 1 for k in window.lessons.problems} == set(awaiting)
    rows = window.lessons.dock_widget.rows
    for number, step in enumerate(lesson.steps, start=1):
        row = rows[number - 1]
        assert row.text.text()  # typeset
        if number in awaiting:
            assert not row.button.isEnabled() and awaiting[number] in row.note.text()
            before = window.session.document
            assert not window.lessons.show_step(number - 1)
            assert window.session.document is before
            continue
        assert row.button.isEnabled()
        row.button.click()
        window.redraw_now()
        assert window.lessons.current == number - 1
        check_state(window, lesson, step.show, path)
    assert window.files.prompts.asked == []


def test_model_changes_are_undoable_and_steps_can_go_back(window):
    path = next(p for p in LESSONS if p.name == "03-gradients.toml")
    assert window.lessons.open_file(path)
    lessons = window.lessons
    assert lessons.show_step(0) and lessons.show_step(1)
    assert window.session.model.config.recurrent_scale == 1.0
    assert window.editor.stack.undoText() == "lesson: recurrent_scale = 1.0"
    window.editor.stack.undo()
    assert window.session.model.config.recurrent_scale == 0.8
    assert lessons.show_step(3)
    assert window.session.model.config.recurrent_scale == 1.6
    window.redraw_now()
    grads = window.session.results.models[0].grads.hidden_norm[0]
    assert grads[0] > 5 * grads[-1]  # the lesson's "ten times the last step's"
    assert lessons.show_step(0)  # back to the start: ρ = 0.8, the same session
    assert window.session.model.config.recurrent_scale == 0.8
    window.redraw_now()
    grads = window.session.results.models[0].grads.hidden_norm[0]
    assert grads[0] < 1e-12 * grads[-1]  # "about 10^-13"


def test_lesson_numbers_match_the_engine(window):
    """What the LSTM and GRU lessons say of unit 3 is what their sessions compute."""
    lessons = window.lessons
    assert lessons.open_file(next(p for p in LESSONS if p.name == "04-lstm.toml"))
    lessons.show_step(2)
    window.redraw_now()
    trace = window.session.results.models[0].trace
    i, f = trace.gates["i"][0, :, 3], trace.gates["f"][0, :, 3]
    marks = np.flatnonzero(window.session.document.sequence.inputs[:, 1])
    assert list(marks) == [10, 44]
    assert round(i[10], 2) == 0.81 and np.all(np.delete(i, marks)[1:] < 0.02)
    assert np.all(f[11:44] > 0.99)
    assert window.panels["diagram"].diagram_state()["i"]["value"] == i[10]
    assert lessons.open_file(next(p for p in LESSONS if p.name == "05-gru.toml"))
    lessons.show_step(1)
    window.redraw_now()
    z = window.session.results.models[0].trace.gates["z"][0, :, 3]
    assert round(z[10], 2) == 0.55 and np.all(z[12:44] > 0.95)
    assert [m.parameter_count for m in window.session.document.models] == [977, 1297]


def test_focus_hides_other_panels_until_the_lesson_closes(window):
    lessons = window.lessons
    assert lessons.open_file(LESSONS[0])
    assert lessons.show_step(0)
    assert window.docks["gradients"].isHidden() and in_front(window, "diagram")
    assert lessons.show_step(2)  # no focus: the panels are back
    assert not window.docks["gradients"].isHidden()
    assert lessons.show_step(1)
    assert window.docks["hidden"].isHidden()
    window.docks["lesson"].close()
    assert not window.docks["hidden"].isHidden()


def test_languages(window):
    lessons = window.lessons
    assert lessons.open_file(LESSONS[0])
    lessons.set_language("zh")
    rows = lessons.dock_widget.rows
    assert "递归" in lessons.dock_widget.title.text()
    assert rows[0].button.text() == "演示" and "每一步" in rows[0].text.text()
    assert lessons.dock_widget.language.isVisible()
    lessons.set_language("en")
    assert rows is not lessons.dock_widget.rows
    assert lessons.dock_widget.rows[0].button.text() == "Show me"
    assert "<sub>" in lessons.dock_widget.rows[0].text.text()  # formulas typeset


def test_show_me_asks_before_replacing_the_users_work(window):
    lessons = window.lessons
    assert lessons.open_file(LESSONS[0])
    doc = window.session.document
    window.editor.apply(doc.with_config(0, doc.models[0].config.replace(hidden_size=7)), "mine")
    mine = window.session.document
    window.files.prompts = Answers(CANCEL)
    assert not lessons.show_step(0)  # it opens the lesson's session: the user is asked first
    assert window.files.prompts.asked and window.session.document is mine


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


MALFORMED = {
    "syntax.toml": ('format = "rnnviz-lesson"\ntitle = "x\n', "not valid TOML"),
    "key.toml": ('format = "rnnviz-lesson"\ntitle = "x"\n[[steps]]\ntext = "t"\n'
                 '[steps.show]\nview = { phase = "sideways" }\n',
                 "step 1: show.view.phase: must be one of forward, backward"),
    "math.toml": ('format = "rnnviz-lesson"\ntitle = "x"\n[[steps]]\ntext = "see $h_t"\n',
                  "step 1: text.en: a $ formula is not closed"),
    "symbol.toml": ('format = "rnnviz-lesson"\ntitle = "x"\n[[steps]]\ntext = "$\\\\foo$"\n',
                    "step 1: text.en: unknown symbol \\foo"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_a_malformed_lesson_gets_one_line_and_changes_nothing(window, tmp_path, name):
    assert window.lessons.open_file(LESSONS[0])
    before = (window.session.document, window.session.view, window.lessons.lesson)
    window.files.prompts = Answers(CANCEL)
    text, expected = MALFORMED[name]
    path = write(tmp_path, name, text)
    assert not window.open_paths([str(path)])  # File → Open, drag and drop, the command line
    message = window.statusBar().currentMessage()
    assert message.startswith(f"cannot open lesson {name}: ") and expected in message, message
    assert "\n" not in message
    assert window.files.prompts.warnings == [] or window.files.prompts.warnings == [message]
    assert (window.session.document, window.session.view, window.lessons.lesson) == before


def test_a_lesson_naming_what_the_window_lacks_opens_with_one_line(window, tmp_path):
    text = ('format = "rnnviz-lesson"\ntitle = "Typos"\nsession = "sample:sine"\n'
            '[[steps]]\ntext = "one"\n[steps.show]\npanels = ["hiden"]\n'
            '[[steps]]\ntext = "two"\n[steps.show]\nactions = ["step.forwards"]\n'
            '[[steps]]\ntext = "three"\n[steps.show]\nview = { step = 5 }\n')
    path = write(tmp_path, "typos.toml", text)
    assert window.open_paths([str(path)])
    message = window.statusBar().currentMessage()
    assert message == ("lesson “Typos”: steps 1, 2 cannot be shown: the panel “hiden”; the "
                       "command “step.forwards” — not in this version")
    assert window.lessons.show_step(2) and window.session.view.step == 5
    assert not window.lessons.show_step(0)
    assert translated(load_lesson(path).title, "en") == "Typos"
