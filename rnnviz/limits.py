"""The limits rnnviz works within, in one place, and the memory budget of this process.

Everything here is plain Python (no NumPy, nothing else from rnnviz), so any layer may use it.

The memory budget is a share of the memory this process may really use: the smallest of the
machine's physical memory, the memory limit of the container (cgroup v2 ``memory.max`` or v1
``memory.limit_in_bytes``, along the process's whole cgroup path) and the address-space limit
(``ulimit -v``). Readers check a file's declared sizes against it before they allocate
anything; the session checks a run's estimate against it before computing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

# ---- sequences ------------------------------------------------------------------------------
MAX_STEPS = 1_000_000
"""Time steps in one sequence."""
MAX_CHANNELS = 4096
"""Input channels of one sequence."""
MAX_SEQUENCE_VALUES = 1 << 25
"""Numbers in one sequence's inputs (steps x channels), or its targets: 256 MiB as float64."""
MAX_TEXT_BYTES = 1 << 30
"""Size of a text (CSV, TSV, TXT) sequence file."""
MAX_LINE_CHARS = 1 << 20
"""Characters on one line of a text sequence file."""

# ---- networks (the engine checks these too; here so that files are refused before reading)
MAX_HIDDEN = 4096
"""Hidden units per layer."""
MAX_LAYERS = 16
"""Stacked layers."""
MAX_INPUT = 65536
"""Input size of a network (and output size of its readout)."""

MAX_TRAINING_VALUES = 1 << 26
"""Numbers in one array of a model's training record (its history and weight snapshots)."""

# ---- archives: .rnnviz sessions, .npz sequences and weights ---------------------------------
MAX_MEMBERS = 1000
"""Members (arrays) in one zip archive."""
MAX_DIRECTORY_BYTES = 4 << 20
"""Size of an archive's central directory (the list of its members)."""
MAX_MEMBER_BYTES = 2 << 30
"""Uncompressed size of one archive member."""
MAX_TOTAL_BYTES = 4 << 30
"""Uncompressed size of all of an archive's members together."""
MAX_COMPRESSION_RATIO = 1100
"""Uncompressed / compressed size of a member; deflate cannot exceed about 1032."""
MAX_JSON_BYTES = 64 << 20
"""Size of a session file's session.json."""
MAX_WEIGHTS_FILE_BYTES = 8 << 30
"""Size of a .safetensors, .pt or .pth weights file."""

# ---- memory ---------------------------------------------------------------------------------
MEMORY_SHARE = 0.6
"""Share of the usable memory one computation or one file may take."""

_UNLIMITED = 1 << 60  # cgroup files say "max" or a number near 2**63 for "no limit"
_CGROUP_ROOT = Path("/sys/fs/cgroup")
_PROC_CGROUP = Path("/proc/self/cgroup")


class MemoryLimitError(ValueError):
    """Something would need more memory than the budget; the message is one line:
    ``a run of 100000 steps needs about 12.3 GiB; the limit here is 4.8 GiB``."""


def physical_memory() -> int | None:
    """This machine's physical memory in bytes, or None where the system cannot tell."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def cgroup_memory_limit(root: Path = _CGROUP_ROOT, proc_cgroup: Path = _PROC_CGROUP) -> int | None:
    """The tightest memory limit of the cgroups this process runs in, or None for none.

    Reads cgroup v2 ``memory.max`` and v1 ``memory.limit_in_bytes`` (and ``memory.high``,
    past which v2 throttles hard) in the process's own cgroup and every parent up to the
    root, for both the unified and the v1 memory hierarchy, and takes the smallest. Inside a
    container the hierarchy is usually mounted at the container's own cgroup: its root files
    are read too. ``root`` and ``proc_cgroup`` exist for tests.
    """
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        lines = []
    v2_paths: list[str] = []
    v1_paths: list[str] = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":
            v2_paths.append(path)
        elif "memory" in controllers.split(","):
            v1_paths.append(path)
    candidates: list[Path] = []
    for base, paths, names in (
        (root, v2_paths, ("memory.max", "memory.high")),
        (root / "unified", v2_paths, ("memory.max", "memory.high")),
        (root / "memory", v1_paths, ("memory.limit_in_bytes",)),
    ):
        for directory in _ancestors(base, paths or ["/"]):
            candidates += [directory / name for name in names]
    limits = [value for value in map(_read_limit, dict.fromkeys(candidates)) if value]
    return min(limits) if limits else None


def _ancestors(base: Path, paths: Iterable[str]) -> list[Path]:
    found = [base]
    for path in paths:
        parts = [p for p in path.split("/") if p and p not in (".", "..")]
        found += [base.joinpath(*parts[:k]) for k in range(1, len(parts) + 1)]
    return found


def _read_limit(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if not text.isdigit():  # "max", or nothing
        return None
    value = int(text)
    return value if 0 < value < _UNLIMITED else None


def address_space_limit() -> int | None:
    """The soft ``RLIMIT_AS`` of this process (``ulimit -v``), or None when unlimited."""
    try:
        import resource  # POSIX only
    except ImportError:
        return None
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    except (AttributeError, ValueError, OSError):
        return None
    return None if soft in (resource.RLIM_INFINITY, -1) or soft <= 0 else soft


def usable_memory() -> int | None:
    """The least of physical memory, the cgroup limit and the address-space limit (bytes)."""
    known = [m for m in (physical_memory(), cgroup_memory_limit(), address_space_limit()) if m]
    return min(known) if known else None


def memory_budget() -> int:
    """Bytes one computation or one file may take: ``MEMORY_SHARE`` of the usable memory.

    Where nothing can be measured, 4 GiB (a cautious guess rather than no limit at all).
    """
    usable = usable_memory()
    return int(MEMORY_SHARE * usable) if usable else 4 << 30


def check_bytes(needed: int, what: str, budget: int | None = None) -> None:
    """Raise :class:`MemoryLimitError` when ``what`` (e.g. "a run of 100000 steps") would need
    more than ``budget`` bytes (default :func:`memory_budget`)."""
    limit = memory_budget() if budget is None else budget
    if needed > limit:
        raise MemoryLimitError(
            f"{what} needs about {format_bytes(needed)}; the limit here is {format_bytes(limit)}"
        )


def format_bytes(size: int | float) -> str:
    """``1.5 GiB``, ``12.0 MiB``, ``3.0 KiB`` or ``512 bytes``."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{int(size)} bytes"
