"""LSTM layer, PyTorch's equations and gate order (i, f, g, o).

i, f, o = σ(·), g = tanh(·) of W_ih x_t + b_ih + W_hh h_{t-1} + b_hh;
c_t = f ⊙ c_{t-1} + i ⊙ g;  h_t = o ⊙ tanh(c_t).

The forward loop scales the sigmoid gates' rows by ½ once, so a single tanh per step yields all
four gates (σ(a) = ½·tanh(a/2) + ½); the backward loop uses coefficients computed for all steps
at once, leaving about seven NumPy calls per step.
"""

from __future__ import annotations

import numpy as np

from rnnviz.engine.activations import sigmoid
from rnnviz.engine.cells.base import LayerGrads, LayerParams, shifted

_HALF = np.array([0.5, 0.5, 1.0, 0.5])
_SHIFT = np.array([0.5, 0.5, 0.0, 0.5])


def alloc(layers: int, steps: int, hidden: int, dtype: np.dtype,
          batch: int | None = None) -> dict[str, np.ndarray]:
    """Buffers: "act" (L, T, 4, H) gate activations, "c", "tc" (tanh c), "h" (L, T, H); with a
    batch time-major, (L, T, B, 4, H) and (L, T, B, H)."""
    lead = (layers, steps) if batch is None else (layers, steps, batch)
    return {
        "act": np.empty((*lead, 4, hidden), dtype),
        "c": np.empty((*lead, hidden), dtype),
        "tc": np.empty((*lead, hidden), dtype),
        "h": np.empty((*lead, hidden), dtype),
    }


def views(buf: dict[str, np.ndarray], batched: bool = False):
    """(hidden, cell, gates) as (L, T, H) views of the buffers, or (L, B, T, H) with a batch."""
    act = buf["act"]
    gates = {name: act[..., k, :] for k, name in enumerate("ifgo")}
    if batched:
        gates = {name: a.swapaxes(1, 2) for name, a in gates.items()}
        return buf["h"].swapaxes(1, 2), buf["c"].swapaxes(1, 2), gates
    return buf["h"], buf["c"], gates


def forward(p: LayerParams, x: np.ndarray, h0: np.ndarray, c0: np.ndarray,
            buf: dict[str, np.ndarray]) -> None:
    """Run one layer over x (T, I) from h0, c0 (H,), filling this layer's buffers."""
    hidden = p.hidden_size
    dt = x.dtype
    half = np.repeat(_HALF, hidden).astype(dt)
    shift = np.repeat(_SHIFT, hidden).astype(dt)
    w_ih, w = p.row_scaled(half)
    xp = x @ w_ih.T
    bias = p.bias_sum()
    if bias is not None:
        xp += bias * half
    act = buf["act"].reshape(x.shape[0], 4 * hidden)
    act4 = buf["act"]
    tmp = np.empty(4 * hidden, dt)
    ig = np.empty(hidden, dt)
    h, c = h0, c0
    # Iterating arrays yields row views far more cheaply than indexing them step by step.
    rows = zip(act, xp, act4[:, 0], act4[:, 1], act4[:, 2], act4[:, 3],
               buf["c"], buf["tc"], buf["h"], strict=True)
    for a, xt, it, ft, gt, ot, ct, tct, ht in rows:
        np.dot(w, h, out=tmp)
        np.add(tmp, xt, out=a)
        np.tanh(a, out=a)
        np.multiply(a, half, out=a)
        np.add(a, shift, out=a)
        np.multiply(ft, c, out=ct)
        np.multiply(it, gt, out=ig)
        np.add(ct, ig, out=ct)
        np.tanh(ct, out=tct)
        np.multiply(ot, tct, out=ht)
        h, c = ht, ct


