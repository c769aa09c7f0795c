"""Never losing work: closing with unsaved changes asks first, autosave while there are
unsaved changes, and recovery offered once after a crash."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QMessageBox

from rnnviz.gui import files as files_module
from rnnviz.gui.files import CANCEL, DISCARD, SAVE, Prompts, autosave_dir
from rnnviz.io.autosave import AUTOSAVE_NAME
from rnnviz.session import Sequence


class Answers(Prompts):
    """Scripted answers instead of dialogs; records what was asked."""

    def __init__(self, recover: bool = True) -> None:
        self.unsaved: list[str] = []
        self.asked: list[str] = []
        self.save: list[str | None] = []
        self.recover_answer = recover
        self.offers: list = []
        self.warnings: list[str] = []

    def unsaved_changes(self, window, name, answer) -> None:
        self.asked.append(name)
        answer(self.unsaved.pop(0) if self.unsaved else DISCARD)

    def recover(self, window, info) -> bool:
        self.offers.append(info)
        return self.recover_answer

    def save_path(self, window, title, suggested, file_filter):
        return self.save.pop(0)

    def warn(self, window, text) -> None:
        self.warnings.append(text)


def answered(window, **kwargs) -> Answers:
    window.files.prompts = Answers(**kwargs)
    return window.files.prompts


def edit_inputs(window, factor: float = 2.0) -> None:
    seq = window.session.document.sequence
    new = Sequence(seq.inputs * factor, targets=seq.targets, channel_names=seq.channel_names)
    window.editor.apply(window.session.document.with_sequence(new), "scale inputs")


def crash(window) -> None:
    """What a killed process leaves: the autosave files, the lock released by the OS."""
    window.files.autosave.timer.stop()
    window.files.autosave.store.close()
    window.files.autosave.store = None


# ---- closing ------------------------------------------------------------------------------


def test_close_with_unsaved_changes_cancel_keeps_the_window(window):
    answers = answered(window)
    edit_inputs(window)
    answers.unsaved.append(CANCEL)
    assert not window.close()
    assert window.isVisible() and window.session.dirty
    assert answers.asked == ["untitled"]

    answers.unsaved.append(SAVE)  # Save, then cancel the file dialog: still open
    answers.save.append(None)
    assert not window.close()
    assert window.isVisible()


def test_close_when_saving_fails_keeps_the_window(window, tmp_path):
    answers = answered(window)
    blocker = tmp_path / "plain-file"
    blocker.write_text("x")
    edit_inputs(window)
    answers.unsaved.append(SAVE)
    answers.save.append(str(blocker / "s.rnnviz"))
    assert not window.close()
    assert window.isVisible() and window.session.dirty
    assert answers.warnings and answers.warnings[0].startswith("cannot save s.rnnviz:")


def test_close_can_save_first(window, tmp_path):
    answers = answered(window)
    edit_inputs(window, 4.0)
    answers.unsaved.append(SAVE)
    answers.save.append(str(tmp_path / "last.rnnviz"))
    assert window.close()
    assert not window.isVisible()
    assert (tmp_path / "last.rnnviz").is_file()


def test_close_without_changes_does_not_ask(window):
    answers = answered(window)
    assert window.close()
    assert answers.asked == []


def test_the_close_question_does_not_block(window, qtbot):
    edit_inputs(window)  # the default prompts: a window-modal box, answered later
    assert not window.close()
    box = next(b for b in window.findChildren(QMessageBox) if b.isVisible())
    assert "untitled" in box.text()
    box.button(QMessageBox.StandardButton.Discard).click()
    qtbot.waitUntil(lambda: not window.isVisible())


# ---- autosave and recovery ----------------------------------------------------------------


def test_autosave_writes_only_unsaved_changes(window, tmp_path):
    answered(window)
    folder = tmp_path / "autosave"
    assert not window.files.autosave.start(folder)
    assert not window.files.autosave.write_now()  # nothing to save
    edit_inputs(window)
    assert window.files.autosave.timer.isActive()
    assert window.files.autosave.write_now()
    assert (folder / AUTOSAVE_NAME).is_file()
    assert not window.files.autosave.write_now()  # unchanged since
    assert window.files.save_to(tmp_path / "saved.rnnviz")
    assert not (folder / AUTOSAVE_NAME).exists()  # saving removes it


def test_clean_exit_removes_the_autosave(window, tmp_path):
    answered(window)
    folder = tmp_path / "autosave"
    window.files.autosave.start(folder)
    edit_inputs(window)
    assert window.files.autosave.write_now()
    window.files.prompts.unsaved.append(DISCARD)
    assert window.close()
    assert not (folder / AUTOSAVE_NAME).exists()


def test_recovery_is_offered_once_after_a_crash(make_window, tmp_path):
    folder = tmp_path / "autosave"
    first = make_window()
    answered(first)
    first.files.autosave.start(folder)
    saved = tmp_path / "work.rnnviz"
    assert first.files.save_to(saved)
    edit_inputs(first, 7.0)
    assert first.files.autosave.write_now()
    lost = first.session.document
    crash(first)

    second = make_window()
    answers = answered(second, recover=True)
    assert second.files.autosave.start(folder)
    assert len(answers.offers) == 1 and answers.offers[0].original_path == str(saved)
    np.testing.assert_array_equal(second.session.document.sequence.inputs, lost.sequence.inputs)
    assert second.session.dirty  # so the user saves it
    assert second.session.path == str(saved)
    assert second.windowTitle().startswith("work.rnnviz") and second.isWindowModified()
    crash(second)  # before the recovered work was autosaved or saved: it is offered again

    third = make_window()
    answers = answered(third, recover=True)
    assert third.files.autosave.start(folder)
    assert len(answers.offers) == 1
    np.testing.assert_array_equal(third.session.document.sequence.inputs, lost.sequence.inputs)
    assert third.files.save_to(saved)
    crash(third)

    fourth = make_window()
    answers = answered(fourth)
    assert not fourth.files.autosave.start(folder)
    assert answers.offers == []  # saved: nothing is offered any more
    assert not fourth.session.dirty


def test_recovered_work_autosaved_again_replaces_the_recovered_file(make_window, tmp_path):
    folder = tmp_path / "autosave"
    first = make_window()
    answered(first)
    first.files.autosave.start(folder)
    edit_inputs(first, 3.0)
    assert first.files.autosave.write_now()
    crash(first)
    second = make_window()
    answered(second, recover=True)
    assert second.files.autosave.start(folder)
    edit_inputs(second, 5.0)
    assert second.files.autosave.write_now()
    newest = second.session.document
    crash(second)
    third = make_window()
    answers = answered(third, recover=True)
    assert third.files.autosave.start(folder)
    assert len(answers.offers) == 1  # the newer autosave only, not the older recovered file
    np.testing.assert_array_equal(third.session.document.sequence.inputs,
                                  newest.sequence.inputs)


def test_declined_recovery_is_not_offered_again(make_window, tmp_path):
    folder = tmp_path / "autosave"
    first = make_window()
    answered(first)
    first.files.autosave.start(folder)
    edit_inputs(first)
    assert first.files.autosave.write_now()
    crash(first)

    second = make_window()
    answers = answered(second, recover=False)
    before = second.session.document
    assert not second.files.autosave.start(folder)
    assert len(answers.offers) == 1 and answers.offers[0].original_path is None
    assert second.session.document is before
    crash(second)

    third = make_window()
    answers = answered(third)
    third.files.autosave.start(folder)
    assert answers.offers == []


def test_a_damaged_autosave_is_reported_and_dropped(make_window, tmp_path):
    folder = tmp_path / "autosave"
    folder.mkdir()
    (folder / AUTOSAVE_NAME).write_bytes(b"PK\x03\x04 this is not a session")
    window = make_window()
    answers = answered(window)
    before = window.session.document
    assert not window.files.autosave.start(folder)
    assert len(answers.offers) == 1
    assert window.session.document is before
    assert len(answers.warnings) == 1 and "could not be read" in answers.warnings[0]
    crash(window)
    again = make_window()
    answers = answered(again)
    again.files.autosave.start(folder)
    assert answers.offers == []


def test_autosave_directory_can_be_set_by_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(files_module.AUTOSAVE_ENV, str(tmp_path / "here"))
    assert autosave_dir() == tmp_path / "here"
    monkeypatch.delenv(files_module.AUTOSAVE_ENV)
    assert autosave_dir().name == "autosave"


def test_the_app_offers_recovery_before_opening_files(monkeypatch, qapp):
    """rnnviz.gui.app.run starts autosaving (and so offers recovery) before opening files."""
    from rnnviz.gui import app as app_module

    calls: list[str] = []

    class Window:
        def __init__(self) -> None:
            self.files = self
            self.autosave = self

        def show(self) -> None:
            calls.append("show")

        def start(self) -> bool:
            calls.append("autosave")
            return False

        def open_paths(self, paths) -> bool:
            calls.append(f"open {paths}")
            return True

    import rnnviz.gui.main_window as main_window

    monkeypatch.setattr(main_window, "MainWindow", Window)
    monkeypatch.setattr(app_module, "create_app", lambda: qapp)
    monkeypatch.setattr(qapp, "exec", lambda *_: 0)
    monkeypatch.setattr(app_module, "install_excepthook", lambda: None)
    assert app_module.run(["a.rnnviz", "b.csv"]) == 0
    assert calls == ["show", "autosave", "open ['a.rnnviz', 'b.csv']"]


def test_cancelled_close_finishes_the_computation(window, qtbot):
    answers = answered(window)
    window.compute.sync_limit = 0  # compute in a worker, as for a large document
    edit_inputs(window, 0.5)
    answers.unsaved.append(CANCEL)
    assert not window.close()
    qtbot.waitUntil(lambda: not window.session.stale, timeout=10000)
    assert window.session.last_results.document is window.session.document
