"""Edits of an input sequence, as pure functions from one :class:`Sequence` to the next.

The GUI turns a drag, a stroke, a table edit or a paste into one of these and hands the result
to the session (through its undo stack); nothing here knows about Qt. Text sequences are edited
through their text (the Text dock re-encodes it), so inputs, targets and labels stay consistent.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from rnnviz.session.document import MAX_STEPS, Sequence, SessionError

TARGET = -1
"""Channel index that addresses the target column (mse targets, first column)."""


def _column(seq: Sequence, channel: int) -> tuple[str, int]:
    if channel == TARGET:
        if seq.targets is None:
            raise SessionError("this sequence has no target to edit")
        return "targets", 0
    if not 0 <= channel < seq.channels:
        raise SessionError(f"channel {channel} does not exist (the sequence has {seq.channels})")
    return "inputs", channel


def _check_text_mode(seq: Sequence) -> None:
    if seq.text is not None:
        raise SessionError("a text sequence is edited through its text")


def set_values(seq: Sequence, channel: int, steps: np.ndarray, values: np.ndarray) -> Sequence:
    """Values at ``steps`` (N,) of one channel (or :data:`TARGET`) set to ``values`` (N,)."""
    _check_text_mode(seq)
    name, col = _column(seq, channel)
    steps = np.asarray(steps, dtype=np.int64).reshape(-1)
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    if steps.shape != values.shape:
        raise SessionError(f"{steps.size} steps but {values.size} values")
    if steps.size and (steps.min() < 0 or steps.max() >= seq.steps):
        raise SessionError(f"steps must lie in 0..{seq.steps - 1}")
    if not np.all(np.isfinite(values)):
        raise SessionError("values must be finite numbers")
    arr = np.array(getattr(seq, name))
    arr[steps, col] = values
    return replace(seq, **{name: arr})


def stroke(seq: Sequence, channel: int, points: list[tuple[float, float]]) -> Sequence:
    """A freehand stroke through (step, value) points replaces the values under it: every
    whole step between the stroke's first and last x takes the stroke's linearly interpolated
    value there."""
    if not points:
        return seq
    pts = np.asarray(points, dtype=np.float64)
    order = np.argsort(pts[:, 0], kind="stable")
    xs, ys = pts[order, 0], pts[order, 1]
    lo = max(int(np.ceil(xs[0] - 0.5)), 0)
    hi = min(int(np.floor(xs[-1] + 0.5)), seq.steps - 1)
    if hi < lo:
        return seq
    steps = np.arange(lo, hi + 1)
    return set_values(seq, channel, steps, np.interp(steps, xs, ys))


def insert_steps(seq: Sequence, at: int, count: int = 1) -> Sequence:
    """``count`` steps inserted before step ``at`` (0..T), copying the values of the step
    before (or after, at the start)."""
    _check_text_mode(seq)
    if not 0 <= at <= seq.steps:
        raise SessionError(f"insert position must lie in 0..{seq.steps}")
    if count < 1 or seq.steps + count > MAX_STEPS:
        raise SessionError(f"cannot insert {count} steps (limit {MAX_STEPS})")
    src = max(at - 1, 0)

    def grow(a: np.ndarray | None) -> np.ndarray | None:
        if a is None:
            return None
        return np.insert(a, at, np.repeat(a[src:src + 1], count, axis=0), axis=0)

    return replace(seq, inputs=grow(seq.inputs), targets=grow(seq.targets),
                   target_mask=grow(seq.target_mask), labels=None)


def delete_steps(seq: Sequence, start: int, stop: int) -> Sequence:
    """Steps start..stop-1 removed; at least one step must remain."""
    _check_text_mode(seq)
    start, stop = max(start, 0), min(stop, seq.steps)
    if stop <= start:
        return seq
    if stop - start >= seq.steps:
        raise SessionError("a sequence needs at least one step")
    keep = np.r_[0:start, stop:seq.steps]

    def cut(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else a[keep]

    return replace(seq, inputs=cut(seq.inputs), targets=cut(seq.targets),
                   target_mask=cut(seq.target_mask), labels=None)


def resize(seq: Sequence, steps: int) -> Sequence:
    """The sequence cut or extended (repeating its last step) to ``steps`` steps."""
    if steps < seq.steps:
        return delete_steps(seq, steps, seq.steps)
    if steps > seq.steps:
        return insert_steps(seq, seq.steps, steps - seq.steps)
    return seq
