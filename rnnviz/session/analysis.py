"""What the analysis views show, computed from a model's results. No Qt here.

Every view of why a network forgets (influence, gradient against distance, spectra,
perturbation) and of its dynamics (state space, fixed points) draws one of the values below;
it never computes. A value is asked for with a :class:`Request` — the model results it is
about, a kind and its parameters — and :class:`Analyses` computes it, caches it per
(results, kind, parameters) and tells what it would cost beforehand, so that a caller can run
cheap ones at once and expensive ones as jobs (:meth:`Analyses.job`).

What depends on what
--------------------
- On the results only: the influence matrix and memory horizon ("influence"), the recurrent
  spectrum ("spectrum"), the PCA of the trajectory ("state_space").
- On the results and the cursor step: the gradient against distance ("distance", t), the
  step Jacobian's singular values ("singular", t), the perturbation ("perturbation", k).
- Fixed points ("fixed_points") on the results (the starts are sampled from the trajectory)
  and x*, which is a value: x* = the input at the cursor is keyed by that input, not by the
  step, so stepping over equal inputs finds nothing new to compute.

Moving the cursor therefore never recomputes an influence matrix or a PCA, and a request
seen before is answered from the cache. The cache holds results weakly: values go when their
results do.

Costs are multiply-adds (or their equivalent in measured time, for eigen- and singular value
decompositions), comparable to :data:`LIVE_BUDGET`.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnviz.engine import EngineError, Network
from rnnviz.engine import analysis as an
from rnnviz.engine import dynamics as dyn
from rnnviz.jobs import FunctionJob, JobContext
from rnnviz.session.compute import ModelResults

__all__ = [
    "CURSOR_KINDS",
    "INSPECTOR_BUDGET",
    "KINDS",
    "LIVE_BUDGET",
    "X_STAR_MODES",
    "Analyses",
    "DistanceCurve",
    "Failure",
    "FixedPointMarks",
    "FixedPointsView",
    "InfluenceMap",
    "PerturbationView",
    "Request",
    "SpectrumView",
    "StateSpace",
    "StepSpectrum",
    "cost",
    "describe_horizon",
    "describe_point",
    "distance_curve",
    "find_fixed_points",
    "fixed_point_marks",
    "influence_map",
    "perturb",
    "request",
    "spectrum",
    "state_space",
    "state_spaces",
    "step_spectrum",
    "x_star_for",
]

Progress = Callable[[float], None]

# Multiply-adds the window may spend on the GUI thread for one update of one view: about
# 4 ms (a quarter of a frame) at the ~10 GMAC/s the sweeps reach on one core (``bench
# analysis``), so that an edit or a cursor move stays bound by the engine's own compute
# (``bench latency``); a dearer view (LSTM T=200, H=64 influence: about 18 ms) is a job, and
# follows the edit as soon as the job is done.
LIVE_BUDGET = 4e7
# The interpreter's work per time step of a sweep (influence, perturbation): a few array
# calls, ~30 µs, as multiply-adds at that rate; it is what dominates for small networks.
STEP_OVERHEAD = 3e5
# What the inspector's memory horizon may cost when no influence view has computed it.
INSPECTOR_BUDGET = LIVE_BUDGET / 8

KINDS = ("influence", "distance", "spectrum", "singular", "perturbation", "state_space",
         "fixed_points")
CURSOR_KINDS = ("distance", "singular", "perturbation")
NETWORK_KINDS = ("spectrum",)  # depend on the network alone: shared by every run of it
X_STAR_MODES = ("zero", "mean", "cursor")
HORIZON_THRESHOLD = 0.01
MAX_READOUT_DIRECTIONS = 8  # more outputs (a text model's classes) are not drawn as arrows
UNSTABLE_LINES = 2  # unstable directions drawn per fixed point, the fastest growing first
_CACHE_ENTRIES = 64  # per results; cursor-dependent values accumulate while stepping


# ==== requests ================================================================================
@dataclass(frozen=True, eq=False)
class Request:
    """One value to compute: ``kind`` (one of :data:`KINDS`) of ``results`` with ``params``
    (sorted (name, value) pairs). Equal when about the same ``owner`` — the results object,
    or for :data:`NETWORK_KINDS` the network, so that an edit of the input keeps the
    spectrum — with the same kind and parameters; use :func:`request` to make one."""

    results: ModelResults = field(repr=False)
    kind: str
    params: tuple[tuple[str, Any], ...]

    @property
    def owner(self) -> Any:
        """What the value belongs to (and is cached with)."""
        return _network(self.results) if self.kind in NETWORK_KINDS else self.results

    @property
    def key(self) -> tuple[str, tuple[tuple[str, Any], ...]]:
        return self.kind, self.params

    def param(self, name: str) -> Any:
        return dict(self.params)[name]

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Request) and other.owner is self.owner
                and other.key == self.key)

    def __hash__(self) -> int:
        return hash((id(self.owner), self.kind, self.params))


_DEFAULTS: dict[str, dict[str, Any]] = {
    "influence": {"of": "hidden"},
    "distance": {"t": 0},
    "spectrum": {},
    "singular": {"t": 0},
    "perturbation": {"k": 0, "channel": 0, "eps": 0.01, "of": "hidden"},
    "state_space": {"space": "", "components": 3},
    "fixed_points": {"x_star": "zero", "value": (), "starts": 64, "tol": 1e-12, "seed": 0,
                     "noise": 0.0},
}


def request(results: ModelResults, kind: str, **params: Any) -> Request:
    """A :class:`Request` for ``kind`` of ``results``; parameters not given take their
    defaults. Checked: an unknown kind or parameter is an EngineError.

    Parameters: influence ``of`` ("hidden" | "output"); distance and singular ``t``;
    perturbation ``k``, ``channel``, ``eps``, ``of``; state_space ``space`` (see
    :func:`state_spaces`; "" for the top layer's h) and ``components``; fixed_points
    ``x_star`` (one of :data:`X_STAR_MODES`) with ``value`` (x* itself, see
    :func:`x_star_for`), ``starts``, ``tol``, ``seed``, ``noise``.
    """
    if kind not in _DEFAULTS:
        raise EngineError(f"unknown analysis {kind!r}; choose from {', '.join(KINDS)}")
    unknown = set(params) - set(_DEFAULTS[kind])
    if unknown:
        raise EngineError(f"{kind} takes no parameter {sorted(unknown)[0]!r}")
    merged = {**_DEFAULTS[kind], **params}
    if kind == "state_space" and not merged["space"]:
        merged["space"] = default_space(results.config)
    if kind == "fixed_points":
        if merged["x_star"] not in X_STAR_MODES:
            raise EngineError(f"x* must be one of {', '.join(X_STAR_MODES)}, "
                              f"got {merged['x_star']!r}")
        merged["value"] = tuple(float(v) for v in merged["value"])
    if kind == "perturbation":
        merged["eps"] = float(merged["eps"])
    return Request(results, kind, tuple(sorted(merged.items())))


@dataclass(frozen=True)
class Failure:
    """A value that could not be computed, with a one-line reason (a run holding NaN, a
    sequence too long for a T × T matrix)."""

    message: str


# ==== the values ==============================================================================
@dataclass(frozen=True)
class InfluenceMap:
    """How much every input still matters at every later step.

    matrix (T, T): M[t, k] = ‖∂h_t/∂x_k‖_F (top layer; of="output": ‖∂y_t/∂x_k‖_F), zero for
    k > t; horizon: the memory horizon (see :func:`rnnviz.engine.analysis.memory_horizon`).
    """

    of: str
    matrix: np.ndarray
    horizon: an.MemoryHorizon

    @property
    def steps(self) -> int:
        return self.matrix.shape[0]

    def row(self, t: int) -> np.ndarray:
        """(t+1,): M[t, k] for k = 0..t — how much each earlier input matters to step t."""
        return self.matrix[t, :t + 1]

    def column(self, k: int) -> np.ndarray:
        """(T−k,): M[t, k] for t = k..T−1 — how far the input at k reaches forward."""
        return self.matrix[k:, k]

    def shading(self, t: int, decades: float = 2.0) -> np.ndarray:
        """(T,) in [0, 1]: how strongly to shade each step k when step t is hovered — 1 for
        the strongest influence on t, falling with log10 M[t, k] to 0 at ``decades`` below
        it (at two decades, 1%: where the memory horizon ends); 0 for k > t."""
        out = np.zeros(self.steps)
        row = self.row(t)
        peak = float(row.max()) if row.size else 0.0
        if not peak > 0:
            return out
        with np.errstate(divide="ignore"):
            level = 1.0 + np.log10(row / peak) / decades
        out[:t + 1] = np.clip(np.nan_to_num(level, nan=0.0, neginf=0.0), 0.0, 1.0)
        return out


@dataclass(frozen=True)
class DistanceCurve:
    """‖∂s_t/∂s_k‖₂ against the distance d = t − k at one step t.

    distance, norm, log10_norm (t+2,) as :class:`rnnviz.engine.analysis.JacobianNorms`;
    radius: the spectral radius used for the reference, named by ``radius_of`` ("W_hh" of a
    vanilla RNN, else the gate block with the largest radius, e.g. "W_hf, layer 0");
    log10_reference (t+2,): d·log10 ρ (the reference line ρ^d, kept as a logarithm);
    forget (L, t+2) or None: for an LSTM, per layer, the largest over the units of the
    product of forget gates along the way (∂c_t/∂c_{t−d} on the cell's own path).
    """

    t: int
    distance: np.ndarray
    norm: np.ndarray
    log10_norm: np.ndarray
    radius: float
    radius_of: str
    log10_reference: np.ndarray
    forget: np.ndarray | None

    @property
    def reference(self) -> np.ndarray:
        with np.errstate(over="ignore", under="ignore"):
            return np.power(10.0, self.log10_reference)


@dataclass(frozen=True)
class SpectrumView:
    """The recurrent weights' spectra: per layer the eigenvalues of each gate block of W_hh
    (see :class:`rnnviz.engine.analysis.LayerSpectrum`); radius: the largest block radius,
    ``radius_of`` naming it."""

    layers: tuple[an.LayerSpectrum, ...]
    radius: float
    radius_of: str


@dataclass(frozen=True)
class StepSpectrum:
    """singular_values (S,) of the step Jacobian J_t = ∂s_t/∂s_{t−1}, largest first."""

    t: int
    singular_values: np.ndarray


@dataclass(frozen=True)
class PerturbationView:
    """x_k[channel] nudged by eps; ``result`` as :class:`rnnviz.engine.analysis.Perturbation`
    (steps (T−k,), predicted and actual (T−k, D)); actual_norm, predicted_norm, error_norm
    (T−k,): ‖Δ_t‖ of the rerun, of the first-order prediction and of their difference."""

    result: an.Perturbation
    actual_norm: np.ndarray
    predicted_norm: np.ndarray
    error_norm: np.ndarray


@dataclass(frozen=True)
class StateSpace:
    """The trajectory in its principal components.

    space: which coordinates (see :func:`state_spaces`); index (D,): their positions in the
    whole state s (S,); pca: of the trajectory's D coordinates (up to ``components``);
    projected (T, k): the trajectory in the components; start (k,): the initial state's
    projection; readout (O, k) or None: the readout's rows (directions in the top layer's h),
    each scaled to unit length, then projected — a row lying in the components' plane keeps
    length 1 — when there is a readout of at most :data:`MAX_READOUT_DIRECTIONS` outputs and
    the space holds the top layer's h.
    """

    space: str
    index: np.ndarray
    pca: dyn.PCA
    projected: np.ndarray
    start: np.ndarray
    readout: np.ndarray | None

    def project_states(self, states: np.ndarray) -> np.ndarray:
        """Whole states (N, S) to coordinates (N, k)."""
        return self.pca.project(np.asarray(states)[..., self.index])

    def project_directions(self, vectors: np.ndarray) -> np.ndarray:
        """Directions in the whole state (N, S) to coordinates (N, k)."""
        return self.pca.project_directions(np.asarray(vectors)[..., self.index])


@dataclass(frozen=True)
class FixedPointsView:
    """What :func:`find_fixed_points` found: ``found`` (the engine's
    :class:`~rnnviz.engine.dynamics.FixedPointSet`), x_star (I,) and ``x_star_mode``."""

    found: dyn.FixedPointSet
    x_star: np.ndarray
    x_star_mode: str

    def unstable_directions(self, count: int = UNSTABLE_LINES) -> list[np.ndarray]:
        """Per point, (m, S) unit directions of its eigenvalues outside the unit circle (real
        parts of the eigenvectors, the fastest growing first; at most ``count``)."""
        out = []
        for p in self.found.points:
            vecs = []
            for j in np.flatnonzero(np.abs(p.eigenvalues) > 1.0 + dyn.UNIT_MARGIN):
                v = np.real(p.eigenvectors[:, j])
                n = np.linalg.norm(v)
                if n > 0 and not any(abs(float(v @ w)) / n > 1 - 1e-9 for w in vecs):
                    vecs.append(v / n)
                if len(vecs) >= count:
                    break
            out.append(np.array(vecs).reshape(len(vecs), p.state.size))
        return out


@dataclass(frozen=True)
class FixedPointMarks:
    """Fixed points as the state-space plot draws them, in a :class:`StateSpace`'s
    coordinates.

    coords (n, k): each point projected; kinds (n,): "stable", "saddle" or "unstable"; slow
    (n,) bool; q (n,); lines (m, 2, k): segments through points along their unstable
    directions, ``length`` long on each side, each direction's projection kept to scale (a
    direction across the plane keeps the full length); owners (m,): the point each segment
    belongs to."""

    coords: np.ndarray
    kinds: tuple[str, ...]
    slow: np.ndarray
    q: np.ndarray
    lines: np.ndarray
    owners: np.ndarray


def fixed_point_marks(space: StateSpace, found: FixedPointsView,
                      length: float) -> FixedPointMarks:
    """Where ``space``'s plot draws the points of ``found`` (see :class:`FixedPointMarks`)."""
    points = found.found.points
    k = space.projected.shape[1]
    if not points:
        return FixedPointMarks(np.zeros((0, k)), (), np.zeros(0, bool), np.zeros(0),
                               np.zeros((0, 2, k)), np.zeros(0, int))
    coords = space.project_states(found.found.states())
    segments, owners = [], []
    for j, dirs in enumerate(found.unstable_directions()):
        for d in dirs:
            sub = d[space.index]
            n = np.linalg.norm(sub)
            if not n > 0:
                continue
            step = space.project_directions(d[None, :])[0] / n * length
            segments.append([coords[j] - step, coords[j] + step])
            owners.append(j)
    return FixedPointMarks(coords, tuple(p.kind for p in points),
                           np.array([p.slow for p in points]), np.array([p.q for p in points]),
                           np.array(segments).reshape(len(segments), 2, k),
                           np.array(owners, int))


