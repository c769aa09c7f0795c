"""What a session file holds: a document and its view state mapped to ``session.json`` and the
arrays beside it, and back. The one module to change when the format changes.

Format version 2 (zip members), written by this version::

    session.json          {"format": "rnnviz-session", "version": 2, "app_version": "...",
                           "task": {"loss", "where"},
                           "sequence": {"labels", "channel_names", "text", "vocabulary",
                                        "has_targets", "has_mask"},
                           "view": {"step", "layer", "units", "reveal", "phase", "model"},
                           "models": [{"name": "...", "config": NetworkConfig.to_dict(),
                                       "weights": [names] or null,
                                       "training": {...} or null}, ...]}
    inputs.npy            (T, I) float
    targets.npy           (T, O) float, when has_targets ((T, 1) class indices for loss "ce")
    target_mask.npy       (T,) bool, when has_mask
    models/<k>/weights/<name>.npy     model k's weights, one per name (PyTorch names, layouts)
    models/<k>/training/<name>.npy    arrays of model k's training record, as its "training"
                                      object lists them in "arrays"

Version 1 (still read, unchanged in meaning) held one network: "config" and "weights" at the
top level, no "models", no view "model", and its weights as ``weights/<name>.npy``.

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
from rnnviz.session import MAX_MODELS, Document, Model, Sequence, Task, ViewState
from rnnviz.session.document import default_name

FORMAT_NAME = "rnnviz-session"
FORMAT_VERSION = 2

SESSION_JSON = "session.json"
INPUTS = "inputs.npy"
TARGETS = "targets.npy"
TARGET_MASK = "target_mask.npy"
WEIGHTS_DIR = "weights/"
MAX_UNITS = 4096

PHASES = ("forward", "backward")
_TOP_KEYS_V1 = {"format", "version", "app_version", "config", "task", "sequence", "view",
                "weights"}
_TOP_KEYS = {"format", "version", "app_version", "task", "sequence", "view", "models"}
_MODEL_KEYS = {"name", "config", "weights", "training"}
_TRAINING_KEYS = {"meta", "arrays"}
_SEQUENCE_KEYS = {"labels", "channel_names", "text", "vocabulary", "has_targets", "has_mask"}
_VIEW_KEYS_V1 = {"step", "layer", "units", "reveal", "phase"}
_VIEW_KEYS = _VIEW_KEYS_V1 | {"model"}
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
class ModelPlan:
    """One model as ``session.json`` describes it: where its weights and training arrays are."""

    name: str
    config: NetworkConfig
    weights_dir: str
    weight_names: tuple[str, ...] | None
    training_meta: Mapping[str, Any] | None = None
    training_dir: str = ""
    training_arrays: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    """What ``session.json`` promises: the array members to read and what to build."""

    arrays: tuple[ArraySpec, ...]
    models: tuple[ModelPlan, ...]
    task: Task
    sequence: Mapping[str, Any]
    view: ViewState


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
    models = []
    for k, model in enumerate(document.models):
        weight_names = None
        if model.weights is not None:
            weight_names = list(model.weights)
            for key in weight_names:
                if not WEIGHT_NAME.match(key):
                    raise FileFormatError(f"{source}: cannot save a weight named {quoted(key)}")
                arrays[f"{_model_dir(k)}weights/{key}.npy"] = np.asarray(model.weights[key],
                                                                        np.float64)
        training = None
        if model.training is not None:
            meta, record = model.training.to_state()
            for key, value in record.items():
                if not WEIGHT_NAME.match(key):
                    raise FileFormatError(f"{source}: cannot save a training array named "
                                          f"{quoted(key)}")
                arrays[f"{_model_dir(k)}training/{key}.npy"] = np.asarray(value)
            training = {"meta": meta, "arrays": list(record)}
        models.append({"name": model.name, "config": model.config.to_dict(),
                       "weights": weight_names, "training": training})
    meta = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "app_version": __version__,
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
            "model": int(view.model),
        },
        "models": models,
    }
    return meta, arrays


def _model_dir(index: int) -> str:
    return f"models/{index}/"


# ---------------------------------------------------------------------------------- reading


def parse(name: str, meta: dict[str, Any], version: int) -> Plan:
    """Check ``session.json`` (format ``version``, already known to be readable) and say which
    arrays to read. Raises :class:`FileFormatError` naming the file ``name``."""
    v1 = version == 1
    _check_keys(name, SESSION_JSON, meta, _TOP_KEYS_V1 if v1 else _TOP_KEYS,
                optional={"app_version"})

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

    view = _parse_view(name, _obj(name, meta, "view"), v1)

    arrays = [ArraySpec(INPUTS, "f", (None, None), limits.MAX_SEQUENCE_VALUES)]
    if seq_meta["has_targets"]:
        arrays.append(ArraySpec(TARGETS, "f", (None, None), limits.MAX_SEQUENCE_VALUES))
    if seq_meta["has_mask"]:
        arrays.append(ArraySpec(TARGET_MASK, "b", (None,), limits.MAX_STEPS))
    if v1:
        config = _config(name, "config", _obj(name, meta, "config"))
        weights = _str_list(name, "weights", meta["weights"], optional=True)
        models = [_model_plan(name, "weights", None, config, weights, "weights/", None, arrays)]
    else:
        raw_models = meta["models"]
        if not isinstance(raw_models, list) or not 1 <= len(raw_models) <= MAX_MODELS:
            _fail(name, f"models must be a list of 1 to {MAX_MODELS} models")
        models = []
        for k, raw in enumerate(raw_models):
            where_k = f"models[{k}]"
            if not isinstance(raw, dict):
                _fail(name, f"{where_k} must be a JSON object")
            _check_keys(name, where_k, raw, _MODEL_KEYS)
            if not isinstance(raw["name"], str):
                _fail(name, f"{where_k}.name must be a string")
            if not isinstance(raw["config"], dict):
                _fail(name, f"{where_k}.config must be a JSON object")
            config = _config(name, f"{where_k}.config", raw["config"])
            weights = _str_list(name, f"{where_k}.weights", raw["weights"], optional=True)
            models.append(_model_plan(name, f"{where_k}.weights", raw["name"], config, weights,
                                      f"{_model_dir(k)}weights/", raw["training"], arrays,
                                      f"{_model_dir(k)}training/", where_k))
    return Plan(tuple(arrays), tuple(models), task, seq_meta, view)


def _config(name: str, where: str, raw_config: dict[str, Any]) -> NetworkConfig:
    for key, value in raw_config.items():
        if not (value is None or isinstance(value, str | int | float)):
            _fail(name, f"bad network configuration: {quoted(key)} must be a single value")
    if not isinstance(raw_config.get("bias", True), bool):
        _fail(name, "bad network configuration: bias must be true or false")
    try:
        return NetworkConfig.from_dict(raw_config)
    except (ValueError, TypeError, OverflowError) as exc:  # EngineError is a ValueError
        _fail(name, f"bad network configuration in {where}: {one_line(exc)}")


def _model_plan(name: str, where: str, model_name: str | None, config: NetworkConfig,
                weight_names: list[str] | None, weights_dir: str, training: Any,
                arrays: list[ArraySpec], training_dir: str = "",
                where_model: str = "") -> ModelPlan:
    """One model's plan; its array members are appended to ``arrays``."""
    if weight_names is not None:
        if len(set(weight_names)) != len(weight_names):
            _fail(name, f"{where} lists a name twice")
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
            arrays.append(ArraySpec(f"{weights_dir}{key}.npy", "f", shape, _prod(shape)))
    training_meta, training_arrays = None, ()
    if training is not None:
        if not isinstance(training, dict):
            _fail(name, f"{where_model}.training must be a JSON object or null")
        _check_keys(name, f"{where_model}.training", training, _TRAINING_KEYS)
        if not isinstance(training["meta"], dict):
            _fail(name, f"{where_model}.training.meta must be a JSON object")
        names = _str_list(name, f"{where_model}.training.arrays", training["arrays"])
        if len(set(names)) != len(names) or not all(WEIGHT_NAME.match(n) for n in names):
            _fail(name, f"{where_model}.training.arrays must be distinct plain names")
        for key in names:
            arrays.append(ArraySpec(f"{training_dir}{key}.npy", "*", (),
                                    limits.MAX_TRAINING_VALUES))
        training_meta, training_arrays = training["meta"], tuple(names)
    return ModelPlan(model_name or "", config, weights_dir,
                     None if weight_names is None else tuple(weight_names), training_meta,
                     training_dir, training_arrays)


