"""The cell diagram panel as the user sees it: block colours and arrow widths follow the trace
at the cursor, the backward pass shows the gradients, the equations show the engine's numbers
and follow the cursor and edits, hovering a block shows its equation, and the panel exports
like every other."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from rnnviz.gui.panels.mathtext import plain
from rnnviz.gui.theme import DARK, LIGHT, colormap
from rnnviz.session import Session
from rnnviz.session.cell_equations import equations
from rnnviz.session.cell_values import arrow_width, cell_step
from rnnviz.session.demos import load_demo

SVG = "{http://www.w3.org/2000/svg}"


def colour(cmap: str, fraction: float) -> str:
    rgba = colormap(cmap).map(np.array([fraction]), mode="byte")[0]
    return QColor(int(rgba[0]), int(rgba[1]), int(rgba[2])).name()


def shown(window, step: int | None = None, **view):
    """The diagram panel, in front, drawn at ``step``."""
    window.docks["diagram"].raise_()
    if step is not None:
        window.session.set_view(step=step, **view)
    window.redraw_now()
    return window.panels["diagram"]


def with_cell(cell: str, demo: str = "sine") -> Session:
    doc = load_demo(demo)
    return Session(doc.with_config(0, doc.models[0].config.replace(cell=cell)))


def test_block_colours_follow_the_trace_at_the_cursor(window, qtbot):
    panel = shown(window, 60)
    trace = window.session.results.models[0].trace
    state = panel.diagram_state()
    assert state["f"]["value"] == pytest.approx(trace.gates["f"][0, 60].mean())
    assert state["f"]["colour"] == colour(LIGHT.sequential, trace.gates["f"][0, 60].mean())
    assert state["g"]["colour"] == colour(LIGHT.diverging,
                                          (trace.gates["g"][0, 60].mean() + 1) / 2)
    qtbot.keyClick(window, Qt.Key.Key_Right)
    window.redraw_now()
    state = panel.diagram_state()
    assert state["o"]["colour"] == colour(LIGHT.sequential, trace.gates["o"][0, 61].mean())
    panel.set_options(unit=3, colour_by_unit=True)
    state = panel.diagram_state()
    assert state["i"]["value"] == trace.gates["i"][0, 61, 3]
    assert state["i"]["colour"] == colour(LIGHT.sequential, trace.gates["i"][0, 61, 3])
    assert panel.node_items["i"].shape.brush().color().name() == state["i"]["colour"]


def test_arrow_widths_follow_what_flows(window):
    panel = shown(window, 80)
    trace = window.session.results.models[0].trace
    f, c_prev = trace.gates["f"][0, 80], trace.cell[0, 79]
    state = panel.diagram_state()
    assert state["f->mul_f"]["width"] == pytest.approx(arrow_width(np.abs(f).mean()))
    assert state["mul_f->add_c"]["width"] == pytest.approx(arrow_width(np.abs(f * c_prev).mean()))
    assert state["x->cat"]["width"] == pytest.approx(arrow_width(np.abs(trace.input[80]).mean()))
    assert state["mul_o->h"]["width"] == pytest.approx(
        arrow_width(np.abs(trace.hidden[0, 80]).mean()))
    line = panel.edge_items["f->mul_f"].line
    assert line.pen().widthF() == pytest.approx(state["f->mul_f"]["width"])
    # a bigger flow draws a wider arrow: x_t is 1 after the step at t = 50, 0 before
    assert trace.input[80, 0] > trace.input[10, 0]
    window.session.set_view(step=10)
    window.redraw_now()
    assert panel.diagram_state()["x->cat"]["width"] < state["x->cat"]["width"]


def test_backward_pass_shows_gradients_flowing_back(make_window):
    window = make_window(Session(load_demo("vanishing")))
    last = window.session.document.sequence.steps - 1
    panel = shown(window, last, reveal=True, phase="backward")
    assert panel.backward
    grads = window.session.results.models[0].grads
    reference = np.abs(grads.hidden[0]).mean(axis=1).max()
    state = panel.diagram_state()
    dh = np.abs(grads.hidden[0, last]).mean()
    assert state["act->h"]["width"] == pytest.approx(arrow_width(dh, reference))
    assert state["act->h"]["quantity"] == "h"
    # the arrow points back: its head is at the start of the forward arrow
    items = panel.edge_items["act->h"]
    tip = items.head.polygon()[0]
    assert (tip.x(), tip.y()) == (items.points[0].x(), items.points[0].y())
    d_pre = cell_step(window.session.results.models[0], 0, last).grads["pre"]
    assert state["add"]["value"] == pytest.approx(d_pre.mean())
    assert state["h"]["colour"] == colour(LIGHT.diverging,
                                          (grads.hidden[0, last].mean() / reference + 1) / 2)
    # vanishing gradients: the arrows thin out towards the first step
    window.session.set_view(step=0)
    window.redraw_now()
    assert panel.diagram_state()["act->h"]["width"] < state["act->h"]["width"]
    # outside reveal mode the switch shows the same
    window.session.set_view(reveal=False)
    window.redraw_now()
    assert not panel.backward
    panel.set_options(show_gradients=True)
    assert panel.backward
    assert panel.diagram_state()["act->h"]["width"] == pytest.approx(
        arrow_width(np.abs(grads.hidden[0, 0]).mean(), reference))


def test_equations_follow_the_cursor_and_edits(window, qtbot):
    panel = shown(window, 30)
    panel.set_options(unit=2)
    results = window.session.results.models[0]

    def expected(res, t):
        return [(plain(e.symbolic), plain(e.numeric))
                for e in equations(cell_step(res, 0, t), 2)]

    assert panel.equations_text() == expected(results, 30)
    assert panel.equations_text()[1][0] == "f_t = σ(W_f·[h_{t−1}, x_t] + b_f)"
    qtbot.keyClick(window, Qt.Key.Key_Right)
    window.redraw_now()
    assert panel.equations_text() == expected(results, 31)
    # editing the input recomputes, and the equations show the new numbers
    doc = window.session.document
    inputs = np.array(doc.sequence.inputs)
    inputs[:, 0] += 0.5
    window.editor.apply(doc.with_sequence(doc.sequence.with_inputs(inputs)), "shift input")
    window.redraw_now()
    new = window.session.results.models[0]
    assert new is not results
    assert panel.equations_text() == expected(new, 31)
    assert panel.equations_text() != expected(results, 31)
    f = new.trace.gates["f"][0, 31, 2]
    assert panel.equations_text()[1][1].endswith(f"= {f:.3f}".replace("-", "−"))


@pytest.mark.parametrize("cell, blocks", [
    ("gru", {"z", "r", "n", "hn", "xn", "mul_zh", "one_minus", "readout", "y"}),
    ("rnn_tanh", {"w_h", "w_x", "b", "add", "act", "readout", "y"}),
    ("lstm", {"i", "f", "g", "o", "mul_f", "add_c", "tanh_c", "c", "c_prev"}),
])
def test_every_cell_type_has_its_diagram(make_window, cell, blocks):
    window = make_window(with_cell(cell))
    panel = shown(window, 70)
    assert blocks <= set(panel.node_items)
    results = window.session.results.models[0]
    step = cell_step(results, 0, 70)
    state = panel.diagram_state()
    for key, s in state.items():
        if s["kind"] == "arrow":
            edge = panel.edge_items[key].edge
            assert s["width"] == pytest.approx(arrow_width(step.magnitude(edge.value))), key
    assert [e.name for e in panel.equation_list] == [
        e.name for e in equations(step, 0)]


def test_layers_and_models_follow_the_view(make_window):
    doc = load_demo("sine")
    window = make_window(Session(doc.with_config(0, doc.models[0].config.replace(
        cell="gru", num_layers=2))))
    panel = shown(window, 40, layer=1)
    results = window.session.results.models[0]
    assert panel.diagram_state()["z"]["value"] == pytest.approx(
        results.trace.gates["z"][1, 40].mean())
    assert "x" in panel.node_items and "readout" in panel.node_items
    window.session.set_view(layer=0)
    window.redraw_now()
    assert "readout" not in panel.node_items  # the readout reads the top layer only
    assert panel.diagram_state()["z"]["value"] == pytest.approx(
        results.trace.gates["z"][0, 40].mean())


def test_hovering_a_block_shows_its_equation_and_values(window, qtbot):
    panel = shown(window, 60)
    panel.set_options(unit=1)
    f = window.session.results.models[0].trace.gates["f"][0, 60]
    with qtbot.waitSignal(panel.hovered) as hover:
        panel._hovered(panel.node_items["f"].shape)  # as the pointer entering the block does
    tip = panel.node_items["f"].shape.toolTip()
    assert "σ" in tip and "<sub>" in tip
    assert f"{f[1]:.3f}" in tip and f"{f.mean():.3f}" in tip
    assert hover.args[0].startswith("f_t = σ(W_f·[h_{t−1}, x_t] + b_f)")
    assert hover.args[0].endswith(f"= {f[1]:.3f}")


def test_exports_as_every_panel_does(window, tmp_path):
    shown(window, 60)
    exports = window.exports
    svg = exports.export("diagram", tmp_path / "d.svg")[0]
    root = ET.parse(svg).getroot()
    texts = "".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "σ" in texts and "Equations" in texts
    assert next(root.iter(f"{SVG}path"), None) is not None
    pdf = exports.export("diagram", tmp_path / "d.pdf")[0].read_bytes()
    assert pdf.startswith(b"%PDF")
    from PIL import Image

    png = exports.export("diagram", tmp_path / "d.png", 900)[0]
    image = np.asarray(Image.open(png).convert("RGB"), dtype=float)
    assert image.shape[1] == 900 and image.std() > 20
    written = exports.export("diagram", tmp_path / "d.csv")
    assert sorted(p.name for p in written) == ["d_diagram_layer0_step60.csv",
                                              "d_equations_layer0_step60.csv"]
    with open(tmp_path / "d_diagram_layer0_step60.csv", newline="") as fh:
        rows = {row["item"]: row for row in csv.DictReader(fh)}
    state = window.panels["diagram"].diagram_state()
    assert float(rows["f"]["value"]) == state["f"]["value"]
    assert rows["f"]["colour"] == state["f"]["colour"]
    assert float(rows["f->mul_f"]["width"]) == state["f->mul_f"]["width"]
    with open(tmp_path / "d_equations_layer0_step60.csv", newline="") as fh:
        eq_rows = list(csv.reader(fh))
    assert eq_rows[0] == ["equation", "with the numbers", "result"]
    assert eq_rows[2][0] == "f_t = σ(W_f·[h_{t−1}, x_t] + b_f)"


def test_theme_switch_recolours_the_diagram(window):
    panel = shown(window, 60)
    window.apply_theme(DARK)
    window.redraw_now()
    assert panel.view.backgroundBrush().color().name() == DARK.background
    assert panel.node_items["cat"].shape.brush().color().name() == DARK.foreground
    assert panel.diagram_state()["f"]["colour"] == colour(
        DARK.sequential, window.session.results.models[0].trace.gates["f"][0, 60].mean())


def test_a_hidden_diagram_catches_up_when_shown(window):
    panel = window.panels["diagram"]
    window.docks["gates"].raise_()  # the diagram's tab is behind the gates'
    window.session.set_view(step=33)
    window.redraw_now()
    assert panel.step is None or panel.step.step != 33  # not drawn while it cannot be seen
    panel_now = shown(window)
    assert panel_now.step.step == 33
    trace = window.session.results.models[0].trace
    assert panel.diagram_state()["f"]["value"] == pytest.approx(trace.gates["f"][0, 33].mean())
