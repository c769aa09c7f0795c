"""Optimisers and gradient clipping with PyTorch's exact update rules (torch.optim, 2.x).

An optimiser owns a copy of the parameters (a dict name -> array, as ``Network.state_dict()``)
and its running buffers; ``step(grads)`` applies one update and returns the new parameters::

    opt = Adam(net.state_dict(), lr=1e-3)
    clipped, norm = clip_grad_norm(grads.params, max_norm=1.0)
    net.set_params(opt.step(clipped))

Each update is written out as torch's single-tensor ("for-loop") CPU implementation does it, in
the parameters' dtype. ``state_dict()`` gives the optimiser's state as JSON-able scalars and NumPy
arrays (no pickle), and ``load_state_dict`` restores it into an optimiser built on the same
parameters, so that training resumes bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from rnnviz.engine.config import describe
from rnnviz.engine.errors import EngineError
from rnnviz.engine.threads import single_blas_thread

CLIP_EPS = 1e-6  # torch.nn.utils.clip_grad_norm_: clip_coef = max_norm / (total_norm + 1e-6)


def _number(name: str, value: Any, low: float = 0.0, high: float | None = None,
            high_open: bool = False) -> float:
    """A finite float in [low, high] (or [low, high) with ``high_open``), else EngineError."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise EngineError(f"{name} must be a number, got {describe(value)}")
    try:
        v = float(value)
    except OverflowError:
        raise EngineError(f"{name} must be a finite number, got {describe(value)}") from None
    ok = math.isfinite(v) and v >= low and (
        high is None or (v < high if high_open else v <= high))
    if not ok:
        upper = "" if high is None else f" and {'<' if high_open else '<='} {high}"
        raise EngineError(f"{name} must be a finite number >= {low}{upper}, got {v}")
    return v