def describe_point(point: dyn.FixedPoint, count: int = 4) -> str:
    """One line about a fixed point: its kind, q and leading eigenvalues."""
    kind = f"{point.kind} {'slow' if point.slow else 'fixed'} point"
    vals = []
    ev = point.eigenvalues
    j = 0
    while j < ev.size and len(vals) < count:
        v = ev[j]
        if abs(v.imag) > 1e-12:
            vals.append(f"{v.real:.3g}±{abs(v.imag):.3g}i")
            j += 2 if j + 1 < ev.size and abs(ev[j + 1] - np.conj(v)) < 1e-9 else 1
        else:
            vals.append(f"{v.real:.3g}")
            j += 1
    more = ", …" if j < ev.size else ""
    return (f"{kind}: q = {point.q:.3g}, |λ|max = {point.radius:.4g}, "
            f"{point.unstable} outside the unit circle; λ = {', '.join(vals)}{more}")


# ==== computing them =========================================================================
def _network(results: ModelResults) -> Network:
    return results.model.network()


def _trajectory(results: ModelResults) -> tuple[np.ndarray, np.ndarray]:
    """The whole states (T, S) after every step and the initial state (S,), stacked as
    :func:`rnnviz.engine.analysis.state_trajectory` stacks them, straight from the trace
    (it comes from this network: no re-linearising needed)."""
    trace = results.trace
    hidden = np.asarray(trace.hidden, np.float64).transpose(1, 0, 2)
    cell = None if trace.cell is None else np.asarray(trace.cell, np.float64).transpose(1, 0, 2)
    h0 = np.asarray(trace.h0, np.float64)
    c0 = None if trace.cell is None else np.asarray(trace.c0, np.float64)
    if trace.nonfinite_step is not None:
        raise EngineError(f"the run holds NaN or Inf from step {trace.nonfinite_step} on; "
                          "its trajectory cannot be projected")
    return an.join_state(hidden, cell), an.join_state(h0, c0)


