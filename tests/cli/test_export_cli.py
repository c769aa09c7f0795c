"""`rnnviz export` run as a real command without a display: the files it lists exist and hold
the run's values; bad arguments end with exit status 2 and one line on stderr."""

import csv
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image

from rnnviz.engine import Network, NetworkConfig
from rnnviz.gui.export.animation import frame_steps
from rnnviz.io.opener import open_file
from rnnviz.io.session_file import save_session
from rnnviz.io.weights import save_weights
from rnnviz.session import ViewState, compute
from rnnviz.session.demos import load_demo

SVG = "{http://www.w3.org/2000/svg}"


def run_cli(*args, cwd):
    """Run `python -m rnnviz export ARGS` with no display configured at all."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")
    }
    return subprocess.run(
        [sys.executable, "-m", "rnnviz", "export", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


def listed_files(result, out):
    """The files printed on stdout, checked to be exactly the files in ``out``."""
    assert result.returncode == 0, result.stderr
    listed = [Path(line) for line in result.stdout.splitlines()]
    assert len(listed) == len(set(listed))
    assert {p.resolve() for p in listed} == {p.resolve() for p in Path(out).iterdir()}
    return {p.name: p for p in listed}


def read_table(path):
    """(header, values) of a CSV written by the export; values as float64 (rows, columns)."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], np.array([[float(v) for v in row] for row in rows[1:]])


def heatmap_values(path):
    """A heatmap CSV's values (units, steps), checked to have one row per unit."""
    header, table = read_table(path)
    assert header[0] == "unit"
    np.testing.assert_array_equal(table[:, 0], np.arange(len(table)))
    return table[:, 1:]


def write_sequence(path, values, names):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(names)
        writer.writerows(values.tolist())


@pytest.fixture
def seq_csv(tmp_path):
    """A short two-channel sequence file (12 steps)."""
    values = np.column_stack([np.sin(np.arange(12) * 0.7), np.linspace(-1.0, 1.0, 12)])
    path = tmp_path / "seq.csv"
    write_sequence(path, values, ["a", "b"])
    return path


def test_demo_export_writes_every_format_with_the_plotted_values(tmp_path):
    out = tmp_path / "out"
    stride = 40
    result = run_cli(
        "--demo",
        "sine",
        "--out",
        out,
        "--format",
        "png,svg,pdf,csv,npz,gif",
        "--panels",
        "hidden,gates,gradients",
        "--width",
        "800",
        "--step",
        "50",
        "--stride",
        stride,
        cwd=tmp_path,
    )
    files = listed_files(result, out)
    # nothing on stderr but progress, which a long export shows
    assert all(re.fullmatch(r"rnnviz export: (writing \S+|\S+ \d+%)", line)
               for line in result.stderr.splitlines()), result.stderr
    expected = compute(load_demo("sine"))
    steps = expected.document.sequence.steps

    for panel in ("hidden", "gates", "gradients"):
        image = np.asarray(Image.open(files[f"{panel}.png"]).convert("RGB"), dtype=float)
        assert image.shape[1] == 800
        assert image.std() > 20  # not blank: plots, text and colours
        root = ET.parse(files[f"{panel}.svg"]).getroot()
        assert root.tag == f"{SVG}svg" and next(root.iter(f"{SVG}path"), None) is not None
        pdf = files[f"{panel}.pdf"].read_bytes()
        assert pdf.startswith(b"%PDF") and b"/Type /Page" in pdf
        frames = iio.imread(files[f"{panel}.gif"], index=None)
        assert frames.shape[0] == len(frame_steps(steps, stride))
        assert frames.shape[2] == 800

    hidden = heatmap_values(files["hidden_hidden_layer0.csv"])
    np.testing.assert_array_equal(hidden, expected.models[0].trace.hidden[0].T)
    header, traces = read_table(files["hidden_hidden_traces_layer0.csv"])
    assert header == ["step", "unit 0", "unit 1", "unit 2"]
    np.testing.assert_array_equal(traces[:, 1:], expected.models[0].trace.hidden[0][:, :3])
    for gate in "ifgo":
        np.testing.assert_array_equal(
            heatmap_values(files[f"gates_gate_{gate}_layer0.csv"]),
            expected.models[0].trace.gates[gate][0].T,
        )
    header, grads = read_table(files["gradients.csv"])
    column = header.index("‖∂L/∂h_t‖")
    np.testing.assert_array_equal(grads[:, column], expected.models[0].grads.hidden_norm[0])

    with np.load(files["run.npz"], allow_pickle=False) as run:
        np.testing.assert_array_equal(run["states/hidden"], expected.models[0].trace.hidden)
        np.testing.assert_array_equal(run["inputs"], expected.document.sequence.inputs)
    assert "run.json" in files


