"""Autosave and crash recovery.

The store keeps one autosave in a directory::

    autosave.rnnviz          the latest autosaved session (a normal session file)
    autosave.json            {"original_path": str | null, "saved_at": seconds since the epoch}
    autosave.offered.rnnviz  an autosave already offered for recovery
    running.lock             held locked by the running instance that owns the autosave;
                             holds its pid for messages

Life cycle: at launch, :meth:`AutosaveStore.pending` tells whether a session that did not exit
cleanly left an autosave; :meth:`~AutosaveStore.take` loads it and first renames it to
``autosave.offered.rnnviz``, so that if loading it crashes the app the next launch does not
offer it again (no crash loop). :meth:`~AutosaveStore.write` runs periodically;
:meth:`~AutosaveStore.clear` runs after a save and at a clean exit, followed there by
:meth:`~AutosaveStore.close`.

Two instances: the first to lock ``running.lock`` (an OS file lock, released by the OS when the
process ends, however it ends) owns the autosave. Another instance neither writes an autosave
nor offers the owner's — which belongs to a live session — for recovery. An owner that finds an
autosave left by a crashed session does not overwrite it until it has been taken or cleared.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from rnnviz.io.atomic import atomic_write_bytes
from rnnviz.io.errors import FileFormatError
from rnnviz.io.session_file import load_session, save_session
from rnnviz.session import Document, ViewState

AUTOSAVE_NAME = "autosave.rnnviz"
INFO_NAME = "autosave.json"
OFFERED_NAME = "autosave.offered.rnnviz"
LOCK_NAME = "running.lock"


@dataclass(frozen=True)
class RecoveryInfo:
    """An autosave left by a session that did not exit cleanly.

    ``original_path``: the file the session was saved to, or None if it never was;
    ``saved_at``: when the autosave was written (local time); ``path``: the autosave file.
    """

    original_path: str | None
    saved_at: datetime
    path: Path


class AutosaveStore:
    """The autosave of one running instance, kept in ``directory`` (created when needed)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self._lock: IO[Any] | None = None
        self._wrote = False

    # ---- ownership ---------------------------------------------------------------------------
    def acquire(self) -> bool:
        """Own the autosave unless another running instance does; True when this store owns it.

        Called by every other method; cheap once owned.
        """
        if self._lock is not None:
            return True
        self.directory.mkdir(parents=True, exist_ok=True)
        handle = open(self.directory / LOCK_NAME, "a+")  # held open while owned
        if not _try_lock(handle):
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._lock = handle
        return True

    def owner_pid(self) -> int | None:
        """The pid recorded by the instance that owns the autosave (None if unknown)."""
        try:
            return int((self.directory / LOCK_NAME).read_text().strip())
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        """Give up ownership, leaving the files as they are (as a process exit does)."""
        if self._lock is not None:
            _unlock(self._lock)
            self._lock.close()
            self._lock = None
        self._wrote = False

    # ---- recovery ----------------------------------------------------------------------------
    def pending(self) -> RecoveryInfo | None:
        """The autosave a session that did not exit cleanly left behind, if any."""
        if not self.acquire() or self._wrote:
            return None
        path = self.directory / AUTOSAVE_NAME
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return None
        original, saved_at = None, mtime
        with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
            info = json.loads((self.directory / INFO_NAME).read_text("utf-8"))
            if isinstance(info.get("original_path"), str):
                original = info["original_path"]
            if isinstance(info.get("saved_at"), int | float):
                saved_at = float(info["saved_at"])
        try:
            when = datetime.fromtimestamp(saved_at)
        except (OverflowError, OSError, ValueError):
            when = datetime.fromtimestamp(mtime)
        return RecoveryInfo(original, when, path)

    def take(self) -> tuple[Document, ViewState, str | None]:
        """Load the pending autosave: (document, view, original path).

        The autosave is marked as offered before it is read, so it is offered only once. A
        corrupt autosave is deleted and reported as a :class:`FileFormatError`.
        """
        info = self.pending()
        if info is None:
            raise FileFormatError(f"{AUTOSAVE_NAME}: there is no autosave to recover")
        offered = self.directory / OFFERED_NAME
        os.replace(info.path, offered)
        with contextlib.suppress(OSError):
            (self.directory / INFO_NAME).unlink()
        try:
            document, view = load_session(offered)
        except FileFormatError as exc:
            with contextlib.suppress(OSError):
                offered.unlink()
            raise FileFormatError(
                f"{AUTOSAVE_NAME}: the autosaved session could not be read and was discarded "
                f"({exc})"
            ) from None
        return document, view, info.original_path

    # ---- autosaving --------------------------------------------------------------------------
    def write(self, document: Document, view: ViewState, original_path: str | None) -> bool:
        """Autosave ``document`` (atomically). False, writing nothing, when another instance
        owns the autosave or an autosave left by a crashed session still awaits recovery."""
        if not self.acquire():
            return False
        path = self.directory / AUTOSAVE_NAME
        if not self._wrote and path.exists():
            return False
        save_session(path, document, view)
        self._wrote = True
        info = {"original_path": original_path, "saved_at": time.time()}
        atomic_write_bytes(self.directory / INFO_NAME, json.dumps(info).encode("utf-8"))
        return True

    def clear(self) -> None:
        """Remove the autosave (after a save, at a clean exit, or when recovery is declined)."""
        if not self.acquire():
            return
        for name in (AUTOSAVE_NAME, INFO_NAME, OFFERED_NAME):
            with contextlib.suppress(FileNotFoundError):
                (self.directory / name).unlink()
        self._wrote = False


def _try_lock(handle: IO[Any]) -> bool:
    """Lock ``handle`` without waiting; False if another process (or store) holds it."""
    if os.name == "nt":
        import msvcrt

        handle.seek(0)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import errno
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        # A file system without locks must not switch autosaving off.
        return exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES)
    return True


def _unlock(handle: IO[Any]) -> None:
    with contextlib.suppress(OSError):
        if os.name == "nt":
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