def influence_map(results: ModelResults, of: str = "hidden",
                  progress: Progress | None = None) -> InfluenceMap:
    """The influence matrix of ``results`` and its memory horizon."""
    m = an.influence(_network(results), results.trace, of, progress=progress)
    m.flags.writeable = False
    return InfluenceMap(of, m, an.memory_horizon(m, HORIZON_THRESHOLD))


_SPECTRA: weakref.WeakKeyDictionary[Network, SpectrumView] = weakref.WeakKeyDictionary()
_SPECTRA_LOCK = threading.Lock()


def spectrum(results: ModelResults) -> SpectrumView:
    """Eigenvalues, radius and norm of W_hh per layer and gate block (once per network)."""
    net = _network(results)
    with _SPECTRA_LOCK:
        hit = _SPECTRA.get(net)
    if hit is not None:
        return hit
    # one BLAS thread: the norms' SVDs measured 10x slower with a second thread under load
    layers = an.single_threaded(an.recurrent_spectrum)(net)
    radius, name = _largest_radius(net.config, layers)
    value = SpectrumView(layers, radius, name)
    with _SPECTRA_LOCK:
        _SPECTRA[net] = value
    return value


def _largest_radius(config, layers: tuple[an.LayerSpectrum, ...]) -> tuple[float, str]:
    best, name = -1.0, ""
    for layer in layers:
        for block in layer.blocks:
            if block.radius > best:
                best = block.radius
                label = "W_hh" if block.name == "hh" else f"W_h{block.name}"
                name = label if len(layers) == 1 else f"{label}, layer {layer.layer}"
    return best, name


