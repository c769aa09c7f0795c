"""The update map, its fixed points and their stability, and PCA — against the engine's own
step, finite differences, closed forms and hand-built networks with known attractors."""

import itertools

import numpy as np
import pytest

from rnnviz.engine import CELL_TYPES, EngineError, Network, State
from rnnviz.engine import analysis as an
from rnnviz.engine import dynamics as dyn
from rnnviz.jobs import Cancelled

CONFIGS = [(c, n, b) for c in CELL_TYPES for n in (1, 2) for b in (True, False)]


def _states(net, count=5, seed=0):
    size = an.state_size(net.config)
    return np.random.default_rng(seed).uniform(-0.9, 0.9, (count, size))


@pytest.mark.parametrize(("cell", "layers", "bias"), CONFIGS)
def test_update_is_one_step_of_the_network(cell, layers, bias):
    net = Network(cell=cell, input_size=2, hidden_size=3, num_layers=layers, bias=bias, seed=2)
    x = np.array([0.3, -0.7])
    s = _states(net)
    out = dyn.update(net, s, x)
    assert out.shape == s.shape
    for row, new in zip(s, out, strict=True):
        h, c = an.split_state(net.config, row)
        state, _ = net.step(x, State(h, c))
        np.testing.assert_allclose(new, an.join_state(state.h, state.c), rtol=1e-14,
                                   atol=1e-15)
    np.testing.assert_allclose(dyn.update(net, s[0], x), out[0])


@pytest.mark.parametrize(("cell", "layers", "bias"), CONFIGS)
def test_update_jacobian_matches_finite_differences(cell, layers, bias):
    net = Network(cell=cell, input_size=2, hidden_size=3, num_layers=layers, bias=bias, seed=3)
    x = np.array([0.5, 0.1])
    s = _states(net, count=3, seed=1)
    if cell == "rnn_relu":
        s = np.abs(s) + 0.05
    jac = dyn.update_jacobian(net, s, x)
    eps = 1e-6
    size = s.shape[1]
    for n, j in itertools.product(range(3), range(size)):
        up, down = s[n].copy(), s[n].copy()
        up[j] += eps
        down[j] -= eps
        fd = (dyn.update(net, up, x) - dyn.update(net, down, x)) / (2 * eps)
        np.testing.assert_allclose(jac[n, :, j], fd, atol=1e-8, rtol=1e-6)


def test_update_jacobian_along_a_trace_is_the_state_jacobian():
    net = Network(cell="lstm", input_size=2, hidden_size=4, num_layers=2, seed=0)
    trace = net.forward(np.random.default_rng(0).standard_normal((5, 2)))
    states = an.state_trajectory(net, trace)
    jac = an.state_jacobians(net, trace)
    for t in range(1, 5):
        np.testing.assert_allclose(dyn.update_jacobian(net, states[t - 1], trace.input[t]),
                                   jac[t], rtol=1e-13, atol=1e-15)


# ---- fixed points ---------------------------------------------------------------------------
def _small_tanh_rnn(hidden=4, inputs=2, seed=0):
    """W_hh of norm 0.5, input weights and biases ~1e-4: the fixed point is ~1e-4, where
    tanh(a) = a − a³/3 differs from linear by ~1e-12."""
    net = Network(cell="rnn_tanh", input_size=inputs, hidden_size=hidden, seed=seed)
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((hidden, hidden)))
    sd = net.state_dict()
    sd["weight_hh_l0"] = 0.5 * q
    sd["weight_ih_l0"] = 1e-4 * rng.standard_normal((hidden, inputs))
    sd["bias_ih_l0"] = 1e-4 * rng.standard_normal(hidden)
    sd["bias_hh_l0"] = 1e-4 * rng.standard_normal(hidden)
    net.load_state_dict(sd)
    return net, sd


def test_fixed_point_of_a_near_linear_rnn_solves_the_linear_system():
    net, sd = _small_tanh_rnn()
    x_star = np.array([0.7, -1.2])
    res = dyn.fixed_points(net, x_star, _states(net, count=20), seed=0)
    assert len(res.points) == 1 and not res.slow
    (p,) = res.points
    w = sd["weight_hh_l0"]
    b = sd["weight_ih_l0"] @ x_star + sd["bias_ih_l0"] + sd["bias_hh_l0"]
    # exact: s = tanh(W s + b) to round-off
    np.testing.assert_allclose(np.tanh(w @ p.state + b), p.state, rtol=0, atol=1e-16)
    assert np.linalg.norm(dyn.update(net, p.state, x_star) - p.state) < 1e-10
    # linearised: (I − W) s = W_x x* + b up to the cubic term |a|³/3 < 1e-11, amplified at
    # most ‖(I − W)⁻¹‖ = 2 times
    linear = np.linalg.solve(np.eye(4) - w, b)
    assert 1e-5 < np.min(np.abs(linear)) and np.max(np.abs(linear)) < 5e-4
    np.testing.assert_allclose(p.state, linear, rtol=0, atol=3e-11)
    assert p.kind == "stable" and p.starts == 20
    np.testing.assert_allclose(np.sort(np.abs(p.eigenvalues)), np.full(4, 0.5), rtol=1e-6)


