"""The document: the sequence and task the user edits and the models that read it. No Qt here.

A :class:`Document` is an immutable value: the input :class:`Sequence`, its :class:`Task`, and
a tuple of one or more :class:`Model` (a name, a network configuration, weights or None, and
what training recorded). Every edit builds a new document, so undo puts an old value back.
:class:`ViewState` is where the user is looking (cursor, layer, selected model): saved with the
document but not part of its history.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from types import MappingProxyType
from typing import Any

import numpy as np

from rnnviz import limits
from rnnviz.engine import EngineError, Network, NetworkConfig
from rnnviz.engine.init import expected_shapes, scale_recurrent

MAX_STEPS = limits.MAX_STEPS
MAX_CHANNELS = limits.MAX_CHANNELS
MAX_MODELS = 4
MAX_NAME = 60
CELL_NAMES = {"rnn_tanh": "RNN", "rnn_relu": "ReLU RNN", "lstm": "LSTM", "gru": "GRU"}

LOSSES = ("mse", "ce", "none")
# Structural settings: changing one of these re-initialises the weights from the seed.
_STRUCTURAL = ("cell", "input_size", "hidden_size", "num_layers", "bias", "output_size", "seed",
               "init", "forget_bias")


_NETWORK_CACHE_SIZE = 8
_NETWORKS: OrderedDict[tuple, tuple[Mapping[str, np.ndarray] | None, Network]] = OrderedDict()
_NETWORK_LOCK = threading.Lock()


class SessionError(ValueError):
    """An edit the session refuses; the message says why in one line."""


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64, copy=True)
    a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class Sequence:
    """The input sequence and its target.

    inputs (T, I); targets (T, O) for "mse" or (T, 1) class indices for "ce", or None;
    target_mask (T,) bool — steps that have a target — or None for all; labels: one string per
    step for the time axis (text mode) or None; channel_names (I,); text and vocabulary when the
    sequence was made from text (vocabulary: the characters, in one-hot order).
    """

    inputs: np.ndarray
    targets: np.ndarray | None = None
    target_mask: np.ndarray | None = None
    labels: tuple[str, ...] | None = None
    channel_names: tuple[str, ...] = ()
    text: str | None = None
    vocabulary: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        x = np.asarray(self.inputs)
        if x.ndim == 1:
            x = x[:, None]
        if x.ndim != 2 or x.dtype.kind not in "biuf":
            raise SessionError(f"inputs must be a numeric (steps, channels) array, got {x.shape}")
        steps, channels = x.shape
        if not 1 <= steps <= MAX_STEPS:
            raise SessionError(f"a sequence needs 1 to {MAX_STEPS} steps, got {steps}")
        if not 1 <= channels <= MAX_CHANNELS:
            raise SessionError(f"a sequence needs 1 to {MAX_CHANNELS} channels, got {channels}")
        if not np.all(np.isfinite(x)):
            bad = int(np.flatnonzero(~np.isfinite(x).all(axis=1))[0])
            raise SessionError(f"inputs hold NaN or Inf (first at step {bad})")
        object.__setattr__(self, "inputs", _frozen(x))
        if self.targets is not None:
            y = np.asarray(self.targets, dtype=np.float64)
            if y.ndim == 1:
                y = y[:, None]
            if y.ndim != 2 or y.shape[0] != steps:
                raise SessionError(f"targets must have {steps} rows, got shape {y.shape}")
            if not np.all(np.isfinite(y)):
                raise SessionError("targets hold NaN or Inf")
            object.__setattr__(self, "targets", _frozen(y))
        if self.target_mask is not None:
            m = np.array(self.target_mask, dtype=bool)
            if m.shape != (steps,):
                raise SessionError(f"target mask must have shape ({steps},), got {m.shape}")
            m.flags.writeable = False
            object.__setattr__(self, "target_mask", m)
        if self.labels is not None:
            if len(self.labels) != steps:
                raise SessionError(f"labels must have {steps} entries, got {len(self.labels)}")
            object.__setattr__(self, "labels", tuple(str(s) for s in self.labels))
        names = tuple(self.channel_names) or tuple(f"x{k}" for k in range(channels))
        if len(names) != channels:
            raise SessionError(f"{channels} channels need {channels} names, got {len(names)}")
        object.__setattr__(self, "channel_names", names)
        if self.vocabulary is not None:
            object.__setattr__(self, "vocabulary", tuple(self.vocabulary))

    @property
    def steps(self) -> int:
        return self.inputs.shape[0]

    @property
    def channels(self) -> int:
        return self.inputs.shape[1]

    @cached_property
    def masked_targets(self) -> np.ndarray | None:
        """The targets (T, O) with NaN at steps without a target (nothing to draw), or None."""
        if self.targets is None:
            return None
        targets = np.array(self.targets, dtype=np.float64)
        if self.target_mask is not None:
            targets[~self.target_mask] = np.nan
        targets.flags.writeable = False
        return targets

    def with_inputs(self, inputs: np.ndarray) -> Sequence:
        """The same sequence with new input values of the same shape (labels kept)."""
        return replace(self, inputs=inputs)


@dataclass(frozen=True)
class Task:
    """What the gradients are of. loss "mse" | "ce" against the targets, or "none": then the
    gradient shown is of Σ h_T (the top layer's last state), the influence of every earlier
    step on the final state. where "all" | "last": which steps' losses count."""

    loss: str = "mse"
    where: str = "all"

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise SessionError(f"loss must be one of {', '.join(LOSSES)}, got {self.loss!r}")
        if self.where not in ("all", "last"):
            raise SessionError(f"where must be 'all' or 'last', got {self.where!r}")


@dataclass(frozen=True, eq=False)
class Model:
    """One network reading the document's sequence.

    name: shown in the comparison and the model chooser (one line, unique in its document);
    config: the network's shape and initialisation; weights: None when the weights come from
    the configuration (seeded initialisation), else a read-only state dict (PyTorch names) —
    loaded or trained; the configuration's recurrent scale, if set, rescales their W_hh in
    the network. training: what training recorded for these weights (history, optimiser state),
    or None.
    """

    name: str
    config: NetworkConfig
    weights: Mapping[str, np.ndarray] | None = None
    training: Any = None

    def __post_init__(self) -> None:
        name = " ".join(str(self.name).split())
        if not name or len(name) > MAX_NAME:
            raise SessionError(f"a model name needs 1 to {MAX_NAME} characters, got {name!r}")
        object.__setattr__(self, "name", name)
        if not isinstance(self.config, NetworkConfig):
            raise SessionError(f"a model needs a NetworkConfig, got {type(self.config).__name__}")
        if self.weights is not None and not isinstance(self.weights, MappingProxyType):
            object.__setattr__(self, "weights",
                               MappingProxyType({k: _frozen(v) for k, v in self.weights.items()}))

    def network(self) -> Network:
        """The network of this configuration, with the model's weights if any.

        Built once per (configuration, weights) and shared by every document holding them —
        every edit of the sequence would otherwise re-run the initialiser. Its parameters are
        read-only; :meth:`Network.with_params` makes a changed copy."""
        key = (self.config, id(self.weights))
        with _NETWORK_LOCK:
            hit = _NETWORKS.get(key)
            if hit is not None and hit[0] is self.weights:
                _NETWORKS.move_to_end(key)
                return hit[1]
        net = Network.from_config(self.config)
        if self.weights is not None:
            weights = dict(self.weights)
            cfg = self.config
            if cfg.recurrent_scale is not None:
                for k in range(cfg.num_layers):
                    name = f"weight_hh_l{k}"
                    weights[name] = scale_recurrent(np.asarray(weights[name]),
                                                    cfg.recurrent_scale, cfg.gate_count)
            net.load_state_dict(weights)
        with _NETWORK_LOCK:
            _NETWORKS[key] = (self.weights, net)  # holding the weights keeps their id unique
            while len(_NETWORKS) > _NETWORK_CACHE_SIZE:
                _NETWORKS.popitem(last=False)
        return net

    @property
    def parameter_count(self) -> int:
        """How many numbers the network learns (recurrent layers and readout)."""
        return parameter_count(self.config)

    def with_config(self, config: NetworkConfig) -> Model:
        """A new configuration. Weights (and what training recorded) survive changes that keep
        every shape; a recurrent scale is applied to loaded weights when the network is built,
        so they are never lost to it."""
        if config == self.config:
            return self
        if self.weights is not None and any(getattr(config, k) != getattr(self.config, k)
                                            for k in _STRUCTURAL):
            return Model(self.name, config)
        return replace(self, config=config)

    def with_weights(self, weights: Mapping[str, np.ndarray] | None,
                     config: NetworkConfig | None = None, training: Any = None) -> Model:
        """These weights (checked by building the network) with the configuration they imply
        and what training recorded for them, or None."""
        model = Model(self.name, config or self.config, weights, training)
        try:
            model.network()
        except EngineError as exc:
            raise SessionError(f"the weights do not fit: {exc}") from None
        return model

    def renamed(self, name: str) -> Model:
        return replace(self, name=name)


def parameter_count(config: NetworkConfig) -> int:
    """The number of learned parameters of a network of ``config`` (readout included)."""
    return sum(int(np.prod(shape)) for shape in expected_shapes(config).values())


def default_name(config: NetworkConfig, taken: Iterable[str] = ()) -> str:
    """A model name from its cell and size ("LSTM 32"), made unique among ``taken``."""
    base = f"{CELL_NAMES.get(config.cell, config.cell)} {config.hidden_size}"
    if config.num_layers > 1:
        base += f"×{config.num_layers}"
    taken = set(taken)
    name, k = base, 2
    while name in taken:
        name, k = f"{base} ({k})", k + 1
    return name


@dataclass(frozen=True, eq=False)
class Document:
    """Everything the user edits: one input sequence with its task, read by 1 to
    :data:`MAX_MODELS` models. Which model the dashboard shows is view state
    (:attr:`ViewState.model`), not part of the document.

    Every model's input size is the sequence's channel count; a task with a loss needs targets
    (without them the task becomes "none").
    """

    sequence: Sequence
    task: Task = field(default_factory=Task)
    models: tuple[Model, ...] = ()

    def __post_init__(self) -> None:
        models = tuple(self.models)
        if not 1 <= len(models) <= MAX_MODELS:
            raise SessionError(f"a document holds 1 to {MAX_MODELS} models, got {len(models)}")
        names = [m.name for m in models]
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise SessionError(f"two models are called {dup!r}; model names must differ")
        for m in models:
            if m.config.input_size != self.sequence.channels:
                raise SessionError(f"{m.name} takes {m.config.input_size} input channels but "
                                   f"the sequence has {self.sequence.channels}")
        object.__setattr__(self, "models", models)
        if self.task.loss != "none" and self.sequence.targets is None:
            object.__setattr__(self, "task", replace(self.task, loss="none"))

    @classmethod
    def single(cls, sequence: Sequence, config: NetworkConfig, task: Task | None = None,
               weights: Mapping[str, np.ndarray] | None = None,
               name: str | None = None) -> Document:
        """A document with one model."""
        model = Model(name or default_name(config), config, weights)
        return cls(sequence, task or Task(), (model,))

    def model(self, index: int) -> Model:
        """The model at ``index`` (SessionError when there is none)."""
        if not 0 <= index < len(self.models):
            raise SessionError(f"there is no model {index}; this document has "
                               f"{len(self.models)}")
        return self.models[index]

    def index_of(self, name: str) -> int:
        for k, m in enumerate(self.models):
            if m.name == name:
                return k
        raise SessionError(f"no model is called {name!r}")

    # ---- derived documents (each a validated edit) -------------------------------------------
    def with_sequence(self, sequence: Sequence) -> Document:
        """A new sequence; every model's input and output sizes follow it (weights are kept
        when the sizes stay, else that network is initialised afresh)."""
        models = tuple(m.with_config(replace(m.config, input_size=sequence.channels,
                                             output_size=_output_size(sequence, self.task,
                                                                      m.config)))
                       for m in self.models)
        return Document(sequence, self.task, models)

    def with_task(self, task: Task) -> Document:
        """A new task; every model's readout follows (a softmax for cross-entropy)."""
        models = []
        for m in self.models:
            config = replace(m.config, output_size=_output_size(self.sequence, task, m.config))
            if task.loss == "ce" and config.readout not in ("softmax", "identity"):
                config = replace(config, readout="softmax")
            models.append(m.with_config(config))
        return Document(self.sequence, task, tuple(models))

    def with_sequence_and_task(self, sequence: Sequence, task: Task) -> Document:
        """Swap in a new sequence with its own task (a generated task, a text, an imported
        file). Every model's sizes follow, and its readout suits the loss: a softmax for
        cross-entropy, no softmax for a regression. Weights stay where every shape stays."""
        base = replace(self, task=Task("none", task.where))
        models = []
        for m in base.models:
            readout = m.config.readout
            if task.loss == "ce":
                readout = "softmax"
            elif task.loss == "mse" and readout == "softmax":
                readout = "identity"
            models.append(m.with_config(m.config.replace(readout=readout)))
        return base.with_models(tuple(models)).with_sequence(sequence).with_task(task)

    def with_models(self, models: tuple[Model, ...]) -> Document:
        return Document(self.sequence, self.task, tuple(models))

    def with_model(self, index: int, model: Model) -> Document:
        """``model`` in place of the model at ``index``."""
        self.model(index)
        models = list(self.models)
        models[index] = model
        return self.with_models(tuple(models))

    def with_config(self, index: int, config: NetworkConfig) -> Document:
        """The model at ``index`` with a new configuration (see :meth:`Model.with_config`)."""
        return self.with_model(index, self.model(index).with_config(config))

    def with_weights(self, index: int, config: NetworkConfig,
                     weights: Mapping[str, np.ndarray], training: Any = None) -> Document:
        """The model at ``index`` with trained weights and the configuration they imply."""
        return self.with_model(index, self.model(index).with_weights(weights, config, training))

    def add_model(self, model: Model) -> Document:
        """``model`` added after the others; its sizes follow the sequence and task."""
        if len(self.models) >= MAX_MODELS:
            raise SessionError(f"a comparison holds at most {MAX_MODELS} models")
        config = replace(model.config, input_size=self.sequence.channels,
                         output_size=_output_size(self.sequence, self.task, model.config))
        return self.with_models((*self.models, model.with_config(config)))

    def remove_model(self, index: int) -> Document:
        self.model(index)
        if len(self.models) == 1:
            raise SessionError("the last model cannot be removed")
        return self.with_models(self.models[:index] + self.models[index + 1:])


def _output_size(sequence: Sequence, task: Task, config: NetworkConfig) -> int | None:
    if sequence.targets is None or task.loss == "none":
        return config.output_size if config.output_size and task.loss == "none" else None
    if task.loss == "ce":
        if sequence.vocabulary is not None:
            return len(sequence.vocabulary)
        return max(int(np.max(sequence.targets)) + 1, 2)
    return sequence.targets.shape[1]


@dataclass(frozen=True)
class ViewState:
    """Where the user is looking: the cursor step, the layer shown, the units traced as lines,
    the model the dashboard shows (an index into the document's models). Not part of the
    document's undo history.

    In reveal mode the plots show only what the engine has computed by the cursor: in the
    "forward" phase the states of steps 0..step and no gradients; in the "backward" phase every
    state and the gradients of steps step..T-1 (BPTT flowing from the last step back).
    """

    step: int = 0
    layer: int = 0
    units: tuple[int, ...] = (0, 1, 2)
    reveal: bool = False
    phase: str = "forward"
    model: int = 0

    def visible_states(self, steps: int) -> int:
        """How many leading steps of states to draw."""
        if self.reveal and self.phase == "forward":
            return self.step + 1
        return steps

    def visible_gradients(self, steps: int) -> tuple[int, int]:
        """The [start, stop) range of steps whose gradients to draw."""
        if not self.reveal:
            return 0, steps
        return (self.step, steps) if self.phase == "backward" else (steps, steps)