def backward(p: LayerParams, x: np.ndarray, h0: np.ndarray, c0: np.ndarray,
             buf: dict[str, np.ndarray], g: np.ndarray, dh_last: np.ndarray,
             dc_last: np.ndarray) -> LayerGrads:
    """BPTT through one layer. g (T, H): dL/dh_t from outside; dh_last, dc_last (H,)."""
    steps, hidden = g.shape
    act, cs, tc, hs = buf["act"], buf["c"], buf["tc"], buf["h"]
    i, f, gg, o = act[:, 0], act[:, 1], act[:, 2], act[:, 3]
    # dL/dc_t gains dh_t ⊙ coef_c; pre-activation grads are coef ⊙ (dc, dc, dc, dh).
    # Computed in place over all steps (no temporaries): i(1-i)·g, f(1-f)·c_{t-1},
    # (1-g²)·i, o(1-o)·tanh(c_t) and o·(1-tanh²(c_t)).
    coef = np.empty((steps, 4, hidden), x.dtype)
    ci, cf, cg, co = coef[:, 0], coef[:, 1], coef[:, 2], coef[:, 3]
    np.subtract(1.0, i, out=ci)
    ci *= i
    ci *= gg
    np.subtract(1.0, f, out=cf)
    cf *= f
    cf[0] *= c0
    cf[1:] *= cs[:-1]
    np.multiply(gg, gg, out=cg)
    np.subtract(1.0, cg, out=cg)
    cg *= i
    np.subtract(1.0, o, out=co)
    co *= o
    co *= tc
    coef_c = np.multiply(tc, tc)
    np.subtract(1.0, coef_c, out=coef_c)
    coef_c *= o
    dh_all = np.empty((steps, hidden), x.dtype)
    dc_all = np.empty((steps, hidden), x.dtype)
    dpre = np.empty((steps, 4, hidden), x.dtype)
    dpre_flat = dpre.reshape(steps, 4 * hidden)
    dhn = np.array(dh_last, dtype=x.dtype)
    dcn = np.array(dc_last, dtype=x.dtype)
    wt = p.w_hh_t
    rows = zip(dh_all[::-1], g[::-1], dc_all[::-1], coef_c[::-1], coef[::-1, :3], coef[::-1, 3],
               dpre[::-1, :3], dpre[::-1, 3], dpre_flat[::-1], f[::-1], strict=True)
    for dh, gt, dc, cct, k3, ko, d3, do, dp, ft in rows:
        np.add(gt, dhn, out=dh)
        np.multiply(dh, cct, out=dc)
        np.add(dc, dcn, out=dc)
        np.multiply(k3, dc, out=d3)
        np.multiply(ko, dh, out=do)
        np.multiply(dc, ft, out=dcn)
        np.dot(wt, dp, out=dhn)
    return LayerGrads(dh_all, dc_all, dpre_flat @ p.w_ih, dpre_flat, dpre_flat, x,
                      shifted(h0, hs), dhn, dcn)


def forward_batch(p: LayerParams, x: np.ndarray, h0: np.ndarray, c0: np.ndarray,
                  buf: dict[str, np.ndarray]) -> None:
    """Run one layer over a time-major batch x (T, B, I) from h0, c0 (B, H), filling this
    layer's buffers (T, B, ...): one (B, H) x (H, 4H) matmul and nine elementwise calls a step."""
    hidden = p.hidden_size
    steps, batch, n_in = x.shape
    dt = x.dtype
    half = np.repeat(_HALF, hidden).astype(dt)
    shift = np.repeat(_SHIFT, hidden).astype(dt)
    w_ih, _ = p.row_scaled(half)
    w_t = p.row_scaled_t(half)
    act = buf["act"].reshape(steps, batch, 4 * hidden)
    np.dot(x.reshape(steps * batch, n_in), w_ih.T, out=act.reshape(steps * batch, 4 * hidden))
    bias = p.bias_sum()
    if bias is not None:
        act += bias * half
    act4 = buf["act"]
    tmp = np.empty((batch, 4 * hidden), dt)
    ig = np.empty((batch, hidden), dt)
    h, c = h0, c0
    rows = zip(act, act4[:, :, 0], act4[:, :, 1], act4[:, :, 2], act4[:, :, 3],
               buf["c"], buf["tc"], buf["h"], strict=True)
    for a, it, ft, gt, ot, ct, tct, ht in rows:
        np.dot(h, w_t, out=tmp)
        np.add(a, tmp, out=a)
        np.tanh(a, out=a)
        np.multiply(a, half, out=a)
        np.add(a, shift, out=a)
        np.multiply(ft, c, out=ct)
        np.multiply(it, gt, out=ig)
        np.add(ct, ig, out=ct)
        np.tanh(ct, out=tct)
        np.multiply(ot, tct, out=ht)
        h, c = ht, ct


