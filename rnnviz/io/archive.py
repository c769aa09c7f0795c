"""The one reader of zip archives: ``.rnnviz`` sessions, ``.npz`` sequences and ``.npz`` weights.

Everything an archive declares is checked before anything is decompressed, with the same
limits for every kind of file (:mod:`rnnviz.limits`):

- the member count and the size of the central directory, read from the end-of-directory
  record before the directory itself is parsed (100,000 members are refused at once);
- member names (no absolute paths, no ``..``, no drive letters, no NUL: no zip slip), no
  duplicates, no encryption, only stored or deflated data;
- every member's declared size, their total, and the compression ratio (no deflate stream
  expands more than about 1032 times, so a higher ratio is a lie or a bomb).

Members are then read lazily: :meth:`Archive.header` decompresses only the few bytes of a
.npy header, so a reader can judge names, dtypes and shapes (and refuse them against the
memory budget) before it reads a single array, and never touches members it does not use.
"""

from __future__ import annotations

import os
import re
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, NoReturn

import numpy as np

from rnnviz import limits
from rnnviz.io.errors import FileFormatError, one_line, quoted
from rnnviz.io.npy import NpyHeader, read_data, read_header

_EOCD = struct.Struct("<4s4H2LH")  # end of central directory record
_EOCD64_LOCATOR = struct.Struct("<4sLQL")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")
_TAIL = _EOCD.size + 0xFFFF  # the record and the longest comment it may carry
_RATIO_FLOOR = 1 << 20  # small members may compress any amount (a header and zeros)
_PLAIN_NAME = re.compile(r"^[\w./-]{1,60}$", re.ASCII)


class Archive:
    """An open zip archive whose directory passed every check.

    ``name`` is the file's name for messages; ``members`` maps each file member's name to
    its :class:`zipfile.ZipInfo` (directories are left out). ``kind`` says what the file
    should be ("an rnnviz session"); ``label(member)`` names a member's array in messages
    (default: the member name). Use as a context manager.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        kind: str = "a zip archive",
        label: Callable[[str], str] | None = None,
    ) -> None:
        path = Path(path)
        self.name = path.name
        self.kind = kind
        self._label = label or shown_member
        self._headers: dict[str, tuple[NpyHeader, int]] = {}
        size = _file_size(path, self.name)
        with _opened(path, self.name) as handle:
            _check_directory_record(handle, size, self.name, kind)
        try:
            self._zip = zipfile.ZipFile(path)
        except zipfile.BadZipFile:
            self.fail(f"not {kind} (not a zip archive, or truncated or damaged)")
        except OSError as exc:
            self.fail(f"cannot read file ({exc.strerror or exc})")
        except Exception as exc:  # zipfile raises several types on a damaged directory
            self.fail(f"not {kind} (damaged zip archive: {one_line(exc)})")
        try:
            self.members = _checked_members(self, self._zip.infolist())
        except BaseException:
            self._zip.close()
            raise

    # ---- life cycle ------------------------------------------------------------------------
    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def fail(self, problem: str) -> NoReturn:
        """Raise the one-line :class:`FileFormatError` ``"<file>: <problem>"``."""
        raise FileFormatError(f"{self.name}: {problem}") from None

    # ---- members ---------------------------------------------------------------------------
    def read_bytes(self, member: str, limit: int) -> bytes:
        """The whole of a small member (at most ``limit`` bytes declared)."""
        info = self.members[member]
        if info.file_size > limit:
            self.fail(
                f"{member} declares {limits.format_bytes(info.file_size)}, more than the "
                f"{limits.format_bytes(limit)} allowed"
            )
        try:
            with self._zip.open(info) as stream:
                data = stream.read(info.file_size + 1)
        except Exception as exc:  # BadZipFile, zlib.error, EOFError, OSError ...
            self.fail(f"member {member} is damaged ({one_line(exc)})")
        if len(data) != info.file_size:
            self.fail(f"member {member} is truncated")
        return data

    def header(self, member: str) -> NpyHeader:
        """The .npy header of ``member``, decompressing only the header's bytes."""
        if member not in self._headers:
            info = self.members[member]
            label = self._label(member)
            try:
                with self._zip.open(info) as stream:
                    header = read_header(stream, f"{self.name}: {label}")
                    offset = stream.tell()
            except FileFormatError:
                raise
            except Exception as exc:
                self.fail(f"{label} is damaged ({one_line(exc)})")
            if offset + header.nbytes != info.file_size:
                self.fail(
                    f"{label} is truncated or damaged (its size does not match shape "
                    f"{header.shape})"
                )
            self._headers[member] = (header, offset)
        return self._headers[member][0]

    def read_array(self, member: str) -> np.ndarray:
        """The array in ``member`` (after :meth:`header`, whose checks it relies on)."""
        header = self.header(member)
        label = self._label(member)
        what = f"{self.name}: {label}"
        try:
            with self._zip.open(self.members[member]) as stream:
                read_header(stream, what)
                return read_data(stream, header, what)
        except FileFormatError:
            raise
        except Exception as exc:
            self.fail(f"{label} is damaged ({one_line(exc)})")

    def fits(self, needed: int, what: str) -> None:
        """Refuse (one line) when ``what`` would need more than the memory budget."""
        try:
            limits.check_bytes(needed, what)
        except limits.MemoryLimitError as exc:
            self.fail(str(exc))


