"""The cell's equations as the seed writes them, and the same equations with one unit's numbers
plugged in at one step. No Qt here.

Equations are written in a small TeX-like markup (``_`` and ``^`` for sub- and superscripts
with ``{…}`` groups, ``\\sigma``, ``\\odot``, ``\\tanh``, …) that
:mod:`rnnviz.gui.panels.mathtext` typesets; :func:`number` formats every number shown, so a
test can compare what is displayed with the engine's own values.

For unit u at step t, each numeric line shows the terms of the pre-activation (W·h_{t-1}, W·x_t
and the bias, recomputed from the state dict), their sum, and the result as the engine computed
it (the trace's value): ``f_t = σ(W_f·[h_{t-1}, x_t] + b_f)`` becomes
``= σ(0.551 + 0.203 + 0.070) = σ(0.824) = 0.695``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rnnviz.session.cell_values import CellStep

DIGITS = 3  # decimals shown; values below 10^-DIGITS or above 10^4 in scientific notation
MINUS = "\u2212"

ACTIVATIONS = {"rnn_tanh": r"\tanh", "rnn_relu": r"\relu"}
READOUTS = {"identity": "", "tanh": r"\tanh", "sigmoid": r"\sigma", "softmax": r"\softmax"}


def number(value: float, digits: int = DIGITS, small: bool = True) -> str:
    """``value`` as shown in an equation (markup): fixed ``digits`` decimals between 10^-digits
    and 10^4 in magnitude, else scientific (``1.23×10^{−5}``); "NaN", "∞". A true minus sign.
    ``small=False``: small magnitudes in fixed decimals too (the terms of a sum)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return f"{MINUS if value < 0 else ''}\\infty"
    magnitude = abs(value)
    if magnitude == 0 or (10.0 ** -digits <= magnitude or not small) and magnitude < 1e4:
        text = f"{value:.{digits}f}"
        if text.lstrip("-").strip("0.") == "":  # rounds to zero: no "−0.000"
            text = text.lstrip("-")
    else:
        mantissa, exponent = f"{value:.{max(digits - 1, 1)}e}".split("e")
        text = f"{mantissa}\\times10^{{{int(exponent)}}}"
    return text.replace("-", MINUS)


def _signed(value: float) -> str:
    """A term after the first of a sum: "+ 0.120" or "− 0.120"."""
    text = number(abs(value), small=False) if math.isfinite(value) \
        else number(value).lstrip(MINUS)
    return f"{MINUS if value < 0 else '+'} {text}"


def _sum(values: list[float]) -> str:
    first, rest = values[0], values[1:]
    return " ".join([number(first, small=False), *(_signed(v) for v in rest)])


def _factor(value: float) -> str:
    """A number as a factor of a product: negative ones in parentheses."""
    text = number(value)
    return f"({text})" if text.startswith(MINUS) else text


@dataclass(frozen=True)
class Equation:
    """One equation: ``name`` (what it defines: "i", "c", "h", "y" …), ``symbolic`` (markup as
    the seed writes it), ``numeric`` (markup: "= …" with the numbers plugged in for one unit),
    ``result`` (the engine's value the numeric line ends with), ``numbers`` (every number of the
    numeric line in order, unformatted) and ``caption`` (one line saying what it is)."""

    name: str
    symbolic: str
    numeric: str
    result: float
    numbers: tuple[float, ...]
    caption: str


GATE_CAPTIONS = {
    "i": "input gate: how much of the candidate enters the memory",
    "f": "forget gate: how much of the old memory is kept",
    "g": "candidate memory",
    "o": "output gate: how much of the memory is shown as h_t",
    "r": "reset gate: how much of h_{t-1} the candidate sees",
    "z": "update gate: how much of h_{t-1} is kept",
    "n": "candidate state",
}


def _gate_equation(step: CellStep, name: str, unit: int) -> Equation:
    act = r"\tanh" if name in ("g",) else r"\sigma"
    from_h, from_x, bias = (float(a[unit]) for a in step.terms[name])
    pre = float(step.pre[name][unit])
    value = float(step.values[name][unit])
    symbolic = f"{name}_t = {act}(W_{name}\\cdot[h_{{t-1}}, x_t] + b_{name})"
    numeric = f"= {act}({_sum([from_h, from_x, bias])}) = {act}({number(pre)}) = {number(value)}"
    return Equation(name, symbolic, numeric, value, (from_h, from_x, bias, pre, value),
                    GATE_CAPTIONS[name])


