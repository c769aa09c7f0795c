"""The numbers inside one cell at one step, for the cell diagram and its equations. No Qt here.

:func:`cell_step` takes a model's results and returns, for one layer at one step, every value
that flows through the cell (inputs, gates, the element-wise products and sums, outputs), the
gates' pre-activations recomputed from the state dict and the trace, split into the terms the
equations show (W_h·h_{t-1}, W_x·x_t, b), and, from the trace and the BPTT gradients, the
gradient of the loss with respect to each of them: what flows back along each arrow.

Names of quantities, per cell type (every array (H,), but "x" (I,) or (H,) above layer 0):

* all: "x" (the layer's input x_t), "h_prev" (h_{t-1}), "h" (h_t), "xh" ([h_{t-1}, x_t], the
  concatenation feeding every gate, (H + I,));
* vanilla RNN: "from_h" (W_hh h_{t-1}), "from_x" (W_ih x_t), "b" (b_ih + b_hh), "pre" (their
  sum);
* LSTM: "c_prev", gates "i", "f", "g", "o" and their pre-activations "pre_i" ...,
  "fc" (f ⊙ c_{t-1}), "ig" (i ⊙ g), "c" (c_t), "tanh_c" (tanh c_t);
* with a readout (top layer): "y_z" (the logits W_y h_t + b_y) and "y" (y_t), (O,);
* GRU: gates "r", "z", "n", "pre_r", "pre_z", "pre_n", "hn" (W_hn h_{t-1} + b_hn), "rhn"
  (r ⊙ hn), "xn" (W_in x_t + b_in), "one_minus_z" (1 − z), "zn" ((1 − z) ⊙ n), "zh"
  (z ⊙ h_{t-1}).

Gradients use the same names for dL/d(quantity), with path-specific entries where a quantity
feeds several places: "h_prev" is the gradient reaching h_{t-1} through this step (for the LSTM
and vanilla RNN through W_hh; the GRU's also through z ⊙ h_{t-1}), "h_prev_gates" only its part
through the gates' weights, "h_prev_direct" (GRU) the part through z ⊙ h_{t-1}; "c_prev" (LSTM)
is dL/dc_t ⊙ f_t; "c_out" the part of dL/dc_t that comes from the next step, "c_to_h" the part
through tanh(c_t) into h_t; "h_out" the part of dL/dh_t from outside this step (the readout or
the layer above and the next step — all of it: dL/dh_t); for the GRU "z_to_zh" and "z_to_1mz"
split dL/dz_t between z ⊙ h_{t-1} and 1 − z; "h_readout" (W_yᵀ dL/dz_t) and "z_out" (dL/dz_t)
on a top layer with a readout.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from rnnviz.engine.activations import apply_readout
from rnnviz.session.compute import ModelResults

# Arrow widths in scene pixels: the thinnest (nothing flows) and the widest (a saturated flow).
WIDTH_MIN = 1.0
WIDTH_MAX = 9.0

SIGMOID_GATES = frozenset({"i", "f", "o", "r", "z"})
TANH_GATES = frozenset({"g", "n"})
MEAN_ONLY = frozenset({"x", "xh"})  # vectors of channels, not units: always averaged
READOUT_NAMES = frozenset({"y", "y_z", "z_out"})
GATES = {"rnn_tanh": ("pre",), "rnn_relu": ("pre",), "lstm": ("i", "f", "g", "o"),
         "gru": ("r", "z", "n")}


@dataclass(frozen=True)
class ReadoutStep:
    """The readout at one step: z = W_y h_t + b_y (O,) recomputed from the state dict, ``from_h``
    W_y h_t (O,), ``bias`` b_y (O,), y = f(z) as the engine computed it (O,), the activation
    name, and dL/dz (O,) or None."""

    activation: str
    from_h: np.ndarray
    bias: np.ndarray
    z: np.ndarray
    y: np.ndarray
    d_z: np.ndarray | None
    d_h: np.ndarray | None  # W_yᵀ dL/dz (H,): what reaches h_t from the readout


@dataclass(frozen=True)
class CellStep:
    """One layer's cell at one step (see the module docstring for the names).

    cell: the cell type; layer, step; values: name -> array at the step (forward); pre:
    gate -> its pre-activation recomputed from the weights (H,); terms: gate -> (W_h·h_{t-1},
    W_x·x_t, bias) (H,) each — for the GRU's n: (W_hn h_{t-1}, W_in x_t, b_in) with b_hn in
    ``values["hn"]``; grads: name -> dL/d(name) at the step (empty when the results have no
    gradients); readout: the readout at this step on the top layer, else None.
    """

    cell: str
    layer: int
    step: int
    values: Mapping[str, np.ndarray]
    pre: Mapping[str, np.ndarray]
    terms: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]]
    grads: Mapping[str, np.ndarray]
    readout: ReadoutStep | None

    @property
    def gates(self) -> tuple[str, ...]:
        return GATES[self.cell]

    def _index(self, name: str, unit: int | None, output: int) -> int | None:
        if name in MEAN_ONLY:
            return None
        if name in READOUT_NAMES:
            return output
        return unit

    def value(self, name: str, unit: int | None = None, output: int = 0) -> float:
        """The mean of ``name`` over its units, or unit ``unit``'s value. The layer's input
        (whose entries are channels) is always averaged; readout quantities ("y", "y_z",
        "z_out") are output ``output``'s."""
        return _pick(self.values[name], self._index(name, unit, output), signed=True)

    def magnitude(self, name: str, unit: int | None = None, output: int = 0) -> float:
        """mean |name| over its units, or |name[unit]|: what an arrow carrying it shows."""
        return _pick(self.values[name], self._index(name, unit, output), signed=False)

    def gradient(self, name: str, unit: int | None = None, output: int = 0) -> float:
        """The mean of dL/d(name) over its units, or unit ``unit``'s (NaN when unknown)."""
        if name not in self.grads:
            return math.nan
        return _pick(self.grads[name], self._index(name, unit, output), signed=True)

    def gradient_magnitude(self, name: str, unit: int | None = None, output: int = 0) -> float:
        """mean |dL/d(name)| or |dL/d(name)[unit]| (NaN when unknown)."""
        if name not in self.grads:
            return math.nan
        return _pick(self.grads[name], self._index(name, unit, output), signed=False)


