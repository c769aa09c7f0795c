"""A line trace that takes new data cheaply.

pyqtgraph's PlotDataItem re-applies every style option, maps, clips and downsamples its data
on each ``setData``: about 0.1 ms for a 200-point curve, paid by each of the dozen lines an
edit redraws. :class:`TraceItem` hands data it can draw as it is (no symbols, no log or other
mapping, few enough points, values Qt can paint) straight to its curve; anything else takes
PlotDataItem's own path, so what is drawn is the same either way.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.graphicsItems.PlotDataItem import PlotDataset

# up to this many points the curve is drawn whole: a path of a few thousand points paints in
# well under a millisecond (and the curve caches its pixels between data changes)
DIRECT_POINTS = 2048
# pyqtgraph limits values beyond about a million times the view (Qt cannot paint them): data
# within this magnitude never needs it
DIRECT_MAGNITUDE = 1e6
_MAPPINGS = ("fftMode", "derivativeMode", "phasemapMode", "subtractMeanMode")


class TraceItem(pg.PlotDataItem):
    """A PlotDataItem with :meth:`set_xy`, the fast way to give it new (x, y)."""

    def direct(self, x: np.ndarray, y: np.ndarray) -> bool:
        """Whether (x, y) is drawn as it is: what PlotDataItem's own path would draw."""
        opts = self.opts
        if (opts["symbol"] is not None or any(opts["logMode"]) or len(x) > DIRECT_POINTS
                or any(opts[k] for k in _MAPPINGS) or not self.curve.isVisible()
                or len(x) != len(y) or len(y) == 0):
            return False
        with np.errstate(invalid="ignore"):
            magnitude = np.nanmax(np.abs(y)) if np.isfinite(y).any() else 0.0
        return bool(magnitude <= DIRECT_MAGNITUDE)

    def set_xy(self, x: np.ndarray, y: np.ndarray) -> None:
        """Show (x, y): the curve gets the data at once when it can be drawn as it is, else
        through ``setData``."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if not self.direct(x, y):
            self.setData(x, y)
            return
        self._dataset = PlotDataset(x, y)
        self._datasetMapped = self._dataset
        self._datasetDisplay = self._dataset
        self._adsLastValue = 1
        self.curve.setData(x=x, y=y)
        self.informViewBoundsChanged()
        self.sigPlotChanged.emit(self)
