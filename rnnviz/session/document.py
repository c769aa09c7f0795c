"""The document: the sequence, task and network the user edits. No Qt here."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import numpy as np

from rnnviz.engine import EngineError, Network, NetworkConfig
from rnnviz.engine.init import scale_recurrent

MAX_STEPS = 1_000_000
MAX_CHANNELS = 4096

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
class Document:
    """Everything the user edits. ``weights`` is None when the network's weights come from its
    configuration (seeded initialisation), else a read-only state dict (PyTorch names) as
    loaded; the configuration's recurrent scale, if set, rescales their W_hh in the network."""

    sequence: Sequence
    config: NetworkConfig
    task: Task = field(default_factory=Task)
    weights: Mapping[str, np.ndarray] | None = None

    def __post_init__(self) -> None:
        if self.config.input_size != self.sequence.channels:
            raise SessionError(f"the network takes {self.config.input_size} input channels but "
                               f"the sequence has {self.sequence.channels}")
        if self.task.loss != "none" and self.sequence.targets is None:
            object.__setattr__(self, "task", replace(self.task, loss="none"))
        if self.weights is not None and not isinstance(self.weights, MappingProxyType):
            object.__setattr__(self, "weights",
                               MappingProxyType({k: _frozen(v) for k, v in self.weights.items()}))

    def network(self) -> Network:
        """The network of this configuration, with the loaded weights if any.

        Built once per (configuration, weights) and shared by the documents that have them —
        every edit of the sequence would otherwise re-run the initialiser — so treat it as
        read-only (``state_dict()`` returns copies)."""
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
                    key = f"weight_hh_l{k}"
                    weights[key] = scale_recurrent(np.asarray(weights[key]),
                                                   cfg.recurrent_scale, cfg.gate_count)
            net.load_state_dict(weights)
        with _NETWORK_LOCK:
            _NETWORKS[key] = (self.weights, net)  # holding the weights keeps their id unique
            while len(_NETWORKS) > _NETWORK_CACHE_SIZE:
                _NETWORKS.popitem(last=False)
        return net

    # ---- derived documents (each a validated edit) -------------------------------------------
    def with_sequence(self, sequence: Sequence) -> Document:
        """A new sequence; the network's input and output sizes follow it (weights are kept
        when the sizes stay, else the network is initialised afresh)."""
        config = replace(self.config, input_size=sequence.channels,
                         output_size=_output_size(sequence, self.task, self.config))
        return self.with_config(config, sequence=sequence)

    def with_task(self, task: Task) -> Document:
        config = replace(self.config, output_size=_output_size(self.sequence, task, self.config))
        if task.loss == "ce" and config.readout not in ("softmax", "identity"):
            config = replace(config, readout="softmax")
        return self.with_config(config, task=task)

    def with_config(self, config: NetworkConfig, *, sequence: Sequence | None = None,
                    task: Task | None = None) -> Document:
        """A new configuration. Loaded weights survive changes that keep every shape (a
        recurrent scale is applied to them when the network is built, so they are never
        lost to it)."""
        weights = self.weights
        if weights is not None and any(getattr(config, k) != getattr(self.config, k)
                                       for k in _STRUCTURAL):
            weights = None
        return Document(sequence or self.sequence, config, task or self.task, weights)

    def with_weights(self, config: NetworkConfig, weights: Mapping[str, np.ndarray]) -> Document:
        """Trained weights with the configuration they imply (checked by loading them)."""
        doc = Document(self.sequence, config, self.task, weights)
        try:
            doc.network()
        except EngineError as exc:
            raise SessionError(f"the weights do not fit: {exc}") from None
        return doc


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
    """Where the user is looking: the cursor step, the layer shown, the units traced as lines.
    Not part of the document's undo history.

    In reveal mode the plots show only what the engine has computed by the cursor: in the
    "forward" phase the states of steps 0..step and no gradients; in the "backward" phase every
    state and the gradients of steps step..T-1 (BPTT flowing from the last step back).
    """

    step: int = 0
    layer: int = 0
    units: tuple[int, ...] = (0, 1, 2)
    reveal: bool = False
    phase: str = "forward"

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


