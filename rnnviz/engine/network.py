"""A stacked recurrent network with an optional readout: forward, step, BPTT, losses."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController

from rnnviz.engine import losses as _losses
from rnnviz.engine.activations import apply_readout, readout_backward
from rnnviz.engine.cells import GATE_NAMES, KERNELS
from rnnviz.engine.cells.base import LayerGrads, LayerParams
from rnnviz.engine.cells.base import param_grads as _param_grads
from rnnviz.engine.config import NetworkConfig
from rnnviz.engine.errors import EngineError
from rnnviz.engine.init import expected_shapes, init_params
from rnnviz.engine.trace import (
    Grads,
    State,
    StepRecord,
    Trace,
    first_nonfinite,
    freeze,
    readonly_mapping,
)

MAX_STEPS = 10_000_000
CHUNK = 4096  # the most steps per kernel call; progress is reported (and can be cancelled)
CHUNK_WORK = 1 << 24  # per chunk, so a chunk holds about this many multiply-adds at most

# The recurrent loops make one small matrix-vector product per step: BLAS threads only add
# synchronisation to those, so they run single-threaded.
_BLAS = ThreadpoolController()

Progress = Callable[[float], None]
"""Called with the fraction done (0..1) after each chunk; raising from it aborts the run."""


def _chunks(steps: int, work_per_step: int,
            reverse: bool = False) -> list[tuple[int, int]]:
    """[start, stop) spans covering the steps, each small enough for progress reports (and
    cancellation) to come often even for huge layers."""
    size = max(1, min(CHUNK, CHUNK_WORK // max(work_per_step, 1)))
    spans = [(t, min(t + size, steps)) for t in range(0, steps, size)]
    return spans[::-1] if reverse else spans


def _as_array(name: str, value: Any, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A private contiguous copy of ``value`` as ``dtype`` with exactly ``shape``, else
    EngineError. Copying keeps the caller's arrays writable when a trace freezes its own."""
    try:
        a = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise EngineError(f"{name} must be numeric: {exc}") from None
    if a.dtype.kind not in "biuf":
        raise EngineError(f"{name} must be a numeric array, got dtype {a.dtype}")
    if a.shape != shape:
        raise EngineError(f"{name} must have shape {shape}, got {a.shape}")
    return np.array(a, dtype=dtype, order="C", copy=True)


