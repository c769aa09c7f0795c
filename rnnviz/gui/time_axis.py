"""The shared time axis: step numbers, or the sequence's characters when zoomed in enough
(:class:`TimeAxis`), and the one time range every plot shows (:class:`TimeLink`)."""

from __future__ import annotations

import contextlib
import math

import pyqtgraph as pg
from PySide6.QtCore import QObject, Signal

# Below this many pixels per step the characters would overlap; fall back to numbers.
MIN_PIXELS_PER_LABEL = 7.0
_VISIBLE = {" ": "␣", "\n": "⏎", "\t": "⇥", "\r": "␍"}


def visible_label(text: str) -> str:
    """A label as drawn on the axis: whitespace shown as a visible symbol."""
    return "".join(_VISIBLE.get(ch, ch) for ch in text)


class TimeAxis(pg.AxisItem):
    """A bottom axis over steps. With ``labels`` (one per step) it puts each step's label
    under it whenever there is room for one label per step, else ordinary step numbers."""

    def __init__(self, **kwargs) -> None:
        super().__init__("bottom", **kwargs)
        self._labels: tuple[str, ...] | None = None
        self._per_step = False

    def set_labels(self, labels: tuple[str, ...] | None) -> None:
        labels = None if labels is None else tuple(visible_label(s) for s in labels)
        if labels != self._labels:
            self._labels = labels
            self.picture = None
            self.update()

    def tickValues(self, minVal: float, maxVal: float, size: float):  # noqa: N802 (Qt name)
        self._per_step = False
        if self._labels and maxVal > minVal and size / (maxVal - minVal) >= MIN_PIXELS_PER_LABEL:
            first = max(0, math.ceil(minVal))
            last = min(len(self._labels) - 1, math.floor(maxVal))
            if last >= first:
                self._per_step = True
                return [(1.0, [float(t) for t in range(first, last + 1)])]
        return super().tickValues(minVal, maxVal, size)

    def tickStrings(self, values, scale: float, spacing: float):  # noqa: N802 (Qt name)
        if self._per_step and self._labels:
            out = []
            for v in values:
                t = int(round(v))
                out.append(self._labels[t] if 0 <= t < len(self._labels) else "")
            return out
        return super().tickStrings(values, scale, spacing)


# Room left beyond the first and last step, as a fraction of the steps (at least half a step
# more than the steps' own half-step edges), so the cursor at step 0 or at the last step is
# never hidden under an axis.
EDGE_FRACTION = 0.02


def full_range(steps: int) -> tuple[float, float]:
    """The x range that shows every one of ``steps`` steps, with a small margin each side."""
    margin = 0.5 + max(0.5, steps * EDGE_FRACTION)
    return -margin, steps - 1 + margin


class TimeLink(QObject):
    """One time range shared by many plots, by value.

    pyqtgraph's own x link lines views up by their pixel positions on screen, so views of
    different widths, or hidden docks with no size, pull each other's ranges apart; this link
    gives every plot exactly the same range. Zooming out stops at the full range (view
    limits), and :meth:`reset` returns there. ``changed(lo, hi)`` follows every change."""

    changed = Signal(float, float)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._boxes: list[pg.ViewBox] = []
        self._steps = 1
        self._range = full_range(1)
        self._busy = False

    @property
    def steps(self) -> int:
        return self._steps

    @property
    def range(self) -> tuple[float, float]:
        """The x range every linked plot shows."""
        return self._range

    @property
    def zoomed(self) -> bool:
        """Whether the range shows less than every step."""
        lo, hi = full_range(self._steps)
        return self._range[0] > lo + 1e-9 or self._range[1] < hi - 1e-9

    def add(self, plot: pg.PlotItem) -> None:
        vb = plot.getViewBox()
        if vb in self._boxes:
            return
        self._boxes.append(vb)
        vb.enableAutoRange(x=False)
        self._limit(vb)
        self._busy = True
        try:
            vb.setXRange(*self._range, padding=0)
        finally:
            self._busy = False
        vb.sigXRangeChanged.connect(self._moved)

    def remove(self, plot: pg.PlotItem) -> None:
        vb = plot.getViewBox()
        if vb in self._boxes:
            self._boxes.remove(vb)
            with contextlib.suppress(RuntimeError, TypeError):
                vb.sigXRangeChanged.disconnect(self._moved)

    def set_steps(self, steps: int, *, reset: bool = True) -> None:
        """A sequence of ``steps`` steps: limits every plot to its full range and, with
        ``reset``, shows all of it (else keeps the range, clamped to the new limits)."""
        self._steps = max(int(steps), 1)
        for vb in self._boxes:
            self._limit(vb)
        lo, hi = full_range(self._steps)
        if reset:
            self.set_range(lo, hi)
        else:
            a, b = self._range
            self.set_range(max(a, lo), min(b, hi) if min(b, hi) > max(a, lo) else hi)

    def reset(self) -> None:
        """Show every step (undo any zoom)."""
        self.set_range(*full_range(self._steps))

    def set_range(self, lo: float, hi: float) -> None:
        self._range = (float(lo), float(hi))
        self._busy = True
        try:
            for vb in self._boxes:
                vb.setXRange(lo, hi, padding=0)
        finally:
            self._busy = False
        self.changed.emit(*self._range)

    def _limit(self, vb: pg.ViewBox) -> None:
        lo, hi = full_range(self._steps)
        vb.setLimits(xMin=lo, xMax=hi, minXRange=min(4.0, hi - lo), maxXRange=hi - lo)

    def _moved(self, vb: pg.ViewBox, x_range) -> None:
        if self._busy:
            return
        lo, hi = float(x_range[0]), float(x_range[1])
        if (lo, hi) == self._range:
            return
        self._range = (lo, hi)
        self._busy = True
        try:
            for other in self._boxes:
                if other is not vb:
                    other.setXRange(lo, hi, padding=0)
        finally:
            self._busy = False
        self.changed.emit(lo, hi)

