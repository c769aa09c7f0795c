"""Input sequences from text tables (CSV, TSV, whitespace) and NumPy files, and back to text.

A sequence is a (T, I) float64 array: one row per time step, one column per input channel,
optionally with a (T, 1) target column taken out of the same table.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnviz.io.errors import FileFormatError

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
ARRAY_SUFFIXES = (".npy", ".npz")
SEQUENCE_SUFFIXES = TEXT_SUFFIXES + ARRAY_SUFFIXES
# Tried in this order; ties go to the earlier one (so "1,5;2,5" splits on ";").
_DELIMITERS = ("\t", ";", ",")
_SNIFF_LINES = 100
_WHOLE_LINE = ""
_INPUT_KEYS = ("inputs", "x")
# Only the line breaks a text editor shows, so row numbers in messages match the editor's.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_TARGET_KEYS = ("targets", "y")


@dataclass(frozen=True)
class Table:
    """A numeric table: ``values`` (T, C) float64, all finite; ``header`` C names or None."""

    values: np.ndarray
    header: list[str] | None


@dataclass(frozen=True)
class ImportedSequence:
    """A sequence ready for the network.

    ``inputs`` (T, I) float64; ``targets`` (T, 1) float64 or None; ``channel_names`` I names;
    ``target_name`` the target column's name or None.
    """

    inputs: np.ndarray
    targets: np.ndarray | None
    channel_names: list[str]
    target_name: str | None


# --------------------------------------------------------------------------- text tables


def parse_table(text: str, source: str = "<pasted>") -> Table:
    """Parse comma-, tab-, semicolon- or whitespace-separated numbers into a table.

    The delimiter is sniffed; blank lines and lines starting with ``#`` are skipped; the first
    row is a header when none of its cells is a number. With ``;`` or tab as the delimiter a
    decimal comma ("1,5") is accepted. Rows in messages are line numbers in ``text``.

    Raises :class:`FileFormatError` ("<source>: row 4 has 2 columns, expected 3") for no data,
    ragged rows, empty or non-numeric cells and NaN or infinite values.
    """
    lines = [
        (number, line.strip())
        for number, line in enumerate(_LINE_BREAK.split(text), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise FileFormatError(f"{source}: no data (the text is empty)")
    delimiter = _sniff_delimiter([line for _, line in lines])
    rows = [(number, _split(line, delimiter)) for number, line in lines]

    header: list[str] | None = None
    first_number, first_cells = rows[0]
    if not any(_is_number(cell, delimiter) for cell in first_cells):
        header = [_unquote(cell) or f"column {k + 1}" for k, cell in enumerate(first_cells)]
        rows = rows[1:]
        if not rows:
            raise FileFormatError(f"{source}: has a header row but no data rows")
    width = len(header) if header is not None else len(rows[0][1])
    for number, cells in rows:
        if len(cells) != width:
            raise FileFormatError(
                f"{source}: row {number} has {len(cells)} column(s), expected {width}"
            )
    values = _to_floats(rows, width, delimiter, source)
    return Table(values=values, header=header)


def format_table(values: np.ndarray, header: Sequence[str] | None = None) -> str:
    """Tab-separated text of ``values`` (T, C) (or (T,)) with an optional header row.

    Numbers are written in their shortest exact form, so :func:`parse_table` reads them back
    unchanged; suitable for pasting into a spreadsheet.
    """
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(f"values must be 1-D or 2-D, got shape {array.shape}")
    lines: list[str] = []
    if header is not None:
        if len(header) != array.shape[1]:
            raise ValueError(f"header has {len(header)} names for {array.shape[1]} columns")
        lines.append("\t".join(" ".join(str(name).split()) for name in header))
    lines.extend("\t".join(repr(float(v)) for v in row) for row in array)
    return "\n".join(lines) + "\n"


def _sniff_delimiter(lines: list[str]) -> str | None:
    """The delimiter to split on; None means runs of whitespace, "" a single column.

    The first of tab, ";", "," and whitespace that splits the first lines into the same number
    (> 1) of columns wins; failing that, the delimiter found on the most lines (so a ragged
    row is reported as such rather than as a cell that is not a number).
    """
    sample = lines[:_SNIFF_LINES]
    for delimiter in (*_DELIMITERS, None):
        widths = {len(_split(line, delimiter)) for line in sample}
        if len(widths) == 1 and widths.pop() > 1:
            return delimiter
    best, best_count = None, 0
    for delimiter in _DELIMITERS:
        count = sum(1 for line in sample if delimiter in line)
        if count > best_count:
            best, best_count = delimiter, count
    if best is None and all(len(line.split()) == 1 for line in sample[1:]):
        return _WHOLE_LINE  # one column under a header that has spaces in it
    return best


def _split(line: str, delimiter: str | None) -> list[str]:
    if delimiter is None:
        return line.split()
    if delimiter == _WHOLE_LINE:
        return [line.strip()]
    return line.split(delimiter)  # cells keep their spaces; _unquote strips them


def _unquote(cell: str) -> str:
    cell = cell.strip()
    if len(cell) >= 2 and cell[0] == cell[-1] and cell[0] in "\"'":
        return cell[1:-1].strip()
    return cell


def _number_text(cell: str, delimiter: str | None) -> str:
    cell = _unquote(cell)
    if delimiter in (";", "\t") and cell.count(",") == 1 and "." not in cell:
        cell = cell.replace(",", ".")
    return cell


def _parse_number(cell: str, delimiter: str | None) -> float | None:
    text = _number_text(cell, delimiter)
    # float() also accepts "1_000"; a spreadsheet would not, and neither do we.
    if not text or "_" in text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _is_number(cell: str, delimiter: str | None) -> bool:
    return _parse_number(cell, delimiter) is not None


def _to_floats(
    rows: list[tuple[int, list[str]]], width: int, delimiter: str | None, source: str
) -> np.ndarray:
    """(T, width) float64 from the cells, naming the first bad cell by row and column."""
    # Fast path: NumPy parses plain numbers ~10x faster than a Python loop. It also accepts
    # "1_000", which the loop below refuses, so such text takes the slow path.
    if not any("_" in cell for _, cells in rows for cell in cells):
        try:
            values = np.array([cells for _, cells in rows], dtype=np.float64)
        except ValueError:
            pass
        else:
            finite = np.isfinite(values)
            if finite.all():
                return values
            t, c = (int(i) for i in np.argwhere(~finite)[0])
            kind = "NaN" if np.isnan(values[t, c]) else "infinite"
            raise FileFormatError(f"{source}: row {rows[t][0]}, column {c + 1} is {kind}")
    values = np.empty((len(rows), width), dtype=np.float64)
    for t, (number, cells) in enumerate(rows):
        for c, cell in enumerate(cells):
            value = _parse_number(cell, delimiter)
            if value is None:
                problem = (
                    "is empty" if not _unquote(cell) else f"{_clip(cell.strip())!r} is not a number"
                )
                raise FileFormatError(f"{source}: row {number}, column {c + 1} {problem}")
            if not math.isfinite(value):
                kind = "NaN" if math.isnan(value) else "infinite"
                raise FileFormatError(f"{source}: row {number}, column {c + 1} is {kind}")
            values[t, c] = value
    return values


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------- files


def load_sequence(
    path: str | Path,
    target_column: str | int | None = None,
    expected_channels: int | None = None,
    max_length: int = 1_000_000,
) -> ImportedSequence:
    """Read a sequence from ``.csv``, ``.tsv``, ``.txt``, ``.npy`` or ``.npz``.

    Text files: see :func:`parse_table`. ``.npy``: 1-D (T,) becomes (T, 1); 2-D is
    (steps, channels). ``.npz``: ``inputs`` (or ``x``) and optional ``targets`` (or ``y``,
    (T,) or (T, 1)), or a single array. ``target_column`` (header name or column index,
    negative counts from the end) moves one column into the targets. ``expected_channels``
    is the input size the network needs; ``max_length`` caps the number of steps.

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
        data = path.read_bytes() if suffix in TEXT_SUFFIXES else None
        size = len(data) if data is not None else path.stat().st_size
    except OSError as exc:
        raise FileFormatError(f"{name}: cannot read file ({exc.strerror or exc})") from None
    if size == 0:
        raise FileFormatError(f"{name}: file is empty")

    targets: np.ndarray | None = None
    target_name: str | None = None
    header: list[str] | None = None
    if data is not None:
        text = _decode(data, name)
        if text.count("\n") > max_length and _count_rows(text) > max_length + 1:
            raise FileFormatError(f"{name}: has more than {max_length} rows, the limit")
        table = parse_table(text, source=name)
        values, header = table.values, table.header
    elif suffix == ".npy":
        values = _checked_array(_load_npy(path), name, "", max_length)
    else:
        values, targets, target_name = _load_npz(path, max_length)

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
    )