def distance_curve(results: ModelResults, t: int,
                   progress: Progress | None = None) -> DistanceCurve:
    """The spectral norms of the Jacobian products at step ``t`` with their references."""
    net = _network(results)
    norms = an.jacobian_norms(net, results.trace, int(t), progress=progress)
    spec = spectrum(results)
    radius, name = spec.radius, spec.radius_of
    with np.errstate(divide="ignore"):
        log_rho = math.log10(radius) if radius > 0 else -math.inf
    log_ref = norms.distance * log_rho if radius > 0 else np.where(norms.distance == 0, 0.0,
                                                                   -np.inf)
    forget = None
    if results.config.cell == "lstm":
        forget = an.forget_products(net, results.trace, int(t)).max(axis=2)
    return DistanceCurve(int(t), norms.distance, norms.norm, norms.log10_norm, radius, name,
                         np.asarray(log_ref, np.float64), forget)


def step_spectrum(results: ModelResults, t: int) -> StepSpectrum:
    """The singular values of the step Jacobian at ``t``."""
    return StepSpectrum(int(t), an.step_singular_values(_network(results), results.trace,
                                                        int(t)))


def perturb(results: ModelResults, k: int, channel: int, eps: float,
            of: str = "hidden") -> PerturbationView:
    """Nudge the input at step ``k`` on ``channel`` by ``eps``: rerun against prediction."""
    p = an.perturbation(_network(results), results.trace, int(k), int(channel), eps, of)
    with np.errstate(over="ignore", invalid="ignore"):
        return PerturbationView(p, np.linalg.norm(p.actual, axis=1),
                                np.linalg.norm(p.predicted, axis=1),
                                np.linalg.norm(p.actual - p.predicted, axis=1))


