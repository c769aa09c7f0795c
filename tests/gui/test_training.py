"""Training in the window, through the real Training dock: the curves hold the trainer's
numbers, the dashboard shows the trained network, Pause stops within one update, a run is one
undo step, the timeline shows snapshots, and a saved and reopened session trains on to the
weights of an uninterrupted run."""

from __future__ import annotations

import numpy as np
import pytest

from rnnviz.gui.files import CANCEL, DISCARD, Prompts
from rnnviz.io.session_file import load_session, save_session
from rnnviz.jobs import run_job
from rnnviz.session import Model, Sequence, Session, compute
from rnnviz.session.demos import load_demo
from rnnviz.session.training import TaskChoice, TrainingRun
from rnnviz.train import TrainSettings

TIMEOUT = 120_000


def small_adding(hidden: int = 8, cells=("lstm",)):
    doc = load_demo("adding")
    base = doc.models[0].config.replace(hidden_size=hidden)
    models = tuple(Model(f"{cell.upper()} {hidden}", base.replace(cell=cell)) for cell in cells)
    return doc.with_models(models)


def set_form(window, *, length=20, test_size=64, updates=300, eval_every=50, lr=1e-2,
             optimizer="adam", clip=1.0, seed=0):
    f = window.training.form
    f.task_combo.setCurrentIndex(f.task_combo.findData("adding"))
    f.length_spin.setValue(length)
    f.option_widgets["test_size"].setValue(test_size)
    f.optimizer_combo.setCurrentIndex(f.optimizer_combo.findData(optimizer))
    f.lr_spin.setValue(lr)
    f.batch_spin.setValue(16)
    f.clip_check.setChecked(clip is not None)
    if clip is not None:
        f.clip_spin.setValue(clip)
    f.updates_spin.setValue(updates)
    f.eval_spin.setValue(eval_every)
    f.seed_spin.setValue(seed)


def train(window, qtbot, button="train_button"):
    getattr(window.training.form, button).click()
    assert window.training.running
    qtbot.waitUntil(lambda: not window.training.running, timeout=TIMEOUT)


def headless(doc, settings: TrainSettings, updates: int, indices=(0,)):
    task = TaskChoice("adding", 20, {"test_size": 64}).build(doc)
    return run_job(TrainingRun(doc, list(indices), task, settings.replace(updates=updates))
                   .job(updates))


def same(a, b) -> bool:
    return set(a) == set(b) and all(np.array_equal(a[k], b[k]) for k in a)


class Answers(Prompts):
    def __init__(self, *answers):
        self.answers = list(answers)

    def unsaved_changes(self, window, name, answer):
        answer(self.answers.pop(0) if self.answers else DISCARD)


def test_training_through_the_dock_draws_the_trainers_numbers_and_is_one_undo_step(
        make_window, qtbot):
    doc = small_adding()
    window = make_window(Session(doc))
    set_form(window, updates=300)
    settings = window.training.form.settings()
    train(window, qtbot)

    expected = headless(doc, settings, 300)
    trained = window.session.document.models[0]
    assert trained.training.update == 300
    assert same(trained.weights, expected.weights[0])
    # the curves hold the trainer's numbers
    panel = window.panels["training"]
    [curves] = panel.curves.values()
    x, y = curves["train"].getOriginalDataset()
    np.testing.assert_array_equal(x, np.arange(1, 301))
    np.testing.assert_array_equal(y, expected.records[0].history.loss)
    ex, ey = curves["test"].getOriginalDataset()
    np.testing.assert_array_equal(ex, np.arange(0, 301, 50))
    np.testing.assert_array_equal(ey, expected.records[0].history.test_loss)
    test_loss = expected.records[0].history.test_loss
    assert test_loss[-1] < 0.5 * test_loss[0]  # it learned
    headers, rows = panel.csv_tables()["evaluations"]
    assert headers[:2] == ["update", "LSTM 8 test loss"]
    np.testing.assert_array_equal(rows[:, 1], expected.records[0].history.test_loss)
    # the dashboard shows the trained network
    window.redraw_now()
    drawn = window.dashboard.drawn
    assert drawn.model is trained
    fresh = compute(window.session.document)
    np.testing.assert_array_equal(drawn.trace.hidden, fresh.model(0).trace.hidden)
    assert window.training.form.status_label.text().startswith("Update 300/300")
    # one undo step: back to the weights before training, then forward again
    stack = window.editor.stack
    assert stack.undoText() == "Train 300 updates"
    stack.undo()
    assert window.session.document.models[0] is doc.models[0]
    window.redraw_now()
    assert window.dashboard.drawn.model is doc.models[0]
    assert not panel.curves and panel.note.isVisible()
    stack.redo()
    assert window.session.document.models[0] is trained