def _count_rows(text: str) -> int:
    return sum(1 for line in _LINE_BREAK.split(text) if line.strip())


def _decode(data: bytes, name: str) -> str:
    """Text from UTF-8 (with or without BOM) or BOM-marked UTF-16 (Excel's "Unicode text")."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise FileFormatError(
            f"{name}: not {encoding.upper().removesuffix('-SIG')} text "
            f"(undecodable byte at offset {exc.start})"
        ) from None
    if "\x00" in text:
        raise FileFormatError(f"{name}: binary data, not text (contains NUL characters)")
    return text


def _load_npy(path: Path) -> np.ndarray:
    name = path.name
    try:
        # A memory map lets the shape be checked before anything large is read.
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as exc:
        raise FileFormatError(f"{name}: {_numpy_problem(exc, '.npy')}") from None
    except Exception as exc:  # damaged headers raise assorted types
        raise FileFormatError(f"{name}: not a readable .npy file ({_one_line(exc)})") from None
    if not isinstance(array, np.ndarray):
        raise FileFormatError(f"{name}: is a .npz archive, not a .npy array; rename it to .npz")
    return array


def _load_npz(path: Path, max_length: int) -> tuple[np.ndarray, np.ndarray | None, str | None]:
    """(inputs (T, I), targets (T, 1) or None, target key or None) from an ``.npz`` archive."""
    name = path.name
    try:
        archive = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise FileFormatError(f"{name}: {_numpy_problem(exc, '.npz')}") from None
    except Exception as exc:
        raise FileFormatError(f"{name}: not a readable .npz archive ({_one_line(exc)})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise FileFormatError(f"{name}: is a .npy array, not a .npz archive; rename it to .npy")
    with archive:
        keys = list(archive.files)
        input_key = next((k for k in _INPUT_KEYS if k in keys), None)
        target_key = next((k for k in _TARGET_KEYS if k in keys), None)
        if input_key is None:
            if len(keys) != 1:
                raise FileFormatError(
                    f"{name}: holds {', '.join(repr(k) for k in keys) or 'no arrays'}; expected "
                    "'inputs' (or 'x') and optional 'targets' (or 'y'), or a single array"
                )
            input_key, target_key = keys[0], None
        inputs = _checked_array(_npz_member(archive, input_key, name), name, input_key, max_length)
        if target_key is None:
            return inputs, None, None
        raw = _npz_member(archive, target_key, name)
    targets = _checked_array(raw, name, target_key, max_length)
    if targets.shape[1] != 1:
        raise FileFormatError(
            f"{name}: {target_key!r} has shape {raw.shape}; only one target channel, "
            "(T,) or (T, 1), is supported"
        )
    if len(targets) != len(inputs):
        raise FileFormatError(
            f"{name}: {target_key!r} has {len(targets)} steps but {input_key!r} has {len(inputs)}"
        )
    return inputs, targets, target_key


def _npz_member(archive: np.lib.npyio.NpzFile, key: str, name: str) -> np.ndarray:
    try:
        value = archive[key]
    except ValueError as exc:
        raise FileFormatError(f"{name}: array {key!r}: {_numpy_problem(exc, '.npy')}") from None
    except Exception as exc:
        raise FileFormatError(f"{name}: array {key!r} is damaged ({_one_line(exc)})") from None
    if not isinstance(value, np.ndarray):  # NpzFile hands back raw bytes then
        raise FileFormatError(f"{name}: array {key!r} is not NumPy .npy data")
    return value


def _checked_array(array: np.ndarray, name: str, key: str, max_length: int) -> np.ndarray:
    """``array`` as (T, C) float64 after checking its shape, dtype and values."""
    what = f"{name}: array {key!r}" if key else f"{name}: the array"
    if array.dtype.kind not in "biuf":
        raise FileFormatError(f"{what} has dtype {array.dtype}, expected numbers")
    if array.ndim not in (1, 2):
        raise FileFormatError(
            f"{what} is {array.ndim}-D with shape {array.shape}; expected 1-D (steps) "
            "or 2-D (steps, channels)"
        )
    if array.shape[0] > max_length:
        raise FileFormatError(
            f"{what} has {array.shape[0]} steps, more than the limit of {max_length}"
        )
    if array.size == 0:
        raise FileFormatError(f"{what} is empty (shape {array.shape})")
    try:
        values = np.array(array, dtype=np.float64)
    except Exception as exc:  # a memory-mapped file shorter than its header says
        raise FileFormatError(f"{what} cannot be read ({_one_line(exc)})") from None
    finite = np.isfinite(values)
    if not finite.all():
        index = tuple(int(i) for i in np.argwhere(~finite)[0])
        kind = "a NaN" if np.isnan(values[index]) else "an infinite"
        shown = index[0] if len(index) == 1 else list(index)
        raise FileFormatError(f"{what} has {kind} value at index {shown}")
    return values[:, None] if values.ndim == 1 else values


def _column_index(column: str | int, header: list[str] | None, width: int, name: str) -> int:
    if isinstance(column, str):
        if header is None:
            raise FileFormatError(
                f"{name}: has no header row, so there is no column named {column!r}; "
                "give the column's index instead"
            )
        if column in header:
            return header.index(column)
        folded = [h.casefold() for h in header]
        if folded.count(column.casefold()) == 1:
            return folded.index(column.casefold())
        raise FileFormatError(
            f"{name}: no column named {column!r}; columns are {', '.join(header)}"
        )
    if isinstance(column, bool) or not isinstance(column, int | np.integer):
        raise FileFormatError(f"{name}: target column must be a name or an index, got {column!r}")
    if not -width <= column < width:
        raise FileFormatError(
            f"{name}: target column index {column} is out of range for {width} column(s)"
        )
    return int(column) % width


def _numpy_problem(exc: ValueError, kind: str) -> str:
    text = str(exc)
    if "Object arrays" in text or "Python objects" in text:
        return "holds Python objects, which are never loaded"
    if "pickle" in text:
        return f"not a NumPy {kind} file"
    return f"not a readable {kind} file ({_one_line(exc)})"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] or type(exc).__name__
