"""The ``.rnnviz`` session file: a document and its view state in one zip archive.

Layout (zip, deflated)::

    session.json          {"format": "rnnviz-session", "version": 1, "app_version": "...",
                           "config": NetworkConfig.to_dict(), "task": {"loss", "where"},
                           "sequence": {"labels", "channel_names", "text", "vocabulary",
                                        "has_targets", "has_mask"},
                           "view": {"step", "layer", "units", "reveal", "phase"},
                           "weights": [names] or null}
    inputs.npy            (T, I) float
    targets.npy           (T, O) float, when has_targets ((T, 1) class indices for loss "ce")
    target_mask.npy       (T,) bool, when has_mask
    weights/<name>.npy    one per name in "weights" (PyTorch names and layouts)

Arrays are plain ``.npy`` data written and read without pickle. Loading checks everything
before trusting it: the archive's declared sizes and member names (zip bombs, path traversal),
the JSON's types, every array's dtype and shape, finiteness, and that the engine accepts the
configuration and weights. Every problem is a :class:`FileFormatError` with a one-line message
naming the file.
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
from numpy.lib import format as npy_format

from rnnviz import __version__
from rnnviz.engine import NetworkConfig
from rnnviz.io.atomic import atomic_open
from rnnviz.io.errors import FileFormatError
from rnnviz.session import Document, Sequence, Task, ViewState

FORMAT_NAME = "rnnviz-session"
FORMAT_VERSION = 1
SESSION_SUFFIX = ".rnnviz"

SESSION_JSON = "session.json"
INPUTS = "inputs.npy"
TARGETS = "targets.npy"
TARGET_MASK = "target_mask.npy"
WEIGHTS_DIR = "weights/"

# Limits checked against the archive's declared sizes before anything is decompressed.
MAX_MEMBERS = 1000
MAX_MEMBER_BYTES = 2 * 1024**3
MAX_TOTAL_BYTES = 4 * 1024**3
MAX_JSON_BYTES = 64 * 1024**2
MAX_UNITS = 4096

PHASES = ("forward", "backward")
_TOP_KEYS = {"format", "version", "app_version", "config", "task", "sequence", "view", "weights"}
_SEQUENCE_KEYS = {"labels", "channel_names", "text", "vocabulary", "has_targets", "has_mask"}
_VIEW_KEYS = {"step", "layer", "units", "reveal", "phase"}
_TASK_KEYS = {"loss", "where"}
_WEIGHT_NAME = re.compile(r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$")
# Fixed member timestamps make saving the same document give the same bytes.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


# ------------------------------------------------------------------------------------- saving


def save_session(path: str | Path, document: Document, view: ViewState) -> None:
    """Write ``document`` and ``view`` to ``path`` atomically.

    The archive is built in a temporary file beside ``path`` and renamed over it only when
    complete, so a failure half-way leaves any existing file untouched.
    """
    path = Path(path)
    if len(document.models) != 1:
        raise FileFormatError(f"{path.name}: format {FORMAT_VERSION} holds one model, this "
                              f"document has {len(document.models)}")
    model = document.models[0]
    seq = document.sequence
    arrays: dict[str, np.ndarray] = {INPUTS: np.asarray(seq.inputs, dtype=np.float64)}
    if seq.targets is not None:
        arrays[TARGETS] = np.asarray(seq.targets, dtype=np.float64)
    if seq.target_mask is not None:
        arrays[TARGET_MASK] = np.asarray(seq.target_mask, dtype=bool)
    weight_names = None
    if model.weights is not None:
        weight_names = list(model.weights)
        for key in weight_names:
            if not _WEIGHT_NAME.match(key):
                raise FileFormatError(f"{path.name}: cannot save a weight named {key!r}")
            arrays[f"{WEIGHTS_DIR}{key}.npy"] = np.asarray(model.weights[key], np.float64)
    for member, array in arrays.items():
        if array.nbytes > MAX_MEMBER_BYTES - 4096:
            raise FileFormatError(
                f"{path.name}: cannot save: {member} would hold {_size(array.nbytes)}, more than "
                f"the {_size(MAX_MEMBER_BYTES)} a session file may hold per array"
            )
    meta = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "app_version": __version__,
        "config": model.config.to_dict(),
        "task": {"loss": document.task.loss, "where": document.task.where},
        "sequence": {
            "labels": None if seq.labels is None else list(seq.labels),
            "channel_names": list(seq.channel_names),
            "text": seq.text,
            "vocabulary": None if seq.vocabulary is None else list(seq.vocabulary),
            "has_targets": seq.targets is not None,
            "has_mask": seq.target_mask is not None,
        },
        "view": {
            "step": int(view.step),
            "layer": int(view.layer),
            "units": [int(u) for u in view.units],
            "reveal": bool(view.reveal),
            "phase": view.phase,
        },
        "weights": weight_names,
    }
    text = json.dumps(meta, indent=1, allow_nan=False)
    with atomic_open(path, "wb") as handle:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(_member_info(SESSION_JSON), text.encode("utf-8"))
            for member, array in arrays.items():
                big = array.nbytes > MAX_MEMBER_BYTES // 2
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
    name = path.name
    try:
        size = path.stat().st_size
    except OSError as exc:
        _fail(name, f"cannot read file ({exc.strerror or exc})")
    if size == 0:
        _fail(name, "file is empty")
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        _fail(name, "not an rnnviz session (not a zip archive, or truncated or damaged)")
    except OSError as exc:
        _fail(name, f"cannot read file ({exc.strerror or exc})")
    except Exception as exc:  # zipfile raises several types on a damaged directory
        _fail(name, f"not an rnnviz session (damaged zip archive: {_one_line(exc)})")
    with archive:
        return _read_archive(name, archive)


def _read_archive(name: str, archive: zipfile.ZipFile) -> tuple[Document, ViewState]:
    members = _checked_members(name, archive)
    if SESSION_JSON not in members:
        _fail(name, f"not an rnnviz session ({SESSION_JSON} is missing)")
    meta = _read_json(name, archive, members[SESSION_JSON])
    config, task, seq_meta, view, weight_names = _parse_meta(name, meta)

    expected = [INPUTS]
    if seq_meta["has_targets"]:
        expected.append(TARGETS)
    if seq_meta["has_mask"]:
        expected.append(TARGET_MASK)
    expected += [f"{WEIGHTS_DIR}{key}.npy" for key in weight_names or ()]
    for member in expected:
        if member not in members:
            _fail(name, f"array {member} is missing")
    for member in members:
        if member != SESSION_JSON and member not in expected:
            _fail(name, f"unexpected member {member}")

    def read(member: str, kind: str, ndim: int | None) -> np.ndarray:
        return _read_npy(name, member, _read_member(name, archive, members[member]), kind, ndim)

    inputs = read(INPUTS, "f", 2)
    targets = read(TARGETS, "f", 2) if seq_meta["has_targets"] else None
    mask = read(TARGET_MASK, "b", 1) if seq_meta["has_mask"] else None
    weights = None
    if weight_names is not None:
        weights = {key: read(f"{WEIGHTS_DIR}{key}.npy", "f", None) for key in weight_names}

    steps = inputs.shape[0]
    if targets is not None and targets.shape[0] != steps:
        _fail(name, f"{TARGETS} has {targets.shape[0]} rows but the inputs have {steps} steps")
    if mask is not None and mask.shape != (steps,):
        _fail(name, f"{TARGET_MASK} has shape {mask.shape}, expected ({steps},)")
    try:
        sequence = Sequence(
            inputs,
            targets=targets,
            target_mask=mask,
            labels=seq_meta["labels"],
            channel_names=seq_meta["channel_names"],
            text=seq_meta["text"],
            vocabulary=seq_meta["vocabulary"],
        )
        document = Document.single(sequence, config, task)
        if weights is not None:
            document = document.with_weights(0, config, weights)
    except ValueError as exc:  # SessionError, EngineError
        _fail(name, " ".join(str(exc).split()))
    return document, view


def _checked_members(name: str, archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The archive's file members by name, after the checks that need no decompression."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        _fail(name, f"archive has {len(infos)} members, more than the {MAX_MEMBERS} allowed")
    members: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        for member in (info.filename, info.orig_filename):
            if _unsafe_member_name(member):
                _fail(name, f"refusing unsafe member name {member!r} (absolute path or '..')")
        if info.is_dir():
            continue
        if info.filename in members:
            _fail(name, f"archive holds {info.filename} twice")
        if info.flag_bits & 0x1:
            _fail(name, f"member {info.filename} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            _fail(name, f"member {info.filename} uses an unsupported compression method")
        if info.file_size > MAX_MEMBER_BYTES:
            _fail(
                name,
                f"member {info.filename} declares {_size(info.file_size)} uncompressed, "
                f"more than the {_size(MAX_MEMBER_BYTES)} allowed",
            )
        total += info.file_size
        members[info.filename] = info
    if total > MAX_TOTAL_BYTES:
        _fail(
            name,
            f"archive declares {_size(total)} uncompressed, "
            f"more than the {_size(MAX_TOTAL_BYTES)} allowed",
        )
    return members


def _unsafe_member_name(member: str) -> bool:
    if not member or "\x00" in member or member.startswith(("/", "\\")):
        return True
    if re.match(r"^[A-Za-z]:", member):
        return True
    return ".." in re.split(r"[\\/]", member)


def _read_member(name: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    # zipfile stops decompressing at the declared size and checks the CRC, so the bytes read
    # are bounded by the sizes checked in _checked_members.
    try:
        with archive.open(info) as member:
            data = member.read()
    except Exception as exc:  # BadZipFile, zlib.error, EOFError, OSError ...
        _fail(name, f"member {info.filename} is damaged ({_one_line(exc)})")
    if len(data) != info.file_size:
        _fail(name, f"member {info.filename} is truncated")
    return data


def _read_json(name: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> dict[str, Any]:
    if info.file_size > MAX_JSON_BYTES:
        _fail(
            name,
            f"{SESSION_JSON} declares {_size(info.file_size)}, more than the "
            f"{_size(MAX_JSON_BYTES)} allowed",
        )
    data = _read_member(name, archive, info)

    def no_constants(token: str) -> NoReturn:
        raise ValueError(f"{token} is not a valid JSON number")

    try:
        meta = json.loads(data.decode("utf-8"), parse_constant=no_constants)
    except UnicodeDecodeError:
        _fail(name, f"{SESSION_JSON} is not UTF-8 text")
    except (ValueError, RecursionError) as exc:
        _fail(name, f"{SESSION_JSON} is not valid JSON ({_one_line(exc)})")
    if not isinstance(meta, dict):
        _fail(name, f"{SESSION_JSON} must hold a JSON object")
    return meta


def _parse_meta(
    name: str, meta: dict[str, Any]
) -> tuple[NetworkConfig, Task, dict[str, Any], ViewState, list[str] | None]:
    fmt = meta.get("format")
    if fmt != FORMAT_NAME:
        _fail(name, f"not an rnnviz session (format {fmt!r}, expected {FORMAT_NAME!r})")
    version = meta.get("version")
    if not _is_int(version) or version < 1:
        _fail(name, f"unknown session format version {version!r}")
    if version > FORMAT_VERSION:
        _fail(
            name,
            f"this session was saved by a newer rnnviz (format version {version}); "
            f"this version reads up to {FORMAT_VERSION}",
        )
    _check_keys(name, SESSION_JSON, meta, _TOP_KEYS, optional={"app_version"})

    raw_config = _obj(name, meta, "config")
    for key, value in raw_config.items():
        if not (value is None or isinstance(value, str | int | float)):
            _fail(name, f"bad network configuration: {key!r} must be a single value")
    if not isinstance(raw_config.get("bias", True), bool):
        _fail(name, "bad network configuration: bias must be true or false")
    try:
        config = NetworkConfig.from_dict(raw_config)
    except (ValueError, TypeError) as exc:  # EngineError is a ValueError
        _fail(name, f"bad network configuration: {_one_line(exc)}")

    raw_task = _obj(name, meta, "task")
    _check_keys(name, "task", raw_task, _TASK_KEYS)
    loss, where = raw_task["loss"], raw_task["where"]
    if not (isinstance(loss, str) and isinstance(where, str)):
        _fail(name, "task: loss and where must be strings")
    try:
        task = Task(loss, where)
    except ValueError as exc:
        _fail(name, f"task: {_one_line(exc)}")

    seq = _obj(name, meta, "sequence")
    _check_keys(name, "sequence", seq, _SEQUENCE_KEYS)
    seq_meta = {
        "labels": _str_list(name, "sequence.labels", seq["labels"], optional=True),
        "channel_names": _str_list(name, "sequence.channel_names", seq["channel_names"]),
        "text": seq["text"],
        "vocabulary": _str_list(name, "sequence.vocabulary", seq["vocabulary"], optional=True),
        "has_targets": seq["has_targets"],
        "has_mask": seq["has_mask"],
    }
    if seq_meta["text"] is not None and not isinstance(seq_meta["text"], str):
        _fail(name, "sequence.text must be a string or null")
    for flag in ("has_targets", "has_mask"):
        if not isinstance(seq_meta[flag], bool):
            _fail(name, f"sequence.{flag} must be true or false")

    raw_view = _obj(name, meta, "view")
    _check_keys(name, "view", raw_view, _VIEW_KEYS)
    for key in ("step", "layer"):
        if not _is_int(raw_view[key]) or raw_view[key] < 0:
            _fail(name, f"view.{key} must be a whole number >= 0, got {raw_view[key]!r}")
    units = raw_view["units"]
    if (
        not isinstance(units, list)
        or len(units) > MAX_UNITS
        or not all(_is_int(u) and u >= 0 for u in units)
    ):
        _fail(name, f"view.units must be a list of at most {MAX_UNITS} whole numbers >= 0")
    if not isinstance(raw_view["reveal"], bool):
        _fail(name, "view.reveal must be true or false")
    if raw_view["phase"] not in PHASES:
        _fail(name, f"view.phase must be one of {', '.join(PHASES)}, got {raw_view['phase']!r}")
    view = ViewState(
        step=raw_view["step"],
        layer=raw_view["layer"],
        units=tuple(units),
        reveal=raw_view["reveal"],
        phase=raw_view["phase"],
    )

    weight_names = _str_list(name, "weights", meta["weights"], optional=True)
    if weight_names is not None:
        if len(set(weight_names)) != len(weight_names):
            _fail(name, "weights lists a name twice")
        for key in weight_names:
            if not _WEIGHT_NAME.match(key):
                _fail(name, f"bad weight name {key!r}")
    return config, task, seq_meta, view, weight_names


def _read_npy(name: str, member: str, data: bytes, kind: str, ndim: int | None) -> np.ndarray:
    """Parse .npy bytes after checking the header: dtype ``kind`` ("f" float, "b" bool),
    ``ndim`` dimensions (any if None) and a data length that matches the shape."""
    buf = io.BytesIO(data)
    try:
        version = npy_format.read_magic(buf)
        if version == (1, 0):
            shape, fortran_order, dtype = npy_format.read_array_header_1_0(buf)
        elif version == (2, 0):
            shape, fortran_order, dtype = npy_format.read_array_header_2_0(buf)
        else:
            _fail(name, f"{member} uses unsupported .npy version {version[0]}.{version[1]}")
    except FileFormatError:
        raise
    except Exception as exc:  # numpy raises ValueError and others on a damaged header
        _fail(name, f"{member} is not valid .npy data ({_one_line(exc)})")
    if dtype.hasobject:
        _fail(name, f"{member} holds Python objects, which are never loaded")
    if dtype.kind != kind:
        wanted = "floating-point numbers" if kind == "f" else "true/false values"
        _fail(name, f"{member} must hold {wanted}, not {dtype}")
    if ndim is not None and len(shape) != ndim:
        _fail(name, f"{member} must have {ndim} dimension(s), got shape {shape}")
    if math.prod(shape) * dtype.itemsize != len(data) - buf.tell():
        _fail(name, f"{member} is truncated or damaged (its size does not match shape {shape})")
    buf.seek(0)
    try:
        array = npy_format.read_array(buf, allow_pickle=False)
    except Exception as exc:
        _fail(name, f"{member} is not valid .npy data ({_one_line(exc)})")
    if kind == "f" and not np.all(np.isfinite(array)):
        _fail(name, f"{member} holds NaN or Inf values")
    return array


# ------------------------------------------------------------------------------------ helpers


def _fail(name: str, problem: str) -> NoReturn:
    # Names and values quoted from the file may hold line breaks; the message stays one line.
    raise FileFormatError(" ".join(f"{name}: {problem}".splitlines())) from None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] if text else type(exc).__name__


def _size(size: int) -> str:
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _obj(name: str, meta: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = meta[key]
    if not isinstance(value, dict):
        _fail(name, f"{key} must be a JSON object")
    return value


def _check_keys(
    name: str,
    where: str,
    data: Mapping[str, Any],
    required: set[str],
    optional: Collection[str] = (),
) -> None:
    missing = sorted(required - set(optional) - set(data))
    if missing:
        _fail(name, f"{where} is missing {', '.join(map(repr, missing))}")
    unknown = sorted(set(data) - required)
    if unknown:
        _fail(name, f"{where} has unknown key(s) {', '.join(map(repr, unknown))}")


def _str_list(name: str, where: str, value: Any, optional: bool = False) -> list[str] | None:
    if value is None and optional:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        _fail(name, f"{where} must be a list of strings" + (" or null" if optional else ""))
    return value