def state_spaces(config) -> tuple[tuple[str, str], ...]:
    """The coordinates the state space can be shown in, as (key, label): "h<l>" a layer's
    h_t, "hc<l>" an LSTM layer's h_t and c_t, "all" every layer's state (stacked networks and
    LSTMs)."""
    out = []
    for k in range(config.num_layers):
        suffix = "" if config.num_layers == 1 else f", layer {k}"
        out.append((f"h{k}", f"h_t{suffix}"))
        if config.cell == "lstm":
            out.append((f"hc{k}", f"h_t and c_t{suffix}"))
    if config.num_layers > 1 or config.cell == "lstm":
        out.append(("all", "whole state s_t"))
    return tuple(out)


def default_space(config) -> str:
    """The top layer's h_t."""
    return f"h{config.num_layers - 1}"


def space_index(config, space: str) -> np.ndarray:
    """The positions in the whole state s (S,) of a space's coordinates."""
    keys = dict(state_spaces(config))
    if space not in keys:
        raise EngineError(f"unknown state space {space!r}; choose from {', '.join(keys)}")
    size = an.state_size(config)
    if space == "all":
        return np.arange(size)
    h_idx, c_idx = an.split_state(config, np.arange(size))
    layer = int(space.lstrip("hc"))
    if space.startswith("hc"):
        return np.concatenate([h_idx[layer], c_idx[layer]])
    return np.asarray(h_idx[layer])


