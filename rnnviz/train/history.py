"""What a run records for one model, update by update.

Per update u = 1..n: the training loss of that update's batch and the gradient norm before
clipping. At every evaluation (update 0, then every ``eval_every`` updates): the loss and the
task's success measure on its test set. And weight snapshots, so that the network can be looked
at as it was at update k.

Snapshots are bounded: a snapshot is kept at every multiple of a stride S (starting at the
run's ``eval_every``, snapshots being offered at evaluations only); whenever more than
``max_snapshots`` would be kept, S doubles and the snapshots off the new stride are dropped.
So at most ``max_snapshots`` remain, evenly spaced, always including update 0 (the weights before
training), and which ones remain depends only on the updates done, never on where a run was
paused and resumed.

:class:`History` is the trainer's growing record; :meth:`History.view` gives a
:class:`HistoryView`, an immutable value of it so far that costs no copying (read-only views of
the growing buffers, which never rewrite an entry once written).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

_FIRST_CAPACITY = 1024


def _frozen_view(a: np.ndarray, n: int) -> np.ndarray:
    v = a[:n]
    v.flags.writeable = False
    return v


@dataclass(frozen=True, eq=False)
class HistoryView:
    """One model's record after ``updates`` updates.

    loss, grad_norm: (n,) float64, entry u−1 for update u; eval_update (m,) int64, the updates
    evaluated at, with test_loss and success (m,) float64; snapshot_update (s,) int64 and
    snapshots: s read-only state dicts (the weights after that update; update 0: before
    training); snapshot_stride: S above. Every array is read-only.
    """

    loss: np.ndarray
    grad_norm: np.ndarray
    eval_update: np.ndarray
    test_loss: np.ndarray
    success: np.ndarray
    snapshot_update: np.ndarray
    snapshots: tuple[Mapping[str, np.ndarray], ...]
    snapshot_stride: int

    @property
    def updates(self) -> int:
        return int(self.loss.shape[0])

    def snapshot_at(self, update: int) -> Mapping[str, np.ndarray]:
        """The weights snapshot taken at ``update`` (KeyError if none was kept)."""
        hits = np.flatnonzero(self.snapshot_update == update)
        if not hits.size:
            raise KeyError(f"no snapshot at update {update}")
        return self.snapshots[int(hits[0])]

    def truncated(self, update: int) -> HistoryView:
        """The history as it was after ``update`` updates (a prefix)."""
        keep_eval = self.eval_update <= update
        keep_snap = self.snapshot_update <= update
        return HistoryView(
            self.loss[:update], self.grad_norm[:update], self.eval_update[keep_eval],
            self.test_loss[keep_eval], self.success[keep_eval],
            self.snapshot_update[keep_snap],
            tuple(s for s, k in zip(self.snapshots, keep_snap, strict=True) if k),
            self.snapshot_stride)

    def equals(self, other: HistoryView) -> bool:
        """The same numbers, bit for bit (weights included)."""
        arrays = ("loss", "grad_norm", "eval_update", "test_loss", "success", "snapshot_update")
        if self.snapshot_stride != other.snapshot_stride:
            return False
        if not all(np.array_equal(getattr(self, a), getattr(other, a)) for a in arrays):
            return False
        return all(set(a) == set(b) and all(np.array_equal(a[k], b[k]) for k in a)
                   for a, b in zip(self.snapshots, other.snapshots, strict=True))


def empty_view(stride: int) -> HistoryView:
    f = np.zeros(0)
    i = np.zeros(0, np.int64)
    for a in (f, i):
        a.flags.writeable = False
    return HistoryView(f, f, i, f, f, i, (), stride)


class History:
    """One model's growing record (see the module docstring), continuing ``start`` if given."""

    def __init__(self, eval_every: int, max_snapshots: int,
                 start: HistoryView | None = None) -> None:
        start = start or empty_view(eval_every)
        self.max_snapshots = max_snapshots
        n = start.updates
        capacity = max(_FIRST_CAPACITY, 2 * n)
        self._loss = np.zeros(capacity)
        self._norm = np.zeros(capacity)
        self._loss[:n] = start.loss
        self._norm[:n] = start.grad_norm
        self._n = n
        self._eval_update = [int(u) for u in start.eval_update]
        self._test_loss = [float(v) for v in start.test_loss]
        self._success = [float(v) for v in start.success]
        self._snap_update = [int(u) for u in start.snapshot_update]
        self._snaps = list(start.snapshots)
        self.stride = start.snapshot_stride
        self._cached: HistoryView | None = None

    @property
    def updates(self) -> int:
        return self._n

    def record_update(self, loss: float, grad_norm: float) -> None:
        if self._n == self._loss.shape[0]:  # grow into new buffers: old views stay valid
            self._loss = np.concatenate([self._loss, np.zeros_like(self._loss)])
            self._norm = np.concatenate([self._norm, np.zeros_like(self._norm)])
        self._loss[self._n] = loss
        self._norm[self._n] = grad_norm
        self._n += 1
        self._cached = None

    def evaluated_at(self, update: int) -> bool:
        return bool(self._eval_update) and self._eval_update[-1] == update

    def record_eval(self, update: int, test_loss: float, success: float) -> None:
        self._eval_update.append(int(update))
        self._test_loss.append(float(test_loss))
        self._success.append(float(success))
        self._cached = None

    def offer_snapshot(self, update: int, weights: Mapping[str, np.ndarray]) -> None:
        """Keep ``weights`` (read-only arrays, not copied) as the snapshot at ``update`` if it
        falls on the stride, thinning as described above."""
        if update % self.stride or (self._snap_update and self._snap_update[-1] >= update):
            return
        self._snap_update.append(int(update))
        self._snaps.append(weights)
        while len(self._snaps) > self.max_snapshots:
            self.stride *= 2
            keep = [k for k, u in enumerate(self._snap_update) if u % self.stride == 0]
            self._snap_update = [self._snap_update[k] for k in keep]
            self._snaps = [self._snaps[k] for k in keep]
        self._cached = None

    def view(self) -> HistoryView:
        if self._cached is None:
            def ints(values: list[int]) -> np.ndarray:
                a = np.array(values, dtype=np.int64)
                a.flags.writeable = False
                return a

            def floats(values: list[float]) -> np.ndarray:
                a = np.array(values, dtype=np.float64)
                a.flags.writeable = False
                return a

            self._cached = HistoryView(
                _frozen_view(self._loss, self._n), _frozen_view(self._norm, self._n),
                ints(self._eval_update), floats(self._test_loss), floats(self._success),
                ints(self._snap_update), tuple(self._snaps), self.stride)
        return self._cached