def _pick(a: np.ndarray, unit: int | None, signed: bool) -> float:
    if unit is not None and 0 <= unit < a.shape[0]:
        v = float(a[unit])
        return v if signed else abs(v)
    with np.errstate(all="ignore"):
        return float(np.mean(a) if signed else np.mean(np.abs(a)))


def arrow_width(magnitude: float, reference: float = 1.0) -> float:
    """The width of an arrow carrying ``magnitude``: WIDTH_MIN for nothing, growing like
    tanh(magnitude / reference) towards WIDTH_MAX (so huge values stay drawable); WIDTH_MIN for
    NaN/Inf or a non-positive reference."""
    if not (math.isfinite(magnitude) and math.isfinite(reference)) or reference <= 0:
        return WIDTH_MIN
    return WIDTH_MIN + (WIDTH_MAX - WIDTH_MIN) * math.tanh(max(magnitude, 0.0) / reference)


def level_fraction(value: float, low: float, high: float) -> float:
    """Where ``value`` lies in [low, high] as 0..1 (clipped; 0.5 for NaN: no colour)."""
    if not math.isfinite(value) or high <= low:
        return 0.5
    return min(max((value - low) / (high - low), 0.0), 1.0)


def gradient_reference(results: ModelResults, layer: int, unit: int | None = None) -> float:
    """The scale of the backward arrows of ``layer``: the largest mean |dL/dh_t| over the steps
    (or |dL/dh_t[unit]|), so that widths compare across steps and vanishing gradients show as
    arrows thinning towards the first step. 1 when there are no gradients to compare."""
    d = results.grads.hidden[layer]
    with np.errstate(all="ignore"):
        per_step = np.abs(d[:, unit]) if unit is not None and 0 <= unit < d.shape[1] \
            else np.mean(np.abs(d), axis=1)
    per_step = per_step[np.isfinite(per_step)]
    top = float(per_step.max()) if per_step.size else 0.0
    return top if top > 0 else 1.0


