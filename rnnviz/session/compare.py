"""Comparing networks side by side: building comparisons and the numbers the comparison view
shows. No Qt here.

Building (every function returns a new, validated :class:`~rnnviz.session.document.Document`):

* :func:`compare_cells` — the current sequence and task read by one model per cell type
  ("RNN vs LSTM vs GRU"), each at the base model's hidden size, or with ``matched=True`` each
  sized so its parameter count is as close as possible to the base model's
  (:func:`matched_hidden_size` states the rule).
* :func:`add_model`, :func:`duplicate_model`, :func:`rename_model`, :func:`remove_model` and
  :func:`new_config` (a base configuration with some settings changed) — at most
  :data:`~rnnviz.session.document.MAX_MODELS` models.

Summaries (derived here once, never in views): :func:`summarise` gives a model's
:class:`ModelSummary` (loss, output against target, ‖∂L/∂h_t‖, mean gate activations), cheap
enough for every edit; :func:`summarise_influence` gives its :class:`InfluenceSummary`
(influence matrix, memory horizon, influence profile), which costs several forward+backward
passes — :func:`influence_cost` tells a caller whether to compute it at once or in a job.
Both are cached per result, so unchanged models cost nothing on the next edit.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

import numpy as np

from rnnviz.engine import EngineError, NetworkConfig
from rnnviz.engine.analysis import MemoryHorizon, influence, influence_plan, memory_horizon
from rnnviz.engine.config import MAX_HIDDEN
from rnnviz.session.compute import ModelResults
from rnnviz.session.document import (
    MAX_MODELS,
    Document,
    Model,
    SessionError,
    default_name,
    parameter_count,
)

Progress = Callable[[float], None]

COMPARE_CELLS = ("rnn_tanh", "lstm", "gru")
SIGMOID_GATES = ("i", "f", "o", "r", "z")  # gates with values in [0, 1]
HORIZON_THRESHOLD = 0.01
MAX_OUTPUT_CHANNELS = 8  # output channels summarised (and drawn) per model
# Influence is a T × T matrix per model: beyond this many steps the comparison leaves it out
# (4 models × 2000² float64 is 128 MB while they are computed).
MAX_INFLUENCE_STEPS = 2000


# ==== building comparisons ====================================================================
def matched_hidden_size(config: NetworkConfig, cell: str, count: int) -> int:
    """The hidden size of a ``cell`` network shaped like ``config`` otherwise (inputs, layers,
    bias, readout) whose parameter count is nearest ``count``.

    The rule: among hidden sizes 1..MAX_HIDDEN, the one minimising |P(H) − count|, where P(H)
    is :func:`~rnnviz.session.document.parameter_count` of that network (recurrent layers,
    biases and readout); a tie goes to the smaller size. P grows strictly with H, so the
    answer is one of the two sizes around the first H with P(H) >= count."""
    base = _cell_config(config, cell)

    def p(h: int) -> int:
        return parameter_count(base.replace(hidden_size=h))

    lo, hi = 1, MAX_HIDDEN
    while lo < hi:  # the first H with P(H) >= count (MAX_HIDDEN if none)
        mid = (lo + hi) // 2
        if p(mid) >= count:
            hi = mid
        else:
            lo = mid + 1
    if lo > 1 and abs(p(lo - 1) - count) <= abs(p(lo) - count):
        return lo - 1
    return lo


def _cell_config(config: NetworkConfig, cell: str) -> NetworkConfig:
    """``config`` with another cell type (the forget-gate bias only for an LSTM)."""
    return config.replace(cell=cell, forget_bias=config.forget_bias if cell == "lstm" else None)


def compare_cells(document: Document, base: int = 0, cells: Iterable[str] = COMPARE_CELLS,
                  matched: bool = False) -> Document:
    """A comparison of ``document``'s sequence and task with one model per cell in ``cells``
    (in that order), built from the model at ``base``: same layers, initialisation, seed,
    recurrent scale and readout.

    The base model itself (its weights, training record and name) takes the place of its own
    cell type when that is among ``cells``; the other models are initialised from their
    configuration. Sizes: the base model's hidden size for every cell, or with ``matched``
    the size whose parameter count is nearest the base model's (:func:`matched_hidden_size`).
    """
    cells = tuple(cells)
    if not cells:
        raise SessionError("a comparison needs at least one cell type")
    if len(cells) > MAX_MODELS:
        raise SessionError(f"a comparison holds at most {MAX_MODELS} models, got {len(cells)}")
    if len(set(cells)) != len(cells):
        raise SessionError("each cell type can appear only once in a comparison")
    model = document.model(base)
    cfg = model.config
    count = parameter_count(cfg)
    models: list[Model] = []
    kept = cfg.cell in cells
    taken = {model.name} if kept else set()
    for cell in cells:
        if kept and cell == cfg.cell:
            models.append(model)
            continue
        try:
            config = _cell_config(cfg, cell)
        except EngineError as exc:
            raise SessionError(str(exc)) from None
        if matched:
            config = config.replace(hidden_size=matched_hidden_size(cfg, cell, count))
        name = default_name(config, taken)
        taken.add(name)
        models.append(Model(name, config))
    return document.with_models(tuple(models))


def new_config(document: Document, base: int = 0, **settings: Any) -> NetworkConfig:
    """The configuration of the model at ``base`` with ``settings`` changed (cell,
    hidden_size, num_layers, init, recurrent_scale, seed, ...): what "Add model" starts from.
    A forget-gate bias is kept only for an LSTM. SessionError with one line if the settings
    are not valid."""
    config = document.model(base).config
    try:
        config = config.replace(**settings)
        if config.cell != "lstm" and config.forget_bias is not None:
            config = config.replace(forget_bias=None)
    except (EngineError, TypeError) as exc:
        raise SessionError(str(exc)) from None
    return config


def add_model(document: Document, config: NetworkConfig, name: str | None = None) -> Document:
    """``document`` with a model of ``config`` added last (weights from the configuration's
    seed), named ``name`` or after its cell and size; its input and output sizes follow the
    sequence and task."""
    if name is None:
        name = default_name(config, (m.name for m in document.models))
    return document.add_model(Model(name, config))


def duplicate_model(document: Document, index: int) -> Document:
    """``document`` with a copy of model ``index`` (configuration, weights and training record)
    added last, named "<name> copy" (made unique)."""
    model = document.model(index)
    if len(document.models) >= MAX_MODELS:
        raise SessionError(f"a comparison holds at most {MAX_MODELS} models")
    return document.with_models((*document.models,
                                 replace(model, name=unique_name(f"{model.name} copy",
                                                                 document))))


def rename_model(document: Document, index: int, name: str) -> Document:
    """``document`` with model ``index`` called ``name`` (one line, 1 to 60 characters, unique
    in the document)."""
    model = document.model(index)
    clean = " ".join(str(name).split())
    if clean == model.name:
        return document
    if any(m.name == clean for k, m in enumerate(document.models) if k != index):
        raise SessionError(f"another model is already called {clean!r}")
    return document.with_model(index, model.renamed(clean))


def remove_model(document: Document, index: int) -> Document:
    """``document`` without model ``index`` (the last model cannot be removed)."""
    return document.remove_model(index)


def unique_name(name: str, document: Document) -> str:
    """``name``, or "<name> (2)", "<name> (3)", ... — the first not used in ``document``."""
    taken = {m.name for m in document.models}
    candidate, k = name, 2
    while candidate in taken:
        candidate, k = f"{name} ({k})", k + 1
    return candidate


def model_file_names(document: Document) -> tuple[str, ...]:
    """A file-name part for each model of ``document``, from its name: letters, digits, '-'
    and '_' only ("LSTM 32" -> "LSTM_32"), unique within the document (a clash gains "-2",
    "-3", ...). What exports put after the panel's name: ``<panel>-<model>.png``."""
    out: list[str] = []
    for k, model in enumerate(document.models):
        base = re.sub(r"[^A-Za-z0-9_-]+", "_", model.name).strip("_") or f"model{k + 1}"
        name, n = base, 2
        while name.lower() in (o.lower() for o in out):  # case-insensitive file systems
            name, n = f"{base}-{n}", n + 1
        out.append(name)
    return tuple(out)