def test_pause_stops_within_one_update_and_train_continues_exactly(make_window, qtbot):
    doc = small_adding()
    window = make_window(Session(doc))
    set_form(window, updates=100_000, eval_every=25)
    settings = window.training.form.settings()
    tr = window.training
    tr.form.train_button.click()
    qtbot.waitUntil(lambda: tr.last_snapshot is not None and tr.last_snapshot.update >= 30,
                    timeout=TIMEOUT)
    at_pause = tr.run.trainer.update
    window.actions["train.pause"].trigger()
    qtbot.waitUntil(lambda: not tr.running, timeout=TIMEOUT)
    stopped = window.session.document.models[0].training.update
    assert at_pause <= stopped <= at_pause + 1
    assert tr.last_snapshot.status == "paused"
    # Train again continues the run exactly: the same weights as one run to that update
    tr.form.updates_spin.setValue(stopped + 20)
    train(window, qtbot)
    record = window.session.document.models[0].training
    assert record.update == stopped + 20
    expected = headless(doc, settings, stopped + 20)
    assert same(window.session.document.models[0].weights, expected.weights[0])
    assert record.history.equals(expected.records[0].history)


def test_a_saved_and_reopened_session_trains_on_to_the_uninterrupted_weights(
        make_window, qtbot, tmp_path):
    doc = small_adding()
    first = make_window(Session(doc))
    set_form(first, updates=60, eval_every=20)
    settings = first.training.form.settings()
    train(first, qtbot)
    path = tmp_path / "half.rnnviz"
    save_session(path, first.session.document, first.session.view)
    first.session.mark_saved()

    reopened, view = load_session(path)
    second = make_window(Session(reopened, view))
    form = second.training.form
    assert form.choice() == TaskChoice("adding", 20, {"test_size": 64})
    assert form.settings() == settings.replace(updates=60)
    form.updates_spin.setValue(120)
    train(second, qtbot)
    expected = headless(doc, settings, 120)
    model = second.session.document.models[0]
    assert same(model.weights, expected.weights[0])
    assert model.training.history.equals(expected.records[0].history)
    assert second.editor.stack.undoText() == "Train 60 updates"


def test_models_trained_together_race_on_the_same_batches(make_window, qtbot):
    doc = small_adding(cells=("rnn_tanh", "lstm", "gru"))
    window = make_window(Session(doc))
    form = window.training.form
    assert form.together_check.isVisibleTo(form) and form.together_check.isChecked()
    set_form(window, updates=40, eval_every=20)
    settings = form.settings()
    train(window, qtbot)
    models = window.session.document.models
    assert [m.training.update for m in models] == [40, 40, 40]
    for k in range(3):
        alone = headless(doc, settings, 40, indices=(k,))
        assert same(models[k].weights, alone.weights[0])
    panel = window.panels["training"]
    assert list(panel.curves) == [f"{m.name} ({m.parameter_count:,} weights)" for m in models]
    table = form.models_table
    assert table.rowCount() == 3
    assert [table.item(r, 1).text() for r in range(3)] == [f"{m.parameter_count:,}"
                                                           for m in models]
    assert all(float(table.item(r, 2).text()) > 0 for r in range(3))  # updates/s


