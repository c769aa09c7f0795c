"""Trained weights: read PyTorch-style RNN state dicts, work out the network, save them back.

The public face of three modules: :mod:`rnnviz.io.weight_readers` (one reader per file
format, lazy), :mod:`rnnviz.io.weight_inference` (which network the arrays belong to) and
the saving below. Nothing is ever unpickled.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from rnnviz.engine import CELL_TYPES
from rnnviz.io.atomic import atomic_write_bytes
from rnnviz.io.errors import FileFormatError, quoted
from rnnviz.io.weight_inference import (
    NONLINEARITIES,
    LoadedWeights,
    find_rnn_prefixes,
    infer_weights,
)
from rnnviz.io.weight_readers import (
    CELL_MARKER,
    TORCH_HINT,
    WEIGHT_SUFFIXES,
    WeightArrays,
    check_fits,
    open_weight_file,
)

SAVE_SUFFIXES = (".npz", ".safetensors")

__all__ = [
    "CELL_MARKER",
    "NONLINEARITIES",
    "SAVE_SUFFIXES",
    "TORCH_HINT",
    "WEIGHT_SUFFIXES",
    "LoadedWeights",
    "WeightArrays",
    "find_rnn_prefixes",
    "infer_weights",
    "load_weights",
    "read_weight_arrays",
    "save_weights",
    "weight_prefixes",
]


def load_weights(
    path: str | Path, prefix: str | None = None, nonlinearity: str = "tanh"
) -> LoadedWeights:
    """Read a weights file and infer its network (see :func:`infer_weights`).

    The file is opened once; names and headers are judged first and only the arrays the
    network uses are read (other arrays in the file are never decompressed).
    """
    path = Path(path)
    with open_weight_file(path) as arrays:
        return infer_weights(arrays, prefix=prefix, nonlinearity=nonlinearity, source=path.name)


def weight_prefixes(path: str | Path) -> list[str]:
    """The module prefixes of the RNNs in a weights file (see :func:`find_rnn_prefixes`),
    from its names alone: no array is read."""
    with open_weight_file(path) as arrays:
        return find_rnn_prefixes(arrays)


def read_weight_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """All named arrays in a ``.npz``, ``.safetensors``, ``.pt`` or ``.pth`` file.

    A safetensors ``rnnviz.cell`` metadata entry is returned as a string array under that name.
    Raises :class:`FileFormatError` for an unknown extension, an unreadable, truncated or
    damaged file, arrays holding Python objects, or arrays that together would not fit in the
    memory budget. To look at names only, use :func:`weight_prefixes` or
    :func:`~rnnviz.io.weight_readers.open_weight_file`, which read no data.
    """
    with open_weight_file(path) as arrays:
        check_fits(arrays, list(arrays), copies=0)
        return {key: arrays[key] for key in arrays}


def save_weights(path: str | Path, state_dict: Mapping[str, Any], cell: str) -> None:
    """Save a state dict under its PyTorch names to ``.npz`` or ``.safetensors``, atomically.

    ``cell`` (one of ``CELL_TYPES``) is recorded as an ``rnnviz.cell`` string array (npz) or
    metadata entry (safetensors) so that a plain RNN's nonlinearity survives the round trip.
    The file loads back with :func:`load_weights`, and into PyTorch with
    ``module.load_state_dict`` (after dropping the ``rnnviz.cell`` entry of an npz file).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SAVE_SUFFIXES:
        raise FileFormatError(
            f"{path.name}: weights can be saved as {' or '.join(SAVE_SUFFIXES)}, "
            f"not {suffix or '(no extension)'!r}"
        )
    if cell not in CELL_TYPES:
        raise ValueError(f"cell must be one of {', '.join(CELL_TYPES)}, got {cell!r}")
    arrays: dict[str, np.ndarray] = {}
    for key, value in state_dict.items():
        array = np.ascontiguousarray(np.asarray(value))
        if not np.issubdtype(array.dtype, np.floating):
            raise ValueError(f"{quoted(str(key))} has dtype {array.dtype}, expected floating point")
        arrays[str(key)] = array
    if CELL_MARKER in arrays:
        raise ValueError(f"{CELL_MARKER!r} is reserved for the cell type")
    # Never write a file that cannot be read back.
    infer_weights({**arrays, CELL_MARKER: np.array(cell)}, source=path.name)
    if suffix == ".npz":
        buffer = io.BytesIO()
        np.savez(buffer, allow_pickle=False, **arrays, **{CELL_MARKER: np.array(cell)})
        data = buffer.getvalue()
    else:
        from safetensors.numpy import save

        data = save(arrays, metadata={CELL_MARKER: cell})
    atomic_write_bytes(path, data)