def with_default_name(document: Document, index: int) -> Document:
    """Model ``index`` renamed after its cell and size (after weights changed its shape)."""
    others = [m.name for k, m in enumerate(document.models) if k != index]
    return rename_model(document, index, default_name(document.model(index).config, others))


# ==== summaries ===============================================================================
@dataclass(frozen=True, eq=False)
class ModelSummary:
    """What the comparison view draws for one model (arrays read-only; T steps).

    loss: the task's loss, or None without one; loss_per_step (T,) with NaN at steps that do
    not count, or None; output (T, C): what is drawn against the target — y_t per output
    channel (at most :data:`MAX_OUTPUT_CHANNELS`), or for class targets y_t[target class]
    (C = 1) — or None without a readout; grad_norm (T,): ‖∂L/∂h_t‖ of the top layer (the layer
    the readout reads); gates: gate name -> (T,) mean over the top layer's units, for the
    gates with values in [0, 1] (LSTM i, f, o; GRU r, z; none for a vanilla RNN);
    nonfinite_step: the first NaN/Inf step, or None.
    """

    loss: float | None
    loss_per_step: np.ndarray | None
    output: np.ndarray | None
    grad_norm: np.ndarray
    gates: Mapping[str, np.ndarray]
    nonfinite_step: int | None