def state_space(results: ModelResults, space: str = "", components: int = 3) -> StateSpace:
    """PCA of the trajectory in ``space`` ("" for the top layer's h_t)."""
    cfg = results.config
    space = space or default_space(cfg)
    index = space_index(cfg, space)
    net = _network(results)
    states, initial = _trajectory(results)
    data = states[:, index]
    pca = dyn.pca(data, min(int(components), *data.shape))
    projected = pca.project(data)
    start = pca.project(initial[index])
    readout = None
    top = cfg.num_layers - 1
    if (cfg.output_size is not None and cfg.output_size <= MAX_READOUT_DIRECTIONS
            and space in (f"h{top}", f"hc{top}", "all")):
        w = np.asarray(net.state_dict()["readout.weight"], np.float64)
        h_idx, _ = an.split_state(cfg, np.arange(an.state_size(cfg)))
        full = np.zeros((w.shape[0], an.state_size(cfg)))
        with np.errstate(invalid="ignore", divide="ignore"):
            full[:, h_idx[top]] = w / np.linalg.norm(w, axis=1, keepdims=True)
        readout = pca.project_directions(np.nan_to_num(full[:, index]))
    return StateSpace(space, index, pca, projected, start, readout)


def x_star_for(results: ModelResults, mode: str, step: int = 0) -> np.ndarray:
    """x* (I,) for a fixed-point search: zeros, the mean input, or the input at ``step``."""
    inputs = np.asarray(results.sequence.inputs, np.float64)
    if mode == "zero":
        return np.zeros(inputs.shape[1])
    if mode == "mean":
        return inputs.mean(axis=0)
    if mode == "cursor":
        return inputs[min(max(int(step), 0), inputs.shape[0] - 1)].copy()
    raise EngineError(f"x* must be one of {', '.join(X_STAR_MODES)}, got {mode!r}")


def find_fixed_points(results: ModelResults, x_star: np.ndarray, *, mode: str = "zero",
                      starts: int = 64, tol: float = 1e-12, seed: int = 0,
                      noise: float = 0.0, progress: Progress | None = None) -> FixedPointsView:
    """Fixed and slow points of the update map under x*, from ``starts`` states sampled from
    the trajectory (with Gaussian ``noise``)."""
    net = _network(results)
    states = an.state_trajectory(net, results.trace)
    found = dyn.fixed_points(net, np.asarray(x_star, np.float64), states, count=int(starts),
                             tol=float(tol), slow_tol=max(float(tol), 1e-4), seed=int(seed),
                             noise=float(noise), progress=progress)
    return FixedPointsView(found, np.asarray(x_star, np.float64).copy(), mode)


def describe_horizon(horizon: an.MemoryHorizon | None, short: bool = False) -> str:
    """The memory horizon as the window shows it: "12.4 steps (3 steps still above 1% at
    the sequence start)", "longer than the sequence"; ``short`` leaves out the
    parenthesis."""
    if horizon is None:
        return "—"
    value = horizon.value
    if math.isnan(value):
        return "undefined" if short else "undefined (no influence at distance 0)"
    if math.isinf(value):
        return "> sequence" if short else "longer than the sequence"
    text = f"{value:.1f} steps"
    if horizon.censored and not short:
        text += f" ({horizon.censored} steps still above 1% at the sequence start)"
    return text


# ==== costs ==================================================================================
def _run_setup(cfg, steps: int) -> float:
    """Re-linearising a trace (what every analysis does first): like one forward pass."""
    gh = cfg.gate_count * cfg.hidden_size
    return 2.0 * steps * gh * (cfg.input_size + cfg.hidden_size * (2 * cfg.num_layers - 1))


def cost(req: Request) -> float:
    """What computing ``req`` costs, in multiply-adds (or the equivalent time of
    decompositions): compared with :data:`LIVE_BUDGET` to decide between now and a job."""
    results = req.results
    cfg = results.config
    steps = results.steps
    size = an.state_size(cfg)
    setup = _run_setup(cfg, steps)
    p = dict(req.params)
    if req.kind == "influence":
        if p["of"] == "output" and cfg.output_size is None:
            return 0.0  # refused at once
        return (an.influence_plan(_network(results), steps, p["of"]).multiply_adds
                + STEP_OVERHEAD * steps)
    if req.kind == "distance":
        # a product and an eigendecomposition of S × S per distance, plus call overhead
        return setup + (int(p["t"]) + 1) * (5.0 * size ** 3 + 1e6)
    if req.kind == "singular":
        return setup + 10.0 * size ** 3
    if req.kind == "spectrum":
        return 10.0 * cfg.num_layers * cfg.gate_count * cfg.hidden_size ** 3
    if req.kind == "perturbation":
        swept = steps - int(p["k"])
        tangents = cfg.input_size * swept * size * cfg.hidden_size * 2
        return 2.0 * setup + tangents + STEP_OVERHEAD * swept
    if req.kind == "state_space":
        dims = len(space_index(cfg, p["space"]))
        return setup + 4.0 * steps * dims * min(steps, dims)
    if req.kind == "fixed_points":
        return float(p["starts"]) * 30 * 4.0 * size ** 3  # ~30 iterations, solves per start
    raise EngineError(f"unknown analysis {req.kind!r}")


