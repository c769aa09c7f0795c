"""The recurrent state as a dynamical system: the update map under a constant input, its fixed
and slow points with their stability, and principal components of trajectories.

The state s (S,) stacks every layer's h and, for an LSTM, c in the order (h_l0, c_l0, h_l1, ...)
exactly as :mod:`rnnviz.engine.analysis` does; F(s, x*) is one step of the whole stack with the
input held at x*, and ∂F/∂s its total derivative through the layers (the same matrices as
``analysis.state_jacobians``).

Fixed points (after Sussillo & Barak 2013, "Opening the black box") minimise
q(s) = ½‖F(s, x*) − s‖² from many starts. The minimiser is Levenberg–Marquardt on the residual
r(s) = F(s) − s, whose Jacobian J − I is at hand in closed form: near a fixed point it takes
Newton steps (quadratic convergence to round-off, at saddles and repellers as readily as at
attractors, which gradient descent on q approaches only slowly), and far from one its damping
makes it gradient descent on q with ∇q = (J − I)ᵀ r. Each iteration costs one S×S solve per
start, all starts at once; for the state sizes shown here (S up to a few hundred) that is a few
dozen iterations where Adam needs thousands, and it ends at q ≈ 1e-30 rather than 1e-8.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from rnnviz.engine.analysis import (
    assemble_jacobians,
    layer_weights,
    linearise,
    single_threaded,
    split_state,
    state_size,
)
from rnnviz.engine.errors import EngineError
from rnnviz.engine.network import Network

__all__ = [
    "KINDS",
    "PCA",
    "FixedPoint",
    "FixedPointSet",
    "fixed_points",
    "pca",
    "sample_starts",
    "stability",
    "state_bounds",
    "update",
    "update_jacobian",
]

Progress = Callable[[float], None]
"""Called with the fraction done (0..1); raising from it aborts the search."""

KINDS = ("stable", "saddle", "unstable")
UNIT_MARGIN = 1e-8  # eigenvalues within this of the unit circle count as neither in nor out
_WORK_BYTES = 64 << 20


# ==== the update map =========================================================================
def _as_states(net: Network, s) -> tuple[np.ndarray, tuple[int, ...]]:
    size = state_size(net.config)
    try:
        a = np.asarray(s, dtype=np.float64)
    except (TypeError, ValueError):
        raise EngineError("states must be a numeric array") from None
    if a.ndim == 0 or a.shape[-1] != size:
        raise EngineError(f"states must have shape (..., {size}), got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise EngineError("states hold NaN or Inf values")
    return a.reshape(-1, size), a.shape[:-1]


def _as_input(net: Network, x_star) -> np.ndarray:
    inputs = net.config.input_size
    try:
        x = np.asarray(x_star, dtype=np.float64)
    except (TypeError, ValueError):
        raise EngineError("x_star must be a numeric array") from None
    if x.shape != (inputs,):
        raise EngineError(f"x_star must have shape ({inputs},), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise EngineError("x_star holds NaN or Inf values")
    return x


def _check_net(net: Network) -> None:
    if not isinstance(net, Network):
        raise EngineError(f"expected a Network, got {type(net).__name__}")


class _Map:
    """F(·, x*) of one network: weights extracted once, evaluated for many states at once."""

    def __init__(self, net: Network, x_star) -> None:
        _check_net(net)
        self.cfg = net.config
        self.layers = layer_weights(net)
        self.x = _as_input(net, x_star)
        self.size = state_size(self.cfg)

    def __call__(self, s: np.ndarray, jacobian: bool = False):
        """F(s) (N, S) for states s (N, S), and ∂F/∂s (N, S, S) with ``jacobian``."""
        cfg = self.cfg
        h, c = split_state(cfg, s)
        inp = np.broadcast_to(self.x, (s.shape[0], cfg.input_size))
        lins = []
        for k, lw in enumerate(self.layers):
            lin = linearise(cfg.cell, lw, inp, h[:, k], None if c is None else c[:, k])
            lins.append(lin)
            inp = lin.h
        new_h = np.stack([lin.h for lin in lins], axis=1)
        if c is None:
            out = new_h.reshape(s.shape[0], -1)
        else:
            out = np.stack([new_h, np.stack([lin.c for lin in lins], axis=1)],
                           axis=2).reshape(s.shape[0], -1)
        if not jacobian:
            return out
        return out, assemble_jacobians(cfg.cell, self.layers, lins)


@single_threaded
def update(net: Network, s, x_star) -> np.ndarray:
    """F(s, x*): one step of the whole network from states s (..., S) with input x* (I,);
    (..., S)."""
    states, lead = _as_states(net, s)
    return _Map(net, x_star)(states).reshape(*lead, -1)


@single_threaded
def update_jacobian(net: Network, s, x_star) -> np.ndarray:
    """∂F/∂s at states s (..., S): (..., S, S), the total derivative through the layers."""
    states, lead = _as_states(net, s)
    _, jac = _Map(net, x_star)(states, jacobian=True)
    size = states.shape[1]
    return jac.reshape(*lead, size, size)


# ==== fixed points ===========================================================================
def stability(eigenvalues: np.ndarray, margin: float = UNIT_MARGIN) -> str:
    """The kind of a fixed point of a discrete-time map from its Jacobian's eigenvalues:
    "stable" when none lies outside the unit circle (by more than ``margin``), "unstable"
    when all do, "saddle" otherwise."""
    mod = np.abs(np.asarray(eigenvalues))
    out = mod > 1.0 + margin
    if not out.any():
        return "stable"
    return "unstable" if out.all() else "saddle"


@dataclass(frozen=True)
class FixedPoint:
    """One fixed (or slow) point of F(·, x*).

    state (S,); q = ½‖F(s) − s‖²; speed = ‖F(s) − s‖; eigenvalues (S,) of ∂F/∂s there, largest
    modulus first, and eigenvectors (S, S) (column j belongs to eigenvalue j); kind: "stable",
    "saddle" or "unstable" (see :func:`stability`); unstable: how many eigenvalues lie outside
    the unit circle; slow: q is above the tolerance (a slow point, not a fixed point);
    starts: how many starts ended here.
    """

    state: np.ndarray
    q: float
    speed: float
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray = field(repr=False)
    kind: str = "stable"
    unstable: int = 0
    slow: bool = False
    starts: int = 1

    @property
    def radius(self) -> float:
        """The spectral radius of ∂F/∂s at the point."""
        return float(np.abs(self.eigenvalues[0])) if self.eigenvalues.size else 0.0


@dataclass(frozen=True)
class FixedPointSet:
    """What :func:`fixed_points` found.

    points: the distinct points, fixed points first (by q), then slow points (by q);
    x_star (I,), tol, slow_tol: the search's settings; starts (N, S): the starting states used
    (after sampling and noise); final (N, S) and final_q (N,): where each start ended;
    label (N,): the index in ``points`` each start ended at, −1 when it ended with q >= slow_tol.
    """

    points: tuple[FixedPoint, ...]
    x_star: np.ndarray
    tol: float
    slow_tol: float
    starts: np.ndarray = field(repr=False)
    final: np.ndarray = field(repr=False)
    final_q: np.ndarray = field(repr=False)
    label: np.ndarray = field(repr=False)

    @property
    def fixed(self) -> tuple[FixedPoint, ...]:
        return tuple(p for p in self.points if not p.slow)

    @property
    def slow(self) -> tuple[FixedPoint, ...]:
        return tuple(p for p in self.points if p.slow)

    def count(self, kind: str, slow: bool = False) -> int:
        """How many fixed points (or, with ``slow``, slow points) are of ``kind``."""
        if kind not in KINDS:
            raise EngineError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        return sum(1 for p in self.points if p.kind == kind and p.slow == slow)

    def states(self) -> np.ndarray:
        """(len(points), S) the points' states."""
        size = self.starts.shape[1]
        return np.array([p.state for p in self.points]).reshape(-1, size)