def test_input_and_weights_files_drive_the_export(tmp_path, seq_csv):
    doc = open_file(seq_csv, load_demo("sine")).document
    cfg = NetworkConfig(cell="gru", input_size=2, hidden_size=5, seed=3)
    weights = tmp_path / "w.npz"
    save_weights(weights, doc.with_config(0, cfg).models[0].network().state_dict(), "gru")
    out = tmp_path / "out"
    result = run_cli(
        "--input",
        seq_csv,
        "--weights",
        weights,
        "--out",
        out,
        "--format",
        "csv,png",
        "--width",
        "300",
        cwd=tmp_path,
    )
    files = listed_files(result, out)  # every panel the network has something to show in
    expected = compute(open_file(weights, doc).document)
    assert expected.models[0].trace.hidden.shape[2] == 5
    np.testing.assert_array_equal(
        heatmap_values(files["hidden_hidden_layer0.csv"]), expected.models[0].trace.hidden[0].T
    )
    # A GRU has no cell state and this network no readout: no files for those panels...
    assert not [name for name in files if name.startswith(("cell", "output"))]
    assert Image.open(files["gradients.png"]).width == 300
    # ... and asking for one by name is a clear error.
    refused = run_cli("--input", seq_csv, "--weights", weights, "--out", tmp_path / "o2",
                      "--format", "csv", "--panels", "cell", cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and "Cell memory c_t" in refused.stderr


def test_session_file_export(tmp_path, seq_csv):
    doc = open_file(seq_csv, load_demo("sine")).document
    session_path = tmp_path / "run.rnnviz"
    save_session(session_path, doc, ViewState(step=4))
    out = tmp_path / "out"
    result = run_cli(
        session_path, "--out", out, "--format", "npz,svg", "--panels", "dashboard", cwd=tmp_path
    )
    files = listed_files(result, out)
    assert set(files) == {"run.npz", "run.json", "dashboard.svg"}
    with np.load(files["run.npz"], allow_pickle=False) as run:
        np.testing.assert_array_equal(run["inputs"], doc.sequence.inputs)
    root = ET.parse(files["dashboard.svg"]).getroot()
    assert next(root.iter(f"{SVG}path"), None) is not None


def _bad_cases(tmp_path, seq_csv):
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(b"\x00\xff\xfe not, a\nsequence")
    wrong = tmp_path / "wrong.npz"
    cfg = NetworkConfig(cell="lstm", input_size=3, hidden_size=4)
    save_weights(wrong, Network.from_config(cfg).state_dict(), "lstm")
    out = tmp_path / "out"
    return {
        "format": (["--demo", "sine", "--out", out, "--format", "png,jpeg"], "jpeg"),
        "out": (["--demo", "sine"], "--out"),
        "panel": (["--demo", "sine", "--out", out, "--panels", "hidden,brain"], "brain"),
        "step": (["--demo", "sine", "--out", out, "--step", "200"], "--step"),
        "missing": (["--input", tmp_path / "nope.csv", "--out", out], "nope.csv"),
        "garbage": (["--input", garbage, "--out", out], "garbage.csv"),
        "weights": (["--input", seq_csv, "--weights", wrong, "--out", out], "wrong.npz"),
        "fps": (["--demo", "sine", "--out", out, "--format", "gif", "--fps", "90"], "--fps"),
    }


@pytest.mark.parametrize(
    "case", ["format", "out", "panel", "step", "missing", "garbage", "weights", "fps"]
)
def test_bad_arguments_exit_2_with_one_line(tmp_path, seq_csv, case):
    args, named = _bad_cases(tmp_path, seq_csv)[case]
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("rnnviz export: error: ")
    assert named in lines[0]
    assert result.stdout == ""
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_arguments_that_do_not_fit_are_refused_in_one_line(tmp_path, seq_csv):
    for args, message in (
        (("--demo", "sine", "--weights", seq_csv), "not a weights file"),
        (("--input", seq_csv, "--prefix", "rnn."), "--prefix goes with --weights"),
        (("--demo", "sine", "--target-column", "0"), "--target-column goes with --input"),
    ):
        result = run_cli(*args, "--out", tmp_path / "o", "--format", "npz", cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert result.stderr.count("\n") == 1 and message in result.stderr
        assert "Traceback" not in result.stderr


def test_a_named_panel_with_nothing_to_show_is_refused(tmp_path, seq_csv):
    """The input file has no target column, so the network has no readout to plot."""
    result = run_cli("--input", seq_csv, "--out", tmp_path / "o", "--panels", "output",
                     cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "rnnviz export: error: Output & loss: nothing is plotted " \
        "for this network"


def test_long_exports_show_progress_on_stderr():
    import io

    from rnnviz.cli.export import StderrProgress

    stream = io.StringIO()
    progress = StderrProgress(stream, after=0.0)
    progress("hidden.png", 0.0)
    progress("hidden.png", 1.0)
    for k in range(11):
        progress("hidden.gif", k / 10)
    assert stream.getvalue().splitlines() == [
        "rnnviz export: writing hidden.png", "rnnviz export: writing hidden.gif",
        "rnnviz export: hidden.gif 25%", "rnnviz export: hidden.gif 50%",
        "rnnviz export: hidden.gif 75%"]
    quiet = io.StringIO()
    StderrProgress(quiet, after=60.0)("hidden.gif", 0.5)  # a short export says nothing
    assert quiet.getvalue() == ""


@pytest.mark.parametrize("where", ["out", "input", "session", "weights", "deep out"])
def test_names_too_long_for_the_file_system_are_one_line(tmp_path, where):
    long = "x" * 300
    args = {
        "out": ("--demo", "sine", "--out", tmp_path / long),
        "input": ("--input", tmp_path / f"{long}.csv", "--out", tmp_path / "o"),
        "session": (tmp_path / f"{long}.rnnviz", "--out", tmp_path / "o"),
        "weights": ("--demo", "sine", "--weights", tmp_path / f"{long}.npz", "--out",
                    tmp_path / "o"),
        "deep out": ("--demo", "sine", "--out", tmp_path / ("y/" * 2100)),
    }[where]
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "too long" in result.stderr and len(result.stderr) < 200
