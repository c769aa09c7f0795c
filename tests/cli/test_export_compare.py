"""`rnnviz export` of comparisons: --compare/--matched-params from the command line, and a saved
comparison; per-model files named <panel>-<model>, the comparison's figures and CSV beside
them, one-model exports unchanged."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from rnnviz.engine import Network
from rnnviz.engine.analysis import influence
from rnnviz.io.session_file import save_session
from rnnviz.session import ViewState, compute
from rnnviz.session import compare as cmp
from rnnviz.session.demos import load_demo


def run_cli(*args, cwd):
    """Run `python -m rnnviz export ARGS` with no display configured at all."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    return subprocess.run([sys.executable, "-m", "rnnviz", "export", *map(str, args)],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=240)


def listed_files(result, out):
    """The files printed on stdout, checked to be exactly the files in ``out``."""
    assert result.returncode == 0, result.stderr
    listed = [Path(line) for line in result.stdout.splitlines()]
    assert len(listed) == len(set(listed))
    assert {p.resolve() for p in listed} == {p.resolve() for p in Path(out).iterdir()}
    return {p.name: p for p in listed}


def read_table(path):
    """(header, values as float64 (rows, columns)) of a numeric CSV of the export."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], np.array([[float(v) for v in row] for row in rows[1:]])


def test_compare_from_the_command_line_writes_each_models_figures_and_the_comparison(
        tmp_path):
    out = tmp_path / "figs"
    result = run_cli("--demo", "adding", "--compare", "rnn_tanh,lstm,gru", "--format",
                     "png,csv,npz", "--width", "900", "--out", out, "--quiet", cwd=tmp_path)
    files = listed_files(result, out)
    assert result.stderr == ""
    models = ("RNN_32", "LSTM_32", "GRU_32")
    for model in models:
        for panel in ("hidden", "gates", "output", "gradients"):
            assert f"{panel}-{model}.png" in files, (panel, model)
        assert f"run-{model}.npz" in files and f"run-{model}.json" in files
    assert "cell-LSTM_32.png" in files and "cell-RNN_32.png" not in files
    assert "input.png" in files and "input-LSTM_32.png" not in files  # the same for all
    assert not any(name in files for name in ("hidden.png", "run.npz"))
    image = np.asarray(Image.open(files["compare.png"]).convert("RGB"), dtype=float)
    assert image.shape[1] == 900 and image.std() > 20

    doc = cmp.compare_cells(load_demo("adding"))
    expected = compute(doc)
    header, grads = read_table(files["compare_gradients.csv"])
    assert header == ["step", "RNN 32", "LSTM 32", "GRU 32"]
    for k, r in enumerate(expected.models):
        np.testing.assert_array_equal(grads[:, k + 1], r.grads.hidden_norm[-1])
    header, profile = read_table(files["compare_influence.csv"])
    for k, (r, model) in enumerate(zip(expected.models, doc.models, strict=True)):
        m = influence(Network.from_config(model.config), r.trace)
        np.testing.assert_allclose(profile[:, k + 1], m[-1] / m[-1, -1], rtol=1e-9)
    summary = files["compare_summary.csv"].read_text().splitlines()
    assert [row.split(",")[:5] for row in summary[1:]] == [
        ["RNN 32", "rnn_tanh", "32", "1", "1185"], ["LSTM 32", "lstm", "32", "1", "4641"],
        ["GRU 32", "gru", "32", "1", "3489"]]
    header, hidden = read_table(files["hidden-GRU_32_hidden_layer0.csv"])
    np.testing.assert_array_equal(hidden[:, 1:], expected.models[2].trace.hidden[0].T)
    with np.load(files["run-RNN_32.npz"], allow_pickle=False) as run:
        np.testing.assert_array_equal(run["states/hidden"], expected.models[0].trace.hidden)


def test_a_saved_comparison_exports_its_models_and_matched_params_size_them(tmp_path):
    doc = cmp.rename_model(cmp.compare_cells(load_demo("adding"), cells=("lstm", "gru")),
                           1, "my GRU")
    path = tmp_path / "run.rnnviz"
    save_session(path, doc, ViewState(model=1))
    out = tmp_path / "a"
    files = listed_files(run_cli(path, "--panels", "gradients,compare", "--format", "csv",
                                 "--out", out, cwd=tmp_path), out)
    assert set(files) == {"gradients-LSTM_32.csv", "gradients-my_GRU.csv",
                          "compare_output.csv", "compare_loss.csv", "compare_gradients.csv",
                          "compare_gates.csv", "compare_influence.csv", "compare_summary.csv"}

    out = tmp_path / "b"
    files = listed_files(run_cli("--demo", "adding", "--compare", "rnn,gru,lstm",
                                 "--matched-params", "--panels", "compare", "--format", "csv",
                                 "--out", out, cwd=tmp_path), out)
    rows = [row.split(",") for row in files["compare_summary.csv"].read_text().splitlines()[1:]]
    assert [(r[0], r[2], r[4]) for r in rows] == [("RNN 66", "66", "4687"),
                                                  ("GRU 37", "37", "4589"),
                                                  ("LSTM 32", "32", "4641")]


def test_one_model_keeps_its_file_names_and_bad_compare_arguments_are_one_line(tmp_path):
    out = tmp_path / "one"
    files = listed_files(run_cli("--demo", "adding", "--panels", "gradients", "--format",
                                 "png,npz", "--out", out, cwd=tmp_path), out)
    assert set(files) == {"gradients.png", "run.npz", "run.json"}
    for args, message in ((("--compare", "rnn,lstn"), "unknown cell lstn"),
                          (("--matched-params",), "--matched-params goes with --compare"),
                          (("--compare", "lstm,gru,lstm"), "only once")):
        result = run_cli("--demo", "adding", *args, "--out", tmp_path / "bad", cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr


def test_the_training_curves_of_a_comparison_are_one_figure_of_every_model(tmp_path):
    sample = Path(__file__).parents[2] / "resources" / "samples" / "adding_lstm_vs_rnn.rnnviz"
    out = tmp_path / "figs"
    result = run_cli(sample, "--panels", "training", "--format", "png,csv", "--out", out,
                     "--quiet", cwd=tmp_path)
    files = listed_files(result, out)
    assert sorted(files) == ["training.png", "training_evaluations.csv",
                             "training_updates.csv"]
    header, _ = read_table(files["training_evaluations.csv"])
    assert header[1:] == ["LSTM 32 test loss", "LSTM 32 success", "RNN 32 test loss",
                          "RNN 32 success"]
