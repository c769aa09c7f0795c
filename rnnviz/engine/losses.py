"""Losses over a sequence of readouts, with their gradients.

Both follow PyTorch's mean reduction over the steps that count ("all" steps or the "last" one):
"mse" is MSELoss over the (steps, O) block of y = f(z); "ce" is CrossEntropyLoss with z as logits
and integer class targets.
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
    dL/dz for "ce"."""

    total: float
    per_step: np.ndarray
    mask: np.ndarray
    grad: np.ndarray


def step_mask(steps: int, where: str, mask: np.ndarray | None = None) -> np.ndarray:
    """Which steps count, (T,) bool: ``where`` combined with an optional target mask."""
    if where not in WHERE:
        raise EngineError(f"where must be 'all' or 'last', got {where!r}")
    m = np.zeros(steps, bool)
    if where == "all":
        m[:] = True
    elif steps:
        m[-1] = True
    if mask is not None:
        mask = np.asarray(mask, bool)
        if mask.shape != (steps,):
            raise EngineError(f"target mask must have shape ({steps},), got {mask.shape}")
        m &= mask
    return m


def mse(y: np.ndarray, target: np.ndarray, mask: np.ndarray) -> LossResult:
    """Mean squared error of y (T, O) against target (T, O) over the masked steps."""
    if target.shape != y.shape:
        raise EngineError(f"target must have shape {y.shape} for mse, got {target.shape}")
    count = int(mask.sum()) * y.shape[1]
    diff = np.where(mask[:, None], y - target, 0.0)
    per_step = np.where(mask, np.mean(diff * diff, axis=1), np.nan)
    total = float(np.sum(diff * diff) / count) if count else 0.0
    grad = 2.0 * diff / count if count else np.zeros_like(y)
    return LossResult(total, per_step, mask, grad)


def cross_entropy(z: np.ndarray, target: np.ndarray, mask: np.ndarray) -> LossResult:
    """Cross-entropy of logits z (T, O) against class indices target (T,) over masked steps."""
    steps, classes = z.shape
    target = np.asarray(target)
    if target.ndim == 2 and target.shape[1] == 1:
        target = target[:, 0]
    if target.shape != (steps,):
        raise EngineError(f"target must have shape ({steps},) of class indices, got {target.shape}")
    idx = np.where(mask, target, 0)
    if not np.all(np.isfinite(idx)) or np.any(idx != np.round(idx)):
        raise EngineError("cross-entropy targets must be whole class indices")
    idx = idx.astype(np.int64)
    if np.any((idx < 0) | (idx >= classes)):
        raise EngineError(f"cross-entropy targets must lie in 0..{classes - 1}")
    logp = log_softmax(z, axis=1)
    nll = -logp[np.arange(steps), idx]
    count = int(mask.sum())
    per_step = np.where(mask, nll, np.nan)
    total = float(np.sum(nll[mask]) / count) if count else 0.0
    grad = np.exp(logp)
    grad[np.arange(steps), idx] -= 1.0
    grad = np.where(mask[:, None], grad / max(count, 1), 0.0)
    return LossResult(total, per_step, mask, grad)
