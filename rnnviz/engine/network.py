"""A stacked recurrent network with an optional readout: forward, step, BPTT, losses."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from rnnviz.engine import losses as _losses
from rnnviz.engine.activations import apply_readout, readout_backward
from rnnviz.engine.cells import GATE_NAMES, KERNELS
from rnnviz.engine.cells.base import LayerGrads, LayerParams
from rnnviz.engine.cells.base import param_grads as _param_grads
from rnnviz.engine.config import NetworkConfig, describe
from rnnviz.engine.errors import EngineError
from rnnviz.engine.init import expected_shapes, init_params
from rnnviz.engine.threads import single_blas_thread
from rnnviz.engine.trace import (
    Grads,
    State,
    StepRecord,
    Trace,
    all_finite,
    first_nonfinite,
    freeze,
    readonly_mapping,
)

MAX_STEPS = 10_000_000
CHUNK = 4096  # the most steps per kernel call; progress is reported (and can be cancelled)
CHUNK_WORK = 1 << 24  # per chunk, so a chunk holds about this many multiply-adds at most
# A batch's steps are bigger matmuls with less overhead each; its chunks may hold more work
# (about 10 ms of compute), as the cost of each chunk's setup is then well amortised.
BATCH_CHUNK_WORK = 1 << 27


Progress = Callable[[float], None]
"""Called with the fraction done (0..1) after each chunk; raising from it aborts the run."""


def _chunks(steps: int, work_per_step: int, reverse: bool = False,
            batched: bool = False) -> list[tuple[int, int]]:
    """[start, stop) spans covering the steps, each small enough for progress reports (and
    cancellation) to come often even for huge layers."""
    work = BATCH_CHUNK_WORK if batched else CHUNK_WORK
    size = max(1, min(CHUNK, work // max(work_per_step, 1)))
    spans = [(t, min(t + size, steps)) for t in range(0, steps, size)]
    return spans[::-1] if reverse else spans


def _checked(name: str, value: Any, shape: tuple[int, ...]) -> np.ndarray:
    """``value`` as a numeric array of exactly ``shape`` (not copied), else EngineError."""
    try:
        a = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise EngineError(f"{name} must be numeric: {' '.join(str(exc).split())}") from None
    if a.dtype.kind not in "biuf":
        raise EngineError(f"{name} must be a numeric array, got dtype {a.dtype}")
    if a.shape != shape:
        raise EngineError(f"{name} must have shape {shape}, got {a.shape}")
    return a


def _as_array(name: str, value: Any, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A private contiguous copy of ``value`` as ``dtype`` with exactly ``shape``, else
    EngineError. Copying keeps the caller's arrays writable when a trace freezes its own."""
    return np.array(_checked(name, value, shape), dtype=dtype, order="C", copy=True)


