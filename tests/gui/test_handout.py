"""File → Export Figure… and ``rnnviz export --figure``: the chosen panels in one figure for a
handout, on aligned time axes, with letters, a title and a caption describing the model."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image

from rnnviz.gui.export.handout import Handout, describe_model
from rnnviz.io.session_file import load_session
from rnnviz.session import Session
from rnnviz.session.demos import load_demo

SAMPLES = Path(__file__).parents[2] / "resources" / "samples"


@pytest.fixture
def adding(make_window):
    return make_window(Session(load_demo("adding")))


def test_export_figure_from_the_file_menu(adding, tmp_path):
    action = adding.actions["file.export_figure"]
    assert action in adding.menus["File"].actions()
    action.trigger()
    dialog = adding.exports.dialog
    assert dialog.keys() == ["input", "hidden", "gates", "output", "cell", "gradients"]
    assert "forget bias 3" in dialog.caption_edit.text()
    dialog.set_choices(panels=["hidden", "gradients"], fmt="png", path=tmp_path / "fig",
                       title="The adding problem", dpi=150, width_in=6.0)
    dialog.accept()
    assert dialog.result() == dialog.DialogCode.Accepted
    (path,) = dialog.written
    assert path == tmp_path / "fig.png"
    with Image.open(path) as image:
        assert image.width == 6 * 150
        assert round(image.info["dpi"][0]) == 150


def test_the_caption_describes_the_model_and_its_training(adding):
    results = adding.session.model_results
    text = describe_model(results)
    for part in ("LSTM", "1 layer × 32 units", "2 inputs → 1 output (identity)", "100 steps",
                 "forget bias 3", "mean squared error at the last step",
                 f"{results.loss.total:.4g}", "untrained (seed 0)"):
        assert part in text, part
    model = results.model
    trained = replace(results, model=replace(model, training=SimpleNamespace(update=1200)))
    assert "trained for 1200 updates" in describe_model(trained)
    weights = dict(model.network().state_dict())
    loaded = replace(results, model=replace(model, weights=weights, training=object()))
    assert "loaded weights" in describe_model(loaded)  # a record without a count


def test_the_panels_share_aligned_time_axes_and_no_widgets(adding):
    results = adding.session.model_results
    keys = ["input", "hidden", "gates", "gradients"]
    with Handout(results, adding.session.view, keys, "title") as handout:
        edges = set()
        for placed in handout.placed:
            assert placed.panel.plot_widget.parent() is None  # the plots alone, no bars
            for plot in placed.panel.time_plots:
                if plot.isVisible():
                    box = plot.getViewBox().sceneBoundingRect()
                    edges.add((round(box.left()), round(box.right())))
                    assert plot.getViewBox().viewRange()[0] == pytest.approx(
                        adding.time_link.range)
        assert len(edges) == 1, edges
        assert not any(p.panel.cursor.isVisible() for p in handout.placed)  # no cursor asked
        assert [p.title for p in handout.placed] == [
            "Input & target", "Hidden state h_t", "Gates", "Gradients (BPTT)"]


def test_svg_and_pdf_figures(adding, tmp_path):
    svg = adding.exports.export_handout(tmp_path / "f.svg", ["hidden", "output"], title="T")
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    assert "LSTM" in svg.read_text()  # the caption, as text
    pdf = adding.exports.export_handout(tmp_path / "f.pdf", ["hidden"], width_in=7.0)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and b"/MediaBox [0 0 504" in data  # 7 inches


def test_bad_figure_choices_are_one_line_errors(adding, tmp_path):
    from rnnviz.io.run_export import ExportError

    with pytest.raises(ExportError, match="choose at least one panel"):
        adding.exports.export_handout(tmp_path / "f.png", [])
    with pytest.raises(ExportError, match="resolution must lie in 36..1200"):
        adding.exports.export_handout(tmp_path / "f.png", ["hidden"], dpi=5)
    with pytest.raises(ExportError, match="unknown figure format '.gif'"):
        adding.exports.export_handout(tmp_path / "f.gif", ["hidden"])


def test_rnnviz_export_figure(tmp_path):
    code = "import sys; from rnnviz.cli import main; sys.exit(main(sys.argv[1:]))"
    out = tmp_path / "figs"
    done = subprocess.run(
        [sys.executable, "-c", code, "export", "--demo", "vanishing", "--figure",
         "--format", "png,svg,csv", "--panels", "hidden,gradients", "--dpi", "100",
         "--title", "Vanishing", "--out", str(out), "--quiet"],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in out.iterdir())
    assert "figure.png" in names and "figure.svg" in names
    assert "hidden.png" not in names and any(n.startswith("hidden") and n.endswith(".csv")
                                             for n in names)
    with Image.open(out / "figure.png") as image:
        assert image.width == 700
    refused = subprocess.run([sys.executable, "-c", code, "export", "--demo", "sine",
                              "--title", "x", "--out", str(out)],
                             capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2
    assert refused.stderr.strip() == "rnnviz export: error: --title and --caption go with " \
        "--figure"


def test_a_figure_of_a_saved_comparison_shows_its_selected_model(tmp_path):
    code = "import sys; from rnnviz.cli import main; sys.exit(main(sys.argv[1:]))"
    sample = SAMPLES / "adding_lstm_vs_rnn.rnnviz"
    doc, view = load_session(sample)
    assert len(doc.models) == 2
    out = tmp_path / "figs"
    done = subprocess.run(
        [sys.executable, "-c", code, "export", str(sample), "--figure", "--format", "svg",
         "--panels", "hidden,gradients", "--out", str(out), "--quiet"],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["figure.svg"]
    svg = (out / "figure.svg").read_text()
    # the text of the figure (embedded pixel data, base64, can hold any letters)
    text = re.sub(r'"data:[^"]*"', '""', svg)
    assert doc.models[view.model].config.cell == "lstm"
    assert "LSTM" in text and "RNN" not in text  # the caption describes the selected model
    refused = subprocess.run(
        [sys.executable, "-c", code, "export", "--demo", "adding", "--compare", "rnn_tanh,lstm",
         "--figure", "--out", str(tmp_path / "none")], capture_output=True, text=True,
        timeout=300)
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and "--figure draws one network" in refused.stderr
    assert not (tmp_path / "none").exists() or not any((tmp_path / "none").iterdir())