def _self_excited_rnn(gain=3.0):
    net = Network(cell="rnn_tanh", input_size=1, hidden_size=2, bias=False, seed=0)
    sd = net.state_dict()
    sd["weight_hh_l0"] = np.diag([gain, gain])
    sd["weight_ih_l0"] = np.zeros((2, 1))
    net.load_state_dict(sd)
    return net


def test_two_self_exciting_units_have_four_attractors_four_saddles_and_a_repeller():
    net = _self_excited_rnn()
    starts = np.random.default_rng(0).uniform(-1, 1, (200, 2))
    res = dyn.fixed_points(net, [0.0], starts, seed=0)
    assert (res.count("stable"), res.count("saddle"), res.count("unstable")) == (4, 4, 1)
    assert not res.slow and np.all(res.label >= 0)
    # s* = tanh(3 s*) by bisection, independent of the search
    lo, hi = 0.5, 1.0
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if np.tanh(3 * mid) > mid else (lo, mid)
    star = lo
    for p in res.points:
        assert p.speed < 1e-10
        np.testing.assert_allclose(np.abs(p.state), np.round(np.abs(p.state) / star) * star,
                                   atol=1e-12)
        zeros = int(np.sum(np.abs(p.state) < 1e-9))
        assert p.kind == {0: "stable", 1: "saddle", 2: "unstable"}[zeros]
        assert p.unstable == zeros
    assert sum(p.starts for p in res.points) == 200


def _bistable_units(cell, hidden=3, gain=6.0):
    """Each unit excites only itself: 2 stable states per unit, so 2^H attractors."""
    net = Network(cell=cell, input_size=1, hidden_size=hidden, bias=False, seed=0)
    sd = net.state_dict()
    w = np.zeros_like(sd["weight_hh_l0"])
    block = {"lstm": 2, "gru": 2}[cell]  # the g block of an LSTM, the n block of a GRU
    w[block * hidden:(block + 1) * hidden] = gain * np.eye(hidden)
    sd["weight_hh_l0"] = w
    sd["weight_ih_l0"] = np.zeros_like(sd["weight_ih_l0"])
    net.load_state_dict(sd)
    return net


@pytest.mark.parametrize(("cell", "kinds"), [("lstm", (8, 19, 0)), ("gru", (8, 18, 1))])
def test_three_bistable_units_have_eight_attractors(cell, kinds):
    """3 units with states {−, 0, +} each: 27 fixed points. Those with no unit at 0 attract;
    the all-zero point of the GRU repels in every direction, the LSTM's cell direction
    (forget gate ½) still attracts there, so it is a saddle."""
    net = _bistable_units(cell)
    size = an.state_size(net.config)
    rng = np.random.default_rng(1)
    starts = np.vstack([rng.uniform(-1, 1, (300, size)), rng.uniform(-0.3, 0.3, (100, size))])
    res = dyn.fixed_points(net, [0.0], starts, seed=0)
    assert (res.count("stable"), res.count("saddle"), res.count("unstable")) == kinds
    for p in res.points:
        assert np.linalg.norm(dyn.update(net, p.state, [0.0]) - p.state) < 1e-10
        h, _ = an.split_state(net.config, p.state)
        zeros = int(np.sum(np.abs(h) < 1e-9))
        assert (p.kind == "stable") == (zeros == 0)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn_tanh"])
def test_found_points_are_fixed_and_their_eigenvalues_are_the_jacobians(cell):
    net = Network(cell=cell, input_size=2, hidden_size=6, num_layers=2, seed=4,
                  init="orthogonal", recurrent_scale=2.0)
    trace = net.forward(np.random.default_rng(0).standard_normal((100, 2)))
    x_star = trace.input.mean(axis=0)
    res = dyn.fixed_points(net, x_star, an.state_trajectory(net, trace), count=40, seed=1,
                           noise=0.05)
    assert res.fixed
    size = an.state_size(net.config)
    for p in res.fixed:
        assert p.q < 1e-12
        assert np.linalg.norm(dyn.update(net, p.state, x_star) - p.state) < np.sqrt(2e-12)
        fd = np.empty((size, size))
        for j in range(size):
            e = np.zeros(size)
            e[j] = 1e-6
            fd[:, j] = (dyn.update(net, p.state + e, x_star)
                        - dyn.update(net, p.state - e, x_star)) / 2e-6
        ref = np.linalg.eigvals(fd)
        np.testing.assert_allclose(np.sort(np.abs(p.eigenvalues)), np.sort(np.abs(ref)),
                                   atol=1e-6)
        assert p.kind == dyn.stability(ref)
        # eigenvectors belong to their eigenvalues
        jac = dyn.update_jacobian(net, p.state, x_star)
        np.testing.assert_allclose(jac @ p.eigenvectors, p.eigenvectors * p.eigenvalues,
                                   atol=1e-9)
        h, _ = an.split_state(net.config, p.state)
        assert np.all(np.abs(h) < 1)