class Network:
    """An RNN / LSTM / GRU stack with PyTorch's parameter names, layouts and equations.

    Parameters are a dict of arrays (see :meth:`state_dict`); a readout y_t = f(W_y h_t + b_y)
    on the top layer exists when ``output_size`` is given.
    """

    def __init__(self, cell: str = "lstm", input_size: int = 1, hidden_size: int = 16,
                 num_layers: int = 1, bias: bool = True, output_size: int | None = None,
                 readout: str = "identity", dtype: str = "float64", seed: int = 0,
                 init: str = "default", recurrent_scale: float | None = None,
                 forget_bias: float | None = None) -> None:
        self._config = NetworkConfig(
            cell=cell, input_size=input_size, hidden_size=hidden_size, num_layers=num_layers,
            bias=bias, output_size=output_size, readout=readout, dtype=str(np.dtype(dtype)),
            seed=seed, init=init, recurrent_scale=recurrent_scale, forget_bias=forget_bias,
        )
        self._dtype = np.dtype(self._config.dtype)
        cfg = self._config
        self._work_per_step = cfg.gate_count * cfg.hidden_size * (cfg.hidden_size + cfg.input_size)
        self._kernel = KERNELS[cell]
        self._params: dict[str, np.ndarray] = {}
        self._set_params(init_params(self._config))

    @classmethod
    def from_config(cls, config: NetworkConfig) -> Network:
        return cls(**config.to_dict())

    # ---- parameters -------------------------------------------------------------------------
    @property
    def config(self) -> NetworkConfig:
        return self._config

    @property
    def gate_names(self) -> tuple[str, ...]:
        return GATE_NAMES[self._config.cell]

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the parameters under PyTorch's names (weight_ih_l0, ..., readout.weight)."""
        return {k: v.copy() for k, v in self._params.items()}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Replace every parameter; keys and shapes must match exactly (errors name the key)."""
        shapes = expected_shapes(self._config)
        missing = [k for k in shapes if k not in state_dict]
        if missing:
            raise EngineError(f"state dict is missing {missing[0]!r} (expected keys: "
                              f"{', '.join(shapes)})")
        extra = [k for k in state_dict if k not in shapes]
        if extra:
            raise EngineError(f"unexpected key {extra[0]!r} in state dict")
        params = {}
        for key, shape in shapes.items():
            arr = _as_array(key, state_dict[key], shape, self._dtype)
            if not np.all(np.isfinite(arr)):
                raise EngineError(f"{key} holds NaN or Inf values")
            params[key] = arr
        self._set_params(params)

    def _set_params(self, params: dict[str, np.ndarray]) -> None:
        self._params = {k: np.ascontiguousarray(v, dtype=self._dtype) for k, v in params.items()}
        relu = self._config.cell == "rnn_relu"
        p = self._params
        self._layers = [
            LayerParams(p[f"weight_ih_l{k}"], p[f"weight_hh_l{k}"], p.get(f"bias_ih_l{k}"),
                        p.get(f"bias_hh_l{k}"), relu)
            for k in range(self._config.num_layers)
        ]

    # ---- forward ----------------------------------------------------------------------------
    def _initial(self, h0: Any, c0: Any) -> tuple[np.ndarray, np.ndarray | None]:
        cfg = self._config
        shape = (cfg.num_layers, cfg.hidden_size)
        h = np.zeros(shape, self._dtype) if h0 is None else _as_array("h0", h0, shape, self._dtype)
        c = None
        if cfg.cell == "lstm":
            c = (np.zeros(shape, self._dtype) if c0 is None
                 else _as_array("c0", c0, shape, self._dtype))
        elif c0 is not None:
            raise EngineError(f"c0 is only for LSTM networks, not {cfg.cell}")
        return h, c

    def _check_input(self, x: Any) -> np.ndarray:
        a = np.asarray(x)
        cfg = self._config
        if a.ndim != 2 or a.shape[1] != cfg.input_size:
            raise EngineError(f"x must have shape (T, {cfg.input_size}), got {a.shape}")
        if a.shape[0] > MAX_STEPS:
            raise EngineError(f"x has {a.shape[0]} steps; the limit is {MAX_STEPS}")
        return _as_array("x", a, a.shape, self._dtype)

    def forward(self, x: Any, h0: Any = None, c0: Any = None,
                progress: Progress | None = None, resume: Trace | None = None) -> Trace:
        """Run the whole sequence x (T, I) from h0, c0 (L, H) (zeros by default).

        ``resume``: a trace this network computed before with the same parameters and initial
        state; the steps before the first input that differs from it are copied, not recomputed
        (an edit at step t costs only the steps from t on).
        """
        x = self._check_input(x)
        h0, c0 = self._initial(h0, c0)
        cfg = self._config
        steps = x.shape[0]
        start = self._resume_step(resume, x, h0, c0)
        if start == steps and resume is not None:
            return resume
        buf = self._kernel.alloc(cfg.num_layers, steps, cfg.hidden_size, self._dtype)
        if start:
            for name, a in buf.items():
                a[:, :start] = resume.buffers[name][:, :start]
        inp = x
        spans = [(t0 + start, t1 + start)
                 for t0, t1 in _chunks(steps - start, self._work_per_step)]
        with np.errstate(all="ignore"), _BLAS.limit(limits=1, user_api="blas"):
            for k, p in enumerate(self._layers):
                h_prev, c_prev = h0[k], None if c0 is None else c0[k]
                if start:
                    h_prev = buf["h"][k, start - 1]
                    c_prev = None if c0 is None else buf["c"][k, start - 1]
                for n, (t0, t1) in enumerate(spans):
                    part = {name: a[k, t0:t1] for name, a in buf.items()}
                    self._kernel.forward(p, inp[t0:t1], h_prev, c_prev, part)
                    h_prev = part["h"][-1]
                    c_prev = part["c"][-1] if c0 is not None else None
                    if progress is not None:
                        progress((k * len(spans) + n + 1) / (len(self._layers) * len(spans)))
                inp = buf["h"][k]
            hidden, cell, gates = self._kernel.views(buf)
            logits = output = None
            if cfg.output_size is not None:
                logits = hidden[-1] @ self._params["readout.weight"].T
                logits += self._params["readout.bias"]
                output = apply_readout(logits, cfg.readout)
        for a in buf.values():
            freeze(a)
        return Trace(
            cell_type=cfg.cell, input=freeze(x), h0=freeze(h0), c0=freeze(c0),
            hidden=hidden, cell=cell, gates=readonly_mapping(dict(gates)),
            logits=freeze(logits), output=freeze(output),
            nonfinite_step=first_nonfinite(hidden, cell, output),
            buffers=readonly_mapping(dict(buf)),
        )

    def _resume_step(self, resume: Trace | None, x: np.ndarray, h0: np.ndarray,
                     c0: np.ndarray | None) -> int:
        """The first step that must be computed afresh when resuming from ``resume``."""
        if resume is None:
            return 0
        cfg = self._config
        if (resume.cell_type != cfg.cell or resume.input.shape != x.shape
                or resume.hidden.shape[0] != cfg.num_layers
                or resume.hidden.shape[2] != cfg.hidden_size
                or resume.input.dtype != self._dtype
                or not np.array_equal(resume.h0, h0)
                or (c0 is not None and not np.array_equal(resume.c0, c0))
                or (cfg.output_size is not None) != (resume.output is not None)):
            return 0
        changed = np.flatnonzero(np.any(resume.input != x, axis=1))
        return int(changed[0]) if changed.size else x.shape[0]

    def step(self, x_t: Any, state: State | None = None) -> tuple[State, StepRecord]:
        """Advance one timestep from ``state`` (None: zeros). x_t (I,)."""
        cfg = self._config
        x_t = _as_array("x_t", x_t, (cfg.input_size,), self._dtype)
        if state is None:
            h, c = self._initial(None, None)
        else:
            h, c = self._initial(state.h, state.c)
        new_h = np.empty_like(h)
        new_c = None if c is None else np.empty_like(c)
        gates = {name: np.empty_like(h) for name in self.gate_names}
        inp = x_t
        with np.errstate(all="ignore"):
            for k, p in enumerate(self._layers):
                hk, ck, gk = self._kernel.step(p, inp, h[k], None if c is None else c[k])
                new_h[k] = hk
                if new_c is not None:
                    new_c[k] = ck
                for name, v in gk.items():
                    gates[name][k] = v
                inp = hk
            output = None
            if cfg.output_size is not None:
                z = self._params["readout.weight"] @ inp + self._params["readout.bias"]
                output = apply_readout(z[None, :], cfg.readout)[0]
        return State(new_h, new_c), StepRecord(new_h.copy(), None if new_c is None
                                               else new_c.copy(), gates, output)

    # ---- backward ---------------------------------------------------------------------------
    def backward(self, trace: Trace, d_hidden: Any = None, d_output: Any = None,
                 d_h_n: Any = None, d_c_n: Any = None, *, d_logits: Any = None,
                 progress: Progress | None = None) -> Grads:
        """Backpropagation through time.

        d_hidden (T, H): dL/d(top-layer h_t) arriving from outside the recurrence (as the
        gradient of torch's ``output`` tensor); d_output (T, O): dL/dy; d_logits (T, O): dL/dz
        (instead of d_output); d_h_n, d_c_n (L, H): gradients of the final states.
        """
        cfg = self._config
        steps, hidden_size, layers = trace.steps, cfg.hidden_size, cfg.num_layers
        if trace.cell_type != cfg.cell or trace.hidden.shape[1:] != (steps, hidden_size) \
                or trace.hidden.shape[0] != layers:
            raise EngineError("trace does not come from a network of this shape")
        dt = self._dtype
        g = (np.zeros((steps, hidden_size), dt) if d_hidden is None
             else _as_array("d_hidden", d_hidden, (steps, hidden_size), dt))
        dz = None
        param_grads: dict[str, np.ndarray] = {}
        with np.errstate(all="ignore"):
            if d_output is not None or d_logits is not None:
                if cfg.output_size is None:
                    raise EngineError("d_output given but the network has no readout")
                oshape = (steps, cfg.output_size)
                if d_logits is not None:
                    dz = _as_array("d_logits", d_logits, oshape, dt)
                else:
                    dy = _as_array("d_output", d_output, oshape, dt)
                    dz = readout_backward(trace.output, dy, cfg.readout)
                g += dz @ self._params["readout.weight"]
                param_grads["readout.weight"] = dz.T @ trace.hidden[-1]
                param_grads["readout.bias"] = dz.sum(axis=0)
            elif cfg.output_size is not None:
                param_grads["readout.weight"] = np.zeros((cfg.output_size, hidden_size), dt)
                param_grads["readout.bias"] = np.zeros(cfg.output_size, dt)
            dhn = (np.zeros((layers, hidden_size), dt) if d_h_n is None
                   else _as_array("d_h_n", d_h_n, (layers, hidden_size), dt))
            dcn = None
            if cfg.cell == "lstm":
                dcn = (np.zeros((layers, hidden_size), dt) if d_c_n is None
                       else _as_array("d_c_n", d_c_n, (layers, hidden_size), dt))
            d_hid = np.empty((layers, steps, hidden_size), dt)
            d_cell = np.empty((layers, steps, hidden_size), dt) if dcn is not None else None
            d_h0 = np.empty((layers, hidden_size), dt)
            d_c0 = np.empty((layers, hidden_size), dt) if dcn is not None else None
            spans = _chunks(steps, self._work_per_step, reverse=True)
            pieces: list[tuple[int, LayerGrads]] = []
            blas = _BLAS.limit(limits=1, user_api="blas")
            for k in range(layers - 1, -1, -1):
                layer_in = trace.input if k == 0 else trace.hidden[k - 1]
                g_below = np.empty_like(layer_in)
                dh, dc = dhn[k], None if dcn is None else dcn[k]
                for n, (t0, t1) in enumerate(spans):
                    h_start = trace.h0[k] if t0 == 0 else trace.hidden[k, t0 - 1]
                    c_start = None
                    if dcn is not None:
                        c_start = trace.c0[k] if t0 == 0 else trace.cell[k, t0 - 1]
                    with blas:
                        res = self._kernel.backward(
                            self._layers[k], layer_in[t0:t1], h_start, c_start,
                            {name: a[k, t0:t1] for name, a in trace.buffers.items()},
                            g[t0:t1], dh, dc,
                        )
                    dh, dc = res.h0, res.c0
                    d_hid[k, t0:t1] = res.hidden
                    if d_cell is not None:
                        d_cell[k, t0:t1] = res.cell
                    g_below[t0:t1] = res.input
                    pieces.append((k, res))
                    if progress is not None:
                        done = (layers - 1 - k) * len(spans) + n + 1
                        progress(done / (layers * len(spans)))
                d_h0[k] = dh
                if d_c0 is not None:
                    d_c0[k] = dc
                g = g_below
        order = list(expected_shapes(cfg))

        def all_param_grads() -> dict[str, np.ndarray]:
            """Summed over chunks; computed only when someone asks for them."""
            out = dict(param_grads)
            with np.errstate(all="ignore"):
                for k, res in pieces:
                    for name, val in _param_grads(res, cfg.bias).items():
                        kind, part = name.split("_")
                        key = f"{'weight' if kind == 'w' else 'bias'}_{part}_l{k}"
                        out[key] = out[key] + val if key in out else val
            return {key: out[key] for key in order}

        return Grads(
            hidden=freeze(d_hid), cell=freeze(d_cell), input=freeze(g),
            h0=freeze(d_h0), c0=freeze(d_c0), d_logits=freeze(dz),
            nonfinite_step=first_nonfinite(d_hid, d_cell), params_fn=all_param_grads,
        )

    # ---- losses -----------------------------------------------------------------------------
    def loss(self, trace: Trace, target: Any, loss: str = "mse", where: str = "all",
             mask: Any = None) -> _losses.LossResult:
        """The loss of a trace's readout against ``target`` (see :mod:`rnnviz.engine.losses`)."""
        cfg = self._config
        if cfg.output_size is None:
            raise EngineError("a loss needs a readout: give the network an output_size")
        m = _losses.step_mask(trace.steps, where, mask)
        with np.errstate(all="ignore"):
            if loss == "mse":
                t = np.asarray(target, dtype=self._dtype)
                if t.ndim == 1 and cfg.output_size == 1:
                    t = t[:, None]
                return _losses.mse(trace.output, t, m)
            if loss == "ce":
                return _losses.cross_entropy(trace.logits, target, m)
        raise EngineError(f"loss must be 'mse' or 'ce', got {loss!r}")

    def loss_and_grads(self, x: Any, target: Any, loss: str = "mse", where: str = "all",
                       h0: Any = None, c0: Any = None,
                       mask: Any = None) -> tuple[float, Trace, Grads]:
        """Forward, loss and full BPTT in one call: returns (loss, trace, grads)."""
        trace = self.forward(x, h0, c0)
        res = self.loss(trace, target, loss, where, mask)
        if loss == "ce":
            grads = self.backward(trace, d_logits=res.grad)
        else:
            grads = self.backward(trace, d_output=res.grad)
        return res.total, trace, grads