def _file_size(path: Path, name: str) -> int:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise FileFormatError(f"{name}: cannot read file ({exc.strerror or exc})") from None
    if size == 0:
        raise FileFormatError(f"{name}: file is empty")
    return size


def _opened(path: Path, name: str) -> BinaryIO:
    try:
        return open(path, "rb")
    except OSError as exc:
        raise FileFormatError(f"{name}: cannot read file ({exc.strerror or exc})") from None


def _check_directory_record(handle: BinaryIO, size: int, name: str, kind: str) -> None:
    """Refuse too many members, or too big a directory, from the end-of-directory record
    alone (before :mod:`zipfile` parses the directory)."""
    tail_start = max(0, size - _TAIL)
    try:
        handle.seek(tail_start)
        tail = handle.read()
    except OSError as exc:
        raise FileFormatError(f"{name}: cannot read file ({exc.strerror or exc})") from None
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + _EOCD.size > len(tail):
        raise FileFormatError(f"{name}: not {kind} (not a zip archive, or truncated or damaged)")
    _, _, _, _, count, directory_size, _, _ = _EOCD.unpack_from(tail, at)
    locator_at = at - _EOCD64_LOCATOR.size
    if locator_at >= 0 and tail[locator_at : locator_at + 4] == b"PK\x06\x07":
        _, _, record_at, _ = _EOCD64_LOCATOR.unpack_from(tail, locator_at)
        try:
            handle.seek(record_at)
            record = handle.read(_EOCD64.size)
        except (OSError, OverflowError, ValueError):
            record = b""
        if len(record) == _EOCD64.size and record[:4] == b"PK\x06\x06":
            fields = _EOCD64.unpack(record)
            count, directory_size = max(count, fields[6]), max(directory_size, fields[7])
    if count > limits.MAX_MEMBERS:
        raise FileFormatError(
            f"{name}: the archive has {count} members, more than the {limits.MAX_MEMBERS} "
            "allowed"
        )
    if directory_size > limits.MAX_DIRECTORY_BYTES:
        raise FileFormatError(
            f"{name}: the archive's directory is {limits.format_bytes(directory_size)}, more "
            f"than the {limits.format_bytes(limits.MAX_DIRECTORY_BYTES)} allowed"
        )


def _checked_members(archive: Archive, infos: list[zipfile.ZipInfo]) -> dict[str, zipfile.ZipInfo]:
    """The file members by name, after the checks that need no decompression."""
    if len(infos) > limits.MAX_MEMBERS:
        archive.fail(
            f"the archive has {len(infos)} members, more than the {limits.MAX_MEMBERS} allowed"
        )
    members: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        for member in (info.filename, info.orig_filename):
            if _unsafe_member_name(member):
                archive.fail(
                    f"refusing unsafe member name {quoted(member)} (absolute path or '..')"
                )
        if info.is_dir():
            continue
        shown = shown_member(info.filename)
        if info.filename in members:
            archive.fail(f"the archive holds {shown} twice")
        if info.flag_bits & 0x1:
            archive.fail(f"member {shown} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            archive.fail(f"member {shown} uses an unsupported compression method")
        if info.file_size > limits.MAX_MEMBER_BYTES:
            archive.fail(
                f"member {shown} declares {limits.format_bytes(info.file_size)} uncompressed, "
                f"more than the {limits.format_bytes(limits.MAX_MEMBER_BYTES)} allowed"
            )
        stored = info.compress_type == zipfile.ZIP_STORED
        if stored and info.file_size != info.compress_size:
            archive.fail(f"member {shown} is damaged (its sizes disagree)")
        if (
            info.file_size > _RATIO_FLOOR
            and info.file_size > limits.MAX_COMPRESSION_RATIO * max(info.compress_size, 1)
        ):
            archive.fail(
                f"member {shown} declares {limits.format_bytes(info.file_size)} from "
                f"{limits.format_bytes(info.compress_size)} compressed, more than deflate "
                "can expand: damaged or a zip bomb"
            )
        total += info.file_size
        members[info.filename] = info
    if total > limits.MAX_TOTAL_BYTES:
        archive.fail(
            f"the archive declares {limits.format_bytes(total)} uncompressed, more than "
            f"the {limits.format_bytes(limits.MAX_TOTAL_BYTES)} allowed"
        )
    return members


def shown_member(member: str) -> str:
    """A member name for a message: as it is when plain, else quoted and escaped."""
    return member if _PLAIN_NAME.match(member) else quoted(member)


def _unsafe_member_name(member: str) -> bool:
    if not member or "\x00" in member or member.startswith(("/", "\\")):
        return True
    if re.match(r"^[A-Za-z]:", member):
        return True
    return ".." in re.split(r"[\\/]", member)


def npz_key(member: str) -> str:
    """The array name ``numpy.load`` gives an .npz member (``w.npy`` -> ``w``)."""
    return member.removesuffix(".npy")

