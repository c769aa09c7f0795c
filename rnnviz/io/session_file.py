"""The ``.rnnviz`` session file: saving and loading, and which format versions are read.

A session file is a zip archive (see :mod:`rnnviz.io.session_schema` for what it holds).
Loading goes through the one hardened archive reader (:mod:`rnnviz.io.archive`) and judges
everything before trusting it: the archive's directory, then ``session.json`` (format name,
version, then the schema), then every array's header against what the JSON promises and
against the memory budget, and only then the arrays themselves. Every problem is a
:class:`FileFormatError` with a one-line message naming the file.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any, NoReturn

from numpy.lib import format as npy_format

from rnnviz import limits
from rnnviz.io import session_schema as schema
from rnnviz.io.archive import Archive
from rnnviz.io.atomic import atomic_open
from rnnviz.io.errors import FileFormatError, one_line
from rnnviz.io.session_schema import FORMAT_NAME, FORMAT_VERSION, SESSION_JSON
from rnnviz.session import Document, ViewState

SESSION_SUFFIX = ".rnnviz"
# Fixed member timestamps make saving the same document give the same bytes.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
# Reading an array takes the array and, for the document, a float64 copy of it.
_COPIES = 2

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "SESSION_SUFFIX", "load_session", "save_session"]


# ------------------------------------------------------------------------------------- saving


def save_session(path: str | Path, document: Document, view: ViewState) -> None:
    """Write ``document`` and ``view`` to ``path`` atomically.

    The archive is built in a temporary file beside ``path`` and renamed over it only when
    complete, so a failure half-way leaves any existing file untouched.
    """
    path = Path(path)
    meta, arrays = schema.to_json(document, view, path.name)
    for member, array in arrays.items():
        if array.nbytes > limits.MAX_MEMBER_BYTES - 4096:
            raise FileFormatError(
                f"{path.name}: cannot save: {member} would hold "
                f"{limits.format_bytes(array.nbytes)}, more than the "
                f"{limits.format_bytes(limits.MAX_MEMBER_BYTES)} a session file may hold per "
                "array"
            )
    text = json.dumps(meta, indent=1, allow_nan=False)
    with atomic_open(path, "wb") as handle:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(_member_info(SESSION_JSON), text.encode("utf-8"))
            for member, array in arrays.items():
                big = array.nbytes > limits.MAX_MEMBER_BYTES // 2
                with archive.open(_member_info(member), "w", force_zip64=big) as out:
                    npy_format.write_array(out, array, allow_pickle=False)


def _member_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


# ------------------------------------------------------------------------------------ loading


def load_session(path: str | Path) -> tuple[Document, ViewState]:
    """Read a session file written by :func:`save_session`.

    Raises :class:`FileFormatError` (one line naming the file) for anything that is not a
    complete, valid session of a format version this rnnviz reads.
    """
    path = Path(path)
    with Archive(path, "an rnnviz session") as archive:
        name = archive.name
        if SESSION_JSON not in archive.members:
            _fail(name, f"not an rnnviz session ({SESSION_JSON} is missing)")
        meta = _read_json(archive)
        plan = schema.parse(name, meta, _version(name, meta))

        expected = [spec.member for spec in plan.arrays]
        for member in expected:
            if member not in archive.members:
                _fail(name, f"array {member} is missing")
        for member in archive.members:
            if member != SESSION_JSON and member not in expected:
                _fail(name, f"unexpected member {member}")

        headers = {member: archive.header(member) for member in expected}
        schema.check_headers(name, plan, headers)
        needed = sum(h.nbytes + _COPIES * 8 * h.size for h in headers.values())
        archive.fits(needed, "reading this session")
        arrays = {member: archive.read_array(member) for member in expected}
    return schema.build(name, plan, arrays)


def _version(name: str, meta: dict[str, Any]) -> int:
    fmt = meta.get("format")
    if fmt != FORMAT_NAME:
        _fail(name, f"not an rnnviz session (format {_short(fmt)}, expected {FORMAT_NAME!r})")
    version = meta.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        _fail(name, f"unknown session format version {_short(version)}")
    if version > FORMAT_VERSION:
        _fail(
            name,
            f"this session was saved by a newer rnnviz (format version {_short(version)}); "
            f"this version reads up to {FORMAT_VERSION}",
        )
    return version


def _read_json(archive: Archive) -> dict[str, Any]:
    name = archive.name
    data = archive.read_bytes(SESSION_JSON, limits.MAX_JSON_BYTES)

    def no_constants(token: str) -> NoReturn:
        raise ValueError(f"{token} is not a valid JSON number")

    def finite_float(text: str) -> float:
        value = float(text)
        if value in (float("inf"), float("-inf")):
            raise ValueError(f"the number {text[:30]} is too large")
        return value

    try:
        meta = json.loads(data.decode("utf-8"), parse_constant=no_constants,
                          parse_float=finite_float)
    except UnicodeDecodeError:
        _fail(name, f"{SESSION_JSON} is not UTF-8 text")
    except (ValueError, RecursionError) as exc:  # also Python's int-string limit
        _fail(name, f"{SESSION_JSON} is not valid JSON ({one_line(exc)})")
    if not isinstance(meta, dict):
        _fail(name, f"{SESSION_JSON} must hold a JSON object")
    return meta


def _short(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        return "with more than 30 digits"
    return repr(value) if len(repr(value)) < 40 else repr(value)[:36] + "..."


def _fail(name: str, problem: str) -> NoReturn:
    raise FileFormatError(f"{name}: {problem}") from None

