"""A network's configuration: a small, validated, serialisable value."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import numpy as np

from rnnviz.engine.activations import READOUT_ACTIVATIONS
from rnnviz.engine.cells import CELL_TYPES, GATE_COUNT
from rnnviz.engine.errors import EngineError

INITIALISERS = ("default", "xavier", "orthogonal")
DTYPES = ("float64", "float32")
MAX_HIDDEN = 4096
MAX_LAYERS = 16
MAX_INPUT = 65536


def describe(value: Any, limit: int = 40) -> str:
    """A short, one-line description of a value for an error message.

    Safe for anything a parsed file can hold: integers too long for Python's int-to-string limit,
    inf and NaN, long or multi-line strings, containers.
    """
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**18:
        digits = int(abs(value).bit_length() * 0.30103) + 1
        return f"a {'negative ' if value < 0 else ''}number of about {digits} digits"
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # e.g. a huge int nested in a container
        text = f"a {type(value).__name__}"
    text = " ".join(text.split())  # one line, whatever the value held
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _name(key: Any, limit: int = 40) -> str:
    """A setting's name for a message: on one line, and not too long."""
    text = " ".join(key.split()) if isinstance(key, str) else describe(key)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _positive_int(name: str, value: Any, upper: int) -> int:
    """``value`` as an int in 1..upper, else EngineError (never OverflowError for inf, NaN or a
    huge number read from a file)."""
    if isinstance(value, bool | np.bool_):
        whole = False
    elif isinstance(value, numbers.Integral):
        whole = True
    else:
        whole = (isinstance(value, numbers.Real) and math.isfinite(value)
                 and float(value).is_integer())
    if not whole:
        raise EngineError(f"{name} must be a whole number, got {describe(value)}")
    value = int(value)
    if not 1 <= value <= upper:
        raise EngineError(f"{name} must be between 1 and {upper}, got {describe(value)}")
    return value


def _optional_float(name: str, value: Any, minimum: float | None = None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise EngineError(f"{name} must be a number, got {value!r}")
    try:
        value = float(value)
    except (TypeError, ValueError, OverflowError):
        raise EngineError(f"{name} must be a finite number, got {describe(value)}") from None
    if not math.isfinite(value) or (minimum is not None and value < minimum):
        bound = "" if minimum is None else f" >= {minimum}"
        raise EngineError(f"{name} must be a finite number{bound}, got {value}")
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
            raise EngineError(
                f"cell must be one of {', '.join(CELL_TYPES)}, got {describe(self.cell)}")
        set_(self, "input_size", _positive_int("input_size", self.input_size, MAX_INPUT))
        set_(self, "hidden_size", _positive_int("hidden_size", self.hidden_size, MAX_HIDDEN))
        set_(self, "num_layers", _positive_int("num_layers", self.num_layers, MAX_LAYERS))
        if self.output_size is not None:
            set_(self, "output_size", _positive_int("output_size", self.output_size, MAX_INPUT))
        set_(self, "bias", bool(self.bias))
        if self.readout not in READOUT_ACTIVATIONS:
            raise EngineError(
                f"readout must be one of {', '.join(READOUT_ACTIVATIONS)}, "
                f"got {describe(self.readout)}"
            )
        if not isinstance(self.dtype, str | np.dtype) or str(self.dtype) not in DTYPES:
            raise EngineError(f"dtype must be float64 or float32, got {describe(self.dtype)}")
        set_(self, "dtype", str(self.dtype))
        if self.init not in INITIALISERS:
            raise EngineError(
                f"init must be one of {', '.join(INITIALISERS)}, got {describe(self.init)}")
        if (isinstance(self.seed, bool | np.bool_) or not isinstance(self.seed, numbers.Integral)
                or self.seed < 0):
            raise EngineError(
                f"seed must be a non-negative whole number, got {describe(self.seed)}")
        set_(self, "seed", int(self.seed))
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
        if not isinstance(data, Mapping):
            raise EngineError(f"network settings must be a mapping, got {describe(data)}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(_name(k) for k in data if k not in known)
        if unknown:
            raise EngineError(f"unknown network setting(s): {', '.join(unknown)}")
        return cls(**data)
