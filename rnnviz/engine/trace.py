"""Immutable records of what a network computed: forward traces, steps and gradients."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

import numpy as np


def freeze(a: np.ndarray | None) -> np.ndarray | None:
    """Mark an array read-only (in place) and return it."""
    if a is not None:
        a.flags.writeable = False
    return a


def all_finite(*arrays: np.ndarray | None) -> bool:
    """Whether every element of every array is finite, in one cheap pass each: a finite sum
    needs every element finite (a huge but finite sum that overflows answers False)."""
    with np.errstate(all="ignore"):
        return all(a is None or a.size == 0 or bool(np.isfinite(np.sum(a))) for a in arrays)


def first_nonfinite(*arrays: np.ndarray | None) -> int | None:
    """The first step t at which any array holds a NaN or Inf; None when all are finite.

    Every array has its steps on the second-last axis: (T, O), (L, T, H), (B, T, O) or
    (L, B, T, H). With a batch this is the first step at which any sequence is non-finite.
    """
    first: int | None = None
    for a in arrays:
        if a is None or a.size == 0 or all_finite(a):
            continue
        bad = ~np.isfinite(a)
        others = tuple(k for k in range(a.ndim) if k != a.ndim - 2)
        hits = np.flatnonzero(bad.any(axis=others))
        if hits.size and (first is None or hits[0] < first):
            first = int(hits[0])
    return first


@dataclass(frozen=True)
class Trace:
    """Everything one forward pass computed. All arrays are read-only.

    input (T, I); h0, c0 (L, H) (c0 None unless LSTM); hidden (L, T, H); cell (L, T, H) or None;
    gates: name -> (L, T, H); logits z and output y = f(z) (T, O) or None; h_n, c_n (L, H);
    nonfinite_step: the first step with a NaN/Inf anywhere, or None.

    With a batch of B sequences every array gains a batch axis after the layer axis: input
    (B, T, I); h0, c0, h_n, c_n (L, B, H); hidden, cell, gates (L, B, T, H); logits, output
    (B, T, O); cell_norm (L, B, T); nonfinite_step is the first step at which any sequence is
    non-finite. (The batched arrays are views of time-major buffers (L, T, B, ·), the layout
    the kernels loop over.)
    """

    cell_type: str
    input: np.ndarray
    h0: np.ndarray
    c0: np.ndarray | None
    hidden: np.ndarray
    cell: np.ndarray | None
    gates: Mapping[str, np.ndarray]
    logits: np.ndarray | None
    output: np.ndarray | None
    nonfinite_step: int | None
    buffers: Mapping[str, np.ndarray] = field(repr=False)
    params_key: tuple[int, int] | None = field(default=None, repr=False, compare=False)
    """Which network and which installation of its parameters computed this trace."""

    @property
    def steps(self) -> int:
        return self.input.shape[-2]

    @property
    def batch_size(self) -> int | None:
        """B for a batched trace, None for a single sequence."""
        return self.input.shape[0] if self.input.ndim == 3 else None

    @property
    def h_n(self) -> np.ndarray:
        return self.hidden[..., -1, :] if self.steps else self.h0

    @cached_property
    def cell_norm(self) -> np.ndarray | None:
        """‖c_t‖₂ per layer and step, (L, T) or (L, B, T), or None without a cell state."""
        if self.cell is None:
            return None
        with np.errstate(over="ignore", invalid="ignore"):
            return freeze(np.linalg.norm(self.cell, axis=-1))

    @property
    def c_n(self) -> np.ndarray | None:
        if self.cell is None:
            return None
        return self.cell[..., -1, :] if self.steps else self.c0


@dataclass(frozen=True)
class State:
    """The recurrent state between steps: h (L, H), c (L, H) or None."""

    h: np.ndarray
    c: np.ndarray | None = None


@dataclass(frozen=True)
class StepRecord:
    """What one step computed: hidden, cell (L, H); gates name -> (L, H); output (O,) or None."""

    hidden: np.ndarray
    cell: np.ndarray | None
    gates: Mapping[str, np.ndarray]
    output: np.ndarray | None


@dataclass(frozen=True)
class Grads:
    """Gradients of a scalar loss L. All arrays are read-only.

    hidden (L, T, H): total dL/dh_t through the recurrence; cell (L, T, H) or None;
    input (T, I); params: the state dict's keys -> arrays of the same shapes; h0, c0 (L, H);
    d_logits (T, O) or None; hidden_norm, cell_norm (L, T) and input_norm (T,): 2-norms per step;
    nonfinite_step: the first step with a NaN/Inf gradient, or None.

    With a batch: hidden, cell (L, B, T, H); input (B, T, I); h0, c0 (L, B, H); d_logits
    (B, T, O); params summed over the batch (the gradient of the batch's loss); the norms are
    per sequence, over the units only: hidden_norm, cell_norm (L, B, T), input_norm (B, T).
    """

    hidden: np.ndarray
    cell: np.ndarray | None
    input: np.ndarray
    h0: np.ndarray
    c0: np.ndarray | None
    d_logits: np.ndarray | None
    nonfinite_step: int | None
    params_fn: Callable[[], dict[str, np.ndarray]] = field(repr=False)

    @cached_property
    def params(self) -> Mapping[str, np.ndarray]:
        """dL/dθ under the state dict's names (computed on first use: two matmuls per layer)."""
        return readonly_mapping(self.params_fn())

    # Norms are computed once, on first use (views read them at every cursor move).
    @cached_property
    def hidden_norm(self) -> np.ndarray:
        return freeze(np.linalg.norm(self.hidden, axis=-1))

    @cached_property
    def cell_norm(self) -> np.ndarray | None:
        return None if self.cell is None else freeze(np.linalg.norm(self.cell, axis=-1))

    @cached_property
    def input_norm(self) -> np.ndarray:
        return freeze(np.linalg.norm(self.input, axis=-1))


def readonly_mapping(d: dict[str, np.ndarray]) -> Mapping[str, np.ndarray]:
    """A read-only view of a dict whose arrays are frozen too."""
    for v in d.values():
        freeze(v)
    return MappingProxyType(d)
