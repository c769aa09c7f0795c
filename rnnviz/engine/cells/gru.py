"""GRU layer, PyTorch's equations and gate order (r, z, n).

r, z = σ(W_i· x_t + b_i· + W_h· h_{t-1} + b_h·);
n = tanh(W_in x_t + b_in + r ⊙ (W_hn h_{t-1} + b_hn));
h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}.
"""

from __future__ import annotations

import numpy as np

from rnnviz.engine.activations import sigmoid
from rnnviz.engine.cells.base import LayerGrads, LayerParams, shifted

_HALF = np.array([0.5, 0.5, 1.0])


def alloc(layers: int, steps: int, hidden: int, dtype: np.dtype) -> dict[str, np.ndarray]:
    """Buffers: "rz" (L, T, 2, H), "n" (L, T, H), "gh" (L, T, 3, H) = W_hh h + b_hh with the
    r, z rows halved, "h" (L, T, H)."""
    return {
        "rz": np.empty((layers, steps, 2, hidden), dtype),
        "n": np.empty((layers, steps, hidden), dtype),
        "gh": np.empty((layers, steps, 3, hidden), dtype),
        "h": np.empty((layers, steps, hidden), dtype),
    }


def views(buf: dict[str, np.ndarray]):
    """(hidden, None, gates) as (L, T, H) views of the buffers."""
    rz = buf["rz"]
    return buf["h"], None, {"r": rz[..., 0, :], "z": rz[..., 1, :], "n": buf["n"]}


def forward(p: LayerParams, x: np.ndarray, h0: np.ndarray, c0, buf: dict[str, np.ndarray]) -> None:
    """Run one layer over x (T, I) from h0 (H,), filling this layer's buffers."""
    hidden = p.hidden_size
    dt = x.dtype
    half = np.repeat(_HALF, hidden).astype(dt)
    w_ih, w = p.row_scaled(half)
    xp = x @ w_ih.T
    bh = None
    if p.b_ih is not None:
        xp += p.b_ih * half
        bh = p.b_hh * half
    steps = x.shape[0]
    rz_all = buf["rz"].reshape(steps, 2 * hidden)
    gh_all = buf["gh"].reshape(steps, 3 * hidden)
    h2 = 2 * hidden
    rz4 = buf["rz"]
    h = h0
    rows = zip(gh_all, buf["gh"][:, 2], rz_all, rz4[:, 0], rz4[:, 1], xp[:, :h2], xp[:, h2:],
               buf["n"], buf["h"], strict=True)
    for gh, ghn, rz, r, z, xrz, xn, n, ht in rows:
        np.dot(w, h, out=gh)
        if bh is not None:
            np.add(gh, bh, out=gh)
        np.add(gh[:h2], xrz, out=rz)
        np.tanh(rz, out=rz)
        np.multiply(rz, 0.5, out=rz)
        np.add(rz, 0.5, out=rz)
        np.multiply(r, ghn, out=n)
        np.add(n, xn, out=n)
        np.tanh(n, out=n)
        np.subtract(h, n, out=ht)
        np.multiply(ht, z, out=ht)
        np.add(ht, n, out=ht)
        h = ht


def backward(p: LayerParams, x: np.ndarray, h0: np.ndarray, c0, buf: dict[str, np.ndarray],
             g: np.ndarray, dh_last: np.ndarray, dc_last) -> LayerGrads:
    """BPTT through one layer. g (T, H): dL/dh_t from outside the recurrence; dh_last (H,)."""
    steps, hidden = g.shape
    r, z = buf["rz"][:, 0], buf["rz"][:, 1]
    n, hs = buf["n"], buf["h"]
    ghn = buf["gh"][:, 2]
    h_prev = shifted(h0, hs)
    dn_pre = (1.0 - z) * (1.0 - n * n)  # d n_pre / d h_t, per unit
    # dL/d(W_hh h + b_hh) = dh_t ⊙ coef, rows r, z, n.
    coef = np.empty((steps, 3, hidden), x.dtype)
    coef[:, 0] = dn_pre * ghn * r * (1.0 - r)
    coef[:, 1] = (h_prev - n) * z * (1.0 - z)
    coef[:, 2] = dn_pre * r
    dh_all = np.empty((steps, hidden), x.dtype)
    dgh = np.empty((steps, 3, hidden), x.dtype)
    dgh_flat = dgh.reshape(steps, 3 * hidden)
    dhn = np.array(dh_last, dtype=x.dtype)
    tmp = np.empty(hidden, x.dtype)
    wt = p.w_hh_t
    rows = zip(dh_all[::-1], g[::-1], coef[::-1], dgh[::-1], dgh_flat[::-1], z[::-1], strict=True)
    for dh, gt, k, d, dflat, zt in rows:
        np.add(gt, dhn, out=dh)
        np.multiply(k, dh, out=d)
        np.dot(wt, dflat, out=dhn)
        np.multiply(dh, zt, out=tmp)
        np.add(dhn, tmp, out=dhn)
    dgx = dgh_flat.copy()
    dgx[:, 2 * hidden:] = dn_pre * dh_all
    return LayerGrads(dh_all, None, dgx @ p.w_ih, dgx, dgh_flat, x, h_prev, dhn, None)


def step(p: LayerParams, x_t: np.ndarray, h: np.ndarray, c):
    """One timestep: returns (h_t, None, {"r","z","n": (H,)})."""
    gx = p.w_ih @ x_t
    gh = p.w_hh @ h
    if p.b_ih is not None:
        gx = gx + p.b_ih
        gh = gh + p.b_hh
    xr, xz, xn = np.split(gx, 3)
    hr, hz, hn = np.split(gh, 3)
    r = sigmoid(xr + hr)
    z = sigmoid(xz + hz)
    n = np.tanh(xn + r * hn)
    h_new = (1.0 - z) * n + z * h
    return h_new, None, {"r": r, "z": z, "n": n}
