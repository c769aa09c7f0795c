"""Vanilla RNN layer: h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), act = tanh or relu."""

from __future__ import annotations

import numpy as np

from rnnviz.engine.cells.base import LayerGrads, LayerParams, shifted


def alloc(layers: int, steps: int, hidden: int, dtype: np.dtype,
          batch: int | None = None) -> dict[str, np.ndarray]:
    """Buffers for a whole network: "pre" and "h", each (L, T, H), or time-major (L, T, B, H)
    with a batch."""
    shape = (layers, steps, hidden) if batch is None else (layers, steps, batch, hidden)
    return {"pre": np.empty(shape, dtype), "h": np.empty(shape, dtype)}


def views(buf: dict[str, np.ndarray], batched: bool = False):
    """(hidden, cell None, gates {"pre"}) without copying: (L, T, H), or (L, B, T, H) views of
    the time-major buffers with a batch."""
    if batched:
        return buf["h"].swapaxes(1, 2), None, {"pre": buf["pre"].swapaxes(1, 2)}
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


def forward_batch(p: LayerParams, x: np.ndarray, h0: np.ndarray, c0,
                  buf: dict[str, np.ndarray]) -> None:
    """Run one layer over a time-major batch x (T, B, I) from h0 (B, H), filling buf["pre"],
    buf["h"] (T, B, H): one (B, H) x (H, H) matmul per step."""
    pre, hs = buf["pre"], buf["h"]
    steps, batch, n_in = x.shape
    np.dot(x.reshape(steps * batch, n_in), p.w_ih.T, out=pre.reshape(steps * batch, -1))
    bias = p.bias_sum()
    if bias is not None:
        pre += bias
    w_t = p.w_hh_t
    tmp = np.empty((batch, p.hidden_size), x.dtype)
    h = h0
    for a, ht in zip(pre, hs, strict=True):
        np.dot(h, w_t, out=tmp)
        np.add(a, tmp, out=a)
        if p.relu:
            np.maximum(a, 0.0, out=ht)
        else:
            np.tanh(a, out=ht)
        h = ht


def backward_batch(p: LayerParams, x: np.ndarray, h0: np.ndarray, c0,
                   buf: dict[str, np.ndarray], g: np.ndarray, dh_last: np.ndarray,
                   dc_last, out: dict[str, np.ndarray] | None = None) -> LayerGrads:
    """BPTT through one layer for a time-major batch: x (T, B, I), g (T, B, H) dL/dh_t from
    outside the recurrence, dh_last (B, H). ``out``: an optional "hidden" (T, B, H) array to
    write dL/dh_t into. The parameter-gradient operands come flattened to (T·B, ·), so that each
    parameter gradient is one matmul summing over steps and sequences."""
    hs = buf["h"]
    steps, batch, hidden = hs.shape
    # d act / d pre, turned in place by the loop into dL/d pre
    if p.relu:
        da_all = (buf["pre"] > 0).astype(x.dtype)
    else:
        da_all = np.multiply(hs, hs)
        np.subtract(1.0, da_all, out=da_all)
    dh_all = (out or {}).get("hidden")
    dh_all = np.empty_like(hs) if dh_all is None else dh_all
    dhn = np.array(dh_last, dtype=x.dtype)
    w = p.w_hh
    for dh, gt, da in zip(dh_all[::-1], g[::-1], da_all[::-1], strict=True):
        np.add(gt, dhn, out=dh)
        np.multiply(da, dh, out=da)
        np.dot(da, w, out=dhn)
    flat = da_all.reshape(steps * batch, hidden)
    d_in = (flat @ p.w_ih).reshape(steps, batch, x.shape[2])
    return LayerGrads(dh_all, None, d_in, flat, flat, x.reshape(steps * batch, -1),
                      hs.reshape(steps * batch, hidden), dhn, None, h_first=h0)


def step(p: LayerParams, x_t: np.ndarray, h: np.ndarray, c):
    """One timestep: returns (h_t (H,), None, {"pre": (H,)})."""
    a = p.w_ih @ x_t + p.w_hh @ h
    if p.b_ih is not None:
        a = a + p.b_ih + p.b_hh
    h_new = np.maximum(a, 0.0) if p.relu else np.tanh(a)
    return h_new, None, {"pre": a}
