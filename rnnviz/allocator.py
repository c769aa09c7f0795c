"""Keep freed memory for reuse, so recomputing after an edit does not page-fault afresh.

Every recompute allocates the same few megabytes of buffers (states, gates, gradients) and
frees the previous ones. By default glibc returns such blocks to the operating system, and the
next computation pays a page fault per 4 KiB touched: about a fifth of the backward pass at
T=1000, H=128. Raising glibc's mmap and trim thresholds keeps those blocks in the heap. Blocks
above 32 MiB (very long runs) still go back to the system when freed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 32 << 20  # glibc's largest allowed value on 64-bit systems
_TRIM_THRESHOLD = 1 << 30


def reuse_freed_memory() -> bool:
    """Tune glibc's allocator for the app's allocate-and-free cycle; False where it does not
    apply (not Linux, or not glibc)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
    )