# ==== the cache ==============================================================================
def _compute(req: Request, progress: Progress | None) -> Any:
    p = dict(req.params)
    r = req.results
    if req.kind == "influence":
        return influence_map(r, p["of"], progress)
    if req.kind == "distance":
        return distance_curve(r, p["t"], progress)
    if req.kind == "spectrum":
        return spectrum(r)
    if req.kind == "singular":
        return step_spectrum(r, p["t"])
    if req.kind == "perturbation":
        return perturb(r, p["k"], p["channel"], p["eps"], p["of"])
    if req.kind == "state_space":
        return state_space(r, p["space"], p["components"])
    if req.kind == "fixed_points":
        return find_fixed_points(r, np.asarray(p["value"]), mode=p["x_star"],
                                 starts=p["starts"], tol=p["tol"], seed=p["seed"],
                                 noise=p["noise"], progress=progress)
    raise EngineError(f"unknown analysis {req.kind!r}")


def evaluate(req: Request, progress: Progress | None = None) -> Any:
    """Compute ``req`` (pure, thread-safe): its value, or a :class:`Failure` for an expected
    error (EngineError and the ValueError family, MemoryError). Cancellation (raised by
    ``progress``) propagates."""
    try:
        return _compute(req, progress)
    except MemoryError:
        return Failure("not enough memory for this analysis")
    except (ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
        return Failure(" ".join(str(exc).split()) or type(exc).__name__)


class Analyses:
    """The values of requests, computed once and kept per model results (weakly: a value goes
    when its results do; at most :data:`_CACHE_ENTRIES` per results, least recently used
    first). Safe to read from any thread; values are stored by the caller that asked for
    them (a job returns its value, the caller stores it)."""

    def __init__(self, entries: int = _CACHE_ENTRIES) -> None:
        self._entries = entries
        self._lock = threading.Lock()
        self._cache: weakref.WeakKeyDictionary[Any, OrderedDict] = weakref.WeakKeyDictionary()
        self.computed = 0  # how many values were computed (not answered from the cache)

    def cached(self, req: Request) -> Any | None:
        """The value of ``req`` if it was computed (a :class:`Failure` included), else None."""
        with self._lock:
            values = self._cache.get(req.owner)
            if values is None or req.key not in values:
                return None
            values.move_to_end(req.key)
            return values[req.key]

    def store(self, req: Request, value: Any) -> None:
        with self._lock:
            values = self._cache.setdefault(req.owner, OrderedDict())
            values[req.key] = value
            values.move_to_end(req.key)
            while len(values) > self._entries:
                values.popitem(last=False)

    def get(self, req: Request, progress: Progress | None = None) -> Any:
        """The value of ``req``, computed now if it is not cached (and stored)."""
        value = self.cached(req)
        if value is None:
            value = evaluate(req, progress)
            self.computed += 1
            self.store(req, value)
        return value

    @staticmethod
    def cost(req: Request) -> float:
        try:
            return cost(req)
        except (ValueError, FloatingPointError):
            return 0.0  # refused at once, with its message, when computed

    def live(self, req: Request, budget: float = LIVE_BUDGET) -> bool:
        """Whether ``req`` is cheap enough to compute now on the GUI thread."""
        return req.kind != "fixed_points" and self.cost(req) <= budget

    @staticmethod
    def job(req: Request, title: str | None = None) -> FunctionJob:
        """A job computing ``req`` (with progress and cancel); it returns the value, which the
        caller stores with :meth:`store`."""
        def run(ctx: JobContext) -> Any:
            ctx.progress(0.0, title or req.kind)
            value = evaluate(req, ctx.part(0.0, 1.0))
            ctx.check()
            return value

        return FunctionJob(title or f"computing {req.kind}", run)
