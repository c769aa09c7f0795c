"""Input sequences to feed a network: test signals and classic long-term-dependency tasks.

Every generator is described by a :class:`GeneratorSpec` in :data:`GENERATORS` (its parameters with
defaults, types and inclusive ranges, so a form or a command line can be built from it) and run
through :func:`generate`, which validates everything and returns a :class:`GeneratedSequence`.

Conventions shared by all generators

- ``length`` is the total number of steps T, 1..``MAX_LENGTH`` (tasks need a minimum, see
  :meth:`GeneratorSpec.min_length`).
- All randomness comes from ``np.random.default_rng(seed)``: the same name, length, seed and
  parameters always give the same sequence.
- Signals have one input channel. Their target is the signal one step ahead,
  ``target[t] = s(t + 1)``: the signal is evaluated at T + 1 points, so every step has a target
  and the mask is all True. ``sine_plus_step`` is the exception (see its docstring).
- Targets are always (T, O) float64, good for plotting against the network's output. For a
  classification task (loss "ce") they are the one-hot rows of ``target_classes`` (T,) int64,
  which is what a cross-entropy loss takes; O is then the number of classes.
- ``target_mask`` (T,) bool says which steps are scored. At unscored steps ``targets`` rows are
  zero and ``target_classes`` is 0; neither carries meaning there.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, NamedTuple

import numpy as np

MAX_LENGTH = 1_000_000
_LIMIT = 1e6  # bound on amplitudes, levels and periods: keeps every value finite and plottable

Value = int | float
Loss = Literal["mse", "ce"]


class GeneratorError(ValueError):
    """An unknown generator, or a parameter, length or seed that cannot be used."""


def _fmt(value: Value) -> str:
    return str(value) if isinstance(value, int) else f"{value:.10g}"


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a generator: ``kind`` int or float, inclusive ``minimum``..``maximum``."""

    name: str
    kind: type
    default: Value
    minimum: Value
    maximum: Value
    help: str

    def check(self, value: object, generator: str) -> Value:
        """``value`` converted to ``kind`` and range-checked; GeneratorError naming it if bad."""
        where = f"{generator}: {self.name}"
        if isinstance(value, bool | np.bool_):
            raise GeneratorError(f"{where} must be a number, got {value!r}")
        if self.kind is int:
            if not isinstance(value, int | np.integer):
                raise GeneratorError(f"{where} must be an integer, got {value!r}")
            value = int(value)
        else:
            if not isinstance(value, int | float | np.integer | np.floating):
                raise GeneratorError(f"{where} must be a number, got {value!r}")
            value = float(value)
            if not math.isfinite(value):
                raise GeneratorError(f"{where} must be finite, got {value!r}")
        if not self.minimum <= value <= self.maximum:
            raise GeneratorError(
                f"{where}={_fmt(value)} is outside [{_fmt(self.minimum)}, {_fmt(self.maximum)}]"
            )
        return value


class _Parts(NamedTuple):
    """What a generator function returns: inputs (T, I); targets (T, O) float for "mse" or
    class indices (T,) int for "ce"; mask (T,); names of the I inputs and O targets/classes."""

    inputs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray
    channel_names: tuple[str, ...]
    target_names: tuple[str, ...]
    description: str


Build = Callable[[int, np.random.Generator, Mapping[str, Value]], _Parts]


