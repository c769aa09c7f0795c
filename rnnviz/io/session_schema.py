"""What a session file holds: a document and its view state mapped to ``session.json`` and the
arrays beside it, and back. The one module to change when the format changes.

Format version 1 (zip members)::

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

Reading is in two steps so that nothing is decompressed before it is judged:
:func:`parse` checks the JSON and returns a :class:`Plan` naming every array member with the
dtype and the exact (or largest) shape it may have; :func:`build` makes the document from the
arrays once they are read. :mod:`rnnviz.io.session_file` does the reading in between.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np

from rnnviz import __version__, limits
from rnnviz.engine import NetworkConfig
from rnnviz.engine.init import expected_shapes
from rnnviz.io.errors import FileFormatError, one_line, quoted
from rnnviz.io.npy import NpyHeader
from rnnviz.session import Document, Sequence, Task, ViewState

FORMAT_NAME = "rnnviz-session"
FORMAT_VERSION = 1

SESSION_JSON = "session.json"
INPUTS = "inputs.npy"
TARGETS = "targets.npy"
TARGET_MASK = "target_mask.npy"
WEIGHTS_DIR = "weights/"
MAX_UNITS = 4096

PHASES = ("forward", "backward")
_TOP_KEYS = {"format", "version", "app_version", "config", "task", "sequence", "view", "weights"}
_SEQUENCE_KEYS = {"labels", "channel_names", "text", "vocabulary", "has_targets", "has_mask"}
_VIEW_KEYS = {"step", "layer", "units", "reveal", "phase"}
_TASK_KEYS = {"loss", "where"}
WEIGHT_NAME = re.compile(r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$")


@dataclass(frozen=True)
class ArraySpec:
    """One array member: ``kind`` "f" (floating point) or "b" (bool); ``shape`` with None for
    a free dimension (steps or channels, bounded by ``max_values`` numbers in all)."""

    member: str
    kind: str
    shape: tuple[int | None, ...]
    max_values: int


@dataclass(frozen=True)
class Plan:
    """What ``session.json`` promises: the array members to read and what to build."""

    arrays: tuple[ArraySpec, ...]
    config: NetworkConfig
    task: Task
    sequence: Mapping[str, Any]
    view: ViewState
    weight_names: tuple[str, ...] | None


# ---------------------------------------------------------------------------------- writing


def to_json(document: Document, view: ViewState, source: str) -> tuple[dict[str, Any],
                                                                       dict[str, np.ndarray]]:
    """``session.json``'s content and the arrays by member name, for ``document``/``view``.

    ``source`` names the file in errors (a weight name that cannot be a member name).
    """
    seq = document.sequence
    arrays: dict[str, np.ndarray] = {INPUTS: np.asarray(seq.inputs, dtype=np.float64)}
    if seq.targets is not None:
        arrays[TARGETS] = np.asarray(seq.targets, dtype=np.float64)
    if seq.target_mask is not None:
        arrays[TARGET_MASK] = np.asarray(seq.target_mask, dtype=bool)
    weight_names = None
    if document.weights is not None:
        weight_names = list(document.weights)
        for key in weight_names:
            if not WEIGHT_NAME.match(key):
                raise FileFormatError(f"{source}: cannot save a weight named {quoted(key)}")
            arrays[f"{WEIGHTS_DIR}{key}.npy"] = np.asarray(document.weights[key], np.float64)
    meta = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "app_version": __version__,
        "config": document.config.to_dict(),
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
    return meta, arrays


# ---------------------------------------------------------------------------------- reading


def parse(name: str, meta: dict[str, Any], version: int) -> Plan:
    """Check ``session.json`` (format ``version``, already known to be readable) and say which
    arrays to read. Raises :class:`FileFormatError` naming the file ``name``."""
    _check_keys(name, SESSION_JSON, meta, _TOP_KEYS, optional={"app_version"})

    raw_config = _obj(name, meta, "config")
    for key, value in raw_config.items():
        if not (value is None or isinstance(value, str | int | float)):
            _fail(name, f"bad network configuration: {quoted(key)} must be a single value")
    if not isinstance(raw_config.get("bias", True), bool):
        _fail(name, "bad network configuration: bias must be true or false")
    try:
        config = NetworkConfig.from_dict(raw_config)
    except (ValueError, TypeError) as exc:  # EngineError is a ValueError
        _fail(name, f"bad network configuration: {one_line(exc)}")

    raw_task = _obj(name, meta, "task")
    _check_keys(name, "task", raw_task, _TASK_KEYS)
    loss, where = raw_task["loss"], raw_task["where"]
    if not (isinstance(loss, str) and isinstance(where, str)):
        _fail(name, "task: loss and where must be strings")
    try:
        task = Task(loss, where)
    except ValueError as exc:
        _fail(name, f"task: {one_line(exc)}")

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

    view = _parse_view(name, _obj(name, meta, "view"))

    weight_names = _str_list(name, "weights", meta["weights"], optional=True)
    arrays = [ArraySpec(INPUTS, "f", (None, None), limits.MAX_SEQUENCE_VALUES)]
    if seq_meta["has_targets"]:
        arrays.append(ArraySpec(TARGETS, "f", (None, None), limits.MAX_SEQUENCE_VALUES))
    if seq_meta["has_mask"]:
        arrays.append(ArraySpec(TARGET_MASK, "b", (None,), limits.MAX_STEPS))
    if weight_names is not None:
        if len(set(weight_names)) != len(weight_names):
            _fail(name, "weights lists a name twice")
        shapes = expected_shapes(config)
        for key in weight_names:
            if not WEIGHT_NAME.match(key):
                _fail(name, f"bad weight name {quoted(key)}")
            if key not in shapes:
                _fail(name, f"the weights do not fit: the network has no {quoted(key)}")
        missing = [key for key in shapes if key not in weight_names]
        if missing:
            _fail(name, f"the weights do not fit: {quoted(missing[0])} is missing")
        for key in weight_names:
            shape = shapes[key]
            arrays.append(ArraySpec(f"{WEIGHTS_DIR}{key}.npy", "f", shape, _prod(shape)))
    return Plan(tuple(arrays), config, task, seq_meta, view,
                None if weight_names is None else tuple(weight_names))


def build(name: str, plan: Plan, arrays: Mapping[str, np.ndarray]) -> tuple[Document, ViewState]:
    """The document and view from the plan and its arrays (checked against the plan)."""
    inputs = arrays[INPUTS]
    targets = arrays.get(TARGETS)
    mask = arrays.get(TARGET_MASK)
    weights = None
    if plan.weight_names is not None:
        weights = {key: arrays[f"{WEIGHTS_DIR}{key}.npy"] for key in plan.weight_names}
    for member, array in arrays.items():
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            _fail(name, f"{member} holds NaN or Inf values")
    seq = plan.sequence
    try:
        sequence = Sequence(
            inputs,
            targets=targets,
            target_mask=mask,
            labels=seq["labels"],
            channel_names=seq["channel_names"],
            text=seq["text"],
            vocabulary=seq["vocabulary"],
        )
        document = Document(sequence, plan.config, plan.task)
        if weights is not None:
            document = document.with_weights(plan.config, weights)
    except ValueError as exc:  # SessionError, EngineError
        _fail(name, one_line(exc))
    return document, plan.view


def check_headers(name: str, plan: Plan, headers: Mapping[str, NpyHeader]) -> None:
    """Refuse array headers that do not match the plan: dtype, dimensions, exact shapes of
    weights, the size limits of a sequence, and one step count for inputs, targets and mask."""
    for spec in plan.arrays:
        header = headers[spec.member]
        if header.dtype.kind != spec.kind:
            wanted = "floating-point numbers" if spec.kind == "f" else "true/false values"
            _fail(name, f"{spec.member} must hold {wanted}, not {header.dtype}")
        if len(header.shape) != len(spec.shape):
            _fail(name, f"{spec.member} must have {len(spec.shape)} dimension(s), got shape "
                        f"{header.shape}")
        fixed = [n for n in spec.shape if n is not None]
        if fixed and header.shape != spec.shape:
            _fail(name, f"the weights do not fit: {spec.member} has shape {header.shape}, "
                        f"expected {spec.shape}")
        if header.size > spec.max_values:
            _fail(name, f"{spec.member} holds {header.size:,} numbers ({header.shape}), more "
                        f"than the {spec.max_values:,} a sequence may hold")
    steps = headers[INPUTS].shape[0]
    if not 1 <= steps <= limits.MAX_STEPS:
        _fail(name, f"a sequence needs 1 to {limits.MAX_STEPS} steps, got {steps}")
    if TARGETS in headers and headers[TARGETS].shape[0] != steps:
        _fail(name, f"{TARGETS} has {headers[TARGETS].shape[0]} rows but the inputs have "
                    f"{steps} steps")
    if TARGET_MASK in headers and headers[TARGET_MASK].shape != (steps,):
        _fail(name, f"{TARGET_MASK} has shape {headers[TARGET_MASK].shape}, expected ({steps},)")


def _parse_view(name: str, raw_view: dict[str, Any]) -> ViewState:
    _check_keys(name, "view", raw_view, _VIEW_KEYS)
    for key in ("step", "layer"):
        if not _is_int(raw_view[key]) or raw_view[key] < 0:
            _fail(name, f"view.{key} must be a whole number >= 0, got {_clip(raw_view[key])}")
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
        _fail(name, f"view.phase must be one of {', '.join(PHASES)}, "
                    f"got {_clip(raw_view['phase'])}")
    return ViewState(
        step=raw_view["step"],
        layer=raw_view["layer"],
        units=tuple(units),
        reveal=raw_view["reveal"],
        phase=raw_view["phase"],
    )


# ---------------------------------------------------------------------------------- helpers


def _fail(name: str, problem: str) -> NoReturn:
    raise FileFormatError(f"{name}: {problem}") from None


def _prod(shape: tuple[int, ...]) -> int:
    out = 1
    for n in shape:
        out *= n
    return out


def _clip(value: Any) -> str:
    # Huge integers would hit Python's int-to-string limit; long strings would flood the line.
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        return "a number with more than 30 digits"
    text = repr(value)
    return text if len(text) <= 60 else text[:56] + "..."


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
        _fail(name, f"{where} is missing {', '.join(map(quoted, missing))}")
    unknown = sorted(set(data) - required)
    if unknown:
        _fail(name, f"{where} has unknown key(s) {', '.join(map(quoted, unknown[:5]))}")


def _str_list(name: str, where: str, value: Any, optional: bool = False) -> list[str] | None:
    if value is None and optional:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        _fail(name, f"{where} must be a list of strings" + (" or null" if optional else ""))
    return value