def levels(results: ModelResults, layer: int, name: str) -> tuple[float, float]:
    """Fixed colour levels of a quantity over the whole run (so colours compare across steps):
    sigmoid gates [0, 1]; tanh outputs, h and the GRU's mixtures [-1, 1]; the rest (x, c_t,
    pre-activations) symmetric about 0 at their largest magnitude in the run."""
    if name in SIGMOID_GATES:
        return 0.0, 1.0
    if name in TANH_GATES or name in ("tanh_c", "one_minus_z", "zn", "zh", "rhn"):
        return (0.0, 1.0) if name == "one_minus_z" else (-1.0, 1.0)
    trace = results.trace
    if name == "y":
        if results.config.readout in ("sigmoid", "softmax"):
            return 0.0, 1.0
        if results.config.readout == "tanh":
            return -1.0, 1.0
        source = trace.output if trace.output is not None else np.zeros(1)
    elif name in ("h", "h_prev") and results.config.cell != "rnn_relu":
        return -1.0, 1.0
    elif name in ("h", "h_prev"):
        source = trace.hidden[layer]
    elif name == "x":
        source = trace.input if layer == 0 else trace.hidden[layer - 1]
    elif name in ("c", "c_prev", "fc", "ig") and trace.cell is not None:
        source = trace.cell[layer]
    elif name == "y_z" and trace.logits is not None:
        source = trace.logits
    elif name == "pre" and "pre" in trace.gates:
        source = trace.gates["pre"][layer]
    else:
        return -1.0, 1.0
    with np.errstate(invalid="ignore"):
        m = np.abs(source)
        m = m[np.isfinite(m)]
    top = float(m.max()) if m.size else 1.0
    top = top if top > 0 else 1.0
    return -top, top


def _readonly(d: dict[str, np.ndarray]) -> Mapping[str, np.ndarray]:
    for v in d.values():
        v.flags.writeable = False
    return MappingProxyType(d)


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 0.5 * np.tanh(0.5 * a) + 0.5


