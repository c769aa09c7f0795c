"""File menu: saving and reopening sessions, the title's unsaved marker, refused files, trained
weights from PyTorch, drag and drop, New, samples and the recent files list."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from rnnviz.gui.files import CANCEL, DISCARD, Prompts, RecentFiles
from rnnviz.gui.files.recent import MAX_RECENT
from rnnviz.io.session_file import load_session, save_session
from rnnviz.io.weights import load_weights
from rnnviz.session import Sequence

GOLDEN = Path(__file__).resolve().parents[1] / "engine" / "golden"


class Answers(Prompts):
    """Scripted answers instead of dialogs; records what was asked."""

    def __init__(self) -> None:
        self.unsaved: list[str] = []
        self.asked: list[str] = []
        self.open: list[list[str]] = []
        self.save: list[str | None] = []
        self.prefix: str | None = None
        self.prefixes_offered: list[str] | None = None
        self.warnings: list[str] = []

    def unsaved_changes(self, window, name, answer) -> None:
        self.asked.append(name)
        answer(self.unsaved.pop(0) if self.unsaved else DISCARD)

    def choose_prefix(self, window, file_name, prefixes):
        self.prefixes_offered = list(prefixes)
        return self.prefix

    def open_paths(self, window, title, file_filter):
        return self.open.pop(0)

    def save_path(self, window, title, suggested, file_filter):
        return self.save.pop(0)

    def warn(self, window, text) -> None:
        self.warnings.append(text)


@pytest.fixture
def answers(window) -> Answers:
    window.files.prompts = Answers()
    return window.files.prompts


def shown_title(window) -> str:
    """The title as the window manager shows it (Qt replaces the "[*]" placeholder)."""
    return window.windowTitle().replace("[*]", "*" if window.isWindowModified() else "")


def edit_inputs(window, factor: float = 2.0) -> None:
    seq = window.session.document.sequence
    new = Sequence(seq.inputs * factor, targets=seq.targets, channel_names=seq.channel_names)
    window.editor.apply(window.session.document.with_sequence(new), "scale inputs")


def write_csv(path: Path, values: np.ndarray) -> None:
    header = ",".join(f"c{i}" for i in range(values.shape[1]))
    path.write_text(header + "\n" + "\n".join(",".join(map(repr, row)) for row in values.tolist()))


# ---- saving and reopening -----------------------------------------------------------------


def test_save_as_then_reopen_gives_identical_arrays(window, answers, make_window, tmp_path):
    edit_inputs(window, 1.5)
    window.session.set_view(step=17, units=(2, 5))
    path = tmp_path / "mine.rnnviz"
    answers.save.append(str(path))
    window.actions["file.save"].trigger()  # no file yet: Save is Save As
    assert path.is_file()
    saved = window.session.document

    other = make_window()
    assert other.open_paths([str(path)])
    doc = other.session.document
    np.testing.assert_array_equal(doc.sequence.inputs, saved.sequence.inputs)
    np.testing.assert_array_equal(doc.sequence.targets, saved.sequence.targets)
    assert doc.models[0].config == saved.models[0].config and doc.task == saved.task
    assert other.session.view.step == 17 and other.session.view.units == (2, 5)
    other.redraw_now()
    np.testing.assert_array_equal(
        other.session.results.models[0].trace.hidden, window.session.results.models[0].trace.hidden
    )
    assert not other.session.dirty
    assert shown_title(other) == "mine.rnnviz — rnnviz"
    assert not other.editor.stack.canUndo()  # a new document starts a new history


def test_title_marks_unsaved_changes(window, answers, tmp_path):
    assert shown_title(window) == "untitled — rnnviz"
    edit_inputs(window)
    assert shown_title(window) == "untitled* — rnnviz"
    answers.save.append(str(tmp_path / "run"))  # the suffix is added
    window.actions["file.save_as"].trigger()
    assert (tmp_path / "run.rnnviz").is_file()
    assert shown_title(window) == "run.rnnviz — rnnviz"
    edit_inputs(window)
    assert shown_title(window) == "run.rnnviz* — rnnviz"
    window.editor.stack.undo()  # back to what is on disk
    assert shown_title(window) == "run.rnnviz — rnnviz"


def test_save_writes_to_the_same_file_without_asking(window, answers, tmp_path):
    path = tmp_path / "s.rnnviz"
    assert window.files.save_to(path)
    edit_inputs(window, 3.0)
    window.actions["file.save"].trigger()  # answers.save is empty: asking would fail
    assert not window.session.dirty
    on_disk, _ = load_session(path)
    np.testing.assert_array_equal(on_disk.sequence.inputs, window.session.document.sequence.inputs)


def test_failed_save_shows_a_message_and_stays_unsaved(window, answers, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    edit_inputs(window)
    answers.save.append(str(blocker / "out.rnnviz"))
    window.actions["file.save_as"].trigger()
    assert window.session.dirty
    assert window.session.path is None
    assert shown_title(window) == "untitled* — rnnviz"
    assert len(answers.warnings) == 1
    assert answers.warnings[0].startswith("cannot save out.rnnviz:")
    assert "\n" not in answers.warnings[0]
    assert window.statusBar().currentMessage() == answers.warnings[0]


def _bad_session_files(tmp_path: Path, window) -> dict[str, Path]:
    good = tmp_path / "good.rnnviz"
    save_session(good, window.session.document, window.session.view)
    data = good.read_bytes()
    truncated = tmp_path / "truncated.rnnviz"
    truncated.write_bytes(data[: len(data) // 2])
    garbage = tmp_path / "garbage.rnnviz"
    garbage.write_bytes(bytes(range(256)) * 8)
    newer = tmp_path / "newer.rnnviz"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(newer, "w") as dst:
        for item in src.infolist():
            content = src.read(item)
            if item.filename == "session.json":
                meta = json.loads(content)
                meta["version"] = 99
                content = json.dumps(meta).encode()
            dst.writestr(item, content)
    return {"truncated": truncated, "garbage": garbage, "newer": newer}


def test_damaged_or_newer_sessions_are_refused(window, answers, tmp_path):
    edit_inputs(window)
    before, view = window.session.document, window.session.view
    for kind, path in _bad_session_files(tmp_path, window).items():
        answers.open.append([str(path)])
        window.actions["file.open"].trigger()
        window.files.wait()  # files are read in a job
        message = answers.warnings[-1]
        assert message.startswith(f"cannot open {path.name}:"), kind
        assert "\n" not in message
        assert window.session.document is before and window.session.view == view
        assert window.session.dirty and window.session.path is None
    assert "newer rnnviz" in answers.warnings[-1]
    assert len(answers.warnings) == 3
    # read first (in a job): a file that cannot be opened is refused before any question
    assert answers.asked == []
    assert window.editor.stack.canUndo()  # the history survived


def test_opening_a_session_over_unsaved_changes_can_be_cancelled(window, answers, tmp_path):
    path = tmp_path / "other.rnnviz"
    save_session(path, window.session.document, window.session.view)
    edit_inputs(window)
    before = window.session.document
    answers.unsaved.append(CANCEL)
    assert not window.open_paths([str(path)])
    assert window.session.document is before and window.session.dirty


# ---- trained weights ------------------------------------------------------------------------


def _fixture(name: str) -> dict[str, np.ndarray]:
    with np.load(GOLDEN / name, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def test_pytorch_weights_reproduce_torch_hidden_states(window, tmp_path):
    fx = _fixture("readout_lstm_mse.npz")  # torch run from a zero initial state
    sequence = tmp_path / "sequence.npz"
    np.savez(sequence, inputs=fx["x"])
    weights = tmp_path / "trained.npz"
    np.savez(weights, **{str(k): fx[str(k)] for k in fx["param_names"]})

    assert window.open_paths([str(sequence), str(weights)])
    window.redraw_now()
    config = window.session.document.models[0].config
    assert (config.cell, config.num_layers, config.hidden_size, config.output_size) == (
        "lstm",
        2,
        5,
        4,
    )
    trace = window.session.results.models[0].trace
    np.testing.assert_allclose(trace.hidden, fx["trace.hidden"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(trace.cell, fx["trace.cell"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(trace.logits, fx["logits"], rtol=1e-10, atol=1e-12)
    # each file is one undoable edit
    window.editor.stack.undo()
    assert window.session.document.models[0].weights is None
    np.testing.assert_array_equal(window.session.document.sequence.inputs, fx["x"])


def test_load_weights_asks_which_rnn_and_matches_torch(window, answers, tmp_path):
    fx = _fixture("lstm_L2_bias.npz")
    names = [str(k) for k in fx["param_names"]]
    arrays = {f"rnn.{k}": fx[k] for k in names}
    arrays.update({f"encoder.{k}": fx[k] * 0.5 for k in names})  # a second RNN
    weights = tmp_path / "model.npz"
    np.savez(weights, **arrays)
    csv = tmp_path / "x.csv"
    write_csv(csv, fx["x"])
    assert window.open_paths([str(csv)])

    before = window.session.document
    answers.open.append([str(weights)])
    answers.prefix = None  # cancel the chooser: nothing changes
    window.actions["file.load_weights"].trigger()
    window.files.wait()
    assert answers.prefixes_offered == ["encoder.", "rnn."]
    assert window.session.document is before

    answers.open.append([str(weights)])
    answers.prefix = "rnn."
    window.actions["file.load_weights"].trigger()
    window.files.wait()
    doc = window.session.document
    assert doc.models[0].weights is not None and doc.models[0].config.num_layers == 2
    trace = doc.models[0].network().forward(fx["x"], fx["h0"], fx["c0"])
    np.testing.assert_allclose(trace.hidden, fx["trace.hidden"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(trace.cell, fx["trace.cell"], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_save_weights_round_trip(window, answers, tmp_path, suffix):
    path = tmp_path / f"w{suffix}"
    answers.save.append(str(path))
    window.actions["file.save_weights"].trigger()
    loaded = load_weights(path)
    state = window.session.document.models[0].network().state_dict()
    assert loaded.config.cell == window.session.document.models[0].config.cell
    assert set(loaded.state_dict) == set(state)
    for key, value in state.items():
        np.testing.assert_array_equal(loaded.state_dict[key], value)


def test_weights_that_do_not_fit_are_refused(window, answers, tmp_path):
    fx = _fixture("lstm_L2_bias.npz")  # takes 3 inputs; the sine demo has 1 channel
    weights = tmp_path / "three.npz"
    np.savez(weights, **{str(k): fx[str(k)] for k in fx["param_names"]})
    before = window.session.document
    answers.open.append([str(weights)])
    window.actions["file.load_weights"].trigger()
    window.files.wait()
    assert window.session.document is before
    assert answers.warnings == [
        "cannot open three.npz: the weights take 3 input channels but the sequence has 1"
    ]


# ---- drag and drop, New, samples --------------------------------------------------------------


def _drop(window, paths: list[Path]) -> tuple[bool, bool]:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    action = Qt.DropAction.CopyAction
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(QPoint(50, 50), action, mime, buttons, mods)
    QApplication.sendEvent(window, enter)
    drop = QDropEvent(QPointF(50, 50), action, mime, buttons, mods)
    QApplication.sendEvent(window, drop)
    return enter.isAccepted(), drop.isAccepted()


def test_dropping_a_csv_changes_the_inputs(window, answers, tmp_path):
    assert window.acceptDrops()
    values = np.column_stack([np.linspace(-1, 1, 25), np.cos(np.arange(25.0))])
    csv = tmp_path / "dropped.csv"
    write_csv(csv, values)
    assert _drop(window, [csv]) == (True, True)
    window.files.wait()
    np.testing.assert_allclose(window.session.document.sequence.inputs, values)
    assert window.session.dirty
    window.editor.stack.undo()
    assert window.session.document.sequence.inputs.shape == (200, 1)


def test_dropping_text_is_ignored(window):
    mime = QMimeData()
    mime.setText("hello")
    enter = QDragEnterEvent(
        QPoint(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    enter.ignore()
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()


def test_new_asks_about_unsaved_changes(window, answers, tmp_path):
    assert window.files.save_to(tmp_path / "kept.rnnviz")
    edit_inputs(window)
    answers.unsaved.append(CANCEL)
    window.actions["file.new"].trigger()
    assert window.session.dirty and answers.asked == ["kept.rnnviz"]
    answers.unsaved.append(DISCARD)
    window.actions["file.new"].trigger()
    assert not window.session.dirty and window.session.path is None
    assert window.session.document.sequence.inputs.shape == (200, 1)
    assert shown_title(window) == "untitled — rnnviz"
    assert not window.editor.stack.canUndo()


def test_samples_open_as_untitled_documents(window, answers, menu_entry):
    menu = window.actions["file.samples"].menu()
    assert {"sine", "adding", "exploding"} <= {a.text() for a in menu.actions()}
    menu_entry(window, "file.samples", "adding").trigger()
    doc = window.session.document
    assert doc.sequence.channels == 2  # the adding problem: values and markers
    assert window.session.path is None and not window.session.dirty


# ---- recent files ---------------------------------------------------------------------------


def test_recent_files_update_and_persist(window, answers, settings, tmp_path):
    csv = tmp_path / "seq.csv"
    write_csv(csv, np.ones((10, 1)))
    session = tmp_path / "s.rnnviz"
    assert window.open_paths([str(csv)])
    assert window.files.save_to(session)
    assert window.files.recent.paths() == [str(session), str(csv)]
    menu = window.actions["file.recent"].menu()
    window.files.fill_recent_menu(menu)
    names = [a.text() for a in menu.actions()]
    assert names == ["s.rnnviz", "seq.csv"]

    settings.sync()
    stored = RecentFiles(QSettings(settings.fileName(), QSettings.Format.IniFormat))
    assert stored.paths() == [str(session), str(csv)]

    csv.unlink()
    window.files.fill_recent_menu(menu)
    assert [a.text() for a in menu.actions()] == ["s.rnnviz"]
    assert "seq.csv" in window.statusBar().currentMessage()


def test_recent_files_keep_the_newest_ten(settings, tmp_path):
    recent = RecentFiles(settings)
    for i in range(MAX_RECENT + 3):
        recent.add(tmp_path / f"f{i}.csv")
    recent.add(tmp_path / "f5.csv")  # reopening moves it to the top, once
    paths = recent.paths()
    assert len(paths) == MAX_RECENT
    assert paths[0] == str(tmp_path / "f5.csv") and paths.count(str(tmp_path / "f5.csv")) == 1
    assert paths[1] == str(tmp_path / f"f{MAX_RECENT + 2}.csv")


def test_opening_a_vanished_recent_file_says_so(window, answers, tmp_path):
    gone = tmp_path / "gone.csv"
    window.files.recent.add(gone)
    before = window.session.document
    assert not window.files.open_recent(str(gone))
    assert window.session.document is before
    assert answers.warnings[0].startswith("cannot open gone.csv: no such file")
    assert window.files.recent.paths() == []


def test_files_are_read_off_the_gui_thread(window, answers, tmp_path, monkeypatch):
    """Opening reads the file in the window's runner; the event loop keeps running."""
    import threading
    import time

    import rnnviz.gui.files.controller as controller

    csv = tmp_path / "slow.csv"
    write_csv(csv, np.column_stack([np.linspace(-1, 1, 30)]))
    threads, real = [], controller.open_file

    def slow_open(*args, **kwargs):
        threads.append(threading.current_thread())
        time.sleep(0.5)  # a big file
        return real(*args, **kwargs)

    monkeypatch.setattr(controller, "open_file", slow_open)
    beats = []
    timer = QTimer()
    timer.timeout.connect(lambda: beats.append(time.perf_counter()))
    timer.start(10)
    answers.open.append([str(csv)])
    window.actions["file.open"].trigger()
    assert window.files.opening  # returned at once, still reading
    window.files.wait()
    timer.stop()
    assert threads and threads[0] is not threading.main_thread()
    assert window.session.document.sequence.steps == 30
    gaps = np.diff(beats)
    assert len(beats) > 20 and gaps.max() < 0.2  # the GUI thread never stalled
