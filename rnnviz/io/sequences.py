"""Input sequences from text tables (CSV, TSV, whitespace) and NumPy files.

A sequence is a (T, I) float64 array: one row per time step, one column per input channel,
optionally with a (T, 1) target column taken out of the same table. Every reader judges the
file's declared size before it allocates: a text file by its size, then row by row as it is
parsed; an ``.npy`` by its header; an ``.npz`` by its directory and headers (through the one
archive reader).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnviz import limits
from rnnviz.io.archive import Archive, npz_key
from rnnviz.io.errors import FileFormatError, one_line, quoted
from rnnviz.io.npy import STREAM_ERRORS, NpyHeader, read_data, read_header
from rnnviz.io.text_table import Table, TableLimits, decoded_lines, format_table, parse_table
from rnnviz.io.text_table import parse_lines as _parse_lines

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
ARRAY_SUFFIXES = (".npy", ".npz")
SEQUENCE_SUFFIXES = TEXT_SUFFIXES + ARRAY_SUFFIXES
_INPUT_KEYS = ("inputs", "x")
_TARGET_KEYS = ("targets", "y")
_INDEX_TEXT = re.compile(r"^[+-]?\d{1,9}$")

__all__ = [
    "ARRAY_SUFFIXES",
    "SEQUENCE_SUFFIXES",
    "TEXT_SUFFIXES",
    "ImportedSequence",
    "Table",
    "format_table",
    "load_sequence",
    "parse_table",
]


@dataclass(frozen=True)
class ImportedSequence:
    """A sequence ready for the network.

    ``inputs`` (T, I) float64; ``targets`` (T, 1) float64 or None; ``channel_names`` I names;
    ``target_name`` the target column's name or None; ``note`` says which arrays of an
    ``.npz`` were taken (and which ignored) when the file alone does not make it plain, else "".
    """

    inputs: np.ndarray
    targets: np.ndarray | None
    channel_names: list[str]
    target_name: str | None
    note: str = ""


def load_sequence(
    path: str | Path,
    target_column: str | int | None = None,
    expected_channels: int | None = None,
    max_length: int = limits.MAX_STEPS,
) -> ImportedSequence:
    """Read a sequence from ``.csv``, ``.tsv``, ``.txt``, ``.npy`` or ``.npz``.

    Text files: see :func:`parse_table`. ``.npy``: 1-D (T,) becomes (T, 1); 2-D is
    (steps, channels). ``.npz``: ``inputs`` (or ``x``) and optional ``targets`` (or ``y``,
    (T,) or (T, 1)), or a single array. ``target_column`` (header name or column index,
    negative counts from the end; an index may be given as text, "1", as a command line
    does) moves one column into the targets. ``expected_channels`` is the input size the
    network needs; ``max_length`` caps the number of steps.

    Raises :class:`FileFormatError` naming the file and the problem.
    """
    path = Path(path)
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in SEQUENCE_SUFFIXES:
        raise FileFormatError(
            f"{name}: unsupported file type {suffix or '(none)'!r}; "
            f"use {', '.join(SEQUENCE_SUFFIXES)}"
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise FileFormatError(f"{name}: cannot read file ({exc.strerror or exc})") from None
    if size == 0:
        raise FileFormatError(f"{name}: file is empty")

    targets: np.ndarray | None = None
    target_name: str | None = None
    header: list[str] | None = None
    note = ""
    if suffix in TEXT_SUFFIXES:
        table = _load_text(path, size, max_length)
        values, header = table.values, table.header
    elif suffix == ".npy":
        values = _load_npy(path, size, max_length)
    else:
        values, targets, target_name, note = _load_npz(path, max_length)

    if len(values) > max_length:
        raise FileFormatError(f"{name}: {len(values)} steps is more than the limit of {max_length}")
    names = header if header is not None else [f"x{k + 1}" for k in range(values.shape[1])]
    if target_column is not None:
        if targets is not None:
            raise FileFormatError(
                f"{name}: already holds a {target_name!r} array; a target column cannot also "
                "be chosen"
            )
        index = _column_index(target_column, header, values.shape[1], name)
        targets = values[:, index : index + 1].copy()
        target_name = names[index] if header is not None else f"column {index + 1}"
        values = np.delete(values, index, axis=1)
        names = names[:index] + names[index + 1 :]
        if values.shape[1] == 0:
            raise FileFormatError(
                f"{name}: no input columns left after taking column {target_name!r} as target"
            )
        if header is None:
            names = [f"x{k + 1}" for k in range(values.shape[1])]
    if expected_channels is not None and values.shape[1] != expected_channels:
        raise FileFormatError(
            f"{name}: has {values.shape[1]} input channel(s), the network expects "
            f"{expected_channels}"
        )
    return ImportedSequence(
        inputs=np.ascontiguousarray(values, dtype=np.float64),
        targets=targets,
        channel_names=list(names),
        target_name=target_name,
        note=note,
    )


# --------------------------------------------------------------------------- text


def _load_text(path: Path, size: int, max_length: int) -> Table:
    name = path.name
    if size > limits.MAX_TEXT_BYTES:
        raise FileFormatError(
            f"{name}: the file is {limits.format_bytes(size)}, more than the "
            f"{limits.format_bytes(limits.MAX_TEXT_BYTES)} a text sequence may be"
        )
    bounds = TableLimits(max_rows=max_length, max_values=limits.MAX_SEQUENCE_VALUES)
    try:
        with open(path, "rb") as stream:
            return _parse_lines(decoded_lines(stream, name), name, bounds)
    except OSError as exc:
        raise FileFormatError(f"{name}: cannot read file ({exc.strerror or exc})") from None


# --------------------------------------------------------------------------- .npy


def _load_npy(path: Path, size: int, max_length: int) -> np.ndarray:
    name = path.name
    try:
        with open(path, "rb") as stream:
            magic = stream.read(6)
            if magic.startswith(b"PK\x03\x04"):
                raise FileFormatError(
                    f"{name}: is a .npz archive, not a .npy array; rename it to .npz"
                )
            if magic != b"\x93NUMPY":
                raise FileFormatError(f"{name}: not a NumPy .npy file")
            stream.seek(0)
            what = f"{name}: the array"
            try:
                header = read_header(stream, what)
            except STREAM_ERRORS as exc:
                raise FileFormatError(f"{what} cannot be read ({one_line(exc)})") from None
            if stream.tell() + header.nbytes != size:
                raise FileFormatError(
                    f"{what} is truncated or damaged (its size does not match shape "
                    f"{header.shape})"
                )
            _check_header(header, what, max_length)
            return _finite(read_data(stream, header, what), what)
    except OSError as exc:
        raise FileFormatError(f"{name}: cannot read file ({exc.strerror or exc})") from None


def _check_header(header: NpyHeader, what: str, max_length: int) -> None:
    """Refuse, before reading, what could not be a sequence or would not fit."""
    if header.dtype.kind not in "biuf":
        raise FileFormatError(f"{what} has dtype {header.dtype}, expected numbers")
    shape = header.shape
    if len(shape) not in (1, 2):
        raise FileFormatError(
            f"{what} is {len(shape)}-D with shape {shape}; expected 1-D (steps) "
            "or 2-D (steps, channels)"
        )
    if shape[0] > max_length:
        raise FileFormatError(f"{what} has {shape[0]} steps, more than the limit of {max_length}")
    if header.size == 0:
        raise FileFormatError(f"{what} is empty (shape {shape})")
    if header.size > limits.MAX_SEQUENCE_VALUES:
        raise FileFormatError(
            f"{what} holds {header.size:,} numbers ({shape}), more than the "
            f"{limits.MAX_SEQUENCE_VALUES:,} a sequence may hold"
        )
    try:  # the array as stored, its float64 copy, and the document's copy of that
        limits.check_bytes(header.nbytes + 2 * 8 * header.size, f"{what} {shape}")
    except limits.MemoryLimitError as exc:
        raise FileFormatError(str(exc)) from None


def _finite(array: np.ndarray, what: str) -> np.ndarray:
    """``array`` as (T, C) float64 after checking that every value is finite."""
    values = array.astype(np.float64, copy=False)
    finite = np.isfinite(values)
    if not finite.all():
        index = tuple(int(i) for i in np.argwhere(~finite)[0])
        kind = "a NaN" if np.isnan(values[index]) else "an infinite"
        shown = index[0] if len(index) == 1 else list(index)
        raise FileFormatError(f"{what} has {kind} value at index {shown}")
    return values[:, None] if values.ndim == 1 else values


# --------------------------------------------------------------------------- .npz


def _load_npz(path: Path, max_length: int) -> tuple[np.ndarray, np.ndarray | None, str | None,
                                                    str]:
    """(inputs (T, I), targets (T, 1) or None, target key or None, note) from an ``.npz``."""
    name = path.name
    with open(path, "rb") as probe:
        if probe.read(6) == b"\x93NUMPY":
            raise FileFormatError(f"{name}: is a .npy array, not a .npz archive; rename it to .npy")
    with Archive(path, "a NumPy .npz archive", label=_label) as archive:
        by_key = {npz_key(member): member for member in archive.members}
        keys = list(by_key)
        input_key = next((k for k in _INPUT_KEYS if k in keys), None)
        target_key = next((k for k in _TARGET_KEYS if k in keys), None)
        note = ""
        if input_key is None:
            if len(keys) != 1:
                raise FileFormatError(
                    f"{name}: holds {_listing(keys) or 'no arrays'}; expected 'inputs' (or 'x') "
                    "and optional 'targets' (or 'y'), or a single array"
                )
            input_key, target_key = keys[0], None
            note = f"inputs from its only array {quoted(input_key)}"
        ignored = [k for k in keys if k not in (input_key, target_key)]
        if ignored:
            note = f"ignored array(s) {_listing(ignored)}"

        def header(key: str) -> NpyHeader:
            member = by_key[key]
            if not member.endswith(".npy"):
                archive.fail(f"array {quoted(key)} is not NumPy .npy data")
            found = archive.header(member)
            _check_header(found, f"{name}: array {quoted(key)}", max_length)
            return found

        input_header = header(input_key)
        target_header = header(target_key) if target_key is not None else None
        if target_header is not None:
            shape = target_header.shape
            if len(shape) == 2 and shape[1] != 1:
                raise FileFormatError(
                    f"{name}: {target_key!r} has shape {shape}; only one target channel, "
                    "(T,) or (T, 1), is supported"
                )
            if shape[0] != input_header.shape[0]:
                raise FileFormatError(
                    f"{name}: {target_key!r} has {shape[0]} steps but {input_key!r} has "
                    f"{input_header.shape[0]}"
                )
        inputs = _finite(archive.read_array(by_key[input_key]), f"{name}: array {input_key!r}")
        if target_key is None:
            return inputs, None, None, note
        targets = _finite(archive.read_array(by_key[target_key]),
                          f"{name}: array {target_key!r}")
    return inputs, targets, target_key, note


def _label(member: str) -> str:
    return f"array {quoted(npz_key(member))}"


def _listing(keys: list[str], limit: int = 8) -> str:
    shown = ", ".join(quoted(k, 40) for k in keys[:limit])
    return shown + (f", ... ({len(keys) - limit} more)" if len(keys) > limit else "")


# --------------------------------------------------------------------------- target column


def _column_index(column: str | int, header: list[str] | None, width: int, name: str) -> int:
    if isinstance(column, str):
        if header is not None and column in header:
            return header.index(column)
        if header is not None:
            folded = [h.casefold() for h in header]
            if folded.count(column.casefold()) == 1:
                return folded.index(column.casefold())
        if _INDEX_TEXT.match(column.strip()):  # "1" from a command line: an index
            return _column_index(int(column.strip()), header, width, name)
        if header is None:
            raise FileFormatError(
                f"{name}: has no header row, so there is no column named {quoted(column)}; "
                "give the column's index instead"
            )
        raise FileFormatError(
            f"{name}: no column named {quoted(column)}; columns are {', '.join(header)}"
        )
    if isinstance(column, bool) or not isinstance(column, int | np.integer):
        raise FileFormatError(f"{name}: target column must be a name or an index, got {column!r}")
    if not -width <= column < width:
        raise FileFormatError(
            f"{name}: target column index {column} is out of range for {width} column(s)"
        )
    return int(column) % width