def _readout_equation(step: CellStep, output: int) -> Equation | None:
    r = step.readout
    if r is None:
        return None
    k = min(max(output, 0), r.z.shape[0] - 1)
    f = READOUTS.get(r.activation, r.activation)
    from_h, bias, z, y = float(r.from_h[k]), float(r.bias[k]), float(r.z[k]), float(r.y[k])
    inner = "W_y h_t + b_y"
    symbolic = f"y_t = {f}({inner})" if f else f"y_t = {inner}"
    if r.activation == "softmax":
        numeric = (f"(W_y h_t + b_y)_{{{k}}} = {_sum([from_h, bias])} = {number(z)},\\; "
                   f"y_{{t,{k}}} = {number(y)}")
    elif f:
        numeric = f"= {f}({_sum([from_h, bias])}) = {f}({number(z)}) = {number(y)}"
    else:
        numeric = f"= {_sum([from_h, bias])} = {number(y)}"
    caption = "readout" + (f" (output {k})" if r.z.shape[0] > 1 else "")
    return Equation("y", symbolic, numeric, y, (from_h, bias, z, y), caption)


def equations(step: CellStep, unit: int, output: int = 0) -> tuple[Equation, ...]:
    """The equations of ``step``'s cell with unit ``unit``'s numbers (and output ``output``'s
    for the readout, on the top layer of a network that has one). ValueError for a unit the
    layer does not have."""
    hidden = step.values["h"].shape[0]
    if not 0 <= unit < hidden:
        raise ValueError(f"unit {unit} is outside the layer's {hidden} units")
    v = {name: float(a[unit]) for name, a in step.values.items() if a.shape[0] == hidden
         and name not in ("x", "xh")}
    out: list[Equation] = []
    if step.cell in ("rnn_tanh", "rnn_relu"):
        f = ACTIVATIONS[step.cell]
        from_h, from_x, bias = (float(a[unit]) for a in step.terms["pre"])
        pre = float(step.pre["pre"][unit])
        out.append(Equation(
            "h", f"h_t = {f}(W_h h_{{t-1}} + W_x x_t + b_h)",
            f"= {f}({_sum([from_h, from_x, bias])}) = {f}({number(pre)}) = {number(v['h'])}",
            v["h"], (from_h, from_x, bias, pre, v["h"]),
            "the recurrence: the new state from the old state and the input"))
    elif step.cell == "lstm":
        out += [_gate_equation(step, name, unit) for name in ("i", "f", "g", "o")]
        fc, ig = v["f"] * v["c_prev"], v["i"] * v["g"]
        out.append(Equation(
            "c", r"c_t = f_t \odot c_{t-1} + i_t \odot g_t",
            f"= {_factor(v['f'])}\\cdot{_factor(v['c_prev'])} + "
            f"{_factor(v['i'])}\\cdot{_factor(v['g'])} = {_sum([fc, ig])} = {number(v['c'])}",
            v["c"], (v["f"], v["c_prev"], v["i"], v["g"], fc, ig, v["c"]),
            "the memory cell: kept old memory plus admitted candidate"))
        out.append(Equation(
            "h", r"h_t = o_t \odot \tanh(c_t)",
            f"= {_factor(v['o'])}\\cdot\\tanh({number(v['c'])}) = "
            f"{_factor(v['o'])}\\cdot{_factor(v['tanh_c'])} = {number(v['h'])}",
            v["h"], (v["o"], v["c"], v["tanh_c"], v["h"]), "the new state: the memory, gated"))
    else:  # gru
        out += [_gate_equation(step, name, unit) for name in ("r", "z")]
        out.append(Equation(
            "n", r"n_t = \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn}))",
            f"= \\tanh({number(v['xn'])} + {_factor(v['r'])}\\cdot{_factor(v['hn'])}) = "
            f"\\tanh({number(v['pre_n'])}) = {number(v['n'])}",
            v["n"], (v["xn"], v["r"], v["hn"], v["pre_n"], v["n"]), GATE_CAPTIONS["n"]))
        out.append(Equation(
            "h", r"h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}",
            f"= {_factor(v['one_minus_z'])}\\cdot{_factor(v['n'])} + "
            f"{_factor(v['z'])}\\cdot{_factor(v['h_prev'])} = "
            f"{_sum([v['zn'], v['zh']])} = {number(v['h'])}",
            v["h"], (v["one_minus_z"], v["n"], v["z"], v["h_prev"], v["zn"], v["zh"], v["h"]),
            "the new state: a mix of the candidate and the old state"))
    readout = _readout_equation(step, output)
    if readout is not None:
        out.append(readout)
    return tuple(out)


def equation_for(step: CellStep, name: str) -> str | None:
    """The symbolic markup of the equation defining ``name`` (a gate, "c", "h", "y"), or None."""
    for eq in equations(step, 0):
        if eq.name == name:
            return eq.symbolic
    return None
