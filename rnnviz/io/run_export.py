"""Export a computed run (inputs, weights, every state and gradient) and plotted data as files.

:func:`write_run_npz` writes ``run.npz`` plus a ``run.json`` sidecar describing it. The NPZ
holds plain arrays only (read it with ``numpy.load(path, allow_pickle=False)``), under these keys
(T steps, I inputs, H hidden units, L layers, O outputs):

===========================  ===========  ==================================================
key                          shape        contents
===========================  ===========  ==================================================
``config``                   ()           the network configuration as a JSON string
``inputs``                   (T, I)       the input sequence x_t
``targets``                  (T, O)       targets ("mse"); (T, 1) class indices ("ce")
``target_mask``              (T,)         bool, steps that have a target
``labels``                   (T,)         str, time-axis labels (text mode)
``channel_names``            (I,)         str, input channel names
``vocabulary``               (V,)         str, the one-hot characters (text mode)
``weights/<name>``           PyTorch      the weights, named as ``torch.nn.LSTM(...).state_dict()``
                                          (``weights/weight_ih_l0`` (G*H, I) ...) and
                                          ``weights/readout.weight`` (O, H), ``...bias`` (O,)
``states/hidden``            (L, T, H)    hidden states h_t
``states/cell``              (L, T, H)    LSTM cell states c_t
``states/h0``, ``states/c0``  (L, H)       initial states
``gates/<name>``             (L, T, H)    gates: pre (RNN); i f g o (LSTM); r z n (GRU)
``logits``                   (T, O)       readout pre-activation z_t
``outputs``                  (T, O)       readout y_t = f(z_t)
``loss/total``               ()           the scalar loss
``loss/per_step``            (T,)         each step's loss term (NaN where it does not count)
``loss/mask``                (T,)         bool, steps counted by the loss
``grads/hidden``             (L, T, H)    dL/dh_t through the recurrence (BPTT)
``grads/cell``               (L, T, H)    dL/dc_t (LSTM)
``grads/input``              (T, I)       dL/dx_t
``grads/h0``, ``grads/c0``    (L, H)       gradients of the initial states
``grads/logits``             (T, O)       dL/dz_t
``grads/hidden_norm``        (L, T)       ||dL/dh_t||_2
``grads/cell_norm``          (L, T)       ||dL/dc_t||_2 (LSTM)
``grads/input_norm``         (T,)         ||dL/dx_t||_2
``grads/params/<name>``      PyTorch      dL/dW for every weight, same names as ``weights/``
===========================  ===========  ==================================================

Keys whose quantity does not exist for the run (no cell state, no readout, no loss) are left out;
the JSON sidecar lists the keys present with their shapes and descriptions.

The CSV functions write plotted data with a header row, e.g. a heatmap as one row per unit and one
column per step (``unit,t=0,t=1,...``).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Mapping
from collections.abc import Sequence as SequenceABC
from pathlib import Path
from typing import Any

import numpy as np

from rnnviz import __version__
from rnnviz.io.atomic import atomic_write_bytes
from rnnviz.session import ModelResults

FORMAT_NAME = "rnnviz-run"
FORMAT_VERSION = 1


class ExportError(ValueError):
    """A file that cannot be exported; the one-line message names the file and the problem."""


def write_run_npz(path: str | os.PathLike[str], results: ModelResults) -> list[Path]:
    """Write every array of ``results`` to ``path`` (.npz) and a JSON description beside it.

    Returns ``[npz_path, json_path]``; the JSON file has the same name with ``.json``. Both are
    written atomically: an error leaves any previous files untouched.
    """
    target = Path(path)
    if target.suffix.lower() != ".npz":
        raise ExportError(f"{target}: a run export must be an .npz file")
    arrays, descriptions = run_arrays(results)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    sidecar = target.with_suffix(".json")
    meta = run_metadata(results, arrays, descriptions, npz_name=target.name)
    text = json.dumps(meta, indent=2, allow_nan=False) + "\n"
    _write(target, buffer.getvalue())
    _write(sidecar, text.encode("utf-8"))
    return [target, sidecar]


def run_arrays(results: ModelResults) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The arrays :func:`write_run_npz` stores, by key, and a one-line description of each."""
    trace, grads, loss = results.trace, results.grads, results.loss
    seq = results.sequence
    arrays: dict[str, np.ndarray] = {}
    notes: dict[str, str] = {}

    def put(key: str, value: Any, note: str) -> None:
        if value is not None:
            arrays[key] = np.asarray(value)
            notes[key] = note

    put("config", np.array(json.dumps(results.config.to_dict())), "network configuration (JSON)")
    put("inputs", seq.inputs, "input sequence x_t (T, I)")
    put("targets", seq.targets, "targets (T, O), or class indices (T, 1) for cross-entropy")
    put("target_mask", seq.target_mask, "steps that have a target (T,)")
    if seq.labels is not None:
        put("labels", np.array(seq.labels, dtype=str), "time-axis label of each step (T,)")
    if seq.channel_names:
        put("channel_names", np.array(seq.channel_names, dtype=str), "input channel names (I,)")
    if seq.vocabulary is not None:
        put("vocabulary", np.array(seq.vocabulary, dtype=str), "one-hot characters (V,)")
    for name, value in results.model.network().state_dict().items():
        put(f"weights/{name}", value, f"weight {name} (PyTorch name and layout)")
    put("states/hidden", trace.hidden, "hidden states h_t (L, T, H)")
    put("states/cell", trace.cell, "cell states c_t (L, T, H)")
    put("states/h0", trace.h0, "initial hidden state (L, H)")
    put("states/c0", trace.c0, "initial cell state (L, H)")
    for name, value in trace.gates.items():
        put(f"gates/{name}", value, f"gate {name} (L, T, H)")
    put("logits", trace.logits, "readout pre-activation z_t (T, O)")
    put("outputs", trace.output, "readout y_t = f(z_t) (T, O)")
    if loss is not None:
        put("loss/total", np.float64(loss.total), "scalar loss")
        put("loss/per_step", loss.per_step, "loss term of each step, NaN where not counted (T,)")
        put("loss/mask", loss.mask, "steps counted by the loss (T,)")
    put("grads/hidden", grads.hidden, "dL/dh_t through the recurrence (L, T, H)")
    put("grads/cell", grads.cell, "dL/dc_t (L, T, H)")
    put("grads/input", grads.input, "dL/dx_t (T, I)")
    put("grads/h0", grads.h0, "dL/dh_0 (L, H)")
    put("grads/c0", grads.c0, "dL/dc_0 (L, H)")
    put("grads/logits", grads.d_logits, "dL/dz_t (T, O)")
    put("grads/hidden_norm", grads.hidden_norm, "||dL/dh_t||_2 (L, T)")
    put("grads/cell_norm", grads.cell_norm, "||dL/dc_t||_2 (L, T)")
    put("grads/input_norm", grads.input_norm, "||dL/dx_t||_2 (T,)")
    for name, value in grads.params.items():
        put(f"grads/params/{name}", value, f"dL/d{name}")
    return arrays, notes