def cell_step(results: ModelResults, layer: int, step: int) -> CellStep:
    """The numbers of ``layer``'s cell at ``step`` (see :class:`CellStep`). Pre-activations
    are recomputed from the network's state dict and the trace's x_t, h_{t-1}; the gate values
    are the trace's own. ValueError for a layer or step outside the run."""
    cfg = results.config
    trace = results.trace
    steps = trace.steps
    if not 0 <= layer < cfg.num_layers:
        raise ValueError(f"layer {layer} is outside the network's {cfg.num_layers} layer(s)")
    if not 0 <= step < steps:
        raise ValueError(f"step {step} is outside the sequence's {steps} steps")
    params = results.model.network().state_dict()
    hidden = cfg.hidden_size
    w_ih = np.asarray(params[f"weight_ih_l{layer}"], dtype=np.float64)
    w_hh = np.asarray(params[f"weight_hh_l{layer}"], dtype=np.float64)
    gate_rows = w_hh.shape[0]
    zeros = np.zeros(gate_rows)
    b_ih = np.asarray(params.get(f"bias_ih_l{layer}", zeros), dtype=np.float64)
    b_hh = np.asarray(params.get(f"bias_hh_l{layer}", zeros), dtype=np.float64)

    x = np.array(trace.input[step] if layer == 0 else trace.hidden[layer - 1, step],
                 dtype=np.float64)
    h_prev = np.array(trace.h0[layer] if step == 0 else trace.hidden[layer, step - 1],
                      dtype=np.float64)
    h = np.array(trace.hidden[layer, step], dtype=np.float64)
    with np.errstate(all="ignore"):
        from_h_all = w_hh @ h_prev
        from_x_all = w_ih @ x
    values: dict[str, np.ndarray] = {"x": x, "h_prev": h_prev, "h": h,
                                     "xh": np.concatenate([h_prev, x])}
    pre: dict[str, np.ndarray] = {}
    terms: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    gates = GATES[cfg.cell]

    def rows(k: int) -> slice:
        return slice(k * hidden, (k + 1) * hidden)

    with np.errstate(all="ignore"):
        if cfg.cell in ("rnn_tanh", "rnn_relu"):
            bias = b_ih + b_hh
            terms["pre"] = (from_h_all, from_x_all, bias)
            pre["pre"] = from_h_all + from_x_all + bias
            values.update(from_h=from_h_all, from_x=from_x_all, b=bias, pre=pre["pre"])
        elif cfg.cell == "lstm":
            for k, name in enumerate(gates):
                s = rows(k)
                terms[name] = (from_h_all[s], from_x_all[s], b_ih[s] + b_hh[s])
                pre[name] = from_h_all[s] + from_x_all[s] + b_ih[s] + b_hh[s]
                values[name] = np.array(trace.gates[name][layer, step], dtype=np.float64)
                values[f"pre_{name}"] = pre[name]
            c = np.array(trace.cell[layer, step], dtype=np.float64)
            c_prev = np.array(trace.c0[layer] if step == 0 else trace.cell[layer, step - 1],
                              dtype=np.float64)
            values.update(c_prev=c_prev, c=c, fc=values["f"] * c_prev,
                          ig=values["i"] * values["g"], tanh_c=np.tanh(c))
        else:  # gru
            for name in gates:
                values[name] = np.array(trace.gates[name][layer, step], dtype=np.float64)
            for k, name in enumerate(("r", "z")):
                s = rows(k)
                terms[name] = (from_h_all[s], from_x_all[s], b_ih[s] + b_hh[s])
                pre[name] = from_h_all[s] + from_x_all[s] + b_ih[s] + b_hh[s]
                values[f"pre_{name}"] = pre[name]
            s = rows(2)
            hn = from_h_all[s] + b_hh[s]
            xn = from_x_all[s] + b_ih[s]
            terms["n"] = (from_h_all[s], from_x_all[s], b_ih[s])
            pre["n"] = xn + values["r"] * hn
            z = values["z"]
            values.update(pre_n=pre["n"], hn=hn, xn=xn, rhn=values["r"] * hn,
                          one_minus_z=1.0 - z, zn=(1.0 - z) * values["n"], zh=z * h_prev)

    readout = _readout(results, layer, step, params, h) if layer == cfg.num_layers - 1 else None
    if readout is not None:
        values.update(y=readout.y, y_z=readout.z)
    grad_values = _gradients(results, layer, step, values, w_ih, w_hh, readout)
    return CellStep(cfg.cell, layer, step, _readonly(values), _readonly(pre),
                    MappingProxyType(terms), _readonly(grad_values), readout)


def _readout(results: ModelResults, layer: int, step: int, params: Mapping[str, np.ndarray],
             h: np.ndarray) -> ReadoutStep | None:
    cfg, trace = results.config, results.trace
    if cfg.output_size is None or trace.output is None:
        return None
    w_y = np.asarray(params["readout.weight"], dtype=np.float64)
    b_y = np.asarray(params["readout.bias"], dtype=np.float64)
    with np.errstate(all="ignore"):
        from_h = w_y @ h
        z = from_h + b_y
        d_z = d_h = None
        if results.grads.d_logits is not None:
            d_z = np.array(results.grads.d_logits[step], dtype=np.float64)
            d_h = d_z @ w_y
    y = np.array(trace.output[step], dtype=np.float64)
    out = ReadoutStep(cfg.readout, from_h, b_y, z, y, d_z, d_h)
    for a in (from_h, z, y, d_z, d_h):
        if a is not None:
            a.flags.writeable = False
    return out


