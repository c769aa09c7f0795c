"""Losses over a sequence of readouts, with their gradients.

Both follow PyTorch's mean reduction over the steps that count ("all" steps or the "last" one,
and of those only the ones a target mask marks): "mse" is MSELoss over the (steps, O) block of
y = f(z); "ce" is CrossEntropyLoss with z as logits and integer class targets.

With a batch (arrays (B, T, ·), mask (B, T)) the counted steps of all sequences are pooled, just
as torch's losses with reduction="mean" see ``y[mask]`` (N, O) against ``target[mask]``:

* mse = Σ over counted (b, t) and every output o of (y − target)² / (N · O);
* ce  = Σ over counted (b, t) of −log softmax(z[b, t])[target[b, t]] / N;

N is the number of counted steps over the whole batch. With ``where="last"`` (N = B) this is the
mean over the batch of each sequence's loss; with masks that count different numbers of steps per
sequence, every counted step weighs the same (as in torch), not every sequence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnviz.engine.activations import log_softmax
from rnnviz.engine.errors import EngineError

LOSSES = ("mse", "ce")
WHERE = ("all", "last")


@dataclass(frozen=True)
class LossResult:
    """total: the scalar loss; per_step (T,): each step's contribution before averaging
    (NaN at steps that do not count); mask (T,) bool; grad (T, O): dL/dy for "mse",
    dL/dz for "ce". With a batch: per_step and mask (B, T), grad (B, T, O)."""

    total: float
    per_step: np.ndarray
    mask: np.ndarray
    grad: np.ndarray


def step_mask(steps: int, where: str, mask: np.ndarray | None = None,
              batch: int | None = None) -> np.ndarray:
    """Which steps count, (T,) bool, or (B, T) with a batch: ``where`` combined with an
    optional target mask of the same shape."""
    if where not in WHERE:
        raise EngineError(f"where must be 'all' or 'last', got {where!r}")
    shape = (steps,) if batch is None else (batch, steps)
    m = np.zeros(shape, bool)
    if where == "all":
        m[:] = True
    elif steps:
        m[..., -1] = True
    if mask is not None:
        mask = np.asarray(mask)
        if mask.shape != shape:
            raise EngineError(f"target mask must have shape {shape}, got {mask.shape}")
        if mask.dtype.kind not in "biuf":
            raise EngineError(f"target mask must hold booleans, got dtype {mask.dtype}")
        m &= mask.astype(bool)
    return m


def mse(y: np.ndarray, target: np.ndarray, mask: np.ndarray) -> LossResult:
    """Mean squared error of y (T, O) against target (T, O) over the masked steps; or of
    y (B, T, O) against target (B, T, O) with mask (B, T), pooled over the batch."""
    if target.shape != y.shape:
        raise EngineError(f"target must have shape {y.shape} for mse, got {target.shape}")
    count = int(mask.sum()) * y.shape[-1]
    diff = np.where(mask[..., None], y - target, 0.0)
    per_step = np.where(mask, np.mean(diff * diff, axis=-1), np.nan)
    total = float(np.sum(diff * diff) / count) if count else 0.0
    grad = 2.0 * diff / count if count else np.zeros_like(y)
    return LossResult(total, per_step, mask, grad)


def cross_entropy(z: np.ndarray, target: np.ndarray, mask: np.ndarray) -> LossResult:
    """Cross-entropy of logits z (T, O) against class indices target (T,) over masked steps; or
    of z (B, T, O) against target (B, T) with mask (B, T), pooled over the batch."""
    lead, classes = z.shape[:-1], z.shape[-1]
    target = np.asarray(target)
    if target.ndim == z.ndim and target.shape[-1] == 1:
        target = target[..., 0]
    if target.shape != lead:
        raise EngineError(f"target must have shape {lead} of class indices, got {target.shape}")
    if target.dtype.kind not in "biuf":
        raise EngineError(f"cross-entropy targets must be class indices, got dtype {target.dtype}")
    idx = np.where(mask, target, 0)
    if not np.all(np.isfinite(idx)) or np.any(idx != np.round(idx)):
        raise EngineError("cross-entropy targets must be whole class indices")
    if np.any((idx < 0) | (idx >= classes)):
        raise EngineError(f"cross-entropy targets must lie in 0..{classes - 1}")
    idx = idx.astype(np.int64)
    logp = log_softmax(z, axis=-1)
    nll = -np.take_along_axis(logp, idx[..., None], axis=-1)[..., 0]
    count = int(mask.sum())
    per_step = np.where(mask, nll, np.nan)
    total = float(np.sum(nll[mask]) / count) if count else 0.0
    grad = np.exp(logp)
    np.put_along_axis(grad, idx[..., None],
                      np.take_along_axis(grad, idx[..., None], axis=-1) - 1.0, axis=-1)
    grad = np.where(mask[..., None], grad / max(count, 1), 0.0)
    return LossResult(total, per_step, mask, grad)
