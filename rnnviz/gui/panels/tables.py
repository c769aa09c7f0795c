"""The data behind a plot as tables (headers, rows), for CSV export."""

from __future__ import annotations

import numpy as np

Table = tuple[list[str], np.ndarray]
INDEX_COLUMNS = ("step", "unit", "channel")  # whole numbers, written as such


def table_rows(table: Table) -> list[list]:
    """The rows of ``table`` for a CSV writer: index columns (step, unit, channel) as whole
    numbers ("3", not "3.0"), every other value as it is."""
    headers, rows = table
    ints = [k for k, h in enumerate(headers) if h in INDEX_COLUMNS]
    out = rows.tolist() if isinstance(rows, np.ndarray) else [list(r) for r in rows]
    for row in out:
        for k in ints:
            value = row[k]
            if value == value and float(value).is_integer():  # not NaN
                row[k] = int(value)
    return out


def heatmap_table(data: np.ndarray, row_name: str = "unit") -> Table:
    """rows (R, n) as a table: one row per unit, one column per step after the unit index."""
    rows, steps = data.shape
    headers = [row_name] + [f"step {t}" for t in range(steps)]
    return headers, np.column_stack([np.arange(rows, dtype=np.float64), data])


def lines_table(columns: dict[str, np.ndarray]) -> Table:
    """Line data as a table: a "step" column then one column per line (NaN where not drawn)."""
    steps = max((len(v) for v in columns.values()), default=0)
    out = [np.arange(steps, dtype=np.float64)]
    for v in columns.values():
        col = np.full(steps, np.nan)
        col[: len(v)] = v
        out.append(col)
    return ["step", *columns], np.column_stack(out) if steps else np.zeros((0, len(out)))