def build(name: str, plan: Plan, arrays: Mapping[str, np.ndarray]) -> tuple[Document, ViewState]:
    """The document and view from the plan and its arrays (checked against the plan)."""
    for member, array in arrays.items():
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            _fail(name, f"{member} holds NaN or Inf values")
    seq = plan.sequence
    try:
        sequence = Sequence(
            arrays[INPUTS],
            targets=arrays.get(TARGETS),
            target_mask=arrays.get(TARGET_MASK),
            labels=seq["labels"],
            channel_names=seq["channel_names"],
            text=seq["text"],
            vocabulary=seq["vocabulary"],
        )
        models = []
        taken: list[str] = []
        for mp in plan.models:
            model = Model(mp.name or default_name(mp.config, taken), mp.config)
            if mp.weight_names is not None:
                weights = {key: arrays[f"{mp.weights_dir}{key}.npy"] for key in mp.weight_names}
                training = None
                if mp.training_meta is not None:
                    training = _training(name, mp, arrays)
                model = model.with_weights(weights, mp.config, training)
            taken.append(model.name)
            models.append(model)
        document = Document(sequence, plan.task, tuple(models))
    except ValueError as exc:  # SessionError, EngineError
        _fail(name, one_line(exc))
    return document, plan.view


def _training(name: str, mp: ModelPlan, arrays: Mapping[str, np.ndarray]) -> Any:
    """The training record of a model, rebuilt by the trainer's own reader."""
    from rnnviz.session.training import training_from_state

    record = {key: arrays[f"{mp.training_dir}{key}.npy"] for key in mp.training_arrays}
    try:
        return training_from_state(mp.training_meta, record)
    except (ValueError, KeyError, TypeError) as exc:
        _fail(name, f"{mp.name}: bad training record: {one_line(exc)}")


def check_headers(name: str, plan: Plan, headers: Mapping[str, NpyHeader]) -> None:
    """Refuse array headers that do not match the plan: dtype, dimensions, exact shapes of
    weights, the size limits of a sequence, and one step count for inputs, targets and mask."""
    for spec in plan.arrays:
        header = headers[spec.member]
        if spec.kind == "*":  # a training array: any plain numeric dtype, within its size
            if header.dtype.kind not in "biuf":
                _fail(name, f"{spec.member} must hold numbers, not {header.dtype}")
            if header.size > spec.max_values:
                _fail(name, f"{spec.member} holds {header.size:,} numbers, more than the "
                            f"{spec.max_values:,} a training record may hold")
            continue
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


def _parse_view(name: str, raw_view: dict[str, Any], v1: bool) -> ViewState:
    _check_keys(name, "view", raw_view, _VIEW_KEYS_V1 if v1 else _VIEW_KEYS)
    model = 0 if v1 else raw_view["model"]
    if not _is_int(model) or not 0 <= model < MAX_MODELS:
        _fail(name, f"view.model must be a whole number from 0 to {MAX_MODELS - 1}")
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
        model=model,
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