def sample_starts(states, count: int | None = None, *, seed: int = 0,
                  noise: float = 0.0) -> np.ndarray:
    """Starting states for :func:`fixed_points`: ``count`` rows of ``states`` (N, S) drawn
    without replacement (with replacement when count > N; all rows, in order, when None),
    plus Gaussian noise of standard deviation ``noise``. Deterministic by ``seed``."""
    a = np.asarray(states, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] == 0:
        raise EngineError(f"states must have shape (N, S) with N >= 1, got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise EngineError("states hold NaN or Inf values")
    try:
        noise = float(noise)
    except (TypeError, ValueError):
        raise EngineError(f"noise must be a number, got {noise!r}") from None
    if not (math.isfinite(noise) and noise >= 0):
        raise EngineError(f"noise must be a finite number >= 0, got {noise}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise EngineError(f"seed must be a non-negative whole number, got {seed!r}")
    rng = np.random.default_rng(int(seed))
    if count is None:
        out = a.copy()
    else:
        if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 1:
            raise EngineError(f"count must be a whole number >= 1, got {count!r}")
        idx = rng.choice(a.shape[0], size=int(count), replace=int(count) > a.shape[0])
        out = a[idx]
    if noise:
        out = out + noise * rng.standard_normal(out.shape)
    return out


def _positive(name: str, value, integer: bool = False):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise EngineError(f"{name} must be a number, got {value!r}") from None
    if not (math.isfinite(v) and v > 0) or (integer and v != int(v)):
        kind = "a whole number" if integer else "a finite number"
        raise EngineError(f"{name} must be {kind} > 0, got {value!r}")
    return int(v) if integer else v


def state_bounds(config) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) (S,): where fixed points can lie. Every h is a tanh (or, for a GRU, a mix of
    a tanh and the h it holds), so |h| < 1 at a fixed point, and a relu's h >= 0; c is free.
    Outside, a GRU's z or an LSTM's gates round to exactly 0 or 1 and F(s) = s can hold in
    float64 without being a fixed point of the network."""
    size = state_size(config)
    lo, hi = np.full(size, -np.inf), np.full(size, np.inf)
    h, _ = split_state(config, np.arange(size))
    idx = h.reshape(-1)
    lo[idx] = 0.0 if config.cell == "rnn_relu" else -1.0
    if config.cell != "rnn_relu":
        hi[idx] = 1.0
    return lo, hi


def _levenberg_marquardt(fmap: _Map, s: np.ndarray, max_iter: int,
                         report: Callable[[float], None]) -> tuple[np.ndarray, np.ndarray]:
    """Minimise q = ½‖F(s) − s‖² from every row of s (n, S) inside :func:`state_bounds`
    (each step is projected onto them); returns (states, q)."""
    n, size = s.shape
    eye = np.eye(size)
    lo, hi = state_bounds(fmap.cfg)
    s = np.clip(s, lo, hi)
    f, jac = fmap(s, jacobian=True)
    r = f - s
    q = 0.5 * np.einsum("ij,ij->i", r, r)
    jr = jac - eye
    g = np.einsum("nij,ni->nj", jr, r)
    a = np.matmul(jr.transpose(0, 2, 1), jr)
    mu = 1e-3 * np.maximum(np.max(np.diagonal(a, axis1=1, axis2=2), axis=1), 1e-12)
    nu = np.full(n, 2.0)
    # q below round-off of F(s) − s itself: nothing left to gain.
    floor = 0.5 * size * (8 * np.finfo(float).eps) ** 2
    active = np.ones(n, bool)
    for it in range(max_iter):
        scale = 1.0 + np.max(np.abs(s), axis=1)
        active &= (q > floor * scale * scale) & (mu < 1e30)
        idx = np.flatnonzero(active)
        if not idx.size:
            break
        a_idx = a[idx]
        lhs = a_idx + mu[idx, None, None] * eye
        try:
            step = -np.linalg.solve(lhs, g[idx][..., None])[..., 0]
        except np.linalg.LinAlgError:
            step = np.zeros((idx.size, size))
            for j, m in enumerate(idx):
                try:
                    step[j] = -np.linalg.solve(lhs[j], g[m])
                except np.linalg.LinAlgError:
                    mu[m] = 1e31
        trial = np.clip(s[idx] + step, lo, hi)
        step = trial - s[idx]
        f_t = fmap(trial)
        r_t = f_t - trial
        q_t = 0.5 * np.einsum("ij,ij->i", r_t, r_t)
        # the decrease the Gauss-Newton model of q predicts for the (projected) step
        model = np.matmul(a_idx, step[..., None])[..., 0]
        pred = -np.einsum("ij,ij->i", step, g[idx] + 0.5 * model)
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = (q[idx] - q_t) / pred
        ok = np.isfinite(q_t) & (q_t < q[idx]) & (rho > 0)
        acc, rej = idx[ok], idx[~ok]
        if acc.size:
            s[acc] = trial[ok]
            f_a, jac_a = fmap(s[acc], jacobian=True)
            r[acc] = f_a - s[acc]
            q[acc] = q_t[ok]
            jr_a = jac_a - eye
            g[acc] = np.einsum("nij,ni->nj", jr_a, r[acc])
            a[acc] = np.matmul(jr_a.transpose(0, 2, 1), jr_a)
            mu[acc] *= np.maximum(1.0 / 3.0, 1.0 - (2.0 * rho[ok] - 1.0) ** 3)
            nu[acc] = 2.0
            # A step too small to move s any more ends the search for that start.
            tiny = np.linalg.norm(step[ok], axis=1) <= 1e-15 * scale[idx][ok]
            active[acc[tiny]] = False
        if rej.size:
            mu[rej] *= nu[rej]
            nu[rej] *= 2.0
        report((it + 1) / max_iter)
    return s, q


@single_threaded
def fixed_points(net: Network, x_star, starts, *, count: int | None = None,
                 tol: float = 1e-12, slow_tol: float = 1e-4, max_iter: int = 100,
                 seed: int = 0, noise: float = 0.0, merge_tol: float = 1e-6,
                 progress: Progress | None = None) -> FixedPointSet:
    """Fixed and slow points of F(·, x*) found from many starting states.

    starts (N, S): candidate starting states (a trajectory from
    ``analysis.state_trajectory``, say); ``count`` of them are drawn (see
    :func:`sample_starts`; all when None) and ``noise`` added, deterministically by ``seed``.
    From each, q(s) = ½‖F(s, x*) − s‖² is minimised (Levenberg–Marquardt, at most
    ``max_iter`` iterations) inside :func:`state_bounds`, where every fixed point lies. Ends
    with q < ``tol`` are fixed points, with q < ``slow_tol`` slow points; ends closer than
    ``merge_tol`` (Euclidean, in state space) are one point. Each point comes with the
    eigenvalues of ∂F/∂s there and its kind. Cancellable: ``progress`` is called after every
    iteration (all starts of a batch advance together).
    """
    fmap = _Map(net, x_star)
    tol = _positive("tol", tol)
    slow_tol = _positive("slow_tol", slow_tol)
    if slow_tol < tol:
        raise EngineError(f"slow_tol ({slow_tol}) must not be below tol ({tol})")
    max_iter = _positive("max_iter", max_iter, integer=True)
    merge_tol = _positive("merge_tol", merge_tol)
    begin = sample_starts(starts, count, seed=seed, noise=noise)
    if begin.shape[1] != fmap.size:
        raise EngineError(f"starts must have shape (N, {fmap.size}), got {begin.shape}")
    n, size = begin.shape
    chunk = max(1, _WORK_BYTES // (5 * size * size * 8))
    spans = [(a, min(a + chunk, n)) for a in range(0, n, chunk)]
    final = np.empty_like(begin)
    final_q = np.empty(n)
    for j, (a, b) in enumerate(spans):
        def report(f: float, j: int = j) -> None:
            if progress is not None:
                progress(0.95 * (j + f) / len(spans))

        final[a:b], final_q[a:b] = _levenberg_marquardt(fmap, begin[a:b], max_iter, report)
    points, label = _merge(fmap, final, final_q, tol, slow_tol, merge_tol)
    if progress is not None:
        progress(1.0)
    return FixedPointSet(points, fmap.x.copy(), tol, slow_tol, begin, final, final_q, label)


def _merge(fmap: _Map, final: np.ndarray, final_q: np.ndarray, tol: float, slow_tol: float,
           merge_tol: float) -> tuple[tuple[FixedPoint, ...], np.ndarray]:
    """Distinct points among the ends (lowest q first), with their eigenvalues and kinds."""
    label = np.full(final.shape[0], -1)
    keep = np.flatnonzero(np.isfinite(final_q) & (final_q < slow_tol))
    keep = keep[np.argsort(final_q[keep], kind="stable")]
    reps: list[int] = []
    for i in keep:
        if reps:
            dist = np.linalg.norm(final[reps] - final[i], axis=1)
            j = int(np.argmin(dist))
            if dist[j] <= merge_tol:
                label[i] = j
                continue
        label[i] = len(reps)
        reps.append(int(i))
    if not reps:
        return (), label
    f, jac = fmap(final[reps], jacobian=True)
    ev, vec = np.linalg.eig(jac)
    points = []
    for j, i in enumerate(reps):
        order = np.argsort(-np.abs(ev[j]), kind="stable")
        vals = ev[j][order].astype(np.complex128)
        q = float(final_q[i])
        points.append(FixedPoint(
            state=final[i].copy(), q=q, speed=math.sqrt(2.0 * q), eigenvalues=vals,
            eigenvectors=vec[j][:, order].astype(np.complex128), kind=stability(vals),
            unstable=int(np.sum(np.abs(vals) > 1.0 + UNIT_MARGIN)), slow=q >= tol,
            starts=int(np.sum(label == j))))
    # Fixed points first, then slow points; each group by q (reps are in q order already).
    order = sorted(range(len(points)), key=lambda j: (points[j].slow, points[j].q))
    remap = np.empty(len(points), int)
    remap[order] = np.arange(len(points))
    label = np.where(label >= 0, remap[np.maximum(label, 0)], -1)
    return tuple(points[j] for j in order), label


# ==== principal components ===================================================================
@dataclass(frozen=True)
class PCA:
    """Principal components of samples (N, D).

    mean (D,); components (k, D), orthonormal rows, the direction of most variance first,
    each signed so that its largest-magnitude entry is positive (stable between recomputes);
    singular_values (k,) of the centred data; explained_variance (k,) = σ²/(N − 1);
    explained_variance_ratio (k,): each component's share of the total variance;
    total_variance: the sum of every direction's variance.
    """

    mean: np.ndarray
    components: np.ndarray
    singular_values: np.ndarray
    explained_variance: np.ndarray
    explained_variance_ratio: np.ndarray
    total_variance: float
    samples: int

    def project(self, x) -> np.ndarray:
        """Coordinates of points x (..., D) in the components: (..., k)."""
        return (np.asarray(x, np.float64) - self.mean) @ self.components.T

    def project_directions(self, v) -> np.ndarray:
        """Coordinates of directions v (..., D) (not centred: eigenvectors, readout rows):
        (..., k)."""
        return np.asarray(v, np.float64) @ self.components.T

    def reconstruct(self, z) -> np.ndarray:
        """Points (..., D) from coordinates z (..., k)."""
        return np.asarray(z, np.float64) @ self.components + self.mean


@single_threaded
def pca(data, n_components: int | None = None) -> PCA:
    """PCA of samples (N, D), or of several trajectories (N_i, D) stacked; ``n_components``
    (default: all, min(N, D))."""
    if isinstance(data, np.ndarray) or not isinstance(data, Sequence):
        parts = [data]
    else:
        parts = list(data)
    try:
        arrays = [np.asarray(p, np.float64) for p in parts]
    except (TypeError, ValueError):
        raise EngineError("PCA data must be numeric arrays") from None
    if not arrays or any(a.ndim != 2 for a in arrays) \
            or len({a.shape[1] for a in arrays}) != 1:
        raise EngineError("PCA data must be (N, D) arrays with the same D")
    x = np.concatenate(arrays, axis=0)
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise EngineError(f"PCA needs at least one sample of one dimension, got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise EngineError("PCA data hold NaN or Inf values")
    samples, dims = x.shape
    most = min(samples, dims)
    if n_components is None:
        k = most
    else:
        if isinstance(n_components, bool) or not isinstance(n_components, int | np.integer) \
                or not 1 <= n_components <= most:
            raise EngineError(f"n_components must lie in 1..{most}, got {n_components!r}")
        k = int(n_components)
    mean = x.mean(axis=0)
    _, sv, vt = np.linalg.svd(x - mean, full_matrices=False)
    comps = vt[:k].copy()
    peak = np.argmax(np.abs(comps), axis=1)
    comps *= np.where(comps[np.arange(k), peak] < 0, -1.0, 1.0)[:, None]
    var = sv ** 2 / max(samples - 1, 1)
    total = float(var.sum())
    ratio = var[:k] / total if total > 0 else np.zeros(k)
    return PCA(mean, comps, sv[:k].copy(), var[:k].copy(), ratio, total, samples)