def _gradients(results: ModelResults, layer: int, step: int, v: Mapping[str, np.ndarray],
               w_ih: np.ndarray, w_hh: np.ndarray,
               readout: ReadoutStep | None) -> dict[str, np.ndarray]:
    """dL/d(quantity) at the step, from dL/dh_t (and dL/dc_t) of the engine's BPTT, which hold
    everything that reaches this step from later steps and from outside."""
    cfg, grads = results.config, results.grads
    hidden = cfg.hidden_size
    dh = np.array(grads.hidden[layer, step], dtype=np.float64)
    out: dict[str, np.ndarray] = {"h": dh, "h_out": dh}
    with np.errstate(all="ignore"):
        if cfg.cell in ("rnn_tanh", "rnn_relu"):
            slope = (v["pre"] > 0).astype(np.float64) if cfg.cell == "rnn_relu" \
                else 1.0 - v["h"] * v["h"]
            d_pre = dh * slope
            out.update(pre=d_pre, from_h=d_pre, from_x=d_pre, b=d_pre, h_prev=w_hh.T @ d_pre,
                       x=w_ih.T @ d_pre)
            out["h_prev_gates"] = out["h_prev"]
        elif cfg.cell == "lstm":
            dc = np.array(grads.cell[layer, step], dtype=np.float64)
            d_o = dh * v["tanh_c"]
            d_tanh_c = dh * v["o"]
            c_to_h = d_tanh_c * (1.0 - v["tanh_c"] ** 2)
            d_i, d_g, d_f = dc * v["g"], dc * v["i"], dc * v["c_prev"]
            d_pre = {"i": d_i * v["i"] * (1.0 - v["i"]), "f": d_f * v["f"] * (1.0 - v["f"]),
                     "g": d_g * (1.0 - v["g"] ** 2), "o": d_o * v["o"] * (1.0 - v["o"])}
            stacked = np.concatenate([d_pre[name] for name in "ifgo"])
            out.update(c=dc, c_out=dc - c_to_h, c_to_h=c_to_h, tanh_c=d_tanh_c, o=d_o,
                       i=d_i, g=d_g, f=d_f, fc=dc, ig=dc, c_prev=dc * v["f"],
                       h_prev=w_hh.T @ stacked, x=w_ih.T @ stacked)
            out["h_prev_gates"] = out["h_prev"]
            for name, d in d_pre.items():
                out[f"pre_{name}"] = d
        else:  # gru
            z, n, r = v["z"], v["n"], v["r"]
            d_n = dh * (1.0 - z)
            d_z = dh * (v["h_prev"] - n)
            d_pre_n = d_n * (1.0 - n * n)
            d_r = d_pre_n * v["hn"]
            d_hn = d_pre_n * r
            d_pre_r = d_r * r * (1.0 - r)
            d_pre_z = d_z * z * (1.0 - z)
            d_h_side = np.concatenate([d_pre_r, d_pre_z, d_hn])  # dL/d(W_hh h + b_hh) rows
            d_x_side = np.concatenate([d_pre_r, d_pre_z, d_pre_n])  # dL/d(W_ih x + b_ih) rows
            through_gates = w_hh.T @ d_h_side
            direct = dh * z
            out.update(n=d_n, z=d_z, r=d_r, one_minus_z=dh * n, zn=dh, zh=dh,
                       z_to_zh=dh * v["h_prev"], z_to_1mz=-dh * n,
                       pre_n=d_pre_n, pre_r=d_pre_r, pre_z=d_pre_z, hn=d_hn, rhn=d_pre_n,
                       xn=d_pre_n, h_prev_gates=through_gates, h_prev_direct=direct,
                       h_prev=through_gates + direct, x=w_ih.T @ d_x_side)
        out["xh"] = np.concatenate([out["h_prev_gates"], out["x"]])
        if readout is not None and readout.d_h is not None:
            out["h_readout"] = np.array(readout.d_h)
            out["z_out"] = np.array(readout.d_z)
    if hidden != dh.shape[0]:  # pragma: no cover - shapes come from the engine
        raise ValueError("gradient shapes do not match the network")
    return out


def readout_value(readout: ReadoutStep, unit: int = 0) -> float:
    """y_t[unit] recomputed as f(z)[unit] from the recomputed z (checks the engine's value)."""
    return float(apply_readout(readout.z[None, :], readout.activation)[0, unit])
