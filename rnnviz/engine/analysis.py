"""Why a recurrent network forgets: state Jacobians, the influence of every input on every later
step, Jacobian products against distance, recurrent spectra, a memory horizon, perturbations.

The recurrent state
-------------------
s_t stacks every layer's state after step t in the order (h_l0, c_l0, h_l1, c_l1, ...) — the c
blocks only for an LSTM — so S = L·H, or 2·L·H for an LSTM. s_{-1} is the initial state
(trace.h0, trace.c0). See :func:`state_trajectory`.

One step maps s_{t-1} to s_t given x_t. Layer l at step t reads layer l-1's h_t of the *same*
step, so ``J[t] = ds_t/ds_{t-1}`` is the total derivative through that within-step chain: layer
l's rows are its own recurrence ∂s^l_t/∂s^l_{t-1} plus ∂s^l_t/∂h^{l-1}_t · ds^{l-1}_t/ds_{t-1}
(block lower triangular). Products then compose exactly: ds_t/ds_k = J[t] J[t-1] ... J[k+1].

How the numbers are computed
----------------------------
Everything reads only the network's public parameters (``state_dict()``, ``config``) and the
trace's public arrays (input, h0, c0, hidden, cell). Each step's gates are recomputed from them
in float64 for all steps at once — one matmul per layer — and checked against the trace, so a
trace from other weights is refused instead of giving wrong answers.

A step's derivative is kept compact. For an LSTM, u = [u_c; u_o] (2H) with
u_c = Σ_{i,f,g} κ_gate ⊙ (W_gate · δ), u_o = κ_o ⊙ (W_o · δ); then δc_t = f_t ⊙ δc_{t-1} + u_c,
δh_t = u_o + κ_h ⊙ δc_t. The gate coefficients κ are folded into the weights once per step
(an effective (2H, H) matrix instead of the (4H, H) W_hh), so a tangent costs 2H² multiply-adds
per step, not 4H² (a GRU: H² instead of 3H²) and ∂c_t/∂c_{t-1} = diag(f_t) is a scaling.

:func:`influence` runs forward mode (tangents ∂s_t/∂x_k for every source k at once, one matmul
per step and layer over all of them) or reverse mode (adjoints ∂(h_t or y_t)/∂s_k for every
output step at once), whichever needs fewer multiply-adds for the network (see
:func:`influence_plan`). Both shrink wide inputs: ‖K F‖_F = ‖K Rᵀ‖_F for Fᵀ = QR, so one-hot text
over 60+ channels propagates at most rank(F) ≤ 2H (LSTM) or H directions per source.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import ThreadpoolController

from rnnviz.engine.activations import sigmoid
from rnnviz.engine.errors import EngineError
from rnnviz.engine.network import Network
from rnnviz.engine.trace import Trace

__all__ = [
    "BlockSpectrum",
    "InfluencePlan",
    "JacobianNorms",
    "LayerSpectrum",
    "LayerWeights",
    "Linearisation",
    "MemoryHorizon",
    "Perturbation",
    "assemble_jacobians",
    "forget_products",
    "influence",
    "influence_plan",
    "initial_state",
    "input_jacobian",
    "jacobian_norms",
    "join_state",
    "layer_weights",
    "linearise",
    "memory_horizon",
    "perturbation",
    "recurrent_spectrum",
    "single_threaded",
    "split_state",
    "stacked_factors",
    "state_jacobians",
    "state_size",
    "state_trajectory",
    "step_jacobian",
    "step_singular_values",
]

Progress = Callable[[float], None]
"""Called with the fraction done (0..1) now and then; raising from it aborts the computation."""

MAX_INFLUENCE_STEPS = 5000  # M is (T, T) float64: 200 MB at this length
MAX_RESULT_BYTES = 1 << 30  # the most a returned stack of Jacobians may take
MAX_WORK_BYTES = 2 << 30  # the most the per-step derivatives of a run may take
_WORK_BYTES = 1 << 20  # working buffers of one sweep chunk: sized to stay in L2
_FACTOR_CACHE_BYTES = 32 << 20  # below this, every step's factors are formed once per call
_BLOCK_BYTES = 4 << 20  # per-step factors formed this many bytes at a time
_OF = ("hidden", "output")
_MODES = ("auto", "forward", "reverse")

# The matmuls here are mid-sized and many; on a shared two-core machine a second BLAS thread
# mostly spins (a batched solve measured 17x slower with two threads under load), so the
# heavy functions run BLAS single-threaded, as the network's own loops do.
_BLAS = ThreadpoolController()


def single_threaded(fn):
    """Run ``fn`` with BLAS limited to one thread (and floating-point warnings off)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with _BLAS.limit(limits=1, user_api="blas"), np.errstate(all="ignore"):
            return fn(*args, **kwargs)
    return wrapper


# ==== parameters and the linearised step (shared with rnnviz.engine.dynamics) =================
@dataclass(frozen=True)
class LayerWeights:
    """One layer's parameters in float64, PyTorch's layout: w_ih (G·H, In), w_hh (G·H, H),
    b_ih, b_hh (G·H,) (zeros without bias); w_ih_t, w_hh_t their row-major transposes."""

    w_ih: np.ndarray
    w_hh: np.ndarray
    b_ih: np.ndarray
    b_hh: np.ndarray
    w_ih_t: np.ndarray
    w_hh_t: np.ndarray

    @property
    def inputs(self) -> int:
        return self.w_ih.shape[1]


def layer_weights(net: Network) -> tuple[LayerWeights, ...]:
    """Every layer's parameters from ``net.state_dict()``, as float64."""
    cfg = net.config
    sd = net.state_dict()
    out = []
    for k in range(cfg.num_layers):
        w_ih = np.asarray(sd[f"weight_ih_l{k}"], np.float64)
        w_hh = np.asarray(sd[f"weight_hh_l{k}"], np.float64)
        if cfg.bias:
            b_ih = np.asarray(sd[f"bias_ih_l{k}"], np.float64)
            b_hh = np.asarray(sd[f"bias_hh_l{k}"], np.float64)
        else:
            b_ih = b_hh = np.zeros(w_hh.shape[0])
        out.append(LayerWeights(w_ih, w_hh, b_ih, b_hh, np.ascontiguousarray(w_ih.T),
                                np.ascontiguousarray(w_hh.T)))
    return tuple(out)