@dataclass(frozen=True, kw_only=True)
class GeneratorSpec:
    """A generator: its name, what it produces, its parameters and how to run it."""

    name: str
    title: str
    summary: str
    category: Literal["signal", "task"]
    loss: Loss
    params: tuple[ParamSpec, ...]
    default_length: int
    reference: str = ""
    build: Build = field(repr=False, compare=False)
    min_length_of: Callable[[Mapping[str, Value]], int] = field(
        default=lambda p: 1, repr=False, compare=False
    )
    check_params: Callable[[Mapping[str, Value]], None] = field(
        default=lambda p: None, repr=False, compare=False
    )
    fits_length: Callable[[int, Mapping[str, Value]], bool] | None = field(
        default=None, repr=False, compare=False
    )

    def param(self, name: str) -> ParamSpec:
        """The parameter called ``name``; GeneratorError listing the valid names if none is."""
        for p in self.params:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.params) or "none"
        raise GeneratorError(f"{self.name} has no parameter {name!r} (parameters: {known})")

    def defaults(self) -> dict[str, Value]:
        """Every parameter's default value."""
        return {p.name: p.default for p in self.params}

    def resolve(self, params: Mapping[str, object]) -> dict[str, Value]:
        """``params`` checked and completed with defaults; GeneratorError naming a bad one."""
        values = self.defaults()
        for name, value in params.items():
            values[name] = self.param(name).check(value, self.name)
        self.check_params(values)
        return values

    def min_length(self, **params: object) -> int:
        """The shortest valid length for these parameters (defaults for those not given)."""
        return self.min_length_of(self.resolve(params))


@dataclass(frozen=True, eq=False)
class GeneratedSequence:
    """One generated input sequence with its target.

    inputs (T, I) float64; targets (T, O) float64; target_mask (T,) bool (scored steps);
    target_classes (T,) int64 class indices for loss "ce", else None; num_classes = O for "ce",
    else None; channel_names (I,) and target_names (O,) label the columns (for "ce" the class
    names). ``params`` holds every parameter value used, defaults included, so that
    ``generate(name, length, seed, **params)`` reproduces the sequence. Arrays are read-only.
    """

    name: str
    params: Mapping[str, Value]
    seed: int
    inputs: np.ndarray
    targets: np.ndarray
    target_mask: np.ndarray
    target_classes: np.ndarray | None
    loss: Loss
    num_classes: int | None
    channel_names: tuple[str, ...]
    target_names: tuple[str, ...]
    description: str

    @property
    def length(self) -> int:
        """T, the number of steps."""
        return self.inputs.shape[0]


# --------------------------------------------------------------------------------------------
# Signals


def _steps(length: int) -> np.ndarray:
    """Times 0..T (T + 1 points: the last one is the final step's target)."""
    return np.arange(length + 1, dtype=np.float64)


def _next_value(series: np.ndarray, what: str) -> _Parts:
    """Input s(0..T-1) and target s(1..T) from a (T + 1,) series."""
    inputs = series[:-1, None]
    targets = series[1:, None]
    mask = np.ones(inputs.shape[0], bool)
    return _Parts(inputs, targets, mask, ("x",), ("next x",), f"{what}; target: the next value")


def _sine(length: int, rng: np.random.Generator, p: Mapping[str, Value]) -> _Parts:
    """s(t) = offset + amplitude·sin(2π·t/period + phase)."""
    t = _steps(length)
    s = p["offset"] + p["amplitude"] * np.sin(2.0 * np.pi * t / p["period"] + p["phase"])
    return _next_value(s, f"sine, period {_fmt(p['period'])}, amplitude {_fmt(p['amplitude'])}")


def _cycle_fraction(t: np.ndarray, period: float) -> np.ndarray:
    """Where each time lies in its cycle, in [0, 1)."""
    # mod before dividing: t/period rounds first, so 23/10 mod 1 falls just below 0.3
    return np.mod(t, period) / period


def _square(length: int, rng: np.random.Generator, p: Mapping[str, Value]) -> _Parts:
    """s(t) = +amplitude for the first ``duty`` fraction of each period, −amplitude after."""
    frac = _cycle_fraction(_steps(length), p["period"])
    s = np.where(frac < p["duty"], p["amplitude"], -p["amplitude"]).astype(np.float64)
    return _next_value(s, f"square wave, period {_fmt(p['period'])}, duty {_fmt(p['duty'])}")


