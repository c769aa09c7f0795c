"""Autosave and crash recovery.

The store keeps one autosave in a directory::

    autosave.rnnviz          the latest autosaved session (a normal session file)
    autosave.json            {"original_path": str | null, "saved_at": seconds since the epoch}
    autosave.offered.rnnviz  an autosave being loaded for recovery
    autosave.recovered.rnnviz  a recovered autosave, kept until the recovered document is
                             autosaved or saved
    running.lock             held locked by the running instance that owns the autosave;
                             holds its pid for messages

Life cycle: at launch, :meth:`AutosaveStore.pending` tells whether a session that did not exit
cleanly left an autosave; :meth:`~AutosaveStore.take` loads it and first renames it to
``autosave.offered.rnnviz``, so that if loading it crashes the app the next launch does not
offer it again (no crash loop). Once loaded it becomes ``autosave.recovered.rnnviz`` and stays
until the recovered document is safe elsewhere: the first successful
:meth:`~AutosaveStore.write` (periodic autosave) removes it, and so does
:meth:`~AutosaveStore.clear` (after a save, at a clean exit, or when recovery is declined).
A crash in between leaves it, and the next launch offers it again. ``close`` follows
``clear`` at a clean exit.

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
RECOVERED_NAME = "autosave.recovered.rnnviz"
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
        self._took = False

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
        self._took = False

    # ---- recovery ----------------------------------------------------------------------------
    def pending(self) -> RecoveryInfo | None:
        """The autosave a session that did not exit cleanly left behind, if any: its latest
        autosave, or else a recovered autosave whose document was never saved again."""
        if not self.acquire() or self._wrote or self._took:
            return None
        for name in (AUTOSAVE_NAME, RECOVERED_NAME):
            path = self.directory / name
            try:
                mtime = path.stat().st_mtime
            except OSError:
                continue
            break
        else:
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

        The autosave is marked as offered before it is read, so that a file that crashes the
        app while loading is not offered again. Once loaded it is kept (as
        ``autosave.recovered.rnnviz``) until the recovered document has been autosaved
        (:meth:`write`) or saved (:meth:`clear`): do not call :meth:`clear` right after this.
        A corrupt autosave is deleted and reported as a :class:`FileFormatError`.
        """
        info = self.pending()
        if info is None:
            raise FileFormatError(f"{AUTOSAVE_NAME}: there is no autosave to recover")
        offered = self.directory / OFFERED_NAME
        os.replace(info.path, offered)
        try:
            document, view = load_session(offered)
        except FileFormatError as exc:
            for name in (OFFERED_NAME, INFO_NAME):
                with contextlib.suppress(OSError):
                    (self.directory / name).unlink()
            raise FileFormatError(
                f"{AUTOSAVE_NAME}: the autosaved session could not be read and was discarded "
                f"({exc})"
            ) from None
        os.replace(offered, self.directory / RECOVERED_NAME)
        self._took = True
        return document, view, info.original_path

    @property
    def holds_recovered(self) -> bool:
        """True while a recovered autosave is kept, waiting for its document to be safe."""
        return (self.directory / RECOVERED_NAME).exists()

    # ---- autosaving --------------------------------------------------------------------------
    def write(self, document: Document, view: ViewState, original_path: str | None) -> bool:
        """Autosave ``document`` (atomically). False, writing nothing, when another instance
        owns the autosave or an autosave left by a crashed session still awaits recovery.

        Once written, a recovered autosave kept by :meth:`take` is no longer needed and is
        removed.
        """
        if not self.acquire():
            return False
        path = self.directory / AUTOSAVE_NAME
        waiting = path.exists() or (self.directory / RECOVERED_NAME).exists()
        if not self._wrote and not self._took and waiting:
            return False
        save_session(path, document, view)
        self._wrote = True
        info = {"original_path": original_path, "saved_at": time.time()}
        atomic_write_bytes(self.directory / INFO_NAME, json.dumps(info).encode("utf-8"))
        if self._took:
            with contextlib.suppress(FileNotFoundError):
                (self.directory / RECOVERED_NAME).unlink()
            self._took = False
        return True

    def clear(self) -> None:
        """Remove the autosave (after a save, at a clean exit, or when recovery is declined)."""
        if not self.acquire():
            return
        for name in (AUTOSAVE_NAME, INFO_NAME, OFFERED_NAME, RECOVERED_NAME):
            with contextlib.suppress(FileNotFoundError):
                (self.directory / name).unlink()
        self._wrote = False
        self._took = False


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