def test_the_sequence_stays_editable_during_training(make_window, qtbot):
    doc = small_adding()
    window = make_window(Session(doc))
    set_form(window, updates=100_000)
    tr = window.training
    tr.form.train_button.click()
    qtbot.waitUntil(lambda: tr.last_snapshot is not None and tr.last_snapshot.update > 5,
                    timeout=TIMEOUT)
    seq = window.session.document.sequence
    edited = Sequence(seq.inputs * 0.5, targets=seq.targets, target_mask=seq.target_mask,
                      channel_names=seq.channel_names)
    window.editor.apply(window.session.document.with_sequence(edited), "scale inputs")
    update = tr.last_snapshot.update
    qtbot.waitUntil(lambda: tr.last_snapshot.update > update + 5, timeout=TIMEOUT)
    assert window.session.document.sequence is edited  # the snapshots follow the edit
    tr.pause()
    qtbot.waitUntil(lambda: not tr.running, timeout=TIMEOUT)
    trained = window.session.document
    assert trained.sequence is edited and trained.models[0].training.update > update
    stack = window.editor.stack
    stack.undo()  # the run: the edited sequence with the weights from before training
    assert window.session.document.sequence is edited
    assert window.session.document.models[0] is doc.models[0]
    stack.undo()  # the edit
    assert window.session.document.sequence is doc.sequence
    assert window.session.document.models[0] is doc.models[0]


def test_the_timeline_shows_a_snapshot_and_use_makes_it_current(make_window, qtbot):
    doc = small_adding()
    window = make_window(Session(doc))
    set_form(window, updates=60, eval_every=20)
    train(window, qtbot)
    tr = window.training
    trained = window.session.document
    record = trained.models[0].training
    assert list(record.history.snapshot_update) == [0, 20, 40, 60]
    timeline = tr.form.timeline
    assert timeline.maximum() == 3 and timeline.value() == 3
    timeline.setValue(1)
    qtbot.waitUntil(lambda: tr.previewing == 20, timeout=TIMEOUT)
    shown = window.session.document.models[0]
    assert same(shown.weights, record.history.snapshot_at(20))
    window.redraw_now()
    assert window.dashboard.drawn.model is shown  # every panel shows the network then
    fresh = compute(window.session.document)
    np.testing.assert_array_equal(window.dashboard.drawn.trace.hidden,
                                  fresh.model(0).trace.hidden)
    count = window.editor.stack.count()
    assert window.editor.stack.count() == count  # looking is not an edit
    tr.form.back_button.click()
    assert tr.previewing is None and window.session.document is trained
    timeline.setValue(2)
    qtbot.waitUntil(lambda: tr.previewing == 40, timeout=TIMEOUT)
    tr.form.use_button.click()
    assert tr.previewing is None
    assert window.editor.stack.undoText() == "Use the weights of update 40"
    current = window.session.document.models[0]
    assert same(current.weights, record.history.snapshot_at(40))
    assert current.training.update == 40
    window.editor.stack.undo()
    assert window.session.document is trained
    tr.form.reset_button.click()
    assert window.session.document.models[0].training is None
    assert same(window.session.document.models[0].weights,
                doc.models[0].network().state_dict())


def test_divergence_stops_with_a_banner_naming_the_update(make_window, qtbot):
    doc = small_adding(cells=("rnn_relu",))
    window = make_window(Session(doc))
    set_form(window, updates=500, optimizer="sgd", lr=100.0, clip=None)
    window.training.form.momentum_spin.setValue(0.0)
    train(window, qtbot)
    snap = window.training.last_snapshot
    assert snap.status == "diverged"
    banner = window.banner.text()
    assert window.banner_bar.isVisible()
    assert f"Training diverged at update {snap.diverged.update}" in banner
    model = window.session.document.models[0]
    assert all(np.isfinite(a).all() for a in model.weights.values())
    assert model.training.diverged.update == snap.diverged.update


def test_a_task_the_sequence_does_not_fit_offers_an_example(make_window, qtbot):
    window = make_window()  # the sine demo: one channel
    tr = window.training
    assert tr.form.choice().name == "fit"
    set_form(window, updates=10, eval_every=5)
    asked = []
    tr.confirm = lambda title, text: asked.append(text) or False
    assert not tr.start()
    assert "the sequence has 1 channel(s)" in asked[0].lower()
    assert window.session.document.sequence.channels == 1
    tr.confirm = lambda title, text: True
    train(window, qtbot)
    doc = window.session.document
    assert doc.sequence.channels == 2 and doc.models[0].training.update == 10
    stack = window.editor.stack
    assert stack.undoText() == "Train 10 updates"
    stack.undo()
    assert stack.undoText() == "Use an example of Adding problem"


