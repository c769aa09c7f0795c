"""Write files so that a crash or an error never leaves a half-written file behind.

A save writes ``.<name>.rnnviz-tmp-<pid>-<random>`` beside the target and renames it over the
target only when complete, so the target is always either the old file or the new one. A
save killed half-way (kill -9, power loss) leaves its temporary file; the next save into the
same directory removes such leftovers of this app: those whose process is gone, or that are
older than :data:`STALE_SECONDS`.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

_WRITE_MODES = ("wb", "w", "wt")
TEMP_MARK = ".rnnviz-tmp-"
STALE_SECONDS = 3600.0
_TEMP_NAME = re.compile(r"^\..+\.rnnviz-tmp-(?P<pid>\d{1,10})-[0-9a-f]{8}\Z", re.DOTALL)
_SCAN_LIMIT = 10_000  # directory entries looked at per save


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
    remove_stale_temporaries(target.parent)
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
        tmp_path = target.with_name(
            f".{target.name}{TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}"
        )
        try:
            return os.open(tmp_path, flags, 0o666), tmp_path
        except FileExistsError:
            continue


def temporary_name_pid(name: str) -> int | None:
    """The pid in the name of one of this app's save temporaries, or None for other names."""
    match = _TEMP_NAME.match(name)
    return int(match["pid"]) if match else None


def remove_stale_temporaries(directory: str | os.PathLike[str], now: float | None = None) -> int:
    """Remove the temporaries that killed saves of this app left in ``directory``: those of a
    process that is no longer running, and any older than :data:`STALE_SECONDS` (a pid may
    have been reused). Returns how many were removed; never raises for files it cannot see
    or remove."""
    now = time.time() if now is None else now
    removed = 0
    try:
        entries = os.scandir(directory)
    except OSError:
        return 0
    with entries:
        for count, entry in enumerate(entries):
            if count >= _SCAN_LIMIT:
                break
            pid = temporary_name_pid(entry.name)
            if pid is None:
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if not stat.S_ISREG(info.st_mode):
                continue
            if now - info.st_mtime < STALE_SECONDS and _process_alive(pid):
                continue
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed += 1
    return removed


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name != "posix":  # no harmless probe there (os.kill would end the process)
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process: alive
    return True


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
