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


def alloc(layers: int, steps: int, hidden: int, dtype: np.dtype,
          batch: int | None = None) -> dict[str, np.ndarray]:
    """Buffers: "rz" (L, T, 2, H), "n" (L, T, H), "gh" (L, T, 3, H) = W_hh h + b_hh with the
    r, z rows halved, "h" (L, T, H); with a batch time-major, (L, T, B, ...)."""
    lead = (layers, steps) if batch is None else (layers, steps, batch)
    return {
        "rz": np.empty((*lead, 2, hidden), dtype),
        "n": np.empty((*lead, hidden), dtype),
        "gh": np.empty((*lead, 3, hidden), dtype),
        "h": np.empty((*lead, hidden), dtype),
    }


def views(buf: dict[str, np.ndarray], batched: bool = False):
    """(hidden, None, gates) as (L, T, H) views of the buffers, or (L, B, T, H) with a batch."""
    rz = buf["rz"]
    gates = {"r": rz[..., 0, :], "z": rz[..., 1, :], "n": buf["n"]}
    if batched:
        return buf["h"].swapaxes(1, 2), None, {k: a.swapaxes(1, 2) for k, a in gates.items()}
    return buf["h"], None, gates


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


def forward_batch(p: LayerParams, x: np.ndarray, h0: np.ndarray, c0,
                  buf: dict[str, np.ndarray]) -> None:
    """Run one layer over a time-major batch x (T, B, I) from h0 (B, H), filling this layer's
    buffers (T, B, ...): one (B, H) x (H, 3H) matmul per step."""
    hidden = p.hidden_size
    steps, batch, n_in = x.shape
    dt = x.dtype
    half = np.repeat(_HALF, hidden).astype(dt)
    w_ih, _ = p.row_scaled(half)
    w_t = p.row_scaled_t(half)
    xp = (x.reshape(steps * batch, n_in) @ w_ih.T).reshape(steps, batch, 3 * hidden)
    bh = None
    if p.b_ih is not None:
        xp += p.b_ih * half
        bh = p.b_hh * half
    h2 = 2 * hidden
    gh_all = buf["gh"].reshape(steps, batch, 3 * hidden)
    rz_all = buf["rz"].reshape(steps, batch, h2)
    rz4, gh4 = buf["rz"], buf["gh"]
    h = h0
    rows = zip(gh_all, gh_all[:, :, :h2], gh4[:, :, 2], rz_all, rz4[:, :, 0], rz4[:, :, 1],
               xp[:, :, :h2], xp[:, :, h2:], buf["n"], buf["h"], strict=True)
    for gh, ghrz, ghn, rz, r, z, xrz, xn, n, ht in rows:
        np.dot(h, w_t, out=gh)
        if bh is not None:
            np.add(gh, bh, out=gh)
        np.add(ghrz, xrz, out=rz)
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


def backward_batch(p: LayerParams, x: np.ndarray, h0: np.ndarray, c0,
                   buf: dict[str, np.ndarray], g: np.ndarray, dh_last: np.ndarray,
                   dc_last, out: dict[str, np.ndarray] | None = None) -> LayerGrads:
    """BPTT through one layer for a time-major batch: x (T, B, I), g (T, B, H) dL/dh_t from
    outside, dh_last (B, H). ``out``: an optional "hidden" (T, B, H) array to write dL/dh_t
    into. Parameter-gradient operands come flattened to (T·B, ·)."""
    steps, batch, hidden = g.shape
    dt = x.dtype
    r, z = buf["rz"][:, :, 0], buf["rz"][:, :, 1]
    n, hs = buf["n"], buf["h"]
    ghn = buf["gh"][:, :, 2]
    # coef (T, B, 3, H): d(W_hh h + b_hh rows r, z, n) / dh_t, turned in place by the loop into
    # dL/d(W_hh h_{t-1} + b_hh).
    coef = np.empty((steps, batch, 3, hidden), dt)
    dn_pre = coef[:, :, 2]  # first (1 − z)(1 − n²) = d n_pre / d h_t, kept below
    np.multiply(n, n, out=dn_pre)
    np.subtract(1.0, dn_pre, out=dn_pre)
    dn_pre *= np.subtract(1.0, z)
    dn = dn_pre.copy()
    np.subtract(1.0, r, out=coef[:, :, 0])
    coef[:, :, 0] *= r
    coef[:, :, 0] *= ghn
    coef[:, :, 0] *= dn
    cz = coef[:, :, 1]
    np.subtract(1.0, z, out=cz)
    cz *= z
    cz[0] *= h0 - n[0]
    cz[1:] *= hs[:-1] - n[1:]
    dn_pre *= r
    out = out or {}
    dh_all = out.get("hidden")
    dh_all = np.empty((steps, batch, hidden), dt) if dh_all is None else dh_all
    dgh_flat = coef.reshape(steps, batch, 3 * hidden)
    dhn = np.array(dh_last, dtype=dt)
    tmp = np.empty((batch, hidden), dt)
    w = p.w_hh
    rows = zip(dh_all[::-1], dh_all[::-1, :, None], g[::-1], coef[::-1], dgh_flat[::-1],
               z[::-1], strict=True)
    for dh, dh1, gt, k, dflat, zt in rows:
        np.add(gt, dhn, out=dh)
        np.multiply(k, dh1, out=k)
        np.dot(dflat, w, out=dhn)
        np.multiply(dh, zt, out=tmp)
        np.add(dhn, tmp, out=dhn)
    flat_h = coef.reshape(steps * batch, 3 * hidden)
    dgx = flat_h.copy()
    np.multiply(dn, dh_all, out=dn)
    dgx[:, 2 * hidden:] = dn.reshape(steps * batch, hidden)
    d_in = (dgx @ p.w_ih).reshape(steps, batch, x.shape[2])
    return LayerGrads(dh_all, None, d_in, dgx, flat_h, x.reshape(steps * batch, -1),
                      hs.reshape(steps * batch, hidden), dhn, None, h_first=h0)


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