def backward_batch(p: LayerParams, x: np.ndarray, h0: np.ndarray, c0: np.ndarray,
                   buf: dict[str, np.ndarray], g: np.ndarray, dh_last: np.ndarray,
                   dc_last: np.ndarray, out: dict[str, np.ndarray] | None = None) -> LayerGrads:
    """BPTT through one layer for a time-major batch: x (T, B, I), g (T, B, H) dL/dh_t from
    outside, dh_last, dc_last (B, H). ``out``: optional "hidden", "cell" (T, B, H) arrays to
    write dL/dh_t, dL/dc_t into. Parameter-gradient operands come flattened to (T·B, ·)."""
    steps, batch, hidden = g.shape
    dt = x.dtype
    act, cs, tc, hs = buf["act"], buf["c"], buf["tc"], buf["h"]
    i, f, gg, o = act[:, :, 0], act[:, :, 1], act[:, :, 2], act[:, :, 3]
    # The single-sequence loop's coefficients, for all steps and sequences at once; the loop
    # then turns them, in place, into the pre-activation gradients.
    coef = np.subtract(1.0, act)  # σ' = s(1 − s) for i, f, o in two passes over all gates
    coef *= act
    ci, cf, cg, co = coef[:, :, 0], coef[:, :, 1], coef[:, :, 2], coef[:, :, 3]
    ci *= gg
    cf[0] *= c0
    cf[1:] *= cs[:-1]
    np.multiply(gg, gg, out=cg)
    np.subtract(1.0, cg, out=cg)
    cg *= i
    co *= tc
    coef_c = np.multiply(tc, tc)
    np.subtract(1.0, coef_c, out=coef_c)
    coef_c *= o
    out = out or {}
    dh_all = out.get("hidden")
    dh_all = np.empty((steps, batch, hidden), dt) if dh_all is None else dh_all
    dc_all = out.get("cell")
    dc_all = np.empty((steps, batch, hidden), dt) if dc_all is None else dc_all
    dpre_flat = coef.reshape(steps, batch, 4 * hidden)
    dhn = np.array(dh_last, dtype=dt)
    dcn = np.array(dc_last, dtype=dt)
    w = p.w_hh
    rows = zip(dh_all[::-1], g[::-1], dc_all[::-1], dc_all[::-1, :, None], coef_c[::-1],
               coef[::-1, :, :3], coef[::-1, :, 3], dpre_flat[::-1], f[::-1], strict=True)
    for dh, gt, dc, dc1, cct, k3, ko, dp, ft in rows:
        np.add(gt, dhn, out=dh)
        np.multiply(dh, cct, out=dc)
        np.add(dc, dcn, out=dc)
        np.multiply(k3, dc1, out=k3)  # dL/d(i, f, g pre-activations) = coef ⊙ dc_t
        np.multiply(ko, dh, out=ko)  # dL/d(o pre-activation) = coef ⊙ dh_t
        np.multiply(dc, ft, out=dcn)
        np.dot(dp, w, out=dhn)
    flat = coef.reshape(steps * batch, 4 * hidden)
    d_in = (flat @ p.w_ih).reshape(steps, batch, x.shape[2])
    return LayerGrads(dh_all, dc_all, d_in, flat, flat, x.reshape(steps * batch, -1),
                      hs.reshape(steps * batch, hidden), dhn, dcn, h_first=h0)


def step(p: LayerParams, x_t: np.ndarray, h: np.ndarray, c: np.ndarray):
    """One timestep: returns (h_t, c_t, {"i","f","g","o": (H,)})."""
    a = p.w_ih @ x_t + p.w_hh @ h
    if p.b_ih is not None:
        a = a + p.b_ih + p.b_hh
    i, f, g, o = np.split(a, 4)
    i, f, o, g = sigmoid(i), sigmoid(f), sigmoid(o), np.tanh(g)
    c_new = f * c + i * g
    h_new = o * np.tanh(c_new)
    return h_new, c_new, {"i": i, "f": f, "g": g, "o": o}