def _sawtooth(length: int, rng: np.random.Generator, p: Mapping[str, Value]) -> _Parts:
    """s(t) = amplitude·(2·frac(t/period) − 1): rises from −amplitude, drops back each period."""
    frac = _cycle_fraction(_steps(length), p["period"])
    s = p["amplitude"] * (2.0 * frac - 1.0)
    return _next_value(s, f"sawtooth, period {_fmt(p['period'])}")


def _step(length: int, rng: np.random.Generator, p: Mapping[str, Value]) -> _Parts:
    """s(t) = low for t < at, high from t = at on."""
    s = np.where(_steps(length) < p["at"], p["low"], p["high"]).astype(np.float64)
    return _next_value(s, f"step from {_fmt(p['low'])} to {_fmt(p['high'])} at t={p['at']}")


def _impulse(length: int, rng: np.random.Generator, p: Mapping[str, Value]) -> _Parts:
    """s(t) = height at t = at, 0 elsewhere."""
    s = np.where(_steps(length) == p["at"], p["height"], 0.0)
    return _next_value(s, f"impulse of height {_fmt(p['height'])} at t={p['at']}")


def _white_noise(length: int, rng: np.random.Generator, p: Mapping[str, Value]) -> _Parts:
    """s(t) ~ N(0, std²), independent."""
    s = rng.normal(0.0, p["std"], length + 1)
    return _next_value(s, f"white noise, std {_fmt(p['std'])}")


def _random_walk(length: int, rng: np.random.Generator, p: Mapping[str, Value]) -> _Parts:
    """s(0) = 0, s(t) = s(t−1) + ε_t with ε_t ~ N(0, step_std²)."""
    s = np.concatenate(([0.0], np.cumsum(rng.normal(0.0, p["step_std"], length))))
    return _next_value(s, f"random walk, step std {_fmt(p['step_std'])}")


def _sine_plus_step(length: int, rng: np.random.Generator, p: Mapping[str, Value]) -> _Parts:
    """Input x(t) = amplitude·sin(2π·t/period) + height·[t ≥ at]; target the level
    height·[t ≥ at] at the same step (not shifted). The network must tell a lasting change
    of level from the swings of the sine and hold it: an LSTM shows it in its cell state."""
    t = np.arange(length, dtype=np.float64)
    level = np.where(t < p["at"], 0.0, p["height"])
    x = p["amplitude"] * np.sin(2.0 * np.pi * t / p["period"]) + level
    mask = np.ones(length, bool)
    what = (
        f"sine (period {_fmt(p['period'])}) with a step of {_fmt(p['height'])} at t={p['at']}; "
        "target: the level under the sine"
    )
    return _Parts(x[:, None], level[:, None], mask, ("x",), ("level",), what)


# --------------------------------------------------------------------------------------------
# Long-term-dependency tasks


def _last_step_mask(length: int) -> np.ndarray:
    mask = np.zeros(length, bool)
    mask[-1] = True
    return mask


def _adding(length: int, rng: np.random.Generator, p: Mapping[str, Value]) -> _Parts:
    """The adding problem of Hochreiter & Schmidhuber (1997), "Long short-term memory",
    Neural Computation 9(8), section 5.4, experiment 4.

    Two channels: a value U(−1, 1) and a marker in {1, 0, −1}. Exactly two steps are marked 1:
    the first uniformly among the first ``first_window`` steps (10 in the paper), the second
    uniformly among the other steps of the first half, 0..T//2−1 (the paper's "first T/2 − 1
    still unmarked pairs"). All other markers are 0 except the first and the last step, which
    are −1 when not marked. If step 0 is marked its value is set to 0 (as in the paper). The
    target, at the last step only, is 0.5 + (X1 + X2)/4, the marked values' sum scaled to
    [0, 1]. The paper draws T between T and T + T/10; here T is the given length.
    """
    half = length // 2
    first = int(rng.integers(0, p["first_window"]))
    second = int(rng.integers(0, half - 1))
    second += second >= first  # skip the step already marked
    values = rng.uniform(-1.0, 1.0, length)
    markers = np.zeros(length)
    markers[0] = markers[-1] = -1.0
    markers[[first, second]] = 1.0
    if markers[0] == 1.0:
        values[0] = 0.0
    x1, x2 = values[first], values[second]
    targets = np.zeros((length, 1))
    targets[-1, 0] = 0.5 + (x1 + x2) / 4.0
    inputs = np.stack([values, markers], axis=1)
    what = (
        f"adding: marked steps {first} and {second} (X1={x1:.3f}, X2={x2:.3f}); "
        f"target at the last step 0.5+(X1+X2)/4 = {targets[-1, 0]:.4f}"
    )
    return _Parts(inputs, targets, _last_step_mask(length), ("value", "marker"), ("sum",), what)


