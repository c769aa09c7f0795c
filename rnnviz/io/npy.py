""".npy data read without pickle and without trusting its header.

A .npy stream (a ``.npy`` file, or one member of an ``.npz`` or ``.rnnviz`` archive) is read
in two steps, so that a caller can judge the array before any of it is allocated: first the
header (:func:`read_header`: shape, dtype, order; checked for Python objects and nonsense),
then the data (:func:`read_data`: exactly the bytes the header declares, read in chunks into
one preallocated array).
"""

from __future__ import annotations

import math
import zipfile
import zlib
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
from numpy.lib import format as npy_format

from rnnviz.io.errors import FileFormatError, one_line

_CHUNK = 16 << 20
# Errors of the stream itself (a damaged archive member), left for the caller to report.
STREAM_ERRORS = (OSError, EOFError, zlib.error, zipfile.BadZipFile)


@dataclass(frozen=True)
class NpyHeader:
    """What a .npy header declares: ``shape``, ``dtype`` (never an object or structured
    dtype), ``fortran_order``."""

    shape: tuple[int, ...]
    dtype: np.dtype
    fortran_order: bool

    @property
    def size(self) -> int:
        """Number of values."""
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize


def read_header(stream: BinaryIO, what: str) -> NpyHeader:
    """Read and check the header at the start of ``stream``; ``what`` starts every message
    (``"w.npz: array 'x'"``). Leaves ``stream`` at the first data byte."""
    try:
        version = npy_format.read_magic(stream)
        if version == (1, 0):
            shape, fortran_order, dtype = npy_format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran_order, dtype = npy_format.read_array_header_2_0(stream)
        else:
            raise FileFormatError(f"{what} uses unsupported .npy version {version}")
    except (FileFormatError, *STREAM_ERRORS):
        raise
    except Exception as exc:  # numpy raises ValueError and others on a damaged header
        raise FileFormatError(f"{what} is not valid .npy data ({one_line(exc)})") from None
    if dtype.hasobject:
        raise FileFormatError(f"{what} holds Python objects, which are never loaded")
    if dtype.fields is not None or dtype.subdtype is not None or dtype.kind not in "biufcUS":
        raise FileFormatError(f"{what} has dtype {dtype}, expected numbers")
    if not all(isinstance(n, int) and n >= 0 for n in shape):
        raise FileFormatError(f"{what} declares an impossible shape {shape}")
    return NpyHeader(tuple(shape), dtype, bool(fortran_order))


def read_data(stream: BinaryIO, header: NpyHeader, what: str) -> np.ndarray:
    """The array ``header`` declares, read from ``stream`` (positioned after the header).

    Reads exactly ``header.nbytes`` in chunks into one preallocated array, so memory never
    exceeds the array itself. Raises :class:`FileFormatError` if the data ends early.
    """
    flat = np.empty(header.size, dtype=header.dtype)
    view = memoryview(flat.view(np.uint8))
    done = 0
    try:
        while done < header.nbytes:
            count = stream.readinto(view[done : done + _CHUNK])
            if not count:
                break
            done += count
    except FileFormatError:
        raise
    except Exception as exc:  # zlib.error, BadZipFile (CRC), OSError ...
        raise FileFormatError(f"{what} is damaged ({one_line(exc)})") from None
    if done != header.nbytes:
        raise FileFormatError(
            f"{what} is truncated (its header declares shape {header.shape})"
        )
    order = "F" if header.fortran_order else "C"
    return flat.reshape(header.shape, order=order)
