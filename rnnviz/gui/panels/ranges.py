"""Value ranges for drawing: what can be drawn, colour levels, and axis ranges rounded so
that small changes of the data leave the axes (and their cached drawing) as they are."""

from __future__ import annotations

import numpy as np

MIN_DECADES = 2.0  # the narrowest y range of a log plot

# Larger magnitudes are not drawn (gaps): Qt's painter and pyqtgraph's level arithmetic overflow
# on values near the float64 limit, which an exploding network reaches before Inf.
DISPLAY_LIMIT = 1e10


def finite_or_nan(a: np.ndarray, bounded: bool = False) -> np.ndarray:
    """``a`` with NaN wherever it is NaN, ±Inf or beyond ±DISPLAY_LIMIT (copied only then).

    ``bounded``: the caller knows every value is finite and within [-1, 1] (a tanh or sigmoid
    output of a run without NaN/Inf), so there is nothing to check."""
    if bounded:
        return a
    with np.errstate(invalid="ignore"):
        keep = np.abs(a) <= DISPLAY_LIMIT
    return a if keep.all() else np.where(keep, a, np.nan)


def positive_or_nan(a: np.ndarray) -> np.ndarray:
    """For log axes: positive finite values kept, everything else NaN (not drawn)."""
    a = np.asarray(a, dtype=np.float64)
    keep = np.isfinite(a) & (a > 0)
    return a if keep.all() else np.where(keep, a, np.nan)


def symmetric_limit(a: np.ndarray, floor: float = 1e-6) -> float:
    """max |a| over the drawable values, at least ``floor`` (for ± colour levels)."""
    with np.errstate(invalid="ignore"):
        m = np.abs(a)
        m = m[m <= DISPLAY_LIMIT]
    return max(float(m.max()), floor) if m.size else 1.0


def nice_range(low: float, high: float, log: bool = False) -> tuple[float, float]:
    """[low, high] widened outwards to round numbers (half decades on a log axis), so small
    changes of the data leave the axis, and its cached drawing, as it is. Log: log10 units."""
    if log:
        low, high = np.log10(low), np.log10(high)
        step = 0.5
        if high - low < MIN_DECADES:  # narrower log ranges crowd the axis with minor labels
            middle = (high + low) / 2
            low, high = middle - MIN_DECADES / 2, middle + MIN_DECADES / 2
    else:
        span = high - low if high > low else max(abs(high), 1.0) * 0.2
        magnitude = 10.0 ** np.floor(np.log10(span / 4))
        step = next(m * magnitude for m in (1.0, 2.0, 5.0, 10.0) if m * magnitude >= span / 4)
    lo, hi = np.floor(low / step) * step, np.ceil(high / step) * step
    return float(lo), float(hi if hi > lo else lo + step)