@dataclass(frozen=True)
class Linearisation:
    """One layer's step at N points, and its derivative in compact form.

    h, c (N, H): the new state (c None unless LSTM). The step's tangent, for input and
    recurrent tangents δin (In,) and δh (H,): u = Σ_parts (sx ⊙ W_ih δin + sh ⊙ W_hh δh) summed
    over each part's gate blocks — parts (c, o) for an LSTM, one part otherwise; sx, sh (N, G·H)
    scale W_ih's and W_hh's rows. Then δh_t = u (+ diag ⊙ δh_{t-1} for a GRU, diag = z);
    for an LSTM δc_t = f ⊙ δc_{t-1} + u_c and δh_t = u_o + kout ⊙ δc_t.
    """

    h: np.ndarray
    c: np.ndarray | None
    sx: np.ndarray
    sh: np.ndarray
    diag: np.ndarray | None = None
    f: np.ndarray | None = None
    kout: np.ndarray | None = None


def linearise(cell: str, lw: LayerWeights, inp: np.ndarray, h_prev: np.ndarray,
              c_prev: np.ndarray | None) -> Linearisation:
    """One step of a layer at N points, with PyTorch's equations: inp (N, In), h_prev and
    c_prev (N, H) (c_prev only for an LSTM)."""
    hidden = lw.w_hh.shape[1]
    if cell in ("rnn_tanh", "rnn_relu"):
        a = inp @ lw.w_ih_t
        a += h_prev @ lw.w_hh_t
        a += lw.b_ih + lw.b_hh
        if cell == "rnn_relu":
            h = np.maximum(a, 0.0)
            d = (a > 0).astype(np.float64)
        else:
            h = np.tanh(a)
            d = 1.0 - h * h
        return Linearisation(h, None, d, d)
    if cell == "lstm":
        a = inp @ lw.w_ih_t
        a += h_prev @ lw.w_hh_t
        a += lw.b_ih + lw.b_hh
        i = sigmoid(a[:, :hidden])
        f = sigmoid(a[:, hidden:2 * hidden])
        g = np.tanh(a[:, 2 * hidden:3 * hidden])
        o = sigmoid(a[:, 3 * hidden:])
        c = f * c_prev + i * g
        tc = np.tanh(c)
        h = o * tc
        s = np.empty_like(a)
        s[:, :hidden] = i * (1.0 - i) * g
        s[:, hidden:2 * hidden] = f * (1.0 - f) * c_prev
        s[:, 2 * hidden:3 * hidden] = (1.0 - g * g) * i
        s[:, 3 * hidden:] = o * (1.0 - o) * tc
        return Linearisation(h, c, s, s, f=f, kout=o * (1.0 - tc * tc))
    if cell == "gru":
        gx = inp @ lw.w_ih_t
        gx += lw.b_ih
        gh = h_prev @ lw.w_hh_t
        gh += lw.b_hh
        h2 = 2 * hidden
        r = sigmoid(gx[:, :hidden] + gh[:, :hidden])
        z = sigmoid(gx[:, hidden:h2] + gh[:, hidden:h2])
        ghn = gh[:, h2:]
        n = np.tanh(gx[:, h2:] + r * ghn)
        h = (1.0 - z) * n + z * h_prev
        kn = (1.0 - z) * (1.0 - n * n)
        kr = kn * ghn * r * (1.0 - r)
        kz = (h_prev - n) * z * (1.0 - z)
        return Linearisation(h, None, np.concatenate([kr, kz, kn], axis=1),
                             np.concatenate([kr, kz, kn * r], axis=1), diag=z)
    raise EngineError(f"unknown cell type {cell!r}")


def _parts(cell: str) -> int:
    return 2 if cell == "lstm" else 1