def test_saturated_gates_do_not_make_fixed_points():
    """Far outside |h| < 1 a GRU's z rounds to exactly 1, so F(s) = s holds in float64 there;
    the search stays where the network's fixed points can lie."""
    net = Network(cell="gru", input_size=3, hidden_size=8, seed=1, init="orthogonal",
                  recurrent_scale=3.0)
    traj = an.state_trajectory(net, net.forward(np.random.default_rng(0).standard_normal(
        (300, 3))))
    res = dyn.fixed_points(net, np.zeros(3), traj, count=128, noise=0.1, seed=0)
    lo, hi = dyn.state_bounds(net.config)
    np.testing.assert_array_equal(lo, -1.0)
    np.testing.assert_array_equal(hi, 1.0)
    assert np.all((res.final >= -1) & (res.final <= 1))
    assert res.fixed and all(np.max(np.abs(p.state)) < 1 for p in res.points)
    lstm_lo, lstm_hi = dyn.state_bounds(Network(cell="lstm", hidden_size=2).config)
    np.testing.assert_array_equal(lstm_lo, [-1, -1, -np.inf, -np.inf])
    relu_lo, relu_hi = dyn.state_bounds(Network(cell="rnn_relu", hidden_size=2).config)
    np.testing.assert_array_equal(relu_lo, [0, 0])
    np.testing.assert_array_equal(relu_hi, [np.inf, np.inf])


def test_a_saddle_node_ghost_is_a_slow_point():
    """s = tanh(1.5 s + 0.21) just past its saddle-node bifurcation (b = 0.2076): one fixed
    point near 0.92, and where the other pair vanished a local minimum of q ~1e-6."""
    net = Network(cell="rnn_tanh", input_size=1, hidden_size=1, seed=0)
    sd = {k: v.copy() for k, v in net.state_dict().items()}  # the network's own are read-only
    sd["weight_hh_l0"][:] = 1.5
    sd["weight_ih_l0"][:] = 0.0
    sd["bias_ih_l0"][:] = 0.21
    sd["bias_hh_l0"][:] = 0.0
    net.load_state_dict(sd)
    res = dyn.fixed_points(net, [0.0], np.linspace(-1, 1, 21)[:, None])
    (fixed,), (slow,) = res.fixed, res.slow
    assert fixed.kind == "stable" and fixed.state[0] == pytest.approx(0.9202, abs=1e-4)
    assert slow.slow and 1e-12 < slow.q < 1e-4
    assert slow.state[0] == pytest.approx(-0.579, abs=2e-3)
    assert res.points == (fixed, slow)  # fixed points first


def test_search_is_deterministic_by_seed():
    net = Network(cell="gru", input_size=1, hidden_size=5, seed=2, init="orthogonal",
                  recurrent_scale=2.5)
    traj = an.state_trajectory(net, net.forward(np.ones((50, 1))))
    a = dyn.fixed_points(net, [0.0], traj, count=30, noise=0.2, seed=7)
    b = dyn.fixed_points(net, [0.0], traj, count=30, noise=0.2, seed=7)
    c = dyn.fixed_points(net, [0.0], traj, count=30, noise=0.2, seed=8)
    np.testing.assert_array_equal(a.starts, b.starts)
    np.testing.assert_array_equal(a.final, b.final)
    np.testing.assert_array_equal(a.states(), b.states())
    assert not np.array_equal(a.starts, c.starts)


def test_sample_starts():
    states = np.arange(20.0).reshape(10, 2)
    picked = dyn.sample_starts(states, 4, seed=3)
    assert picked.shape == (4, 2)
    assert len({tuple(r) for r in picked}) == 4
    assert all(any(np.array_equal(r, s) for s in states) for r in picked)
    assert dyn.sample_starts(states, 25, seed=0).shape == (25, 2)  # with replacement
    np.testing.assert_array_equal(dyn.sample_starts(states), states)
    many = np.zeros((2000, 2))
    noisy = dyn.sample_starts(many, noise=0.5, seed=1)
    assert 0.47 < np.std(noisy) < 0.53