@dataclass(frozen=True, eq=False)
class InfluenceSummary:
    """How far back one model's inputs matter (arrays read-only).

    From M (T, T), M[t, k] = ‖∂h_t/∂x_k‖_F for the top layer
    (:func:`rnnviz.engine.analysis.influence`; not kept: T² numbers): horizon, its memory
    horizon at :data:`HORIZON_THRESHOLD` (:func:`rnnviz.engine.analysis.memory_horizon`);
    profile (T,):
    the influence of each step's input on the last step's state relative to the last input's
    own, M[T−1, k] / M[T−1, T−1] (NaN where that reference is zero or not finite) — on the same
    time axis as everything else, it falls away to the left as the network forgets.
    """

    horizon: MemoryHorizon
    profile: np.ndarray

    @property
    def steps(self) -> int:
        return self.profile.shape[0]

    @property
    def horizon_text(self) -> str:
        """The memory horizon for a legend: "12.3 steps", "> T steps" or "n/a"."""
        value = self.horizon.value
        if np.isnan(value):
            return "n/a"
        if np.isinf(value):
            return f"> {self.steps} steps"
        return f"{value:.3g} steps"


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=np.float64)
    if a.flags.writeable:
        a.flags.writeable = False
    return a


def _make_summary(results: ModelResults) -> ModelSummary:
    trace, grads, task = results.trace, results.grads, results.task
    loss = results.loss
    per_step = None if loss is None else _frozen(np.asarray(loss.per_step, dtype=np.float64))
    output = None
    if trace.output is not None:
        if task.loss == "ce" and results.target_output is not None:
            output = _frozen(results.target_output[:, None])
        else:
            output = _frozen(trace.output[:, :MAX_OUTPUT_CHANNELS])
    with np.errstate(over="ignore", invalid="ignore"):
        grad_norm = _frozen(grads.hidden_norm[-1])
        gates = {name: _frozen(values[-1].mean(axis=-1)) for name, values in trace.gates.items()
                 if name in SIGMOID_GATES}
    return ModelSummary(None if loss is None else float(loss.total), per_step, output,
                        grad_norm, MappingProxyType(gates), results.nonfinite_step)