def _adding_min_length(p: Mapping[str, Value]) -> int:
    return max(4, 2 * int(p["first_window"]))


_TEMPORAL_SYMBOLS = ("a", "b", "c", "d", "X", "Y", "E", "B")
_TEMPORAL_CLASSES = ("XX", "XY", "YX", "YY")


def _temporal_windows(length: int, p: Mapping[str, Value]) -> tuple[int, int, int, int]:
    """1-based position windows (lo1, hi1, lo2, hi2) of the two relevant symbols: the fractions
    times T rounded half up, then clipped to 2..T−1 (between the E and the B)."""
    lo1, hi1, lo2, hi2 = (
        math.floor(p[key] * length + 0.5) for key in ("t1_from", "t1_to", "t2_from", "t2_to")
    )
    return max(lo1, 2), hi1, lo2, min(hi2, length - 1)


def _temporal_fits(length: int, p: Mapping[str, Value]) -> bool:
    """Whether both windows are non-empty, in order and between the first and last symbol."""
    lo1, hi1, lo2, hi2 = _temporal_windows(length, p)
    return lo1 <= hi1 < lo2 <= hi2


def _temporal_min_length(p: Mapping[str, Value]) -> int:
    # Beyond this bound every length fits: hi1 ≥ 2, lo2 − hi1 ≥ 1 and T − lo2 ≥ 1 all hold.
    bound = 1.5 / p["t1_to"] + 1.0 / (p["t2_from"] - p["t1_to"]) + 1.5 / (1.0 - p["t2_from"])
    for length in range(3, min(math.ceil(bound), MAX_LENGTH) + 1):
        if _temporal_fits(length, p):
            return length
    return min(math.ceil(bound), MAX_LENGTH + 1)


def _temporal_check(p: Mapping[str, Value]) -> None:
    """The windows must be ordered, 0 < t1_from ≤ t1_to < t2_from ≤ t2_to < 1."""
    if p["t1_to"] <= 0.0:
        raise GeneratorError(f"temporal_order: t1_to={_fmt(p['t1_to'])} must be above 0")
    if p["t2_from"] >= 1.0:
        raise GeneratorError(f"temporal_order: t2_from={_fmt(p['t2_from'])} must be below 1")
    for lower, upper, strict in (
        ("t1_from", "t1_to", False),
        ("t1_to", "t2_from", True),
        ("t2_from", "t2_to", False),
    ):
        if p[lower] > p[upper] or (strict and p[lower] == p[upper]):
            relation = "below" if strict else "at most"
            raise GeneratorError(
                f"temporal_order: {lower}={_fmt(p[lower])} must be {relation} "
                f"{upper}={_fmt(p[upper])}"
            )


