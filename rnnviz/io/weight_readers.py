"""Reading the named arrays of a weights file: ``.npz``, ``.safetensors``, ``.pt`` / ``.pth``.

Each reader gives a :class:`WeightArrays`: a mapping from names to arrays whose names, shapes
and dtypes are known from the file's directory or header alone (:meth:`WeightArrays.spec`),
and whose data is read only when an array is first asked for. So a reader of a file with a
few real weights among gigabytes of other arrays reads only the weights.

Nothing is ever unpickled: ``.npz`` members are parsed by :mod:`rnnviz.io.npy`,
``.safetensors`` headers by :func:`_safetensors_header`, and PyTorch files go through
``torch.load(weights_only=True)`` (when torch is installed).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import math
import re
import struct
import warnings
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from rnnviz import limits
from rnnviz.io.archive import Archive, npz_key
from rnnviz.io.errors import FileFormatError, one_line, quoted
from rnnviz.io.npy import NpyHeader, read_data

WEIGHT_SUFFIXES = (".npz", ".safetensors", ".pt", ".pth")
# Name of the small string array (npz) or metadata entry (safetensors) recording the cell type,
# which the shapes alone cannot tell for a plain RNN (tanh or relu).
CELL_MARKER = "rnnviz.cell"
TORCH_HINT = (
    "torch is not installed: in PyTorch run numpy.savez('w.npz', "
    "**{k: v.numpy() for k, v in model.state_dict().items()})"
)

Spec = tuple[tuple[int, ...], np.dtype]
_UNPICKLER_DETAIL = re.compile(r"WeightsUnpickler error:\s*(.+?)\s*(?:\n\n|\Z)", re.S)


class WeightArrays(Mapping[str, np.ndarray]):
    """The named arrays of one weights file, in the order the file stores them.

    ``spec(key)`` gives (shape, dtype) without reading the data; ``self[key]`` reads the
    array (once; it is kept). ``original_dtype(key)`` names the dtype in the file when it had
    no NumPy twin and was converted on reading (PyTorch's and safetensors' bfloat16 become
    float32, exactly). ``source`` is the file's name for messages.
    """

    def __init__(
        self,
        source: str,
        keys: list[str],
        spec: Callable[[str], Spec],
        load: Callable[[str], np.ndarray],
        original_dtypes: Mapping[str, str] | None = None,
    ) -> None:
        self.source = source
        self._keys = keys
        self._key_set = set(keys)
        self._spec = spec
        self._load = load
        self._specs: dict[str, Spec] = {}
        self._values: dict[str, np.ndarray] = {}
        self._original = dict(original_dtypes or {})

    def spec(self, key: str) -> Spec:
        if key not in self._key_set:
            raise KeyError(key)
        if key not in self._specs:
            self._specs[key] = self._spec(key)
        return self._specs[key]

    def original_dtype(self, key: str) -> str:
        return self._original.get(key, str(self.spec(key)[1]))

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self._key_set:
            raise KeyError(key)
        if key not in self._values:
            self._values[key] = self._load(key)
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._key_set


@contextlib.contextmanager
def open_weight_file(path: str | Path) -> Iterator[WeightArrays]:
    """The arrays of a weights file, readable lazily while the ``with`` block runs.

    Raises :class:`FileFormatError` for an unknown extension, an unreadable, truncated or
    damaged file, or arrays holding Python objects (some only when the array is read).
    """
    path = Path(path)
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in WEIGHT_SUFFIXES:
        raise FileFormatError(
            f"{name}: unsupported weights file type {suffix or '(none)'!r}; "
            f"use {', '.join(WEIGHT_SUFFIXES)}"
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise FileFormatError(f"{name}: cannot read file ({exc.strerror or exc})") from None
    if size == 0:
        raise FileFormatError(f"{name}: file is empty")
    if suffix == ".npz":
        with _npz(path) as arrays:
            yield arrays
        return
    if size > limits.MAX_WEIGHTS_FILE_BYTES:
        raise FileFormatError(
            f"{name}: the file is {limits.format_bytes(size)}, more than the "
            f"{limits.format_bytes(limits.MAX_WEIGHTS_FILE_BYTES)} a weights file may be"
        )
    if suffix == ".safetensors":
        with _safetensors(path, size) as arrays:
            yield arrays
        return
    yield _torch(path)


def check_fits(arrays: WeightArrays, keys: list[str], copies: int = 2) -> None:
    """Refuse (one line) reading ``keys`` when they would not fit in the memory budget: each
    array as stored plus ``copies`` float64 copies of it."""
    needed = 0
    for key in keys:
        shape, dtype = arrays.spec(key)
        count = math.prod(shape)
        needed += count * (dtype.itemsize + 8 * copies)
    try:
        limits.check_bytes(needed, f"reading {len(keys)} weight array(s)")
    except limits.MemoryLimitError as exc:
        raise FileFormatError(f"{arrays.source}: {exc}") from None


# ---------------------------------------------------------------------------------- .npz


@contextlib.contextmanager
def _npz(path: Path) -> Iterator[WeightArrays]:
    name = path.name
    try:
        with open(path, "rb") as handle:
            if handle.read(6) == b"\x93NUMPY":
                raise FileFormatError(
                    f"{name}: holds one unnamed array (.npy data), not named weights"
                )
    except OSError as exc:
        raise FileFormatError(f"{name}: cannot read file ({exc.strerror or exc})") from None
    with Archive(path, "a NumPy .npz archive", label=_npz_label) as archive:
        by_key = {npz_key(member): member for member in archive.members}

        def spec(key: str) -> Spec:
            member = by_key[key]
            if not member.endswith(".npy"):
                archive.fail(f"array {quoted(key)} is not NumPy .npy data")
            header: NpyHeader = archive.header(member)
            return header.shape, header.dtype

        def load(key: str) -> np.ndarray:
            spec(key)
            return archive.read_array(by_key[key])

        yield WeightArrays(name, list(by_key), spec, load)


def _npz_label(member: str) -> str:
    return f"array {quoted(npz_key(member))}"


# ---------------------------------------------------------------------------------- safetensors

_SAFETENSORS_DTYPES = {
    "F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2",
    "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
    "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "?",
}


@contextlib.contextmanager
def _safetensors(path: Path, size: int) -> Iterator[WeightArrays]:
    name = path.name
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise FileFormatError(f"{name}: cannot read file ({exc.strerror or exc})") from None
    with handle:
        entries, metadata, data_start = _safetensors_header(handle, size, name)
        original = {key: "bfloat16" for key, e in entries.items() if e[0] == "BF16"}
        keys = list(entries)

        def spec(key: str) -> Spec:
            if key == CELL_MARKER and key not in entries:
                return (), np.array(metadata[CELL_MARKER]).dtype
            kind, shape, _, _ = entries[key]
            dtype = np.dtype("<f4" if kind == "BF16" else _SAFETENSORS_DTYPES[kind])
            return shape, dtype

        def load(key: str) -> np.ndarray:
            if key == CELL_MARKER and key not in entries:
                return np.array(str(metadata[CELL_MARKER]))
            kind, shape, begin, end = entries[key]
            stored = np.dtype(_SAFETENSORS_DTYPES[kind])
            header = NpyHeader(shape, stored, False)
            try:
                handle.seek(data_start + begin)
            except OSError as exc:
                raise FileFormatError(f"{name}: cannot read file ({exc})") from None
            array = read_data(handle, header, f"{name}: tensor {quoted(key)}")
            if kind == "BF16":  # the top half of a float32: widening is exact
                array = (array.astype(np.uint32) << 16).view(np.float32)
            return array

        if CELL_MARKER in metadata and CELL_MARKER not in entries:
            keys.append(CELL_MARKER)
        yield WeightArrays(name, keys, spec, load, original)


def _safetensors_header(
    handle: BinaryIO, size: int, name: str
) -> tuple[dict[str, tuple[str, tuple[int, ...], int, int]], dict[str, str], int]:
    """(tensors: name -> (dtype, shape, begin, end), metadata, offset of the data)."""

    def bad(problem: str) -> FileFormatError:
        return FileFormatError(f"{name}: not a readable .safetensors file ({problem})")

    head = handle.read(8)
    if len(head) < 8:
        raise bad("too short for a header")
    (length,) = struct.unpack("<Q", head)
    if length > min(limits.MAX_JSON_BYTES, size - 8):
        raise bad(f"header declares {length} bytes")
    try:
        header = json.loads(handle.read(length).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise bad(f"header is not JSON: {one_line(exc)}") from None
    if not isinstance(header, dict):
        raise bad("header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise bad("metadata must map strings to strings")
    if len(header) > limits.MAX_MEMBERS:
        raise FileFormatError(
            f"{name}: holds {len(header)} tensors, more than the {limits.MAX_MEMBERS} allowed"
        )
    data_size = size - 8 - length
    entries: dict[str, tuple[str, tuple[int, ...], int, int]] = {}
    spans = []
    for key, entry in header.items():
        if not isinstance(entry, dict):
            raise bad(f"entry {quoted(key)} is not an object")
        kind, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
        if kind not in _SAFETENSORS_DTYPES:
            raise bad(f"tensor {quoted(key)} has unsupported dtype {quoted(str(kind))}")
        if not (isinstance(shape, list) and all(_count(n) for n in shape)):
            raise bad(f"tensor {quoted(key)} has a bad shape")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(map(_count, offsets))):
            raise bad(f"tensor {quoted(key)} has bad data offsets")
        begin, end = offsets
        itemsize = np.dtype(_SAFETENSORS_DTYPES[kind]).itemsize
        if not begin <= end <= data_size or end - begin != math.prod(shape) * itemsize:
            raise bad(f"tensor {quoted(key)} does not fit its data offsets")
        entries[key] = (kind, tuple(shape), begin, end)
        spans.append((begin, end))
    spans.sort()
    for (_, end), (begin, _) in zip(spans, spans[1:], strict=False):
        if begin < end:
            raise bad("tensors overlap")
    return entries, metadata, 8 + length


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 62


# ---------------------------------------------------------------------------------- PyTorch


def _torch(path: Path) -> WeightArrays:
    name = path.name
    try:
        with open(path, "rb") as handle:
            start = handle.read(4)
    except OSError as exc:
        raise FileFormatError(f"{name}: cannot read file ({exc.strerror or exc})") from None
    is_zip = start.startswith(b"PK\x03\x04")
    if not is_zip and not start.startswith(b"\x80"):  # zip checkpoint, or legacy pickle
        raise FileFormatError(
            f"{name}: not a PyTorch file (neither a zip checkpoint nor a pickle stream)"
        )
    if importlib.util.find_spec("torch") is None:
        raise FileFormatError(f"{name}: {TORCH_HINT}")
    try:
        import torch
    except ImportError:
        raise FileFormatError(f"{name}: {TORCH_HINT}") from None
    if is_zip and not zipfile.is_zipfile(path):
        raise FileFormatError(f"{name}: not a PyTorch file (a damaged zip checkpoint)")
    try:
        with warnings.catch_warnings():
            # torch warns about odd pickle protocols in damaged files; the error says enough.
            warnings.simplefilter("ignore")
            obj = torch.load(path, map_location="cpu", weights_only=True, mmap=is_zip)
    except Exception as exc:
        text = str(exc)
        if "Unsupported global" in text or "Unsupported class" in text:
            raise FileFormatError(
                f"{name}: holds pickled Python objects (such as a whole model), which are never "
                "loaded; save model.state_dict() instead"
            ) from None
        detail = _UNPICKLER_DETAIL.search(text)
        if detail is not None:  # torch's safe unpickler met bytes no checkpoint holds
            raise FileFormatError(
                f"{name}: not a PyTorch file (damaged pickle data: {one_line(detail[1], 80)})"
            ) from None
        raise FileFormatError(f"{name}: not a readable PyTorch file ({one_line(exc)})") from None
    state: Any = obj
    if isinstance(obj, Mapping):
        for key in ("state_dict", "model"):
            if isinstance(obj.get(key), Mapping):
                state = obj[key]
                break
    if not isinstance(state, Mapping):
        raise FileFormatError(
            f"{name}: holds a {type(obj).__name__}, not a state_dict; "
            "save model.state_dict() instead"
        )
    tensors = {str(k): v for k, v in state.items() if isinstance(v, torch.Tensor)}
    if not tensors:
        raise FileFormatError(f"{name}: holds no tensors")
    # No exact NumPy twin: bfloat16 widens to float32 exactly; say so rather than "float32".
    original = {k: str(t.dtype).removeprefix("torch.") for k, t in tensors.items()
                if t.dtype == torch.bfloat16}

    def spec(key: str) -> Spec:
        tensor = tensors[key]
        if tensor.dtype == torch.bfloat16:
            return tuple(tensor.shape), np.dtype(np.float32)
        try:
            dtype = torch.empty(0, dtype=tensor.dtype).numpy().dtype
        except Exception:  # quantized, complex32 ... tensors have no NumPy dtype
            raise FileFormatError(
                f"{name}: tensor {quoted(key)} has dtype {str(tensor.dtype)}, which cannot be "
                "read as numbers"
            ) from None
        return tuple(tensor.shape), dtype

    def load(key: str) -> np.ndarray:
        spec(key)
        tensor = tensors[key].detach().cpu()
        if tensor.dtype == torch.bfloat16:
            tensor = tensor.float()
        try:
            return tensor.numpy().copy()
        except Exception as exc:  # sparse tensors
            raise FileFormatError(
                f"{name}: tensor {quoted(key)} cannot be converted to an array ({one_line(exc)})"
            ) from None

    return WeightArrays(name, list(tensors), spec, load, original)
