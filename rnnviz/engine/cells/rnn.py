"""Vanilla RNN layer: h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), act = tanh or relu."""

from __future__ import annotations

import numpy as np

from rnnviz.engine.cells.base import LayerGrads, LayerParams, shifted


def alloc(layers: int, steps: int, hidden: int, dtype: np.dtype) -> dict[str, np.ndarray]:
    """Buffers for a whole network: "pre" and "h", each (L, T, H)."""
    return {
        "pre": np.empty((layers, steps, hidden), dtype),
        "h": np.empty((layers, steps, hidden), dtype),
    }


def views(buf: dict[str, np.ndarray]):
    """(hidden (L,T,H), cell None, gates {"pre": (L,T,H)}) without copying."""
    return buf["h"], None, {"pre": buf["pre"]}


def forward(p: LayerParams, x: np.ndarray, h0: np.ndarray, c0, buf: dict[str, np.ndarray]):
    """Run one layer over x (T, I) from h0 (H,), writing buf["pre"], buf["h"] (T, H)."""
    pre, hs = buf["pre"], buf["h"]
    xp = x @ p.w_ih.T
    bias = p.bias_sum()
    if bias is not None:
        xp += bias
    w = p.w_hh
    tmp = np.empty(p.hidden_size, x.dtype)
    h = h0
    for a, xt, ht in zip(pre, xp, hs, strict=True):
        np.dot(w, h, out=tmp)
        np.add(tmp, xt, out=a)
        if p.relu:
            np.maximum(a, 0.0, out=ht)
        else:
            np.tanh(a, out=ht)
        h = ht


def backward(p: LayerParams, x: np.ndarray, h0: np.ndarray, c0, buf: dict[str, np.ndarray],
             g: np.ndarray, dh_last: np.ndarray, dc_last) -> LayerGrads:
    """BPTT through one layer. g (T, H): dL/dh_t from outside the recurrence; dh_last (H,)."""
    hs = buf["h"]
    deriv = (buf["pre"] > 0).astype(x.dtype) if p.relu else 1.0 - hs * hs
    dh_all = np.empty_like(hs)
    da_all = np.empty_like(hs)
    dhn = np.array(dh_last, dtype=x.dtype)
    wt = p.w_hh_t
    for dh, gt, da, dt in zip(dh_all[::-1], g[::-1], da_all[::-1], deriv[::-1], strict=True):
        np.add(gt, dhn, out=dh)
        np.multiply(dh, dt, out=da)
        np.dot(wt, da, out=dhn)
    return LayerGrads(dh_all, None, da_all @ p.w_ih, da_all, da_all, x, shifted(h0, hs), dhn,
                      None)


def step(p: LayerParams, x_t: np.ndarray, h: np.ndarray, c):
    """One timestep: returns (h_t (H,), None, {"pre": (H,)})."""
    a = p.w_ih @ x_t + p.w_hh @ h
    if p.b_ih is not None:
        a = a + p.b_ih + p.b_hh
    h_new = np.maximum(a, 0.0) if p.relu else np.tanh(a)
    return h_new, None, {"pre": a}