def _temporal_order(length: int, rng: np.random.Generator, p: Mapping[str, Value]) -> _Parts:
    """The temporal-order problem of Hochreiter & Schmidhuber (1997), section 5.6,
    experiment 6a ("two relevant, widely separated symbols").

    Symbols are one-hot over (a, b, c, d, X, Y, E, B). The sequence starts with E, ends with the
    trigger symbol B, and is otherwise random symbols from {a, b, c, d} except at two positions
    t1 < t2 that hold X or Y (each with probability 1/2). With 1-based positions, t1 is uniform
    in [round(t1_from·T), round(t1_to·T)] and t2 in [round(t2_from·T), round(t2_to·T)], clipped
    to 2..T−1: the defaults give the paper's 10..20 and 50..60 for T = 100 (the paper draws T
    from 100..110).
    The class, scored at the last step only, is the order of the two: XX, XY, YX, YY
    (the paper's Q, R, S, U).
    """
    lo1, hi1, lo2, hi2 = _temporal_windows(length, p)
    t1 = int(rng.integers(lo1, hi1 + 1)) - 1
    t2 = int(rng.integers(lo2, hi2 + 1)) - 1
    symbols = rng.integers(0, 4, length)
    is_y = rng.integers(0, 2, 2)
    symbols[[t1, t2]] = 4 + is_y  # X = 4, Y = 5
    symbols[0], symbols[-1] = 6, 7  # E, B
    inputs = np.eye(len(_TEMPORAL_SYMBOLS))[symbols]
    cls = int(2 * is_y[0] + is_y[1])
    classes = np.zeros(length, np.int64)
    classes[-1] = cls
    what = (
        f"temporal order: {_TEMPORAL_SYMBOLS[symbols[t1]]} at step {t1}, "
        f"{_TEMPORAL_SYMBOLS[symbols[t2]]} at step {t2}; class {_TEMPORAL_CLASSES[cls]}"
    )
    return _Parts(
        inputs, classes, _last_step_mask(length), _TEMPORAL_SYMBOLS, _TEMPORAL_CLASSES, what
    )


def _copy_memory(length: int, rng: np.random.Generator, p: Mapping[str, Value]) -> _Parts:
    """The copying memory problem in the form of Arjovsky, Shah & Bengio (2016), "Unitary
    evolution recurrent neural networks", section 4.1 (after Hochreiter & Schmidhuber 1997).

    Categories: 0 blank, 1..A the symbols, A + 1 the delimiter. With K = ``symbols`` and the
    delay D = T − 2K ≥ 1, the input is K symbols drawn uniformly from 1..A, D − 1 blanks, the
    delimiter, then K blanks. The target is blank everywhere except the last K steps, which must
    reproduce the K symbols in order; every step is scored. Inputs are one-hot (T, A + 2); the
    classes are blank and the A symbols (the delimiter is never a target).
    """
    k, alphabet = int(p["symbols"]), int(p["alphabet"])
    data = rng.integers(1, alphabet + 1, k)
    cats = np.zeros(length, np.int64)
    cats[:k] = data
    cats[length - k - 1] = alphabet + 1
    classes = np.zeros(length, np.int64)
    classes[length - k :] = data
    inputs = np.eye(alphabet + 2)[cats]
    symbols = tuple(str(i) for i in range(1, alphabet + 1))
    what = (
        f"copy memory: recall {k} symbols of {alphabet} after a delay of {length - 2 * k} "
        f"steps; symbols {' '.join(str(int(s)) for s in data[:20])}{' …' if k > 20 else ''}"
    )
    return _Parts(
        inputs,
        classes,
        np.ones(length, bool),
        ("blank", *symbols, "delimiter"),
        ("blank", *symbols),
        what,
    )