def _time_major(name: str, value: Any, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A batch-first array (B, T, ·) of exactly ``shape`` as a private time-major (T, B, ·)
    contiguous copy, the layout the batched kernels loop over."""
    return np.array(_checked(name, value, shape).swapaxes(0, 1), dtype=dtype, order="C")


_NETWORK_IDS = itertools.count()


class Network:
    """An RNN / LSTM / GRU stack with PyTorch's parameter names, layouts and equations.

    Parameters are a dict of arrays (see :meth:`state_dict`); a readout y_t = f(W_y h_t + b_y)
    on the top layer exists when ``output_size`` is given.

    Every method takes one sequence x (T, I) or a batch x (B, T, I) of equally long sequences;
    a batch gives, to round-off, what its sequences give one by one (see :class:`Trace` and
    :class:`Grads` for the batched shapes). The parameter arrays a network holds are read-only;
    change them with :meth:`set_params` or get a new network with :meth:`with_params`.
    """

    def __init__(self, cell: str = "lstm", input_size: int = 1, hidden_size: int = 16,
                 num_layers: int = 1, bias: bool = True, output_size: int | None = None,
                 readout: str = "identity", dtype: str = "float64", seed: int = 0,
                 init: str = "default", recurrent_scale: float | None = None,
                 forget_bias: float | None = None) -> None:
        try:
            dtype = str(np.dtype(dtype))
        except (TypeError, ValueError):
            pass  # refused with its value by NetworkConfig
        config = NetworkConfig(
            cell=cell, input_size=input_size, hidden_size=hidden_size, num_layers=num_layers,
            bias=bias, output_size=output_size, readout=readout, dtype=dtype,
            seed=seed, init=init, recurrent_scale=recurrent_scale, forget_bias=forget_bias,
        )
        self._setup(config)
        self._install(init_params(config))

    def _setup(self, config: NetworkConfig) -> None:
        self._config = config
        self._dtype = np.dtype(config.dtype)
        self._work_per_step = (config.gate_count * config.hidden_size
                               * (config.hidden_size + config.input_size))
        self._kernel = KERNELS[config.cell]
        self._id = next(_NETWORK_IDS)
        self._version = 0

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
        """The parameters under PyTorch's names (weight_ih_l0, ..., readout.weight), as
        read-only views: writing to them raises, and they cannot be made writable. Copy them
        (``{k: v.copy() ...}``) to edit, then :meth:`set_params`."""
        return {k: v.view() for k, v in self._params.items()}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Replace every parameter; keys and shapes must match exactly (errors name the key).
        The same as :meth:`set_params`."""
        self.set_params(state_dict)

    def set_params(self, params: Mapping[str, Any]) -> None:
        """Replace every parameter with private read-only copies of ``params`` (the state
        dict's keys and shapes exactly; finite values). The transposed and row-scaled copies the
        kernels cache are rebuilt, and traces computed before are no longer resumed from."""
        self._install(self._validated(params))
        self._version += 1

    def with_params(self, params: Mapping[str, Any]) -> Network:
        """A new network of the same configuration with ``params`` (validated as by
        :meth:`set_params`); it shares no mutable state with this one, which is unchanged."""
        net = object.__new__(Network)
        net._setup(self._config)
        net._install(self._validated(params))
        return net

    def _validated(self, params: Mapping[str, Any]) -> dict[str, np.ndarray]:
        if not isinstance(params, Mapping):
            raise EngineError(f"parameters must be a mapping of names to arrays, "
                              f"got {type(params).__name__}")
        shapes = expected_shapes(self._config)
        missing = [k for k in shapes if k not in params]
        if missing:
            raise EngineError(f"state dict is missing {missing[0]!r} (expected keys: "
                              f"{', '.join(shapes)})")
        extra = [k for k in params if k not in shapes]
        if extra:
            raise EngineError(f"unexpected key {describe(extra[0])} in state dict")
        out = {}
        for key, shape in shapes.items():
            arr = _as_array(key, params[key], shape, self._dtype)
            if not np.all(np.isfinite(arr)):
                raise EngineError(f"{key} holds NaN or Inf values")
            out[key] = arr
        return out

    def _install(self, params: dict[str, np.ndarray]) -> None:
        """Take ownership of ``params`` (fresh arrays of the network's dtype): freeze them and
        build new per-layer parameters, whose cached derived copies start empty."""
        self._params = {k: freeze(np.ascontiguousarray(v, dtype=self._dtype))
                        for k, v in params.items()}
        relu = self._config.cell == "rnn_relu"
        p = self._params
        self._layers = [
            LayerParams(p[f"weight_ih_l{k}"], p[f"weight_hh_l{k}"], p.get(f"bias_ih_l{k}"),
                        p.get(f"bias_hh_l{k}"), relu)
            for k in range(self._config.num_layers)
        ]

    @property
    def _params_key(self) -> tuple[int, int]:
        return (self._id, self._version)

    # ---- forward ----------------------------------------------------------------------------
    def _initial(self, h0: Any, c0: Any,
                 batch: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """h0, c0 as (L, H), or (L, B, H) with a batch; zeros when None."""
        cfg = self._config
        shape = ((cfg.num_layers, cfg.hidden_size) if batch is None
                 else (cfg.num_layers, batch, cfg.hidden_size))
        h = np.zeros(shape, self._dtype) if h0 is None else _as_array("h0", h0, shape, self._dtype)
        c = None
        if cfg.cell == "lstm":
            c = (np.zeros(shape, self._dtype) if c0 is None
                 else _as_array("c0", c0, shape, self._dtype))
        elif c0 is not None:
            raise EngineError(f"c0 is only for LSTM networks, not {cfg.cell}")
        return h, c

    def _check_input(self, x: Any) -> np.ndarray:
        """A private copy of x (T, I), or of a batch (B, T, I) in time-major order (T, B, I)."""
        try:
            a = np.asarray(x)
        except (TypeError, ValueError) as exc:
            raise EngineError(f"x must be numeric: {' '.join(str(exc).split())}") from None
        cfg = self._config
        if a.ndim not in (2, 3) or a.shape[-1] != cfg.input_size:
            raise EngineError(f"x must have shape (T, {cfg.input_size}) or "
                              f"(B, T, {cfg.input_size}), got {a.shape}")
        steps = a.shape[-2]
        if steps > MAX_STEPS:
            raise EngineError(f"x has {steps} steps; the limit is {MAX_STEPS}")
        if a.ndim == 2:
            return _as_array("x", a, a.shape, self._dtype)
        if a.shape[0] == 0:
            raise EngineError("x must hold at least one sequence, got a batch of 0")
        if a.shape[0] * steps > MAX_STEPS:
            raise EngineError(f"x has {a.shape[0]} x {steps} steps; the limit is {MAX_STEPS}")
        return _time_major("x", a, a.shape, self._dtype)

    def forward(self, x: Any, h0: Any = None, c0: Any = None,
                progress: Progress | None = None, resume: Trace | None = None) -> Trace:
        """Run the whole sequence x (T, I) from h0, c0 (L, H) (zeros by default); or a batch
        x (B, T, I) from h0, c0 (L, B, H), each sequence independently.

        ``resume``: a trace this network computed before with the same parameters and initial
        state; the steps before the first input that differs from it are copied, not recomputed
        (an edit at step t costs only the steps from t on; with a batch, t is the first step at
        which any sequence differs).
        """
        xs = self._check_input(x)  # (T, I) or time-major (T, B, I)
        batch = xs.shape[1] if xs.ndim == 3 else None
        h0, c0 = self._initial(h0, c0, batch)
        cfg = self._config
        steps = xs.shape[0]
        start = self._resume_step(resume, xs, h0, c0)
        if start == steps and resume is not None:
            return resume
        buf = self._kernel.alloc(cfg.num_layers, steps, cfg.hidden_size, self._dtype, batch)
        if start:
            for name, a in buf.items():
                a[:, :start] = resume.buffers[name][:, :start]
        run = self._kernel.forward if batch is None else self._kernel.forward_batch
        inp = xs
        spans = [(t0 + start, t1 + start)
                 for t0, t1 in _chunks(steps - start, self._work_per_step * (batch or 1),
                                       batched=batch is not None)]
        with np.errstate(all="ignore"), single_blas_thread():
            for k, p in enumerate(self._layers):
                h_prev, c_prev = h0[k], None if c0 is None else c0[k]
                if start:
                    h_prev = buf["h"][k, start - 1]
                    c_prev = None if c0 is None else buf["c"][k, start - 1]
                for n, (t0, t1) in enumerate(spans):
                    part = {name: a[k, t0:t1] for name, a in buf.items()}
                    run(p, inp[t0:t1], h_prev, c_prev, part)
                    h_prev = part["h"][-1]
                    c_prev = part["c"][-1] if c0 is not None else None
                    if progress is not None:
                        progress((k * len(spans) + n + 1) / (len(self._layers) * len(spans)))
                inp = buf["h"][k]
            hidden, cell, gates = self._kernel.views(buf, batch is not None)
            logits = output = None
            if cfg.output_size is not None:
                weight, bias = self._params["readout.weight"], self._params["readout.bias"]
                if batch is None:
                    logits = hidden[-1] @ weight.T
                    logits += bias
                else:  # from the time-major top layer, one matmul over every step
                    top = buf["h"][-1].reshape(steps * batch, cfg.hidden_size)
                    z = top @ weight.T
                    z += bias
                    logits = freeze(z).reshape(steps, batch, cfg.output_size).swapaxes(0, 1)
                output = apply_readout(logits, cfg.readout)
        for a in (*buf.values(), xs, logits):
            freeze(a)  # views taken before were writable: freeze them too
        return Trace(
            cell_type=cfg.cell, input=freeze(xs if batch is None else xs.swapaxes(0, 1)),
            h0=freeze(h0), c0=freeze(c0),
            hidden=freeze(hidden), cell=freeze(cell), gates=readonly_mapping(dict(gates)),
            logits=freeze(logits), output=freeze(output),
            # (the contiguous buffers are summed faster than the batch-first views)
            nonfinite_step=(None if all_finite(buf["h"], buf.get("c"), output)
                            else first_nonfinite(hidden, cell, output)),
            buffers=readonly_mapping(dict(buf)), params_key=self._params_key,
        )

    def _resume_step(self, resume: Trace | None, xs: np.ndarray, h0: np.ndarray,
                     c0: np.ndarray | None) -> int:
        """The first step that must be computed afresh when resuming from ``resume``;
        ``xs`` is (T, I) or time-major (T, B, I)."""
        if resume is None:
            return 0
        cfg = self._config
        old = resume.input if resume.batch_size is None else resume.input.swapaxes(0, 1)
        if (resume.params_key != self._params_key
                or resume.cell_type != cfg.cell or old.shape != xs.shape
                or resume.hidden.shape[0] != cfg.num_layers
                or resume.hidden.shape[-1] != cfg.hidden_size
                or resume.input.dtype != self._dtype
                or not np.array_equal(resume.h0, h0)
                or (c0 is not None and not np.array_equal(resume.c0, c0))
                or (cfg.output_size is not None) != (resume.output is not None)):
            return 0
        differs = old != xs
        changed = np.flatnonzero(differs.reshape(xs.shape[0], -1).any(axis=1))
        return int(changed[0]) if changed.size else xs.shape[0]

    def step(self, x_t: Any, state: State | None = None) -> tuple[State, StepRecord]:
        """Advance one sequence one timestep from ``state`` (None: zeros). x_t (I,); the state
        h, c (L, H). (Batches run whole sequences through :meth:`forward`.)"""
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
        (instead of d_output); d_h_n, d_c_n (L, H): gradients of the final states. For a
        batched trace: d_hidden (B, T, H), d_output and d_logits (B, T, O), d_h_n and d_c_n
        (L, B, H); the parameter gradients are summed over the batch.
        """
        cfg = self._config
        steps, hidden_size, layers = trace.steps, cfg.hidden_size, cfg.num_layers
        batch = trace.batch_size
        lead = () if batch is None else (batch,)
        if (trace.cell_type != cfg.cell or trace.hidden.shape != (layers, *lead, steps,
                                                                  hidden_size)
                or trace.input.shape[-1] != cfg.input_size or trace.input.dtype != self._dtype):
            raise EngineError("trace does not come from a network of this shape")
        if (trace.params_key is not None and trace.params_key[0] == self._id
                and trace.params_key[1] != self._version):
            raise EngineError("trace was computed with this network's earlier parameters; "
                              "run forward again")
        dt = self._dtype

        def per_step(name: str, value: Any, width: int) -> np.ndarray:
            """(T, width), or a batch's (B, T, width) as time-major (T, B, width)."""
            if batch is None:
                return _as_array(name, value, (steps, width), dt)
            return _time_major(name, value, (batch, steps, width), dt)

        def final(name: str, value: Any) -> np.ndarray:
            shape = (layers, *lead, hidden_size)
            return np.zeros(shape, dt) if value is None else _as_array(name, value, shape, dt)

        g = (np.zeros((steps, *lead, hidden_size), dt) if d_hidden is None
             else per_step("d_hidden", d_hidden, hidden_size))
        dz = None
        param_grads: dict[str, np.ndarray] = {}
        with np.errstate(all="ignore"), single_blas_thread():
            if d_output is not None or d_logits is not None:
                if cfg.output_size is None:
                    raise EngineError("d_output given but the network has no readout")
                if d_logits is not None:
                    dz = per_step("d_logits", d_logits, cfg.output_size)
                else:
                    dy = per_step("d_output", d_output, cfg.output_size)
                    y = trace.output if batch is None else trace.output.swapaxes(0, 1)
                    dz = readout_backward(y, dy, cfg.readout)
                weight = self._params["readout.weight"]
                top = trace.buffers["h"][-1]  # (T, H) or time-major (T, B, H)
                if batch is None:
                    g += dz @ weight
                    param_grads["readout.weight"] = dz.T @ top
                    param_grads["readout.bias"] = dz.sum(axis=0)
                else:
                    dz_flat = dz.reshape(steps * batch, cfg.output_size)
                    g += (dz_flat @ weight).reshape(g.shape)
                    param_grads["readout.weight"] = (
                        dz_flat.T @ top.reshape(steps * batch, hidden_size))
                    param_grads["readout.bias"] = dz_flat.sum(axis=0)
                    dz = freeze(dz).swapaxes(0, 1)  # batch-first, read-only to its base
            elif cfg.output_size is not None:
                param_grads["readout.weight"] = np.zeros((cfg.output_size, hidden_size), dt)
                param_grads["readout.bias"] = np.zeros(cfg.output_size, dt)
            dhn = final("d_h_n", d_h_n)
            dcn = final("d_c_n", d_c_n) if cfg.cell == "lstm" else None
            if cfg.cell != "lstm" and d_c_n is not None:
                raise EngineError(f"d_c_n is only for LSTM networks, not {cfg.cell}")
            d_hid = np.empty((layers, steps, *lead, hidden_size), dt)
            d_cell = np.empty_like(d_hid) if dcn is not None else None
            d_h0 = np.empty((layers, *lead, hidden_size), dt)
            d_c0 = np.empty_like(d_h0) if dcn is not None else None
            spans = _chunks(steps, self._work_per_step * (batch or 1), reverse=True,
                            batched=batch is not None)
            pieces: list[tuple[int, LayerGrads]] = []
            run = self._kernel.backward if batch is None else self._kernel.backward_batch
            x_in = trace.input if batch is None else trace.input.swapaxes(0, 1)
            for k in range(layers - 1, -1, -1):
                layer_in = x_in if k == 0 else trace.buffers["h"][k - 1]
                g_below = np.empty_like(layer_in)
                dh, dc = dhn[k], None if dcn is None else dcn[k]
                for n, (t0, t1) in enumerate(spans):
                    h_start = trace.h0[k] if t0 == 0 else trace.buffers["h"][k, t0 - 1]
                    c_start = None
                    if dcn is not None:
                        c_start = trace.c0[k] if t0 == 0 else trace.buffers["c"][k, t0 - 1]
                    args = (self._layers[k], layer_in[t0:t1], h_start, c_start,
                            {name: a[k, t0:t1] for name, a in trace.buffers.items()},
                            g[t0:t1], dh, dc)
                    if batch is None:
                        res = run(*args)
                    else:  # the batched kernels write into the results directly
                        dest = {"hidden": d_hid[k, t0:t1]}
                        if d_cell is not None:
                            dest["cell"] = d_cell[k, t0:t1]
                        res = run(*args, out=dest)
                    dh, dc = res.h0, res.c0
                    if batch is None:
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
        for a in (d_hid, d_cell, g, dz):
            freeze(a)
        finite = all_finite(d_hid, d_cell)  # on the contiguous arrays, before any view
        if batch is not None:  # batch-first (read-only) views of the time-major results
            d_hid = d_hid.swapaxes(1, 2)
            d_cell = None if d_cell is None else d_cell.swapaxes(1, 2)
            g = g.swapaxes(0, 1)
        shapes = expected_shapes(cfg)

        def all_param_grads() -> dict[str, np.ndarray]:
            """Summed over chunks; computed only when someone asks for them."""
            out = dict(param_grads)
            with np.errstate(all="ignore"), single_blas_thread():
                for k, res in pieces:
                    for name, val in _param_grads(res, cfg.bias).items():
                        kind, part = name.split("_")
                        key = f"{'weight' if kind == 'w' else 'bias'}_{part}_l{k}"
                        out[key] = out[key] + val if key in out else val
            # (a run of no steps has nothing to sum: its parameter gradients are zero)
            return {key: out[key] if key in out else np.zeros(shape, dt)
                    for key, shape in shapes.items()}

        return Grads(
            hidden=freeze(d_hid), cell=freeze(d_cell), input=freeze(g),
            h0=freeze(d_h0), c0=freeze(d_c0), d_logits=freeze(dz),
            nonfinite_step=None if finite else first_nonfinite(d_hid, d_cell),
            params_fn=all_param_grads,
        )

    # ---- losses -----------------------------------------------------------------------------
    def loss(self, trace: Trace, target: Any, loss: str = "mse", where: str = "all",
             mask: Any = None) -> _losses.LossResult:
        """The loss of a trace's readout against ``target`` (see :mod:`rnnviz.engine.losses`).

        One sequence: target (T, O) for "mse" ((T,) when O = 1), class indices (T,) for "ce";
        mask (T,). A batch: target (B, T, O) ((B, T) when O = 1) or class indices (B, T); with
        ``where="last"`` also just the last step's, (B, O) or (B,). mask (B, T) bool, True at
        the steps that carry a target. The loss is torch's reduction="mean" over the counted
        steps of the whole batch (see the losses module).
        """
        cfg = self._config
        if cfg.output_size is None:
            raise EngineError("a loss needs a readout: give the network an output_size")
        batch, steps, out = trace.batch_size, trace.steps, cfg.output_size
        m = _losses.step_mask(steps, where, mask, batch)
        # A batch's targets at the last step only may come as one row per sequence.
        last_only = batch is not None and where == "last" and (steps != 1 or out != 1)
        with np.errstate(all="ignore"):
            if loss == "mse":
                try:
                    t = np.asarray(target, dtype=self._dtype)
                except (TypeError, ValueError) as exc:
                    raise EngineError(f"mse targets must be numbers: "
                                      f"{' '.join(str(exc).split())}") from None
                if last_only and t.shape == (batch, out):
                    full = np.zeros((batch, steps, out), self._dtype)
                    full[:, -1] = t
                    t = full
                if t.ndim == trace.output.ndim - 1 and out == 1:
                    t = t[..., None]
                return _losses.mse(trace.output, t, m)
            if loss == "ce":
                t = np.asarray(target)
                if last_only and t.shape == (batch,) and steps:
                    full = np.zeros((batch, steps), t.dtype)
                    full[:, -1] = t
                    t = full
                return _losses.cross_entropy(trace.logits, t, m)
        raise EngineError(f"loss must be 'mse' or 'ce', got {describe(loss)}")

    def loss_and_grads(self, x: Any, target: Any, loss: str = "mse", where: str = "all",
                       h0: Any = None, c0: Any = None,
                       mask: Any = None) -> tuple[float, Trace, Grads]:
        """Forward, loss and full BPTT in one call: returns (loss, trace, grads).

        x (T, I) or a batch (B, T, I); target and mask as for :meth:`loss`. With a batch the
        loss is the mean over the batch's counted steps (torch's reduction="mean") and
        ``grads.params`` its gradient, summed over the sequences.
        """
        if loss not in _losses.LOSSES:
            raise EngineError(f"loss must be 'mse' or 'ce', got {describe(loss)}")
        trace = self.forward(x, h0, c0)
        res = self.loss(trace, target, loss, where, mask)
        if loss == "ce":
            grads = self.backward(trace, d_logits=res.grad)
        else:
            grads = self.backward(trace, d_output=res.grad)
        return res.total, trace, grads