def test_closing_while_training_asks_and_stops_only_when_the_window_closes(make_window, qtbot):
    window = make_window(Session(small_adding()))
    set_form(window, updates=100_000)
    tr = window.training
    window.files.prompts = Answers(CANCEL, DISCARD)
    tr.form.train_button.click()
    qtbot.waitUntil(lambda: tr.last_snapshot is not None and tr.last_snapshot.update > 3,
                    timeout=TIMEOUT)
    assert not window.close()  # Cancel: the window stays, and so does the run
    assert tr.running
    update = tr.last_snapshot.update
    qtbot.waitUntil(lambda: tr.last_snapshot.update > update, timeout=TIMEOUT)
    handle = window.runner.handle("train")
    assert window.close()  # Discard: closed, and the run's thread has stopped
    assert not handle.thread.isRunning()


@pytest.mark.parametrize("name", ["train.start", "train.step"])
def test_train_menu_commands_run_from_the_registry(make_window, qtbot, name):
    window = make_window(Session(small_adding()))
    set_form(window, updates=5, eval_every=5)
    window.actions[name].trigger()
    qtbot.waitUntil(lambda: not window.training.running, timeout=TIMEOUT)
    expected = 5 if name == "train.start" else 1
    assert window.session.document.models[0].training.update == expected
    assert window.editor.stack.undoText() == (f"Train {expected} update"
                                              + ("s" if expected > 1 else ""))


def test_the_window_lays_out_once_at_the_press_and_not_while_it_trains(make_window, qtbot):
    """The run's status text grows a few times a second; it must not widen its dock (a
    relayout and repaint of the whole window each time: stalls of 100-200 ms)."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication, QDockWidget

    window = make_window(Session(small_adding()))
    window.resize(1280, 800)
    set_form(window, updates=1500, eval_every=250)
    resized: list[tuple[str, int]] = []

    class Watch(QObject):
        def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
            snap = window.training.last_snapshot
            if (event.type() == QEvent.Type.Resize and isinstance(obj, QDockWidget)
                    and snap is not None and snap.update > 0):
                resized.append((obj.objectName(), snap.update))
            return False

    watch = Watch()
    QApplication.instance().installEventFilter(watch)
    try:
        snapshots: list[int] = []
        install = window.session.install

        def counted(document, results):
            snapshots.append(window.training.last_snapshot.update)
            install(document, results)

        window.session.install = counted
        train(window, qtbot)
    finally:
        QApplication.instance().removeEventFilter(watch)
    assert len(snapshots) >= 2  # the dashboard showed the network as it trained
    assert window.training.panel.status.text()  # the status line had its say
    assert resized == []


def test_while_training_the_dashboard_draws_a_panel_per_turn_and_the_run_waits_for_it(
        make_window, qtbot, monkeypatch):
    import rnnviz.gui.training.controller as controller

    monkeypatch.setattr(controller, "PUBLISH_SECONDS", 0.02)  # snapshots however fast it runs
    window = make_window(Session(small_adding()))
    set_form(window, updates=200, eval_every=50)
    dashboard = window.dashboard
    seen: list[tuple[bool, int, bool]] = []
    draw = dashboard.draw_results

    def watched(results, view, one_at_a_time=False):
        draw(results, view, one_at_a_time=one_at_a_time)
        seen.append((one_at_a_time, len(dashboard._queue), window.training.running))  # noqa: SLF001

    dashboard.draw_results = watched
    window.training.form.train_button.click()
    assert dashboard.spread
    qtbot.waitUntil(lambda: not window.training.running, timeout=TIMEOUT)
    assert not dashboard.spread
    during = [s for s in seen if s[2]]
    assert during and all(spread and queued > 0 for spread, queued, _ in during)
    # the final weights are drawn at once, into every panel
    final = window.session.model_results
    assert dashboard.drawn is final and not dashboard._queue  # noqa: SLF001
    trained = window.session.document.models[0]
    assert trained.training.update == 200


def test_a_session_opened_in_a_fresh_window_gets_its_own_task_in_the_form(make_window):
    """``rnnviz adding.rnnviz``: the window starts on the sine demo with an empty history,
    then opens the file; Train must then train the adding problem, not fit the sequence."""
    from rnnviz.gui.files.controller import sample_paths

    window = make_window()
    assert window.editor.stack.count() == 0
    adding = next(p for p in sample_paths() if p.stem == "adding")
    assert window.files.open_paths([str(adding)], wait=True)
    choice = window.training.form.choice()
    assert (choice.name, choice.length) == ("adding", 100)
    assert window.training.form.batch_spin.value() > 1
