"""The shared time axis: step numbers, or the sequence's characters when zoomed in enough."""

from __future__ import annotations

import math

import pyqtgraph as pg

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
