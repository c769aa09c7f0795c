"""How a run trains: the optimiser and its learning rate, batch size, clipping, budget,
evaluation interval and seed, as one validated, JSON-ready value."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import numpy as np

from rnnviz.engine.optim import SGD, Adam, Optimizer, RMSprop
from rnnviz.tasks import TrainingDefaults

OPTIMIZERS = ("adam", "sgd", "rmsprop")
"""The optimisers by name: Adam, SGD with momentum, RMSprop (torch.optim's update rules)."""
OPTIMIZER_TITLES = {"adam": "Adam", "sgd": "SGD with momentum", "rmsprop": "RMSprop"}
MAX_UPDATES = 10_000_000
MAX_BATCH = 4096
MAX_SNAPSHOTS = 1000
DEFAULT_SNAPSHOTS = 50


class TrainError(ValueError):
    """A setting, task or saved training state the trainer cannot use; the message is one line
    and names what is wrong."""


def _describe(value: Any) -> str:
    text = repr(value) if not isinstance(value, int) or abs(value) < 10**18 else "a huge number"
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:37] + "..."


def _whole(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise TrainError(f"{name} must be a whole number in [{low}, {high}], "
                         f"got {_describe(value)}")
    if not low <= int(value) <= high:
        raise TrainError(f"{name}={int(value)} is outside [{low}, {high}]")
    return int(value)


def _real(name: str, value: Any, low: float, high: float, open_low: bool = False) -> float:
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.integer
                                                             | np.floating):
        raise TrainError(f"{name} must be a number, got {_describe(value)}")
    v = float(value)
    ok = math.isfinite(v) and (v > low if open_low else v >= low) and v <= high
    if not ok:
        bracket = "(" if open_low else "["
        raise TrainError(f"{name}={_describe(value)} is outside {bracket}{low:g}, {high:g}]")
    return v


@dataclass(frozen=True)
class TrainSettings:
    """One run's settings.

    optimizer: "adam", "sgd" (with ``momentum``, 0 = plain SGD) or "rmsprop";
    learning_rate > 0; batch_size: sequences per update (the same batch for every model of a
    run); clip_norm: the max norm of the gradient over all of a model's parameters
    (``clip_grad_norm``), or None for no clipping; updates: the update count the run trains
    to; eval_every: the updates between evaluations on the task's test set (and weight
    snapshots); seed: the seed of the batches' random stream; max_snapshots: the most weight
    snapshots kept per model (see :class:`rnnviz.train.history.History`).
    """

    optimizer: str = "adam"
    learning_rate: float = 1e-2
    momentum: float = 0.9
    batch_size: int = 32
    clip_norm: float | None = 1.0
    updates: int = 2000
    eval_every: int = 50
    seed: int = 0
    max_snapshots: int = DEFAULT_SNAPSHOTS

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if self.optimizer not in OPTIMIZERS:
            raise TrainError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, "
                             f"got {_describe(self.optimizer)}")
        set_(self, "learning_rate", _real("learning_rate", self.learning_rate, 0.0, 100.0,
                                          open_low=True))
        set_(self, "momentum", _real("momentum", self.momentum, 0.0, 0.999999))
        set_(self, "batch_size", _whole("batch_size", self.batch_size, 1, MAX_BATCH))
        if self.clip_norm is not None:
            set_(self, "clip_norm", _real("clip_norm", self.clip_norm, 0.0, 1e12,
                                          open_low=True))
        set_(self, "updates", _whole("updates", self.updates, 1, MAX_UPDATES))
        set_(self, "eval_every", _whole("eval_every", self.eval_every, 1, MAX_UPDATES))
        set_(self, "seed", _whole("seed", self.seed, 0, 2**63 - 1))
        set_(self, "max_snapshots", _whole("max_snapshots", self.max_snapshots, 2,
                                           MAX_SNAPSHOTS))

    @classmethod
    def from_defaults(cls, defaults: TrainingDefaults, **changes: Any) -> TrainSettings:
        """The settings a task suggests (:attr:`rnnviz.tasks.Task.training`), with changes."""
        base = {"optimizer": defaults.optimizer, "learning_rate": defaults.learning_rate,
                "batch_size": defaults.batch_size, "clip_norm": defaults.clip_norm,
                "updates": defaults.updates, "eval_every": defaults.eval_every}
        base.update(changes)
        return cls(**base)

    def replace(self, **changes: Any) -> TrainSettings:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainSettings:
        """Rebuild from :meth:`to_dict` (unknown or missing keys refused by name)."""
        if not isinstance(data, Mapping):
            raise TrainError("training settings must be a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(k) for k in data if k not in known)
        if unknown:
            raise TrainError(f"unknown training setting {_describe(unknown[0])}")
        missing = sorted(known - set(data))
        if missing:
            raise TrainError(f"training settings lack {missing[0]!r}")
        return cls(**data)

    def continues(self, other: TrainSettings) -> bool:
        """Whether a run with ``other`` settings can continue this run's random stream and
        optimiser state: the same optimiser and seed (the rest may change between runs)."""
        return self.optimizer == other.optimizer and self.seed == other.seed

    def make_optimizer(self, params: Mapping[str, np.ndarray]) -> Optimizer:
        """This optimiser over ``params`` (a state dict)."""
        if self.optimizer == "adam":
            return Adam(params, lr=self.learning_rate)
        if self.optimizer == "sgd":
            return SGD(params, lr=self.learning_rate, momentum=self.momentum)
        return RMSprop(params, lr=self.learning_rate)

    def describe(self) -> str:
        """One line: "Adam 0.01, batch 32, clip 1, 2000 updates"."""
        clip = "no clipping" if self.clip_norm is None else f"clip {self.clip_norm:g}"
        opt = OPTIMIZER_TITLES[self.optimizer]
        if self.optimizer == "sgd":
            opt = f"SGD (momentum {self.momentum:g})" if self.momentum else "SGD"
        return (f"{opt} {self.learning_rate:g}, batch {self.batch_size}, {clip}, "
                f"{self.updates} updates")
