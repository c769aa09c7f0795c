"""Write files so that a crash or an error never leaves a half-written file behind."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

_WRITE_MODES = ("wb", "w", "wt")


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path``; when the ``with`` body succeeds it replaces ``path``.

    The temporary file lives in the same directory (so ``os.replace`` is atomic) and is flushed
    and fsynced before the rename. If the body raises, the temporary file is removed and any
    existing file at ``path`` is left untouched. ``mode`` is "wb" (default), "w" or "wt"; text
    modes write UTF-8.
    """
    if mode not in _WRITE_MODES:
        raise ValueError(f"atomic_open mode must be one of {', '.join(_WRITE_MODES)}, got {mode!r}")
    target = Path(path)
    fd, tmp_path = _create_temp_beside(target)
    try:
        _copy_permissions(target, fd)
        binary = mode == "wb"
        with open(fd, mode, encoding=None if binary else "utf-8") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_path)
        raise
    _fsync_directory(target.parent)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_open`)."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def _create_temp_beside(target: Path) -> tuple[int, Path]:
    # os.open with mode 0o666 lets the umask decide the permissions, as for an ordinary new
    # file (tempfile.mkstemp would force 0o600 onto the final file).
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp_path = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp_path, flags, 0o666), tmp_path
        except FileExistsError:
            continue


def _copy_permissions(target: Path, fd: int) -> None:
    # Replacing a file should not change who may read it.
    try:
        old_mode = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        return
    if hasattr(os, "fchmod"):
        os.fchmod(fd, old_mode)


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; not possible (nor needed) on every platform.
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