def _arrays(what: str, values: Mapping[str, Any],
            like: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Private float copies of a name -> array mapping; with ``like``, the same keys, shapes
    and dtypes as it."""
    if not isinstance(values, Mapping):
        raise EngineError(f"{what} must be a mapping of names to arrays, "
                          f"got {type(values).__name__}")
    if like is not None and set(values) != set(like):
        missing = sorted(set(like) - set(values))
        extra = sorted(set(values) - set(like))
        which = f"missing {missing[0]!r}" if missing else f"unexpected key {describe(extra[0])}"
        raise EngineError(f"{what} do not match the parameters: {which}")
    out = {}
    for key, value in values.items():
        try:
            a = np.asarray(value)
        except (TypeError, ValueError):
            raise EngineError(f"{what}: {describe(key)} is not an array") from None
        if like is None:
            if a.dtype.kind != "f":
                raise EngineError(f"{what}: {describe(key)} must be a float array, "
                                  f"got dtype {a.dtype}")
            out[key] = np.array(a, order="C", copy=True)
            continue
        ref = like[key]
        if a.shape != ref.shape:
            raise EngineError(f"{what}: {key} must have shape {ref.shape}, got {a.shape}")
        if a.dtype.kind not in "biuf":
            raise EngineError(f"{what}: {key} must be numeric, got dtype {a.dtype}")
        out[key] = np.array(a, dtype=ref.dtype, order="C", copy=True)
    return out


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


class Optimizer:
    """Base: owns the parameters and per-parameter buffers (name -> array, same shapes).

    Subclasses define ``kind``, ``BUFFERS`` (the buffer names), ``hyperparameters()`` and
    ``_update(key, param, grad) -> new param``.
    """

    kind = ""
    BUFFERS: tuple[str, ...] = ()

    def __init__(self, params: Mapping[str, Any]) -> None:
        self._params = {k: _frozen(v) for k, v in _arrays("parameters", params).items()}
        self.steps = 0
        # Buffers are created at the first step (torch creates its state lazily too).
        self._buffers: dict[str, dict[str, np.ndarray]] = {}

    @property
    def params(self) -> dict[str, np.ndarray]:
        """The current parameters (read-only arrays; the optimiser's own)."""
        return dict(self._params)

    def hyperparameters(self) -> dict[str, Any]:
        raise NotImplementedError

    def step(self, grads: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Apply one update with ``grads`` (the parameters' keys and shapes) and return the new
        parameters: fresh read-only arrays, which the optimiser also keeps for the next step."""
        g = _arrays("gradients", grads, like=self._params)
        self.steps += 1
        new = {}
        with np.errstate(all="ignore"):  # a NaN gradient gives NaN weights; the caller checks
            for key, param in self._params.items():
                new[key] = _frozen(self._update(key, param, g[key]))
        self._params = new
        return dict(new)

    def _update(self, key: str, param: np.ndarray, grad: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # ---- saving and restoring ----------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """{"kind": str, "hyperparameters": {name: number or bool}, "steps": int,
        "buffers": {buffer: {param name: array}}}: plain scalars and copies of the arrays, so it
        can be written as JSON plus .npy members. The parameters themselves are not included:
        save them with the network (like torch's optimiser state dicts)."""
        return {
            "kind": self.kind,
            "hyperparameters": self.hyperparameters(),
            "steps": self.steps,
            "buffers": {name: {k: v.copy() for k, v in bufs.items()}
                        for name, bufs in self._buffers.items()},
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` gave, into an optimiser of the same kind and
        hyperparameters built on the parameters saved alongside (refused with a message
        otherwise). The next :meth:`step` then continues bit for bit."""
        if not isinstance(state, Mapping):
            raise EngineError("optimiser state must be a mapping")
        if state.get("kind") != self.kind:
            raise EngineError(f"optimiser state is for {describe(state.get('kind'))}, "
                              f"not {self.kind}")
        hyper = state.get("hyperparameters")
        if not isinstance(hyper, Mapping) or dict(hyper) != self.hyperparameters():
            raise EngineError(f"optimiser state has other hyperparameters "
                              f"({describe(hyper, 200)}) than this {self.kind} "
                              f"({describe(self.hyperparameters(), 200)})")
        steps = state.get("steps")
        if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 0:
            raise EngineError(f"optimiser state: steps must be a whole number >= 0, "
                              f"got {describe(steps)}")
        buffers = state.get("buffers")
        if not isinstance(buffers, Mapping):
            raise EngineError("optimiser state: buffers must be a mapping")
        unknown = sorted(set(buffers) - set(self.BUFFERS))
        if unknown:
            raise EngineError(f"optimiser state: unknown buffer {describe(unknown[0])}")
        loaded = {name: _arrays(f"optimiser buffer {name}", value, like=self._params)
                  for name, value in buffers.items()}
        if int(steps) > 0 and set(loaded) != set(self._expected_buffers()):
            missing = sorted(set(self._expected_buffers()) - set(loaded))
            raise EngineError(f"optimiser state: missing buffer {describe(missing[0])}")
        self.steps = int(steps)
        self._buffers = loaded

    def _expected_buffers(self) -> tuple[str, ...]:
        """The buffers this optimiser holds after its first step."""
        return self.BUFFERS

    def _buffer(self, name: str, key: str) -> np.ndarray | None:
        return self._buffers.get(name, {}).get(key)

    def _set_buffer(self, name: str, key: str, value: np.ndarray) -> None:
        self._buffers.setdefault(name, {})[key] = value


class SGD(Optimizer):
    """torch.optim.SGD: d = g + wd·p; with momentum, buf = d at the first step, then
    buf = momentum·buf + (1 − dampening)·d, and d = d + momentum·buf (Nesterov) or d = buf;
    p ← p − lr·d."""

    kind = "SGD"
    BUFFERS = ("momentum_buffer",)

    def __init__(self, params: Mapping[str, Any], lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0) -> None:
        self.lr = _number("lr", lr)
        self.momentum = _number("momentum", momentum)
        self.dampening = _number("dampening", dampening)
        self.weight_decay = _number("weight_decay", weight_decay)
        if not isinstance(nesterov, bool | np.bool_):
            raise EngineError(f"nesterov must be True or False, got {describe(nesterov)}")
        self.nesterov = bool(nesterov)
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise EngineError("Nesterov momentum requires a momentum > 0 and zero dampening")
        super().__init__(params)

    def hyperparameters(self) -> dict[str, Any]:
        return {"lr": self.lr, "momentum": self.momentum, "dampening": self.dampening,
                "nesterov": self.nesterov, "weight_decay": self.weight_decay}

    def _expected_buffers(self) -> tuple[str, ...]:
        return self.BUFFERS if self.momentum != 0 else ()

    def _update(self, key, param, grad):
        if self.weight_decay != 0:
            grad = grad + self.weight_decay * param
        if self.momentum != 0:
            buf = self._buffer("momentum_buffer", key)
            if buf is None:
                buf = grad.copy()
            else:
                buf = buf * self.momentum + (1 - self.dampening) * grad
            self._set_buffer("momentum_buffer", key, buf)
            grad = grad + self.momentum * buf if self.nesterov else buf
        return param + (-self.lr) * grad


class Adam(Optimizer):
    """torch.optim.Adam (L2 weight decay added to the gradient, no AMSGrad):
    m ← lerp(m, g, 1 − β₁), v ← β₂·v + (1 − β₂)·g², step size lr / (1 − β₁ᵗ),
    p ← p − step·m / (√v / √(1 − β₂ᵗ) + eps)."""

    kind = "Adam"
    BUFFERS = ("exp_avg", "exp_avg_sq")

    def __init__(self, params: Mapping[str, Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        self.lr = _number("lr", lr)
        try:
            beta1, beta2 = betas
        except (TypeError, ValueError):
            raise EngineError(f"betas must be a pair of numbers, got {describe(betas)}") from None
        self.betas = (_number("beta1", beta1, 0.0, 1.0, high_open=True),
                      _number("beta2", beta2, 0.0, 1.0, high_open=True))
        self.eps = _number("eps", eps)
        self.weight_decay = _number("weight_decay", weight_decay)
        super().__init__(params)

    def hyperparameters(self) -> dict[str, Any]:
        return {"lr": self.lr, "betas": list(self.betas), "eps": self.eps,
                "weight_decay": self.weight_decay}

    def _update(self, key, param, grad):
        beta1, beta2 = self.betas
        if self.weight_decay != 0:
            grad = grad + self.weight_decay * param
        m = self._buffer("exp_avg", key)
        v = self._buffer("exp_avg_sq", key)
        if m is None:
            m, v = np.zeros_like(param), np.zeros_like(param)
        # torch's lerp: start + w·(end − start) for w < 0.5, else end − (end − start)·(1 − w)
        w = 1 - beta1
        m = m + w * (grad - m) if w < 0.5 else grad - (grad - m) * (1 - w)
        v = v * beta2 + (1 - beta2) * grad * grad
        self._set_buffer("exp_avg", key, m)
        self._set_buffer("exp_avg_sq", key, v)
        step = float(self.steps)
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        step_size = self.lr / bias_correction1
        denom = np.sqrt(v) / bias_correction2**0.5 + self.eps
        return param + (-step_size) * m / denom  # torch's addcdiv: p + (value·t1) / t2


class RMSprop(Optimizer):
    """torch.optim.RMSprop: v ← α·v + (1 − α)·g²; centred: ḡ ← lerp(ḡ, g, 1 − α) and
    avg = √(v − ḡ²) + eps, else avg = √v + eps; with momentum buf ← momentum·buf + g / avg and
    p ← p − lr·buf, else p ← p − lr·g / avg."""

    kind = "RMSprop"
    BUFFERS = ("square_avg", "grad_avg", "momentum_buffer")

    def __init__(self, params: Mapping[str, Any], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, momentum: float = 0.0, weight_decay: float = 0.0,
                 centered: bool = False) -> None:
        self.lr = _number("lr", lr)
        self.alpha = _number("alpha", alpha, 0.0, 1.0)
        self.eps = _number("eps", eps)
        self.momentum = _number("momentum", momentum)
        self.weight_decay = _number("weight_decay", weight_decay)
        if not isinstance(centered, bool | np.bool_):
            raise EngineError(f"centered must be True or False, got {describe(centered)}")
        self.centered = bool(centered)
        super().__init__(params)

    def hyperparameters(self) -> dict[str, Any]:
        return {"lr": self.lr, "alpha": self.alpha, "eps": self.eps, "momentum": self.momentum,
                "weight_decay": self.weight_decay, "centered": self.centered}

    def _expected_buffers(self) -> tuple[str, ...]:
        return ("square_avg",) + (("grad_avg",) if self.centered else ()) + (
            ("momentum_buffer",) if self.momentum > 0 else ())

    def _update(self, key, param, grad):
        if self.weight_decay != 0:
            grad = grad + self.weight_decay * param
        sq = self._buffer("square_avg", key)
        if sq is None:
            sq = np.zeros_like(param)
        sq = sq * self.alpha + (1 - self.alpha) * grad * grad
        self._set_buffer("square_avg", key, sq)
        if self.centered:
            ga = self._buffer("grad_avg", key)
            if ga is None:
                ga = np.zeros_like(param)
            w = 1 - self.alpha
            ga = ga + w * (grad - ga) if w < 0.5 else grad - (grad - ga) * (1 - w)
            self._set_buffer("grad_avg", key, ga)
            avg = np.sqrt(sq + (-1) * ga * ga)
        else:
            avg = np.sqrt(sq)
        avg = avg + self.eps
        if self.momentum > 0:
            buf = self._buffer("momentum_buffer", key)
            if buf is None:
                buf = np.zeros_like(param)
            buf = buf * self.momentum + grad / avg
            self._set_buffer("momentum_buffer", key, buf)
            return param + (-self.lr) * buf
        return param + (-self.lr) * grad / avg


OPTIMIZERS: dict[str, type[Optimizer]] = {"SGD": SGD, "Adam": Adam, "RMSprop": RMSprop}


def clip_grad_norm(grads: Mapping[str, Any],
                   max_norm: float) -> tuple[dict[str, np.ndarray], float]:
    """As torch.nn.utils.clip_grad_norm_ (2-norm): the total norm is the 2-norm of the
    per-array 2-norms, and every gradient is multiplied by min(1, max_norm / (total + 1e-6)).

    Returns (clipped gradients as new arrays under the same names, the total norm before
    clipping). A NaN or Inf gradient gives a NaN or Inf total norm (and NaN gradients), as in
    torch without ``error_if_nonfinite``.
    """
    max_norm = _number("max_norm", max_norm)
    g = _arrays("gradients", grads)
    if not g:
        return {}, 0.0
    with np.errstate(all="ignore"), single_blas_thread():
        norms = np.array([np.linalg.norm(a.ravel()) for a in g.values()])
        total = float(np.linalg.norm(norms))
        coef = min(max_norm / (total + CLIP_EPS), 1.0) if not math.isnan(total) else math.nan
        clipped = {k: a * np.asarray(coef, a.dtype) for k, a in g.items()}
    return clipped, total
