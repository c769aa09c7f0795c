"""Shared types of the per-layer kernels."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


@dataclass(frozen=True)
class LayerParams:
    """One layer's parameters in PyTorch's layout (G gates stacked along the rows).

    w_ih (G·H, I), w_hh (G·H, H), b_ih and b_hh (G·H,) or None when the network has no bias.
    ``relu`` selects the vanilla RNN's nonlinearity. The arrays are read-only, and so are the
    derived copies cached here (transposed, row-scaled): a network builds new LayerParams
    whenever its parameters change, so the caches can never go stale.
    """

    w_ih: np.ndarray
    w_hh: np.ndarray
    b_ih: np.ndarray | None
    b_hh: np.ndarray | None
    relu: bool = False

    @property
    def hidden_size(self) -> int:
        return self.w_hh.shape[1]

    @cached_property
    def w_hh_t(self) -> np.ndarray:
        """W_hhᵀ (H, G·H) as a row-major copy: it streams faster through the backward loop."""
        return _frozen(np.ascontiguousarray(self.w_hh.T))

    def row_scaled(self, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(W_ih, W_hh) with row r multiplied by scale[r] (G·H,); kept for the next call, as a
        network is run again and again with the same weights."""
        key = scale.tobytes()
        cached = self.__dict__.get("_row_scaled")
        if cached is None or cached[0] != key:
            cached = (key, _frozen(self.w_ih * scale[:, None]),
                      _frozen(self.w_hh * scale[:, None]))
            self.__dict__["_row_scaled"] = cached
        return cached[1], cached[2]

    def row_scaled_t(self, scale: np.ndarray) -> np.ndarray:
        """(row-scaled W_hh)ᵀ (H, G·H) as a row-major copy, for the batched forward loop's
        h (B, H) @ W (H, G·H); cached like :meth:`row_scaled`."""
        key = scale.tobytes()
        cached = self.__dict__.get("_row_scaled_t")
        if cached is None or cached[0] != key:
            cached = (key, _frozen(np.ascontiguousarray(self.row_scaled(scale)[1].T)))
            self.__dict__["_row_scaled_t"] = cached
        return cached[1]

    def bias_sum(self) -> np.ndarray | None:
        """b_ih + b_hh (G·H,), or None without bias."""
        if self.b_ih is None:
            return None
        return self.b_ih + self.b_hh


@dataclass(frozen=True)
class LayerGrads:
    """Gradients through one layer.

    hidden (T, H) total dL/dh_t; cell (T, H) or None; input (T, I) dL/dx_t for this layer's
    input; h0 (H,), c0 (H,) or None. The parameter gradients follow from
    d_gates_x (T, G·H) = dL/d(W_ih x_t + b_ih) and d_gates_h (T, G·H) = dL/d(W_hh h_{t-1} + b_hh)
    with x (T, I) and h_prev (T, H): see :func:`param_grads` (left to the caller, so that views
    which never show them need not pay for two large matmuls). With a batch: hidden, cell
    (T, B, H), input (T, B, I), h0, c0 (B, H), and the four parameter-gradient operands
    flattened over steps and sequences to (T·B, ·).
    """

    hidden: np.ndarray
    cell: np.ndarray | None
    input: np.ndarray
    d_gates_x: np.ndarray
    d_gates_h: np.ndarray
    x: np.ndarray
    h_prev: np.ndarray
    h0: np.ndarray
    c0: np.ndarray | None
    h_first: np.ndarray | None = None
    """When given (k, H), ``h_prev`` holds the layer's own states h_1..h_T (rows flattened) and
    the previous states are h_first followed by all but the last k rows of h_prev: the batched
    kernels pass their states this way instead of copying them shifted by one step."""


def shifted(first: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """The sequence delayed by one step: rows (first, seq[0], ..., seq[T-2]); (T, H)."""
    out = np.empty_like(seq)
    out[0] = first
    out[1:] = seq[:-1]
    return out


def param_grads(g: LayerGrads, bias: bool) -> dict[str, np.ndarray]:
    """Parameter gradients of one layer as one matmul each over all steps:
    keys "w_ih" (G·H, I), "w_hh" (G·H, H), and "b_ih", "b_hh" (G·H,) with ``bias``."""
    if g.h_first is None:
        w_hh = g.d_gates_h.T @ g.h_prev
    else:
        k = g.h_first.shape[0]
        w_hh = g.d_gates_h[k:].T @ g.h_prev[:-k]
        w_hh += g.d_gates_h[:k].T @ g.h_first
    grads = {"w_ih": g.d_gates_x.T @ g.x, "w_hh": w_hh}
    if bias:
        grads["b_ih"] = g.d_gates_x.sum(axis=0)
        grads["b_hh"] = g.d_gates_h.sum(axis=0)
    return grads
