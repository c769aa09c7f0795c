"""The numbers of the cell diagram and its equations against the engine's own: pre-activations
recomputed from the state dict give the trace's gates, the gradients along the diagram's
arrows add up to the engine's BPTT gradients, and the equations show the engine's values to
the digits they show."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnviz.session import compute
from rnnviz.session.cell_equations import equations, number
from rnnviz.session.cell_values import arrow_width, cell_step, gradient_reference, levels
from rnnviz.session.demos import load_demo

CELLS = ("rnn_tanh", "rnn_relu", "lstm", "gru")


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def results_for(cell: str, layers: int = 2, demo: str = "sine", hidden: int = 5):
    doc = load_demo(demo)
    cfg = doc.models[0].config.replace(cell=cell, num_layers=layers, hidden_size=hidden)
    return compute(doc.with_config(0, cfg)).models[0]


def reference_pre(results, layer: int, t: int) -> np.ndarray:
    """W_ih x_t + b_ih + W_hh h_{t-1} + b_hh from the state dict, written out here."""
    w = results.model.network().state_dict()
    trace = results.trace
    x = trace.input[t] if layer == 0 else trace.hidden[layer - 1, t]
    h = trace.h0[layer] if t == 0 else trace.hidden[layer, t - 1]
    return (w[f"weight_ih_l{layer}"] @ x + w[f"bias_ih_l{layer}"],
            w[f"weight_hh_l{layer}"] @ h + w[f"bias_hh_l{layer}"])


@pytest.mark.parametrize("cell", CELLS)
def test_recomputed_pre_activations_give_the_trace_gates(cell):
    r = results_for(cell)
    hidden = r.config.hidden_size
    for layer in (0, 1):
        for t in (0, 1, 57, r.steps - 1):
            step = cell_step(r, layer, t)
            gx, gh = reference_pre(r, layer, t)
            if cell.startswith("rnn"):
                np.testing.assert_allclose(step.pre["pre"], gx + gh, atol=1e-14)
                np.testing.assert_allclose(step.pre["pre"], r.trace.gates["pre"][layer, t],
                                           atol=1e-14)
                continue
            for k, name in enumerate(step.gates):
                rows = slice(k * hidden, (k + 1) * hidden)
                if name == "n":
                    expected = np.tanh(gx[rows] + step.values["r"] * gh[rows])
                elif name in ("g",):
                    expected = np.tanh(gx[rows] + gh[rows])
                else:
                    expected = sigmoid(gx[rows] + gh[rows])
                np.testing.assert_allclose(expected, r.trace.gates[name][layer, t], atol=1e-14)
                activation = np.tanh if name in ("g", "n") else sigmoid
                np.testing.assert_allclose(activation(step.pre[name]), expected, atol=1e-14)


@pytest.mark.parametrize("cell", CELLS)
def test_gradients_along_the_arrows_add_up_to_the_engines(cell):
    r = results_for(cell)
    grads = r.grads
    w_y = r.model.network().state_dict()["readout.weight"]
    for t in (1, 40, r.steps - 1):
        top, bottom = cell_step(r, 1, t), cell_step(r, 0, t)
        # what reaches h_{t-1} through this step, plus what reaches it from outside, is the
        # engine's total dL/dh_{t-1}
        outside_top = grads.d_logits[t - 1] @ w_y
        np.testing.assert_allclose(top.grads["h_prev"] + outside_top, grads.hidden[1, t - 1],
                                   atol=1e-15)
        outside_bottom = cell_step(r, 1, t - 1).grads["x"]
        np.testing.assert_allclose(bottom.grads["h_prev"] + outside_bottom,
                                   grads.hidden[0, t - 1], atol=1e-15)
        np.testing.assert_allclose(bottom.grads["x"], grads.input[t], atol=1e-15)
        np.testing.assert_allclose(top.readout.d_h, grads.d_logits[t] @ w_y, atol=1e-15)
        if cell == "lstm":
            before = cell_step(r, 0, t - 1)
            np.testing.assert_allclose(bottom.grads["c_prev"] + before.grads["c_to_h"],
                                       grads.cell[0, t - 1], atol=1e-15)
            np.testing.assert_allclose(before.grads["c_out"], bottom.grads["c_prev"],
                                       atol=1e-15)
        if cell == "gru":
            np.testing.assert_allclose(bottom.grads["z_to_zh"] + bottom.grads["z_to_1mz"],
                                       bottom.grads["z"], atol=1e-15)


def test_products_and_sums_follow_the_trace():
    r = results_for("lstm", layers=1)
    trace = r.trace
    s = cell_step(r, 0, 30)
    np.testing.assert_array_equal(s.values["fc"], trace.gates["f"][0, 30] * trace.cell[0, 29])
    np.testing.assert_array_equal(s.values["ig"], trace.gates["i"][0, 30] * trace.gates["g"][0, 30])
    np.testing.assert_allclose(s.values["fc"] + s.values["ig"], trace.cell[0, 30], atol=1e-15)
    g = cell_step(results_for("gru", layers=1), 0, 30)
    np.testing.assert_allclose(g.values["zn"] + g.values["zh"], g.values["h"], atol=1e-15)
    assert s.value("f") == pytest.approx(trace.gates["f"][0, 30].mean())
    assert s.value("f", 3) == trace.gates["f"][0, 30, 3]
    assert s.magnitude("x") == pytest.approx(np.abs(trace.input[30]).mean())


def test_bad_layer_or_step_is_a_one_line_error():
    r = results_for("gru", layers=1)
    with pytest.raises(ValueError, match="layer 1 is outside"):
        cell_step(r, 1, 0)
    with pytest.raises(ValueError, match="step 500 is outside"):
        cell_step(r, 0, 500)


def test_arrow_width_grows_with_magnitude_and_stays_bounded():
    widths = [arrow_width(m) for m in (0.0, 0.1, 0.5, 1.0, 3.0, 1e300)]
    assert widths == sorted(widths) and widths[0] == 1.0 and widths[-1] <= 9.0
    assert arrow_width(math.nan) == 1.0 and arrow_width(math.inf) == 1.0
    assert arrow_width(0.5, 0.5) == pytest.approx(1.0 + 8.0 * math.tanh(1.0))


def test_gradient_reference_and_levels():
    r = results_for("lstm", layers=1)
    assert gradient_reference(r, 0) == pytest.approx(np.abs(r.grads.hidden[0]).mean(axis=1).max())
    assert gradient_reference(r, 0, 2) == pytest.approx(np.abs(r.grads.hidden[0, :, 2]).max())
    assert levels(r, 0, "f") == (0.0, 1.0)
    assert levels(r, 0, "g") == (-1.0, 1.0)
    top = np.abs(r.trace.cell[0]).max()
    assert levels(r, 0, "c") == (-top, top)


def test_numbers_are_formatted_as_shown():
    assert number(0.69314) == "0.693"
    assert number(-0.5) == "\u22120.500"
    assert number(-0.0001) == "\u22121.00\\times10^{\u22124}"
    assert number(-0.0001, small=False) == "0.000"  # no "−0.000"
    assert number(12345.0) == "1.23\\times10^{4}"
    assert number(math.nan) == "NaN"


@pytest.mark.parametrize("cell", CELLS)
def test_equations_show_the_engines_values(cell):
    """Every numeric line ends with the trace's value, its pre-activation is the one written
    out from the state dict here, and σ or tanh of that shows the same digits."""
    r = results_for(cell, layers=1, demo="vanishing")
    trace = r.trace
    hidden = r.config.hidden_size
    for t in (0, 10, r.steps - 1):
        step = cell_step(r, 0, t)
        gx, gh = reference_pre(r, 0, t)
        for unit in (0, hidden - 1):
            eqs = {e.name: e for e in equations(step, unit)}
            if cell.startswith("rnn"):
                h = eqs["h"]
                pre = gx[unit] + gh[unit]
                f = np.tanh if cell == "rnn_tanh" else (lambda a: max(a, 0.0))
                name = r"\tanh" if cell == "rnn_tanh" else r"\relu"
                assert h.numeric.endswith(f"= {name}({number(pre)}) = "
                                          f"{number(trace.hidden[0, t, unit])}")
                assert number(f(pre)) == number(trace.hidden[0, t, unit])
                continue
            for k, name in enumerate(step.gates):
                rows = slice(k * hidden, (k + 1) * hidden)
                value = trace.gates[name][0, t, unit]
                eq = eqs[name]
                assert eq.numeric.endswith(f"= {number(value)}")
                assert eq.result == value
                if name == "n":
                    pre = gx[rows][unit] + step.values["r"][unit] * gh[rows][unit]
                else:
                    pre = gx[rows][unit] + gh[rows][unit]
                activation = np.tanh if name in ("g", "n") else sigmoid
                assert f"({number(pre)}) = {number(value)}" in eq.numeric
                assert number(activation(pre)) == number(value)
            assert eqs["h"].numeric.endswith(f"= {number(trace.hidden[0, t, unit])}")
            if cell == "lstm":
                c = trace.cell[0, t, unit]
                c_prev = trace.cell[0, t - 1, unit] if t else 0.0
                f, i, g = (trace.gates[n][0, t, unit] for n in "fig")
                def factor(v):
                    return f"({number(v)})" if v < 0 and number(v) != "0.000" else number(v)

                assert eqs["c"].numeric.startswith(
                    f"= {factor(f)}\\cdot{factor(c_prev)} + {factor(i)}\\cdot{factor(g)} = ")
                assert eqs["c"].numeric.endswith(f" = {number(c)}")
                assert eqs["c"].numbers == (f, c_prev, i, g, f * c_prev, i * g, c)
                assert number(f * c_prev + i * g) == number(c)


def test_readout_equation_shows_the_output():
    r = results_for("gru", layers=1)
    step = cell_step(r, 0, 60)
    y = {e.name: e for e in equations(step, 0)}["y"]
    w = r.model.network().state_dict()
    z = w["readout.weight"] @ r.trace.hidden[0, 60] + w["readout.bias"]
    assert y.symbolic == "y_t = W_y h_t + b_y"
    assert y.numeric.endswith(f"= {number(r.trace.output[60, 0])}")
    assert number(z[0]) == number(r.trace.output[60, 0])
    text = cell_step(compute(load_demo("text")).models[0], 0, 3)
    soft = {e.name: e for e in equations(text, 0, output=2)}["y"]
    assert soft.symbolic == r"y_t = \softmax(W_y h_t + b_y)"
    assert soft.numeric.endswith(f"y_{{t,2}} = {number(text.readout.y[2])}")