def test_search_progress_and_cancel():
    net = _self_excited_rnn()
    starts = np.random.default_rng(0).uniform(-1, 1, (50, 2))
    seen = []
    dyn.fixed_points(net, [0.0], starts, progress=seen.append)
    assert seen[-1] == 1.0 and seen == sorted(seen)

    def stop(f):
        raise Cancelled

    with pytest.raises(Cancelled):
        dyn.fixed_points(net, [0.0], starts, progress=stop)


def test_bad_arguments_are_refused_in_one_line():
    net = _self_excited_rnn()
    good = np.zeros((3, 2))
    cases = [
        (lambda: dyn.fixed_points(net, [0.0, 1.0], good), r"x_star must have shape \(1,\)"),
        (lambda: dyn.fixed_points(net, [np.nan], good), "x_star holds NaN"),
        (lambda: dyn.fixed_points(net, [0.0], np.zeros((3, 5))), r"starts must have shape"),
        (lambda: dyn.fixed_points(net, [0.0], np.zeros((0, 2))), "N >= 1"),
        (lambda: dyn.fixed_points(net, [0.0], good, tol=-1), "tol must be"),
        (lambda: dyn.fixed_points(net, [0.0], good, tol=1e-3, slow_tol=1e-6), "slow_tol"),
        (lambda: dyn.fixed_points(net, [0.0], good, max_iter=2.5), "max_iter must be"),
        (lambda: dyn.fixed_points(net, [0.0], good, count=0), "count must be"),
        (lambda: dyn.fixed_points(net, [0.0], good, noise=-1), "noise must be"),
        (lambda: dyn.update(net, np.zeros(3), [0.0]), r"states must have shape \(\.\.\., 2\)"),
        (lambda: dyn.update(net, [np.inf, 0], [0.0]), "NaN or Inf"),
        (lambda: dyn.fixed_points("net", [0.0], good), "expected a Network"),
        (lambda: dyn.pca(np.zeros((0, 3))), "at least one sample"),
        (lambda: dyn.pca([np.zeros((2, 3)), np.zeros((2, 4))]), "same D"),
        (lambda: dyn.pca(np.ones((4, 3)), n_components=4), "n_components must lie in 1..3"),
        (lambda: dyn.pca(np.full((4, 3), np.nan)), "NaN"),
    ]
    for call, message in cases:
        with pytest.raises(EngineError, match=message) as info:
            call()
        assert "\n" not in str(info.value)


def test_stability_kinds():
    assert dyn.stability(np.array([0.5, -0.9 + 0.1j])) == "stable"
    assert dyn.stability(np.array([1.0 + 1e-12, 0.2])) == "stable"  # marginal counts as in
    assert dyn.stability(np.array([1.5, 0.2])) == "saddle"
    assert dyn.stability(np.array([-1.5, 2j])) == "unstable"


# ---- PCA ------------------------------------------------------------------------------------
def test_pca_matches_the_svd_of_the_centred_data():
    rng = np.random.default_rng(0)
    data = rng.standard_normal((50, 6)) @ rng.standard_normal((6, 6)) + 3.0
    p = dyn.pca(data, n_components=3)
    centred = data - data.mean(axis=0)
    u, sv, vt = np.linalg.svd(centred, full_matrices=False)
    np.testing.assert_allclose(p.mean, data.mean(axis=0))
    np.testing.assert_allclose(p.singular_values, sv[:3])
    signs = np.sign(np.sum(p.components * vt[:3], axis=1))
    np.testing.assert_allclose(p.components, vt[:3] * signs[:, None], atol=1e-12)
    np.testing.assert_allclose(p.explained_variance, sv[:3] ** 2 / 49)
    np.testing.assert_allclose(p.explained_variance_ratio, sv[:3] ** 2 / np.sum(sv ** 2))
    assert p.total_variance == pytest.approx(np.sum(np.var(data, axis=0, ddof=1)))
    np.testing.assert_allclose(p.project(data), u[:, :3] * sv[:3] * signs, atol=1e-10)
    np.testing.assert_allclose(p.project_directions(vt[0]), [signs[0], 0, 0], atol=1e-12)
    # each component's largest entry is positive
    assert np.all(p.components[np.arange(3), np.argmax(np.abs(p.components), axis=1)] > 0)
    full = dyn.pca(data)
    np.testing.assert_allclose(full.reconstruct(full.project(data)), data, atol=1e-12)


def test_pca_of_several_trajectories_stacks_them():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((20, 4)), rng.standard_normal((30, 4))
    one, two = dyn.pca([a, b]), dyn.pca(np.vstack([a, b]))
    np.testing.assert_array_equal(one.components, two.components)
    assert one.samples == 50
    flat = dyn.pca(np.ones((5, 3)))
    np.testing.assert_array_equal(flat.explained_variance_ratio, 0)
