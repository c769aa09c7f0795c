"""The action registry: every command is reachable, and every key the F1 list names does what
the list says."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest

from rnnviz.gui.actions import ACTIONS, key_text, resolve, shortcut_rows


def test_every_handler_exists_and_every_entry_is_in_its_menu(window):
    for spec in ACTIONS:
        if spec.kind == "dock":
            assert spec.handler in window.docks, spec.name
        else:
            assert callable(resolve(window, spec.handler)), spec.name
        action = window.actions[spec.name]
        if spec.menu:
            assert action in window.menus[spec.menu].actions(), spec.name
        assert [QKeySequence(k) for k in spec.keys] == list(action.shortcuts()) or \
            spec.kind != "action", spec.name


def test_the_f1_list_is_the_registry(window):
    rows = shortcut_rows()
    assert [what for _, what in rows] == [s.help for s in ACTIONS if s.keys]
    assert all(what for _, what in rows)
    text = window.show_shortcuts().text()
    for keys, what in rows:
        assert f"<b>{keys}</b>" in text and what in text
    assert key_text("Shift+Left") == "Shift+←"


KEYED = [s for s in ACTIONS if s.keys and s.kind == "action"]


@pytest.mark.parametrize("spec", KEYED, ids=[s.name for s in KEYED])
def test_each_listed_key_runs_its_command(window, qtbot, spec):
    owner_path, _, name = spec.handler.rpartition(".")
    owner = resolve(window, owner_path) if owner_path else window
    calls = []
    original = getattr(owner, name)
    window.activateWindow()
    window.setFocus()
    try:
        setattr(owner, name, lambda *args: calls.append(args))
        window.actions[spec.name].setEnabled(True)  # undo/redo are off with nothing to undo
        for key in spec.keys:
            QTest.keySequence(window, QKeySequence(key))
        assert len(calls) == len(spec.keys), f"{spec.name}: {spec.keys}"
    finally:
        setattr(owner, name, original)


def test_plain_keys_do_nothing_while_typing_but_ctrl_keys_still_work(window, qtbot):
    edit = window.panels["hidden"].units_edit
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus)
    step = window.session.view.step
    qtbot.keyClick(edit, Qt.Key.Key_Right)
    qtbot.keyClick(edit, Qt.Key.Key_R)
    assert window.session.view.step == step and not window.session.view.reveal
    calls = []
    window.files.open_dialog = lambda: calls.append("open")
    QTest.keySequence(edit, QKeySequence("Ctrl+O"))
    assert calls == ["open"]
    qtbot.keyClick(edit, Qt.Key.Key_Escape)  # Esc leaves the field, and the keys step again
    assert not edit.hasFocus()
    qtbot.keyClick(window, Qt.Key.Key_Right)
    assert window.session.view.step == step + 1