def _latch(length: int, rng: np.random.Generator, p: Mapping[str, Value]) -> _Parts:
    """The information-latching problem of Bengio, Simard & Frasconi (1994), "Learning
    long-term dependencies with gradient descent is difficult", IEEE Trans. Neural Networks
    5(2), section IV.

    A class c ∈ {−1, +1} (equally likely) is shown for the first L = ``latch_steps`` steps as
    x(t) = c·amplitude; after that x(t) ~ N(0, noise_variance), which carries no information.
    The target, at the last step only, is c·target_value (the paper's ±0.8). In the paper the
    first L inputs are trained per class; here they are fixed at ±amplitude, as in
    Hochreiter & Schmidhuber's variant II of the latch problem (1997/2001).
    """
    latch = int(p["latch_steps"])
    cls = 1.0 if rng.integers(0, 2) else -1.0
    x = np.empty(length)
    x[:latch] = cls * p["amplitude"]
    x[latch:] = rng.normal(0.0, math.sqrt(p["noise_variance"]), length - latch)
    targets = np.zeros((length, 1))
    targets[-1, 0] = cls * p["target_value"]
    what = (
        f"latch: class {'+1' if cls > 0 else '-1'} shown for {latch} step(s), then noise "
        f"(variance {_fmt(p['noise_variance'])}); target {targets[-1, 0]:g} at the last step"
    )
    return _Parts(x[:, None], targets, _last_step_mask(length), ("x",), ("class sign",), what)


# --------------------------------------------------------------------------------------------
# Registry


def _p(name: str, kind: type, default: Value, lo: Value, hi: Value, help: str) -> ParamSpec:
    return ParamSpec(name, kind, default, lo, hi, help)


def _period(default: float = 20.0) -> ParamSpec:
    return _p("period", float, default, 2.0, _LIMIT, "steps per cycle")


def _amplitude(default: float = 1.0) -> ParamSpec:
    return _p("amplitude", float, default, 0.0, _LIMIT, "peak value")


def _at(default: int, help: str) -> ParamSpec:
    return _p("at", int, default, 0, MAX_LENGTH - 1, help)


def _after_at(p: Mapping[str, Value]) -> int:
    return int(p["at"]) + 1


_HS1997 = "Hochreiter & Schmidhuber (1997), Long short-term memory, Neural Computation 9(8)"

