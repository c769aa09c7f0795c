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
from rnnviz.engine.cells.base import LayerGrads, LayerParams, param_grads, shifted

_HALF = np.array([0.5, 0.5, 1.0, 0.5])
_SHIFT = np.array([0.5, 0.5, 0.0, 0.5])


def alloc(layers: int, steps: int, hidden: int, dtype: np.dtype) -> dict[str, np.ndarray]:
    """Buffers: "act" (L, T, 4, H) gate activations, "c", "tc" (tanh c), "h" (L, T, H)."""
    return {
        "act": np.empty((layers, steps, 4, hidden), dtype),
        "c": np.empty((layers, steps, hidden), dtype),
        "tc": np.empty((layers, steps, hidden), dtype),
        "h": np.empty((layers, steps, hidden), dtype),
    }


def views(buf: dict[str, np.ndarray]):
    """(hidden, cell, gates) as (L, T, H) views of the buffers."""
    act = buf["act"]
    gates = {name: act[..., k, :] for k, name in enumerate("ifgo")}
    return buf["h"], buf["c"], gates


def forward(p: LayerParams, x: np.ndarray, h0: np.ndarray, c0: np.ndarray,
            buf: dict[str, np.ndarray]) -> None:
    """Run one layer over x (T, I) from h0, c0 (H,), filling this layer's buffers."""
    hidden = p.hidden_size
    dt = x.dtype
    half = np.repeat(_HALF, hidden).astype(dt)
    shift = np.repeat(_SHIFT, hidden).astype(dt)
    w = p.w_hh * half[:, None]
    xp = x @ (p.w_ih * half[:, None]).T
    bias = p.bias_sum()
    if bias is not None:
        xp += bias * half
    act = buf["act"].reshape(x.shape[0], 4 * hidden)
    cs, tcs, hs = buf["c"], buf["tc"], buf["h"]
    tmp = np.empty(4 * hidden, dt)
    ig = np.empty(hidden, dt)
    h, c = h0, c0
    h1, h2, h3 = hidden, 2 * hidden, 3 * hidden
    for t in range(x.shape[0]):
        a = act[t]
        np.dot(w, h, out=tmp)
        np.add(tmp, xp[t], out=a)
        np.tanh(a, out=a)
        np.multiply(a, half, out=a)
        np.add(a, shift, out=a)
        ct = cs[t]
        np.multiply(a[h1:h2], c, out=ct)
        np.multiply(a[:h1], a[h2:h3], out=ig)
        np.add(ct, ig, out=ct)
        np.tanh(ct, out=tcs[t])
        h = hs[t]
        np.multiply(a[h3:], tcs[t], out=h)
        c = ct


def backward(p: LayerParams, x: np.ndarray, h0: np.ndarray, c0: np.ndarray,
             buf: dict[str, np.ndarray], g: np.ndarray, dh_last: np.ndarray,
             dc_last: np.ndarray) -> LayerGrads:
    """BPTT through one layer. g (T, H): dL/dh_t from outside; dh_last, dc_last (H,)."""
    steps, hidden = g.shape
    act, cs, tc, hs = buf["act"], buf["c"], buf["tc"], buf["h"]
    i, f, gg, o = act[:, 0], act[:, 1], act[:, 2], act[:, 3]
    c_prev = shifted(c0, cs)
    # dL/dc_t gains dh_t ⊙ coef_c; pre-activation grads are coef ⊙ (dc, dc, dc, dh).
    coef_c = o * (1.0 - tc * tc)
    coef = np.empty((steps, 4, hidden), x.dtype)
    coef[:, 0] = gg * i * (1.0 - i)
    coef[:, 1] = c_prev * f * (1.0 - f)
    coef[:, 2] = i * (1.0 - gg * gg)
    coef[:, 3] = tc * o * (1.0 - o)
    dh_all = np.empty((steps, hidden), x.dtype)
    dc_all = np.empty((steps, hidden), x.dtype)
    dpre = np.empty((steps, 4, hidden), x.dtype)
    dpre_flat = dpre.reshape(steps, 4 * hidden)
    dhn = np.array(dh_last, dtype=x.dtype)
    dcn = np.array(dc_last, dtype=x.dtype)
    wt = p.w_hh.T
    for t in range(steps - 1, -1, -1):
        dh = dh_all[t]
        np.add(g[t], dhn, out=dh)
        dc = dc_all[t]
        np.multiply(dh, coef_c[t], out=dc)
        np.add(dc, dcn, out=dc)
        np.multiply(coef[t, :3], dc, out=dpre[t, :3])
        np.multiply(coef[t, 3], dh, out=dpre[t, 3])
        np.multiply(dc, f[t], out=dcn)
        np.dot(wt, dpre_flat[t], out=dhn)
    params, dx = param_grads(p, dpre_flat, dpre_flat, x, shifted(h0, hs))
    return LayerGrads(dh_all, dc_all, dx, params, dhn, dcn)


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