def stacked_factors(cell: str, lw: LayerWeights, lin_sx: np.ndarray, lin_sh: np.ndarray,
                    diag: np.ndarray | None, out: np.ndarray | None = None) -> np.ndarray:
    """The effective step matrices at N points, transposed and stacked: (N, In + H, P·H) with
    rows [Fᵀ; Eᵀ], u = F δin + E δh (u as in :class:`Linearisation`, P = 2 parts for an LSTM,
    1 otherwise; a GRU's diag is folded into E). ``out``: an optional buffer to reuse."""
    n = lin_sx.shape[0]
    n_in = lw.inputs
    hidden = lw.w_hh.shape[1]
    gh = lw.w_hh.shape[0]
    rows = n_in + hidden
    if out is None:
        out = np.empty((n, rows, _parts(cell) * hidden))
    if cell in ("rnn_tanh", "rnn_relu"):
        np.multiply(lw.w_ih_t, lin_sx[:, None, :], out=out[:, :n_in])
        np.multiply(lw.w_hh_t, lin_sh[:, None, :], out=out[:, n_in:])
        return out
    # Σ over the part's gate blocks of W rows scaled per step, as one einsum per row group
    wx = lw.w_ih_t.reshape(n_in, gh // hidden, hidden)
    wh = lw.w_hh_t.reshape(hidden, gh // hidden, hidden)
    sx = lin_sx.reshape(n, gh // hidden, hidden)
    sh = lin_sh.reshape(n, gh // hidden, hidden)
    np.einsum("jgh,ngh->njh", wx[:, :3], sx[:, :3], out=out[:, :n_in, :hidden])
    np.einsum("jgh,ngh->njh", wh[:, :3], sh[:, :3], out=out[:, n_in:, :hidden])
    if cell == "lstm":
        np.multiply(wx[None, :, 3], sx[:, None, 3], out=out[:, :n_in, hidden:])
        np.multiply(wh[None, :, 3], sh[:, None, 3], out=out[:, n_in:, hidden:])
    else:
        idx = np.arange(hidden)
        out[:, n_in + idx, idx] += diag
    return out


def assemble_jacobians(cell: str, layers: Sequence[LayerWeights],
                       lins: Sequence[Linearisation]) -> np.ndarray:
    """The whole-state step Jacobians (N, S, S) from each layer's linearisation at N points,
    through the within-step chain (see the module docstring)."""
    hidden = layers[0].w_hh.shape[1]
    lstm = cell == "lstm"
    width = 2 * hidden if lstm else hidden
    n = lins[0].h.shape[0]
    size = width * len(layers)
    jac = np.zeros((n, size, size))
    idx = np.arange(hidden)
    for k, (lw, lin) in enumerate(zip(layers, lins, strict=True)):
        g = stacked_factors(cell, lw, lin.sx, lin.sh, lin.diag)
        n_in = lw.inputs
        o = k * width
        if lstm:
            kout = lin.kout[:, None, :]
            hh = g[:, n_in:, hidden:] + g[:, n_in:, :hidden] * kout  # (E_o + kout E_c)ᵀ
            h_in = g[:, :n_in, hidden:] + g[:, :n_in, :hidden] * kout
            jac[:, o:o + hidden, o:o + hidden] = hh.transpose(0, 2, 1)
            jac[:, o + idx, o + hidden + idx] = lin.kout * lin.f
            jac[:, o + hidden:o + width, o:o + hidden] = g[:, n_in:, :hidden].transpose(0, 2, 1)
            jac[:, o + hidden + idx, o + hidden + idx] = lin.f
            b_in = np.concatenate([h_in, g[:, :n_in, :hidden]], axis=2).transpose(0, 2, 1)
        else:
            jac[:, o:o + hidden, o:o + hidden] = g[:, n_in:].transpose(0, 2, 1)
            b_in = g[:, :n_in].transpose(0, 2, 1)
        if k:
            below = jac[:, o - width:o - width + hidden, :]  # ds^{l-1}_h/ds_{t-1}, (N, H, S)
            jac[:, o:o + width, :] += b_in @ below
    return jac


def state_size(config) -> int:
    """S for a network configuration: L·H, or 2·L·H for an LSTM."""
    return config.num_layers * config.hidden_size * (2 if config.cell == "lstm" else 1)


def split_state(config, s: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(h, c) of whole states s (..., S): h and c (..., L, H), c None unless LSTM."""
    layers, hidden = config.num_layers, config.hidden_size
    if config.cell == "lstm":
        blocks = s.reshape(*s.shape[:-1], layers, 2, hidden)
        return blocks[..., 0, :], blocks[..., 1, :]
    return s.reshape(*s.shape[:-1], layers, hidden), None


def join_state(h: np.ndarray, c: np.ndarray | None) -> np.ndarray:
    """Whole states (..., S) from h and c (..., L, H) (c None unless LSTM)."""
    size = h.shape[-2] * h.shape[-1] * (1 if c is None else 2)
    if c is None:
        return h.reshape(*h.shape[:-2], size).copy()
    return np.stack([h, c], axis=-2).reshape(*h.shape[:-2], size)


# ==== a trace, re-linearised ==================================================================
def _check_net(net: Network) -> None:
    if not isinstance(net, Network):
        raise EngineError(f"expected a Network, got {type(net).__name__}")


class _Run:
    """A network and one of its traces, linearised at every step (float64)."""

    def __init__(self, net: Network, trace: Trace) -> None:
        _check_net(net)
        if not isinstance(trace, Trace):
            raise EngineError(f"expected a Trace, got {type(trace).__name__}")
        cfg = net.config
        self.cfg = cfg
        self.cell = cfg.cell
        self.lstm = cfg.cell == "lstm"
        self.layers_n, self.hidden, self.inputs = cfg.num_layers, cfg.hidden_size, cfg.input_size
        steps = trace.input.shape[0] if np.ndim(trace.input) == 2 else -1
        if (trace.cell_type != cfg.cell or np.shape(trace.input) != (steps, cfg.input_size)
                or np.shape(trace.hidden) != (cfg.num_layers, steps, cfg.hidden_size)):
            raise EngineError("trace does not come from a network of this shape")
        if trace.nonfinite_step is not None:
            raise EngineError(f"the run holds NaN or Inf from step {trace.nonfinite_step} on; "
                              "its derivatives are undefined")
        self.steps = steps
        self.width = (2 if self.lstm else 1) * self.hidden
        self.size = self.width * self.layers_n
        need = 8 * steps * cfg.num_layers * (2 * cfg.gate_count + 4) * cfg.hidden_size
        if need > MAX_WORK_BYTES:
            raise EngineError(f"analysing {steps} steps of this network needs "
                              f"{need / 2**30:.1f} GiB of per-step derivatives; use a shorter "
                              "sequence")
        self.layers = layer_weights(net)
        x = np.asarray(trace.input, np.float64)
        hid = np.asarray(trace.hidden, np.float64)
        h0 = np.asarray(trace.h0, np.float64)
        cel = np.asarray(trace.cell, np.float64) if self.lstm else None
        c0 = np.asarray(trace.c0, np.float64) if self.lstm else None
        self.x, self.hid, self.cel, self.h0, self.c0 = x, hid, cel, h0, c0
        tol = 1e-9 if np.asarray(trace.hidden).dtype == np.float64 else 2e-3
        self.lins: list[Linearisation] = []
        inp = x
        for k, lw in enumerate(self.layers):
            h_prev = _shifted(h0[k], hid[k])
            c_prev = _shifted(c0[k], cel[k]) if self.lstm else None
            lin = linearise(self.cell, lw, inp, h_prev, c_prev)
            for name, mine, theirs in (("h", lin.h, hid[k]),
                                       ("c", lin.c, None if cel is None else cel[k])):
                if theirs is None or not theirs.size:
                    continue
                err = np.max(np.abs(mine - theirs))
                if not err <= tol * (1.0 + np.max(np.abs(theirs))):
                    raise EngineError(f"trace does not match the network's weights (layer {k} "
                                      f"{name} differs by {err:.3g}); recompute it")
            self.lins.append(lin)
            inp = hid[k]
        self.readout = None
        if cfg.output_size is not None:
            sd = net.state_dict()
            self.readout = (np.asarray(sd["readout.weight"], np.float64),
                            np.asarray(sd["readout.bias"], np.float64), cfg.readout)

    def states(self) -> np.ndarray:
        """(T, S) whole states."""
        h = self.hid.transpose(1, 0, 2)
        c = None if self.cel is None else self.cel.transpose(1, 0, 2)
        return join_state(h, c)

    def sub(self, t0: int, t1: int) -> list[Linearisation]:
        """The linearisations of steps [t0, t1)."""
        return [Linearisation(*(None if a is None else a[t0:t1] for a in (
            lin.h, lin.c, lin.sx, lin.sh, lin.diag, lin.f, lin.kout))) for lin in self.lins]

    def jacobians(self, t0: int, t1: int) -> np.ndarray:
        return assemble_jacobians(self.cell, self.layers, self.sub(t0, t1))

    def readout_jacobian(self, t0: int, t1: int) -> np.ndarray:
        """∂y_t/∂h_t (n, O, H) of the top layer for steps [t0, t1)."""
        w, b, act = self.readout
        z = self.hid[-1, t0:t1] @ w.T + b
        if act == "identity":
            return np.broadcast_to(w, (t1 - t0, *w.shape)).copy()
        if act == "tanh":
            return (1.0 - np.tanh(z) ** 2)[:, :, None] * w
        if act == "sigmoid":
            y = sigmoid(z)
            return (y * (1.0 - y))[:, :, None] * w
        e = np.exp(z - z.max(axis=1, keepdims=True))
        y = e / e.sum(axis=1, keepdims=True)
        jy = -y[:, :, None] * y[:, None, :]
        jy[:, np.arange(y.shape[1]), np.arange(y.shape[1])] += y
        return jy @ w


def _shifted(first: np.ndarray, seq: np.ndarray) -> np.ndarray:
    out = np.empty_like(seq)
    if len(seq):
        out[0] = first
        out[1:] = seq[:-1]
    return out


def _step_index(name: str, t, steps: int) -> int:
    if isinstance(t, bool) or not isinstance(t, int | np.integer):
        raise EngineError(f"{name} must be a whole step number, got {t!r}")
    t = int(t)
    if not 0 <= t < steps:
        raise EngineError(f"{name} must lie in 0..{steps - 1}, got {t}")
    return t


class _Ticker:
    """Reports ``done / total`` to a progress callback about every 1% of the work."""

    def __init__(self, progress: Progress | None, total: float) -> None:
        self.progress = progress
        self.total = max(float(total), 1.0)
        self.done = 0.0
        self.next = self.total / 100

    def __call__(self, work: float) -> None:
        self.done += work
        if self.progress is not None and self.done >= self.next:
            self.progress(min(1.0, self.done / self.total))
            self.next = self.done + self.total / 100

    def finish(self) -> None:
        if self.progress is not None:
            self.progress(1.0)


# ==== state Jacobians ========================================================================
def state_trajectory(net: Network, trace: Trace) -> np.ndarray:
    """The whole recurrent state after every step, (T, S), ordered (h_l0, c_l0, h_l1, ...)."""
    return _Run(net, trace).states()


def initial_state(net: Network, trace: Trace) -> np.ndarray:
    """s_{-1} (S,): the trace's h0 (and c0), stacked like :func:`state_trajectory`."""
    run = _Run(net, trace)
    return join_state(run.h0, run.c0)


@single_threaded
def state_jacobians(net: Network, trace: Trace, *, steps: Sequence[int] | None = None,
                    progress: Progress | None = None) -> np.ndarray:
    """J (T, S, S): J[t] = ds_t/ds_{t-1}, the total derivative of the whole state after step t
    with respect to the state before it (J[0]: with respect to the initial state). ``steps``:
    only these steps, (len(steps), S, S)."""
    run = _Run(net, trace)
    if steps is None:
        idx = np.arange(run.steps)
    else:
        idx = np.array([_step_index("step", t, run.steps) for t in steps], dtype=np.int64)
    need = idx.size * run.size * run.size * 8
    if need > MAX_RESULT_BYTES:
        raise EngineError(f"{idx.size} state Jacobians of size {run.size} would take "
                          f"{need / 2**30:.1f} GiB; ask for fewer steps")
    out = np.empty((idx.size, run.size, run.size))
    chunk = max(1, _BLOCK_BYTES * 4 // max(run.size * run.size * 8, 1))
    tick = _Ticker(progress, idx.size)
    for a in range(0, idx.size, chunk):
        sel = idx[a:a + chunk]
        lins = [Linearisation(*(None if v is None else v[sel] for v in (
            lin.h, lin.c, lin.sx, lin.sh, lin.diag, lin.f, lin.kout))) for lin in run.lins]
        out[a:a + sel.size] = assemble_jacobians(run.cell, run.layers, lins)
        tick(sel.size)
    tick.finish()
    return out


@single_threaded
def step_jacobian(net: Network, trace: Trace, t: int) -> np.ndarray:
    """J[t] = ds_t/ds_{t-1} (S, S) at one step."""
    run = _Run(net, trace)
    t = _step_index("t", t, run.steps)
    return run.jacobians(t, t + 1)[0]


@single_threaded
def step_singular_values(net: Network, trace: Trace, t: int) -> np.ndarray:
    """The singular values of J[t], (S,), largest first."""
    return np.linalg.svd(step_jacobian(net, trace, t), compute_uv=False)


@dataclass(frozen=True)
class JacobianNorms:
    """‖ds_t/ds_k‖₂ against the distance d = t − k for one step t.

    distance (t+2,): 0, 1, ..., t+1 (k = t − d; the last, k = −1, is the initial state);
    norm (t+2,): the spectral norms (0 where they underflow float64); log10_norm (t+2,): their
    base-10 logarithms, kept exact where ``norm`` underflows (−inf only for an exact zero).
    """

    t: int
    distance: np.ndarray
    norm: np.ndarray
    log10_norm: np.ndarray


@single_threaded
def jacobian_norms(net: Network, trace: Trace, t: int, *,
                   progress: Progress | None = None) -> JacobianNorms:
    """The spectral norm of every Jacobian product ds_t/ds_k = J[t] ⋯ J[k+1], k = t, ..., −1.

    Products are rescaled as they grow or shrink (the scale is kept as a logarithm), so
    vanishing and exploding products of any length stay exact."""
    run = _Run(net, trace)
    t = _step_index("t", t, run.steps)
    size = run.size
    logs = np.full(t + 2, -np.inf)
    logs[0] = 0.0
    product = np.eye(size)
    log_scale = 0.0
    chunk = max(1, _BLOCK_BYTES * 4 // (size * size * 8))
    keep = np.empty((chunk, size, size))
    scales = np.empty(chunk)
    tick = _Ticker(progress, t + 1)
    d = 1
    stop = t + 1
    zero = False
    while stop > 0 and not zero:
        start = max(0, stop - chunk)
        jac = run.jacobians(start, stop)
        m = 0
        for k in range(stop - 1, start - 1, -1):
            product = product @ jac[k - start]
            peak = np.max(np.abs(product))
            if not peak > 0:
                zero = True
                break
            product /= peak
            log_scale += math.log(peak)
            keep[m] = product
            scales[m] = log_scale
            m += 1
        if m:
            top = np.sqrt(np.maximum(np.linalg.eigvalsh(
                np.matmul(keep[:m].transpose(0, 2, 1), keep[:m]))[:, -1], 0.0))
            logs[d:d + m] = (np.log(top) + scales[:m]) / math.log(10.0)
            d += m
        tick(stop - start)
        stop = start
    tick.finish()
    distance = np.arange(t + 2)
    with np.errstate(under="ignore"):
        norm = np.power(10.0, logs)
    return JacobianNorms(t, distance, norm, logs)


def forget_products(net: Network, trace: Trace, t: int) -> np.ndarray:
    """LSTM only: the products of forget gates along the way, (L, t+2, H): entry [l, d, j] is
    ∏_{k=t−d+1}^{t} f_k (unit j of layer l; 1 at d = 0; d = t+1 reaches the initial state) —
    ∂c_t/∂c_{t−d} along the cell's own path (the constant error carousel). Its 2-norm over
    the units is the maximum over j."""
    run = _Run(net, trace)
    if not run.lstm:
        raise EngineError(f"forget gates exist only in an LSTM, not {run.cell}")
    t = _step_index("t", t, run.steps)
    f = np.stack([lin.f[t::-1] for lin in run.lins])  # (L, t+1, H): f_t, f_{t-1}, ..., f_0
    out = np.ones((run.layers_n, t + 2, run.hidden))
    with np.errstate(under="ignore"):
        np.cumprod(f, axis=1, out=out[:, 1:])
    return out


# ==== spectra ================================================================================
@dataclass(frozen=True)
class BlockSpectrum:
    """One square block of W_hh: eigenvalues (H,) complex, largest modulus first; radius
    (the spectral radius) and norm (the spectral norm, largest singular value)."""

    name: str
    eigenvalues: np.ndarray
    radius: float
    norm: float


@dataclass(frozen=True)
class LayerSpectrum:
    """Layer ``layer``'s W_hh: one block per gate (LSTM i, f, g, o; GRU r, z, n; a vanilla
    RNN's whole W_hh as block "hh"), and ``norm``, the spectral norm of the whole (G·H, H)."""

    layer: int
    blocks: tuple[BlockSpectrum, ...]
    norm: float

    def block(self, name: str) -> BlockSpectrum:
        for b in self.blocks:
            if b.name == name:
                return b
        raise EngineError(f"no block {name!r}; blocks: {', '.join(b.name for b in self.blocks)}")


def _block_names(cell: str) -> tuple[str, ...]:
    return {"lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}.get(cell, ("hh",))


def recurrent_spectrum(net: Network) -> tuple[LayerSpectrum, ...]:
    """The eigenvalues, spectral radius and norm of W_hh per layer and gate block."""
    _check_net(net)
    cfg = net.config
    out = []
    for k, lw in enumerate(layer_weights(net)):
        hidden = cfg.hidden_size
        blocks = []
        for g, name in enumerate(_block_names(cfg.cell)):
            w = lw.w_hh[g * hidden:(g + 1) * hidden]
            ev = np.linalg.eigvals(w).astype(np.complex128)
            ev = ev[np.argsort(-np.abs(ev), kind="stable")]
            blocks.append(BlockSpectrum(name, ev, float(np.abs(ev[0])),
                                        float(np.linalg.norm(w, 2))))
        out.append(LayerSpectrum(k, tuple(blocks), float(np.linalg.norm(lw.w_hh, 2))))
    return tuple(out)


# ==== influence ==============================================================================
@dataclass(frozen=True)
class InfluencePlan:
    """How :func:`influence` would run: ``mode`` ("forward" or "reverse") and the multiply-adds
    each mode needs (``forward``, ``reverse``); ``multiply_adds`` is the chosen one's."""

    mode: str
    forward: float
    reverse: float

    @property
    def multiply_adds(self) -> float:
        return self.forward if self.mode == "forward" else self.reverse


def _dims(cfg, of: str) -> dict[str, int]:
    hidden = cfg.hidden_size
    ph = _parts(cfg.cell) * hidden
    out_rows = hidden
    if of == "output":
        out_rows = min(cfg.output_size, hidden)
    return dict(hidden=hidden, ph=ph, r=min(cfg.input_size, ph), out_rows=out_rows)


def influence_plan(net: Network, steps: int, of: str = "hidden",
                   mode: str = "auto") -> InfluencePlan:
    """The cost of :func:`influence` on ``steps`` steps, without running it.

    Per pair (t, k ≤ t) forward mode carries r = min(I, P·H) tangents (P = 2 for an LSTM) through
    one step of every layer, reverse mode R = H (or min(O, H) for the output) adjoints; a step of
    layer l costs (In_l + H)·P·H per tangent (layer 0's input part only at the source)."""
    _check_net(net)
    cfg = net.config
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 0:
        raise EngineError(f"steps must be a whole number >= 0, got {steps!r}")
    if of not in _OF:
        raise EngineError(f"of must be 'hidden' or 'output', got {of!r}")
    if mode not in _MODES:
        raise EngineError(f"mode must be one of {', '.join(_MODES)}, got {mode!r}")
    if of == "output" and cfg.output_size is None:
        raise EngineError("influence on the output needs a readout: give the network an "
                          "output_size")
    d = _dims(cfg, of)
    hidden, ph, layers = d["hidden"], d["ph"], cfg.num_layers
    pairs = steps * (steps + 1) / 2
    elementwise = 4 * hidden if cfg.cell == "lstm" else hidden
    per_layer_up = 2 * hidden * ph + elementwise
    readout = d["out_rows"] * hidden if of == "output" else 0
    fwd_row = hidden * ph + elementwise + (layers - 1) * per_layer_up + readout + hidden
    rev_row = (hidden + d["r"]) * ph + elementwise + (layers - 1) * per_layer_up
    gates = cfg.gate_count * hidden
    setup = steps * gates * (cfg.input_size + hidden + (layers - 1) * 2 * hidden)
    forward = pairs * d["r"] * fwd_row + setup
    reverse = pairs * d["out_rows"] * rev_row + setup
    if mode == "auto":
        mode = "forward" if forward <= reverse else "reverse"
    return InfluencePlan(mode, float(forward), float(reverse))


class _Factors:
    """Per-step factors of a run for the sweeps, formed a block of steps at a time:
    per layer (In_l + H, P·H) stacked matrices; layer 0's input directions D (r, P·H) (rows of
    Fᵀ, or of the QR factor R of Fᵀ when compressed); the readout's ∂y/∂h (O', H)."""

    def __init__(self, run: _Run, compress: bool, readout: str | None,
                 sweeps: int = 1) -> None:
        self.run = run
        self.compress = compress
        self.readout = readout
        per_step = sum((lw.inputs + run.hidden) * run.width for lw in run.layers)
        if sweeps > 1 and per_step * 8 * run.steps <= _FACTOR_CACHE_BYTES:
            # every step's factors at once: sweeps in several chunks then form them only once
            self.block = b = max(1, run.steps)
        else:  # small blocks stay in cache; the buffers are reused from block to block
            self.block = b = max(1, min(8, _BLOCK_BYTES // 4 // (per_step * 8), run.steps))
        self.out = [np.empty((b, lw.inputs + run.hidden, run.width)) for lw in run.layers]
        self.start = self.stop = -1
        self.g: list[np.ndarray] = []
        self.d: np.ndarray | None = None
        self.y: np.ndarray | None = None

    def _form(self, t: int) -> None:
        run = self.run
        b = self.block
        t0 = (t // b) * b
        t1 = min(t0 + b, run.steps)
        m = t1 - t0
        self.g = [stacked_factors(run.cell, lw, lin.sx[t0:t1], lin.sh[t0:t1],
                                  None if lin.diag is None else lin.diag[t0:t1],
                                  out=out[:m])
                  for lw, lin, out in zip(run.layers, run.lins, self.out, strict=True)]
        fx = self.g[0][:, :run.inputs]  # (m, I, P·H): rows F e_c
        self.d = np.linalg.qr(fx, mode="r") if self.compress else fx
        if self.readout is not None:
            ry = run.readout_jacobian(t0, t1)
            if self.readout == "compressed" and ry.shape[1] > run.hidden:
                ry = np.linalg.qr(ry, mode="r")
            self.y = ry
        self.start, self.stop = t0, t1

    def at(self, t: int) -> tuple[list[np.ndarray], np.ndarray, np.ndarray | None]:
        if not self.start <= t < self.stop:
            self._form(t)
        i = t - self.start
        return [g[i] for g in self.g], self.d[i], None if self.y is None else self.y[i]


def _forward_sweep(run: _Run, factors: _Factors, k0: int, k1: int, rows: int,
                   sink: Callable[[int, np.ndarray, np.ndarray | None, int], None],
                   tick: _Ticker) -> None:
    """Tangents from the sources x_k, k0 <= k < k1 (``rows`` directions each), through every
    later step: at step t, sink(t, top (n, H), readout factor, n) sees the top layer's δh_t of
    all live tangents, ordered by source then direction."""
    hidden, layers, lstm = run.hidden, run.layers_n, run.lstm
    ph = run.width
    nmax = (k1 - k0) * rows
    z = np.zeros((nmax, layers * hidden))
    c = np.zeros((nmax, layers * hidden)) if lstm else None
    u = np.empty((nmax, ph))
    swap = not lstm and layers == 1
    n_in0 = run.inputs
    n = 0
    for t in range(k0, run.steps):
        gs, d, ry = factors.at(t)
        n_old = n
        if t < k1:
            n += rows
        if n_old:
            np.matmul(z[:n_old, :hidden], gs[0][n_in0:], out=u[:n_old])
        if n > n_old:
            u[n_old:n] = d
        if swap:
            z, u = u, z
        else:
            for k in range(layers):
                if k:
                    np.matmul(z[:n, (k - 1) * hidden:(k + 1) * hidden], gs[k], out=u[:n])
                zk = z[:n, k * hidden:(k + 1) * hidden]
                if lstm:
                    lin = run.lins[k]
                    ck = c[:n, k * hidden:(k + 1) * hidden]
                    ck *= lin.f[t]
                    ck += u[:n, :hidden]
                    np.multiply(ck, lin.kout[t], out=zk)
                    zk += u[:n, hidden:]
                else:
                    zk[...] = u[:n]
        sink(t, z[:n, (layers - 1) * hidden:], ry, n)
        tick(n)


def _reverse_sweep(run: _Run, factors: _Factors, t0: int, t1: int, of: str, rows: int,
                   sink: Callable[[int, np.ndarray, int], None], tick: _Ticker) -> None:
    """Adjoints of the outputs at steps t0 <= t < t1 back through every earlier step: ``rows``
    per output step, seeded with the rows of ∂out_t/∂h_t (the identity for the hidden state,
    the factors' readout Jacobian for the output). At step k, sink(k, gx (n, r), n) sees each
    live adjoint's derivative with respect to x_k's (compressed) input directions, ordered by
    output step t1−1, t1−2, ... then row."""
    hidden, layers, lstm = run.hidden, run.layers_n, run.lstm
    width = run.width  # per layer: [μ_c | λ_h] for an LSTM, [λ_h] otherwise
    nmax = (t1 - t0) * rows
    a = np.zeros((nmax, layers * width))
    tmp = np.empty((nmax, hidden)) if lstm else None
    v = np.empty((nmax, 2 * hidden))
    vx = np.empty((nmax, run.inputs if not factors.compress else run.width))
    n_in0 = run.inputs
    eye = np.eye(hidden)
    n = 0
    for k in range(t1 - 1, -1, -1):
        gs, d, ry = factors.at(k)
        n_old = n
        if k >= t0:
            n += rows
            top = (layers - 1) * width
            a[n_old:n, top + width - hidden:top + width] = eye if of == "hidden" else ry
        for lay in range(layers - 1, -1, -1):
            blk = a[:n, lay * width:(lay + 1) * width]
            lam_h = blk[:, width - hidden:]
            if lstm:
                lin = run.lins[lay]
                mu = blk[:, :hidden]
                np.multiply(lam_h, lin.kout[k], out=tmp[:n])
                mu += tmp[:n]
            g = gs[lay]
            n_in = n_in0 if lay == 0 else hidden
            if lay == 0:
                gx = vx[:n, :d.shape[0]]
                np.matmul(blk, d.T, out=gx)
                np.matmul(blk, g[n_in:].T, out=v[:n, :hidden])
                lam_h[...] = v[:n, :hidden]
            else:
                np.matmul(blk, g.T, out=v[:n])
                lam_h[...] = v[:n, n_in:]
                below = a[:n, (lay - 1) * width + width - hidden:lay * width]
                below += v[:n, :n_in]
            if lstm:
                mu *= lin.f[k]
        sink(k, gx, n)
        tick(n)


def _chunk(count: int, per_item_bytes: int) -> int:
    return max(1, min(count, _WORK_BYTES // max(per_item_bytes, 1)))


@single_threaded
def influence(net: Network, trace: Trace, of: str = "hidden", *, mode: str = "auto",
              progress: Progress | None = None) -> np.ndarray:
    """M (T, T): M[t, k] = ‖∂h_t/∂x_k‖_F for the top layer's h_t (of="hidden") or ‖∂y_t/∂x_k‖_F
    for the readout y_t (of="output"), k <= t; zero above the diagonal.

    ``mode``: "forward", "reverse" or "auto" (the cheaper for this network, see
    :func:`influence_plan`); both give the same numbers to round-off."""
    run = _Run(net, trace)
    plan = influence_plan(net, run.steps, of, mode)
    steps = run.steps
    if steps > MAX_INFLUENCE_STEPS:
        raise EngineError(f"influence over {steps} steps needs a {steps}×{steps} matrix; "
                          f"at most {MAX_INFLUENCE_STEPS} steps")
    m2 = np.zeros((steps, steps))
    if not steps:
        return m2
    dims = _dims(run.cfg, of)
    rows = dims["r"] if plan.mode == "forward" else dims["out_rows"]
    tick = _Ticker(progress, rows * steps * (steps + 1) / 2)
    if plan.mode == "forward":
        _influence_forward(run, of, rows, m2, tick)
    else:
        _influence_reverse(run, of, rows, m2, tick)
    tick.finish()
    return np.sqrt(m2, out=m2)


def _influence_forward(run: _Run, of: str, rows: int, m2: np.ndarray, tick: _Ticker) -> None:
    """Squared influence into m2 (T, T) by tangents from each source, in chunks of sources."""
    out_width = min(run.cfg.output_size, run.hidden) if of == "output" else 0
    per_source = rows * 8 * (run.layers_n * run.hidden * (2 if run.lstm else 1) + run.width
                             + out_width)
    chunk = _chunk(run.steps, per_source)
    factors = _Factors(run, run.inputs > run.width, "compressed" if of == "output" else None,
                       sweeps=-(-run.steps // chunk))
    for k0 in range(0, run.steps, chunk):
        k1 = min(k0 + chunk, run.steps)
        ybuf = np.empty(((k1 - k0) * rows, out_width))

        def sink(t: int, top: np.ndarray, ry: np.ndarray | None, n: int, k0: int = k0,
                 ybuf: np.ndarray = ybuf) -> None:
            vals = top
            if ry is not None:
                vals = ybuf[:n]
                np.matmul(top, ry.T, out=vals)
            if vals.flags.c_contiguous:  # one row of r·D numbers per source
                blocks = vals.reshape(n // rows, rows * vals.shape[1])
                m2[t, k0:k0 + n // rows] = np.einsum("sj,sj->s", blocks, blocks)
            else:
                blocks = vals.reshape(n // rows, rows, vals.shape[1])
                m2[t, k0:k0 + n // rows] = np.einsum("sij,sij->s", blocks, blocks)

        _forward_sweep(run, factors, k0, k1, rows, sink, tick)


def _influence_reverse(run: _Run, of: str, rows: int, m2: np.ndarray, tick: _Ticker) -> None:
    """Squared influence into m2 (T, T) by adjoints from each output step, in chunks."""
    per_output = rows * 8 * (run.layers_n * run.width + 3 * run.hidden + run.width
                             + run.inputs)
    chunk = _chunk(run.steps, per_output)
    factors = _Factors(run, run.inputs > run.width, "compressed" if of == "output" else None,
                       sweeps=-(-run.steps // chunk))
    for t1 in range(run.steps, 0, -chunk):
        t0 = max(0, t1 - chunk)

        def sink(k: int, gx: np.ndarray, n: int, t1: int = t1) -> None:
            blocks = gx.reshape(n // rows, rows * gx.shape[1])
            m2[t1 - 1 - np.arange(n // rows), k] = np.einsum("sj,sj->s", blocks, blocks)

        _reverse_sweep(run, factors, t0, t1, of, rows, sink, tick)


@single_threaded
def input_jacobian(net: Network, trace: Trace, k: int, of: str = "hidden") -> np.ndarray:
    """∂h_t/∂x_k (top layer) or ∂y_t/∂x_k for every t >= k: (T − k, H or O, I)."""
    run = _Run(net, trace)
    k = _step_index("k", k, run.steps)
    influence_plan(net, run.steps, of)  # validates ``of``
    factors = _Factors(run, False, "full" if of == "output" else None)
    rows = run.inputs
    width = run.hidden if of == "hidden" else run.cfg.output_size
    out = np.empty((run.steps - k, width, rows))

    def sink(t: int, top: np.ndarray, ry: np.ndarray | None, n: int) -> None:
        out[t - k] = (top if ry is None else top @ ry.T).T

    _forward_sweep(run, factors, k, k + 1, rows, sink, _Ticker(None, 1))
    return out


@dataclass(frozen=True)
class Perturbation:
    """x_k nudged by ``eps`` on ``channel``: for every t in ``steps`` (k, ..., T−1), the change
    of the top layer's h_t (of="hidden") or of y_t (of="output"): ``predicted`` (T−k, D), the
    first-order change (∂·_t/∂x_k) ε e_c, and ``actual`` (T−k, D), a real rerun's."""

    step: int
    channel: int
    eps: float
    of: str
    steps: np.ndarray
    predicted: np.ndarray
    actual: np.ndarray = field(repr=False)


def perturbation(net: Network, trace: Trace, k: int, channel: int, eps: float,
                 of: str = "hidden") -> Perturbation:
    """Nudge input x_k[channel] by eps: the first-order prediction beside a real rerun."""
    run = _Run(net, trace)
    k = _step_index("k", k, run.steps)
    if isinstance(channel, bool) or not isinstance(channel, int | np.integer) \
            or not 0 <= channel < run.inputs:
        raise EngineError(f"channel must lie in 0..{run.inputs - 1}, got {channel!r}")
    try:
        eps = float(eps)
    except (TypeError, ValueError):
        raise EngineError(f"eps must be a number, got {eps!r}") from None
    if not math.isfinite(eps):
        raise EngineError(f"eps must be finite, got {eps}")
    jac = input_jacobian(net, trace, k, of)
    predicted = jac[:, :, int(channel)] * eps
    x = np.array(trace.input, copy=True)
    x[k, int(channel)] += eps
    rerun = net.forward(x, h0=trace.h0, c0=trace.c0)
    if of == "hidden":
        actual = np.asarray(rerun.hidden[-1, k:], np.float64) - run.hid[-1, k:]
    else:
        actual = (np.asarray(rerun.output[k:], np.float64)
                  - np.asarray(trace.output[k:], np.float64))
    return Perturbation(k, int(channel), eps, of, np.arange(k, run.steps), predicted, actual)


# ==== memory horizon =========================================================================
@dataclass(frozen=True)
class MemoryHorizon:
    """How far back the inputs still matter.

    per_step (T,): at each step t, the smallest distance d >= 1 at which the influence
    M[t, t−d] falls below ``threshold`` × M[t, t] (its value at distance 0) — inf where it
    never does within the t steps before t (the sequence is too short to tell), NaN where
    M[t, t] is zero (nothing to compare with). value: the mean of the finite per-step
    horizons; inf when no step's influence ever falls below (longer than the sequence), NaN
    when no step has a reference. censored: how many steps are inf.
    """

    value: float
    per_step: np.ndarray
    threshold: float
    censored: int


def memory_horizon(influence_matrix: np.ndarray, threshold: float = 0.01) -> MemoryHorizon:
    """The memory horizon of an influence matrix M (T, T) from :func:`influence`."""
    m = np.asarray(influence_matrix, np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise EngineError(f"influence matrix must be square (T, T), got shape {m.shape}")
    if not (isinstance(threshold, int | float) and 0 < threshold < 1):
        raise EngineError(f"threshold must lie strictly between 0 and 1, got {threshold!r}")
    steps = m.shape[0]
    per_step = np.full(steps, np.nan)
    if steps:
        ref = np.diag(m)
        t_idx = np.arange(steps)
        below = (m < threshold * ref[:, None]) & (t_idx[None, :] < t_idx[:, None])
        anyb = below.any(axis=1)
        last = steps - 1 - np.argmax(below[:, ::-1], axis=1)  # nearest k < t below
        valid = np.isfinite(ref) & (ref > 0)
        per_step = np.where(valid, np.where(anyb, t_idx - last, np.inf), np.nan).astype(float)
    finite = per_step[np.isfinite(per_step)]
    censored = int(np.sum(np.isinf(per_step)))
    if finite.size:
        value = float(finite.mean())
    else:
        value = math.inf if censored else math.nan
    return MemoryHorizon(value, per_step, float(threshold), censored)