_SPECS = (
    GeneratorSpec(
        name="sine",
        title="Sine",
        summary="offset + amplitude·sin(2πt/period + phase); target: the next value",
        category="signal",
        loss="mse",
        default_length=100,
        params=(
            _period(),
            _amplitude(),
            _p("phase", float, 0.0, -2 * math.pi, 2 * math.pi, "phase in radians"),
            _p("offset", float, 0.0, -_LIMIT, _LIMIT, "value added to every step"),
        ),
        build=_sine,
    ),
    GeneratorSpec(
        name="square",
        title="Square wave",
        summary="±amplitude, high for the first duty fraction of each period; target: next value",
        category="signal",
        loss="mse",
        default_length=100,
        params=(
            _period(),
            _amplitude(),
            _p("duty", float, 0.5, 0.0, 1.0, "fraction of each period spent high"),
        ),
        build=_square,
    ),
    GeneratorSpec(
        name="sawtooth",
        title="Sawtooth",
        summary="rises from −amplitude to amplitude each period; target: the next value",
        category="signal",
        loss="mse",
        default_length=100,
        params=(_period(), _amplitude()),
        build=_sawtooth,
    ),
    GeneratorSpec(
        name="step",
        title="Step",
        summary="low before step `at`, high from it on; target: the next value",
        category="signal",
        loss="mse",
        default_length=100,
        params=(
            _at(50, "first step at the high level"),
            _p("low", float, 0.0, -_LIMIT, _LIMIT, "level before the step"),
            _p("high", float, 1.0, -_LIMIT, _LIMIT, "level from the step on"),
        ),
        build=_step,
        min_length_of=_after_at,
    ),
    GeneratorSpec(
        name="impulse",
        title="Impulse",
        summary="a single spike at step `at`, zero elsewhere; target: the next value",
        category="signal",
        loss="mse",
        default_length=100,
        params=(
            _at(10, "step of the spike"),
            _p("height", float, 1.0, -_LIMIT, _LIMIT, "value of the spike"),
        ),
        build=_impulse,
        min_length_of=_after_at,
    ),
    GeneratorSpec(
        name="white_noise",
        title="White noise",
        summary="independent N(0, std²) values; target: the next value",
        category="signal",
        loss="mse",
        default_length=100,
        params=(_p("std", float, 1.0, 0.0, _LIMIT, "standard deviation"),),
        build=_white_noise,
    ),
    GeneratorSpec(
        name="random_walk",
        title="Random walk",
        summary="cumulative sum of N(0, step_std²) steps from 0; target: the next value",
        category="signal",
        loss="mse",
        default_length=100,
        params=(_p("step_std", float, 1.0, 0.0, _LIMIT, "standard deviation of each step"),),
        build=_random_walk,
    ),
    GeneratorSpec(
        name="sine_plus_step",
        title="Sine plus step",
        summary="a sine with a step added at `at`; target: the step level under the sine",
        category="signal",
        loss="mse",
        default_length=100,
        params=(
            _period(),
            _amplitude(),
            _at(50, "step where the level changes"),
            _p("height", float, 1.0, -_LIMIT, _LIMIT, "size of the level change"),
        ),
        build=_sine_plus_step,
        min_length_of=_after_at,
    ),
    GeneratorSpec(
        name="adding",
        title="Adding problem",
        summary="add the two marked values; target 0.5+(X1+X2)/4 at the last step",
        category="task",
        loss="mse",
        default_length=100,
        reference=f"{_HS1997}, experiment 4",
        params=(
            _p(
                "first_window",
                int,
                10,
                1,
                MAX_LENGTH // 2,
                "the first mark falls in this many first steps",
            ),
        ),
        build=_adding,
        min_length_of=_adding_min_length,
    ),
    GeneratorSpec(
        name="temporal_order",
        title="Temporal order",
        summary="classify the order of X/Y at two distant positions (XX, XY, YX, YY)",
        category="task",
        loss="ce",
        default_length=100,
        reference=f"{_HS1997}, experiment 6a",
        params=(
            _p("t1_from", float, 0.1, 0.0, 1.0, "first window start, fraction of the length"),
            _p("t1_to", float, 0.2, 0.0, 1.0, "first window end, fraction of the length"),
            _p("t2_from", float, 0.5, 0.0, 1.0, "second window start, fraction of the length"),
            _p("t2_to", float, 0.6, 0.0, 1.0, "second window end, fraction of the length"),
        ),
        build=_temporal_order,
        min_length_of=_temporal_min_length,
        check_params=_temporal_check,
        fits_length=_temporal_fits,
    ),
    GeneratorSpec(
        name="copy_memory",
        title="Copy memory",
        summary="reproduce K symbols after a delay, when the delimiter appears",
        category="task",
        loss="ce",
        default_length=40,
        reference=(
            "Arjovsky, Shah & Bengio (2016), Unitary evolution recurrent neural networks, "
            "ICML, section 4.1"
        ),
        params=(
            _p("symbols", int, 10, 1, (MAX_LENGTH - 1) // 2, "K, how many symbols to copy"),
            _p("alphabet", int, 8, 1, 64, "A, the number of distinct symbols"),
        ),
        build=_copy_memory,
        min_length_of=lambda p: 2 * int(p["symbols"]) + 1,
    ),
    GeneratorSpec(
        name="latch",
        title="Latch",
        summary="a ±1 class shown at the start, noise after; target ±0.8 at the last step",
        category="task",
        loss="mse",
        default_length=50,
        reference=(
            "Bengio, Simard & Frasconi (1994), Learning long-term dependencies with gradient "
            "descent is difficult, IEEE Trans. Neural Networks 5(2)"
        ),
        params=(
            _p("latch_steps", int, 1, 1, MAX_LENGTH - 1, "L, steps that show the class"),
            _p("amplitude", float, 1.0, 0.0, _LIMIT, "input magnitude during the first L steps"),
            _p("noise_variance", float, 0.2, 0.0, _LIMIT, "variance of the noise after them"),
            _p("target_value", float, 0.8, 0.0, _LIMIT, "target magnitude at the last step"),
        ),
        build=_latch,
        min_length_of=lambda p: int(p["latch_steps"]) + 1,
    ),
)

GENERATORS: Mapping[str, GeneratorSpec] = MappingProxyType({s.name: s for s in _SPECS})
"""Every generator by name, in the order a menu should list them (signals, then tasks)."""


def get_spec(name: str) -> GeneratorSpec:
    """The spec called ``name``; GeneratorError listing the known names if there is none."""
    if not isinstance(name, str) or name not in GENERATORS:
        raise GeneratorError(
            f"unknown generator {name!r}; expected one of: {', '.join(GENERATORS)}"
        )
    return GENERATORS[name]


def _check_length(spec: GeneratorSpec, length: object, params: Mapping[str, Value]) -> int:
    if isinstance(length, bool | np.bool_) or not isinstance(length, int | np.integer):
        raise GeneratorError(f"{spec.name}: length must be an integer, got {length!r}")
    length = int(length)
    if not 1 <= length <= MAX_LENGTH:
        raise GeneratorError(f"{spec.name}: length={length} is outside [1, {MAX_LENGTH}]")
    if spec.fits_length is not None:
        if spec.fits_length(length, params):
            return length
    elif length >= spec.min_length_of(params):
        return length
    needed = spec.min_length_of(params)
    detail = ", ".join(f"{k}={_fmt(v)}" for k, v in params.items())
    if needed > MAX_LENGTH:
        raise GeneratorError(f"{spec.name}: no length up to {MAX_LENGTH} fits {detail}")
    if length < needed:
        raise GeneratorError(
            f"{spec.name}: length={length} is too short; it must be at least {needed}"
            + (f" with {detail}" if detail else "")
        )
    raise GeneratorError(f"{spec.name}: length={length} does not fit {detail}")


def _check_seed(name: str, seed: object) -> int:
    if isinstance(seed, bool | np.bool_) or not isinstance(seed, int | np.integer) or seed < 0:
        raise GeneratorError(f"{name}: seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def _read_only(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


def generate(name: str, length: int, seed: int = 0, **params: object) -> GeneratedSequence:
    """Generate ``length`` steps of generator ``name`` with ``params`` (defaults for the rest).

    Raises GeneratorError, with a one-line message naming the problem, for an unknown name or
    parameter, a value of the wrong type or out of range, or a length outside 1..MAX_LENGTH or
    too short for the parameters.
    """
    spec = get_spec(name)
    values = spec.resolve(params)
    length = _check_length(spec, length, values)
    seed = _check_seed(name, seed)
    parts = spec.build(length, np.random.default_rng(seed), values)
    inputs = np.asarray(parts.inputs, dtype=np.float64)
    mask = np.asarray(parts.mask, dtype=bool)
    classes: np.ndarray | None = None
    num_classes: int | None = None
    if spec.loss == "ce":
        num_classes = len(parts.target_names)
        classes = np.where(mask, parts.targets, 0).astype(np.int64)
        targets = np.zeros((length, num_classes))
        targets[mask, classes[mask]] = 1.0
    else:
        targets = np.where(mask[:, None], parts.targets, 0.0).astype(np.float64)
    return GeneratedSequence(
        name=name,
        params=MappingProxyType(dict(values)),
        seed=seed,
        inputs=_read_only(inputs),
        targets=_read_only(targets),
        target_mask=_read_only(mask),
        target_classes=None if classes is None else _read_only(classes),
        loss=spec.loss,
        num_classes=num_classes,
        channel_names=parts.channel_names,
        target_names=parts.target_names,
        description=parts.description,
    )
