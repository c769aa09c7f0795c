"""A network's configuration: a small, validated, serialisable value."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from rnnviz.engine.activations import READOUT_ACTIVATIONS
from rnnviz.engine.cells import CELL_TYPES, GATE_COUNT
from rnnviz.engine.errors import EngineError

INITIALISERS = ("default", "xavier", "orthogonal")
DTYPES = ("float64", "float32")
MAX_HIDDEN = 4096
MAX_LAYERS = 16
MAX_INPUT = 65536


def _positive_int(name: str, value: Any, upper: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise EngineError(f"{name} must be a whole number, got {value!r}")
    value = int(value)
    if not 1 <= value <= upper:
        raise EngineError(f"{name} must be between 1 and {upper}, got {value}")
    return value


def _optional_float(name: str, value: Any, minimum: float | None = None) -> float | None:
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise EngineError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(value) or (minimum is not None and value < minimum):
        raise EngineError(f"{name} must be a finite number >= {minimum}, got {value}")
    return value


@dataclass(frozen=True)
class NetworkConfig:
    """Everything that defines a network's shape and its initial weights."""

    cell: str = "lstm"
    input_size: int = 1
    hidden_size: int = 16
    num_layers: int = 1
    bias: bool = True
    output_size: int | None = None
    readout: str = "identity"
    dtype: str = "float64"
    seed: int = 0
    init: str = "default"
    recurrent_scale: float | None = None
    forget_bias: float | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if self.cell not in CELL_TYPES:
            raise EngineError(f"cell must be one of {', '.join(CELL_TYPES)}, got {self.cell!r}")
        set_(self, "input_size", _positive_int("input_size", self.input_size, MAX_INPUT))
        set_(self, "hidden_size", _positive_int("hidden_size", self.hidden_size, MAX_HIDDEN))
        set_(self, "num_layers", _positive_int("num_layers", self.num_layers, MAX_LAYERS))
        if self.output_size is not None:
            set_(self, "output_size", _positive_int("output_size", self.output_size, MAX_INPUT))
        set_(self, "bias", bool(self.bias))
        if self.readout not in READOUT_ACTIVATIONS:
            raise EngineError(
                f"readout must be one of {', '.join(READOUT_ACTIVATIONS)}, got {self.readout!r}"
            )
        if str(self.dtype) not in DTYPES:
            raise EngineError(f"dtype must be float64 or float32, got {self.dtype!r}")
        set_(self, "dtype", str(self.dtype))
        if self.init not in INITIALISERS:
            raise EngineError(f"init must be one of {', '.join(INITIALISERS)}, got {self.init!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise EngineError(f"seed must be a non-negative whole number, got {self.seed!r}")
        set_(self, "recurrent_scale",
             _optional_float("recurrent_scale", self.recurrent_scale, minimum=0.0))
        set_(self, "forget_bias", _optional_float("forget_bias", self.forget_bias))

    @property
    def gate_count(self) -> int:
        return GATE_COUNT[self.cell]

    def replace(self, **changes: Any) -> NetworkConfig:
        """A copy with some fields changed (validated)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NetworkConfig:
        """Build from a mapping; unknown keys are refused with their names."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise EngineError(f"unknown network setting(s): {', '.join(unknown)}")
        return cls(**data)