def _make_influence(results: ModelResults, progress: Progress | None) -> InfluenceSummary:
    net = results.model.network()
    with np.errstate(all="ignore"):
        m = influence(net, results.trace, of="hidden", progress=progress)
        horizon = memory_horizon(m, HORIZON_THRESHOLD)
        last = m[-1]
        ref = last[-1] if last.size else np.nan
        if np.isfinite(ref) and ref > 0:
            profile = last / ref  # a new array: M itself is dropped
        else:
            profile = np.full(last.shape, np.nan)
    horizon.per_step.flags.writeable = False
    return InfluenceSummary(horizon, _frozen(profile))


class _Cache:
    """Values computed from an object, held as long as the object lives (by identity: traces
    and results compare by value or not at all)."""

    def __init__(self) -> None:
        self._values: dict[int, tuple[weakref.ref, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: object) -> Any:
        with self._lock:
            hit = self._values.get(id(key))
        return hit[1] if hit is not None and hit[0]() is key else None

    def put(self, key: object, value: Any) -> Any:
        k = id(key)
        ref = weakref.ref(key, lambda _r, k=k: self._drop(k))
        with self._lock:
            self._values[k] = (ref, value)
        return value

    def _drop(self, k: int) -> None:
        with self._lock:
            hit = self._values.get(k)
            if hit is not None and hit[0]() is None:
                del self._values[k]


_SUMMARIES = _Cache()
_INFLUENCE = _Cache()


def summarise(results: ModelResults) -> ModelSummary:
    """``results``' :class:`ModelSummary` (computed once per results object)."""
    hit = _SUMMARIES.get(results)
    return hit if hit is not None else _SUMMARIES.put(results, _make_summary(results))


def influence_available(results: ModelResults) -> str | None:
    """None when ``results`` can have an influence summary, else why not (one line)."""
    if results.steps > MAX_INFLUENCE_STEPS:
        return f"influence is left out beyond {MAX_INFLUENCE_STEPS} steps"
    if results.nonfinite_step is not None:
        return "no influence: the run has NaN/Inf values"
    return None


def influence_cost(results: ModelResults) -> float:
    """Multiply-adds :func:`summarise_influence` needs for ``results`` (0 when it is cached
    or not available): what decides between computing at once and a job."""
    if _INFLUENCE.get(results.trace) is not None or influence_available(results):
        return 0.0
    plan = influence_plan(results.model.network(), results.steps, "hidden")
    return plan.multiply_adds


def cached_influence(results: ModelResults) -> InfluenceSummary | None:
    """The influence summary of ``results`` if it has been computed, else None."""
    return _INFLUENCE.get(results.trace)


def summarise_influence(results: ModelResults,
                        progress: Progress | None = None) -> InfluenceSummary:
    """``results``' :class:`InfluenceSummary`, computed once per trace (a renamed model's
    results share it). ``progress`` receives 0..1 and may raise to cancel. SessionError when
    :func:`influence_available` says why not."""
    hit = _INFLUENCE.get(results.trace)
    if hit is not None:
        return hit
    why = influence_available(results)
    if why is not None:
        raise SessionError(why)
    return _INFLUENCE.put(results.trace, _make_influence(results, progress))


def summarise_all_influence(models: Iterable[ModelResults], progress: Progress | None = None
                            ) -> tuple[InfluenceSummary | None, ...]:
    """:func:`summarise_influence` of each of ``models`` (None for those where it is not
    available), progress shared by their costs (a job's body)."""
    models = tuple(models)
    costs = [max(influence_cost(r), 1.0) for r in models]
    total, done, out = sum(costs), 0.0, []
    for r, cost in zip(models, costs, strict=True):
        part = None
        if progress is not None:
            part = lambda f, b=done / total, s=cost / total: progress(b + s * f)  # noqa: E731
        out.append(None if influence_available(r) else summarise_influence(r, part))
        done += cost
    if progress is not None:
        progress(1.0)
    return tuple(out)
