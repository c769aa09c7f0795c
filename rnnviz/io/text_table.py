"""Numeric tables as text (CSV, TSV, whitespace): parsed as a stream, and written back.

Text is parsed line by line in blocks, so that a file is never held in memory as a whole and
a limit on rows or numbers stops the parse as soon as it is passed. Files are decoded from
UTF-8 (with or without BOM), UTF-16 or UTF-32 (with BOM), or UTF-16 LE/BE without BOM.
"""

from __future__ import annotations

import codecs
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from rnnviz import limits
from rnnviz.io.errors import FileFormatError

# Tried in this order; ties go to the earlier one (so "1,5;2,5" splits on ";").
_DELIMITERS = ("\t", ";", ",")
_SNIFF_LINES = 100
_WHOLE_LINE = ""
_BLOCK_ROWS = 8192
_READ_BYTES = 1 << 20
# Only the line breaks a text editor shows, so row numbers in messages match the editor's.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class Table:
    """A numeric table: ``values`` (T, C) float64, all finite; ``header`` C names or None."""

    values: np.ndarray
    header: list[str] | None


@dataclass(frozen=True)
class TableLimits:
    """When to stop: more than ``max_rows`` data rows, or more than ``max_values`` numbers."""

    max_rows: int | None = None
    max_values: int | None = None


# --------------------------------------------------------------------------- parsing


def parse_table(text: str, source: str = "<pasted>") -> Table:
    """Parse comma-, tab-, semicolon- or whitespace-separated numbers into a table.

    The delimiter is sniffed; blank lines and lines starting with ``#`` are skipped; the first
    row is a header when none of its cells is a number. With ``;`` or tab as the delimiter a
    decimal comma ("1,5") is accepted. Rows in messages are line numbers in ``text``.

    Raises :class:`FileFormatError` ("<source>: row 4 has 2 columns, expected 3") for no data,
    ragged rows, empty or non-numeric cells and NaN or infinite values.
    """
    return parse_lines(_LINE_BREAK.split(text), source)


def parse_lines(lines: Iterable[str], source: str, bounds: TableLimits = TableLimits()) -> Table:
    """:func:`parse_table` over ``lines`` (line 1 first, without their line breaks), read
    once, in blocks; refuses as soon as ``bounds`` is passed."""
    numbered = (
        (number, line.strip())
        for number, line in enumerate(lines, start=1)
        if line.strip() and not line.lstrip().startswith("#")
    )
    sample: list[tuple[int, str]] = []
    for item in numbered:
        sample.append(item)
        if len(sample) == _SNIFF_LINES:
            break
    if not sample:
        raise FileFormatError(f"{source}: no data (the text is empty)")
    delimiter = _sniff_delimiter([line for _, line in sample])

    def rows() -> Iterator[tuple[int, list[str]]]:
        for number, line in sample:
            yield number, _split(line, delimiter)
        for number, line in numbered:
            yield number, _split(line, delimiter)

    row_iter = rows()
    header: list[str] | None = None
    first = next(row_iter)
    if not any(_is_number(cell, delimiter) for cell in first[1]):
        header = [_unquote(cell) or f"column {k + 1}" for k, cell in enumerate(first[1])]
        first = next(row_iter, None)
        if first is None:
            raise FileFormatError(f"{source}: has a header row but no data rows")
    width = len(header) if header is not None else len(first[1])

    blocks: list[np.ndarray] = []
    block: list[tuple[int, list[str]]] = []
    count = 0
    for number, cells in _chain_one(first, row_iter):
        if len(cells) != width:
            raise FileFormatError(
                f"{source}: row {number} has {len(cells)} column(s), expected {width}"
            )
        count += 1
        _check_bounds(count, width, bounds, source)
        block.append((number, cells))
        if len(block) == _BLOCK_ROWS:
            blocks.append(_to_floats(block, width, delimiter, source))
            block = []
    if block:
        blocks.append(_to_floats(block, width, delimiter, source))
    values = blocks[0] if len(blocks) == 1 else np.concatenate(blocks)
    return Table(values=values, header=header)


def _chain_one(
    first: tuple[int, list[str]], rest: Iterator[tuple[int, list[str]]]
) -> Iterator[tuple[int, list[str]]]:
    yield first
    yield from rest


def _check_bounds(rows: int, width: int, bounds: TableLimits, source: str) -> None:
    if bounds.max_rows is not None and rows > bounds.max_rows:
        raise FileFormatError(f"{source}: has more than {bounds.max_rows} rows, the limit")
    if bounds.max_values is not None and rows * width > bounds.max_values:
        raise FileFormatError(
            f"{source}: {rows} rows of {width} columns are more than the "
            f"{bounds.max_values:,} numbers a sequence may hold"
        )
    if rows % _BLOCK_ROWS == 0:  # the table so far, and the copy that joins its blocks
        try:
            limits.check_bytes(2 * 8 * rows * width, f"a table of {rows} rows")
        except limits.MemoryLimitError as exc:
            raise FileFormatError(f"{source}: {exc}") from None


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
    """(len(rows), width) float64 from the cells, naming the first bad cell by row and column."""
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


# --------------------------------------------------------------------------- decoding


def sniff_encoding(head: bytes) -> str:
    """The codec for text starting with ``head`` (its first few KiB): a BOM decides; without
    one, UTF-16 is recognised by the NUL half of each ASCII character; else UTF-8."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    pairs = len(head) // 2
    if pairs >= 2:
        even_nul = head[0 : 2 * pairs : 2].count(0)
        odd_nul = head[1 : 2 * pairs : 2].count(0)
        if odd_nul >= 0.9 * pairs and even_nul == 0:
            return "utf-16-le"
        if even_nul >= 0.9 * pairs and odd_nul == 0:
            return "utf-16-be"
    return "utf-8"


def decoded_lines(stream: BinaryIO, source: str) -> Iterator[str]:
    """The lines of a text file (without line breaks), decoded as they are read.

    Raises :class:`FileFormatError` for bytes that are not text in the sniffed encoding, NUL
    characters (binary data), or a line longer than :data:`rnnviz.limits.MAX_LINE_CHARS`.
    """
    head = stream.read(_READ_BYTES)
    encoding = sniff_encoding(head[:4096])
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    pending = ""
    offset = 0
    chunk = head
    while True:
        final = not chunk
        try:
            text = decoder.decode(chunk, final=final)
        except UnicodeDecodeError as exc:
            shown = encoding.upper().removesuffix("-SIG")
            raise FileFormatError(
                f"{source}: not {shown} text (undecodable byte at offset "
                f"{max(offset + exc.start - len(decoder.getstate()[0]), 0)})"
            ) from None
        offset += len(chunk)
        if "\x00" in text:
            raise FileFormatError(f"{source}: binary data, not text (contains NUL characters)")
        pending += text
        parts = _LINE_BREAK.split(pending)
        # A trailing "\r" may be the first half of "\r\n": keep it for the next chunk.
        keep = parts.pop()
        if not final and pending.endswith("\r") and parts:
            keep = parts.pop() + "\r"
        yield from parts
        if len(keep) > limits.MAX_LINE_CHARS:
            raise FileFormatError(
                f"{source}: a line is longer than {limits.MAX_LINE_CHARS:,} characters"
            )
        pending = keep
        if final:
            if pending:
                yield pending
            return
        chunk = stream.read(_READ_BYTES)