def run_metadata(
    results: ModelResults,
    arrays: Mapping[str, np.ndarray],
    descriptions: Mapping[str, str],
    npz_name: str,
) -> dict[str, Any]:
    """The JSON-ready description of a run export (see :func:`write_run_npz`)."""
    trace, model, task = results.trace, results.model, results.task
    cfg = model.config
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "rnnviz_version": __version__,
        "npz": npz_name,
        "model": model.name,
        "config": cfg.to_dict(),
        "task": {"loss": task.loss, "where": task.where},
        "weights": "loaded" if model.weights is not None else f"initialised from seed {cfg.seed}",
        "shapes": {
            "steps": int(trace.input.shape[0]),
            "inputs": cfg.input_size,
            "hidden": cfg.hidden_size,
            "layers": cfg.num_layers,
            "outputs": cfg.output_size,
        },
        "nonfinite_step": results.nonfinite_step,
        "loss_total": None if results.loss is None else _json_float(results.loss.total),
        "keys": list(arrays),
        "arrays": {
            key: {
                "shape": list(value.shape),
                "dtype": str(value.dtype),
                "description": descriptions.get(key, ""),
            }
            for key, value in arrays.items()
        },
    }


def write_csv(
    path: str | os.PathLike[str],
    header: SequenceABC[str],
    rows: np.ndarray | Iterable[SequenceABC[Any]],
) -> Path:
    """Write a table with a header row. ``rows``: a 2-D array (N, len(header)) or rows of values
    (numbers or strings). Floats are written in full precision (shortest exact form)."""
    target = Path(path)
    header = [str(h) for h in header]
    if not header:
        raise ExportError(f"{target}: a CSV table needs at least one column")
    if isinstance(rows, np.ndarray):
        if rows.ndim != 2:
            raise ExportError(f"{target}: CSV rows must be a 2-D array, got shape {rows.shape}")
        rows = rows.tolist()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for number, row in enumerate(rows, start=1):
        cells = list(row)
        if len(cells) != len(header):
            raise ExportError(
                f"{target}: row {number} has {len(cells)} values, expected {len(header)}"
            )
        writer.writerow([_cell(v) for v in cells])
    _write(target, out.getvalue().encode("utf-8"))
    return target


