"""`rnnviz train` as a real command: it trains what the trainer trains, continues a saved run
exactly, writes weights under PyTorch's names, its curves export headless, and bad arguments
end with exit status 2 and one line."""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pytest

from rnnviz.engine import NetworkConfig
from rnnviz.io.session_file import load_session
from rnnviz.io.weights import load_weights
from rnnviz.tasks import make_task
from rnnviz.train import Trainer, TrainModel, TrainSettings


def rnnviz(*args, cwd):
    return subprocess.run([sys.executable, "-m", "rnnviz", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def trained_alone(updates: int):
    task = make_task("adding", 10, test_size=50)
    config = NetworkConfig(cell="gru", input_size=2, hidden_size=6, output_size=1, seed=3)
    settings = TrainSettings.from_defaults(task.training, updates=updates, eval_every=20,
                                           seed=3)
    trainer = Trainer(task, [TrainModel("GRU 6", config)], settings)
    trainer.run(updates)
    return trainer


ARGS = ("--task", "adding:test_size=50", "--length", "10", "--cell", "gru", "--hidden", "6",
        "--eval-every", "20", "--seed", "3")


def test_train_writes_the_session_and_weights_the_trainer_makes(tmp_path):
    result = rnnviz("train", *ARGS, "--updates", "60", "--out", "run.rnnviz",
                    "--weights-out", "w.npz", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["run.rnnviz", "w.npz"]
    assert "60/60 loss GRU 6 " in result.stderr
    expected = trained_alone(60)
    doc, _ = load_session(tmp_path / "run.rnnviz")
    model = doc.models[0]
    assert model.training.update == 60
    for key, value in expected.weights(0).items():
        np.testing.assert_array_equal(model.weights[key], value)
    assert model.training.history.equals(expected.record(0).history)
    with np.load(tmp_path / "w.npz", allow_pickle=False) as saved:  # PyTorch's names
        for key, value in expected.weights(0).items():
            np.testing.assert_array_equal(saved[key], value)
    loaded = load_weights(tmp_path / "w.npz")
    assert loaded.config.cell == "gru" and loaded.config.hidden_size == 6
    np.testing.assert_array_equal(doc.sequence.inputs, make_task("adding", 10).example(3).inputs)


def test_a_saved_run_continues_exactly_and_its_curves_export(tmp_path):
    first = rnnviz("train", *ARGS, "--updates", "40", "--out", "run.rnnviz", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    more = rnnviz("train", "--session", "run.rnnviz", "--updates", "80", "--out", "more.rnnviz",
                  "--quiet", cwd=tmp_path)
    assert more.returncode == 0, more.stderr
    assert more.stderr == ""
    doc, _ = load_session(tmp_path / "more.rnnviz")
    expected = trained_alone(80)
    for key, value in expected.weights(0).items():
        np.testing.assert_array_equal(doc.models[0].weights[key], value)
    assert doc.models[0].training.history.equals(expected.record(0).history)

    out = tmp_path / "figs"
    export = rnnviz("export", "more.rnnviz", "--out", out, "--panels", "training",
                    "--format", "png,csv", cwd=tmp_path)
    assert export.returncode == 0, export.stderr
    assert (out / "training.png").stat().st_size > 1000
    with open(out / "training_evaluations.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["update", "GRU 6 test loss", "GRU 6 success"]
    values = np.array([[float(v) for v in row] for row in rows[1:]])
    np.testing.assert_array_equal(values[:, 0], np.arange(0, 81, 20))
    np.testing.assert_array_equal(values[:, 1], expected.record(0).history.test_loss)


def test_an_untrained_session_exports_without_training_curves(tmp_path):
    result = rnnviz("export", "--demo", "sine", "--out", tmp_path / "f", "--format", "csv",
                    cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert not [p for p in (tmp_path / "f").iterdir() if p.name.startswith("training")]
    asked = rnnviz("export", "--demo", "sine", "--out", tmp_path / "g", "--panels", "training",
                   cwd=tmp_path)
    assert asked.returncode == 2
    assert asked.stderr.strip() == ("rnnviz export: error: Training: nothing is plotted for "
                                    "this network")


@pytest.mark.parametrize("args, message", [
    (("--task", "juggling", "--out", "x.rnnviz"), "unknown task 'juggling'"),
    (("--task", "adding", "--out", "x.rnnviz", "--lr", "-1"), "learning_rate=-1.0 is outside"),
    (("--task", "adding", "--out", "x.rnnviz", "--clip", "big"), "--clip must be a max norm"),
    (("--task", "adding", "--out", "x.rnnviz", "--cell", "tcn"), "unknown cell tcn"),
    (("--task", "adding", "--length", "1", "--out", "x.rnnviz"), "length=1 is outside"),
    (("--task", "adding"), "give --out"),
    (("--out", "x.rnnviz"), "give --task"),
    (("--task", "adding", "--out", "x.txt"), "--out must be a .rnnviz file"),
    (("--task", "adding", "--out", "x.rnnviz", "--weights-out", "w.txt"), "--weights-out"),
    (("--session", "missing.rnnviz"), "missing.rnnviz"),
    (("--task", "fit", "--out", "x.rnnviz"), "give --session"),
])
def test_bad_arguments_exit_2_with_one_line(tmp_path, args, message):
    result = rnnviz("train", *args, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rnnviz train: error: ")
    assert message in lines[0]
    assert not (tmp_path / "x.rnnviz").exists()