def table_csv(
    path: str | os.PathLike[str],
    values: np.ndarray,
    *,
    row_label: str = "unit",
    row_names: SequenceABC[Any] | None = None,
    column_names: SequenceABC[str] | None = None,
) -> Path:
    """Write a heatmap-like matrix ``values`` (R, C): one row per unit, one column per step.

    The header is ``row_label, t=0, t=1, ...`` (or ``column_names``); each row starts with its
    name (``row_names``, default 0..R-1).
    """
    target = Path(path)
    values = np.asarray(values)
    if values.ndim != 2:
        raise ExportError(f"{target}: a table must be 2-D (rows, columns), got {values.shape}")
    n_rows, n_cols = values.shape
    columns = [f"t={t}" for t in range(n_cols)] if column_names is None else list(column_names)
    names = list(range(n_rows)) if row_names is None else list(row_names)
    if len(columns) != n_cols:
        raise ExportError(f"{target}: {len(columns)} column names for {n_cols} columns")
    if len(names) != n_rows:
        raise ExportError(f"{target}: {len(names)} row names for {n_rows} rows")
    rows = ([name, *row] for name, row in zip(names, values.tolist(), strict=True))
    return write_csv(target, [row_label, *columns], rows)


def series_csv(
    path: str | os.PathLike[str],
    columns: Mapping[str, np.ndarray],
    *,
    index: SequenceABC[Any] | None = None,
    index_label: str = "t",
) -> Path:
    """Write line-plot data: one row per step, a first column ``index_label`` (default 0..T-1)
    and one column per named series, each of shape (T,)."""
    target = Path(path)
    if not columns:
        raise ExportError(f"{target}: no series to write")
    series = {name: np.asarray(v) for name, v in columns.items()}
    for name, values in series.items():
        if values.ndim != 1:
            raise ExportError(f"{target}: series {name!r} must be 1-D, got shape {values.shape}")
    steps = len(next(iter(series.values())))
    for name, values in series.items():
        if len(values) != steps:
            raise ExportError(
                f"{target}: series {name!r} has {len(values)} values, expected {steps}"
            )
    first = list(range(steps)) if index is None else list(index)
    if len(first) != steps:
        raise ExportError(f"{target}: {len(first)} index values for {steps} rows")
    data = [v.tolist() for v in series.values()]
    rows = ([first[t], *(col[t] for col in data)] for t in range(steps))
    return write_csv(target, [index_label, *series], rows)


def _cell(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "1" if value else "0"
    if isinstance(value, float | np.floating):
        return repr(float(value))
    return str(value)


def _json_float(value: float) -> float | None:
    # Strict JSON has no NaN/Infinity; a diverged loss is recorded as null.
    return float(value) if math.isfinite(value) else None


def _write(target: Path, data: bytes) -> None:
    try:
        atomic_write_bytes(target, data)
    except OSError as exc:
        raise ExportError(f"{target}: cannot write ({exc.strerror or exc})") from None
