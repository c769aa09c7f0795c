"""State Jacobians, influence and the quantities derived from them, against centred finite
differences through the engine's own forward and step, and against closed forms in the linear
regime."""

import itertools

import numpy as np
import pytest

from rnnviz.engine import CELL_TYPES, EngineError, Network, State
from rnnviz.engine import analysis as an
from rnnviz.jobs import Cancelled

CONFIGS = [(c, n, b) for c in CELL_TYPES for n in (1, 2) for b in (True, False)]


def _net(cell, layers=1, bias=True, inputs=2, hidden=3, outputs=2, readout="tanh", seed=4):
    return Network(cell=cell, input_size=inputs, hidden_size=hidden, num_layers=layers,
                   bias=bias, output_size=outputs, readout=readout, seed=seed)


def _run(net, steps=6, seed=1):
    """A trace from non-zero initial states, so J[0] is exercised too."""
    cfg = net.config
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((steps, cfg.input_size))
    h0 = rng.standard_normal((cfg.num_layers, cfg.hidden_size)) * 0.5
    c0 = rng.standard_normal(h0.shape) * 0.5 if cfg.cell == "lstm" else None
    trace = net.forward(x, h0, c0)
    if cfg.cell == "rnn_relu":  # finite differences need every unit away from the kink
        assert np.min(np.abs(trace.gates["pre"])) > 1e-3
    return x, h0, c0, trace


def _fd_input_jacobian(net, x, h0, c0, of, eps=1e-5):
    """(T, T, D, I): [t, k] = ∂(top h_t or y_t)/∂x_k by centred differences of reruns."""
    steps, inputs = x.shape
    out = None
    for k, c in itertools.product(range(steps), range(inputs)):
        ends = []
        for sign in (1, -1):
            xp = x.copy()
            xp[k, c] += sign * eps
            tr = net.forward(xp, h0, c0)
            ends.append(tr.hidden[-1] if of == "hidden" else tr.output)
        col = (ends[0] - ends[1]) / (2 * eps)
        if out is None:
            out = np.zeros((steps, steps, col.shape[1], inputs))
        out[:, k, :, c] = col
    return out


def _fd_influence(net, x, h0, c0, of, eps=1e-5):
    d = _fd_input_jacobian(net, x, h0, c0, of, eps)
    return np.sqrt(np.sum(d * d, axis=(2, 3)))


def _fd_state_jacobians(net, x, states_before, eps=1e-6):
    """J[t] by centred differences of the engine's own Network.step from s_{t-1}."""
    cfg = net.config
    steps, size = states_before.shape
    out = np.zeros((steps, size, size))
    for t, j in itertools.product(range(steps), range(size)):
        ends = []
        for sign in (1, -1):
            s = states_before[t].copy()
            s[j] += sign * eps
            h, c = an.split_state(cfg, s)
            new, _ = net.step(x[t], State(h, c))
            ends.append(an.join_state(new.h, new.c))
        out[t, :, j] = (ends[0] - ends[1]) / (2 * eps)
    return out


# ---- state Jacobians ------------------------------------------------------------------------
@pytest.mark.parametrize(("cell", "layers", "bias"), CONFIGS)
def test_state_jacobians_match_finite_differences_of_the_step(cell, layers, bias):
    net = _net(cell, layers, bias)
    x, h0, c0, trace = _run(net)
    jac = an.state_jacobians(net, trace)
    size = layers * 3 * (2 if cell == "lstm" else 1)
    assert jac.shape == (6, size, size)
    states = an.state_trajectory(net, trace)
    before = np.vstack([an.initial_state(net, trace)[None], states[:-1]])
    np.testing.assert_allclose(jac, _fd_state_jacobians(net, x, before), atol=1e-8, rtol=1e-6)
    np.testing.assert_allclose(an.step_jacobian(net, trace, 3), jac[3])
    np.testing.assert_allclose(an.state_jacobians(net, trace, steps=[4, 0]), jac[[4, 0]])


def test_state_is_stacked_h_then_c_per_layer():
    net = _net("lstm", layers=2)
    _, h0, c0, trace = _run(net)
    s = an.state_trajectory(net, trace)
    assert s.shape == (6, 12)
    np.testing.assert_array_equal(s[:, 0:3], trace.hidden[0])
    np.testing.assert_array_equal(s[:, 3:6], trace.cell[0])
    np.testing.assert_array_equal(s[:, 6:9], trace.hidden[1])
    np.testing.assert_array_equal(s[:, 9:12], trace.cell[1])
    np.testing.assert_array_equal(an.initial_state(net, trace),
                                  np.concatenate([h0[0], c0[0], h0[1], c0[1]]))
    assert an.state_size(net.config) == 12


def _linear_rnn(hidden=4, inputs=2, scale=0.9, seed=0):
    """A tanh RNN without bias whose activity stays ~1e-9 (tanh' = 1 to 1e-17): linear."""
    net = Network(cell="rnn_tanh", input_size=inputs, hidden_size=hidden, bias=False, seed=seed)
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((hidden, hidden)))
    w = scale * q
    sd = net.state_dict()
    sd["weight_hh_l0"] = w
    net.load_state_dict(sd)
    x = 1e-9 * rng.standard_normal((30, inputs))
    return net, net.forward(x), w, sd["weight_ih_l0"]


def test_linear_regime_jacobian_products_are_powers_of_w_hh():
    net, trace, w, w_ih = _linear_rnn()
    jac = an.state_jacobians(net, trace)
    np.testing.assert_allclose(jac, np.broadcast_to(w, jac.shape), rtol=0, atol=1e-15)
    t = 20
    norms = an.jacobian_norms(net, trace, t)
    expect = [np.linalg.norm(np.linalg.matrix_power(w, d), 2) for d in range(t + 2)]
    np.testing.assert_allclose(norms.norm, expect, rtol=1e-12)
    np.testing.assert_array_equal(norms.distance, np.arange(t + 2))
    # ‖∂h_t/∂x_k‖_F = ‖W^(t−k) W_ih‖_F
    m = an.influence(net, trace)
    for tt, k in [(0, 0), (5, 2), (29, 0), (29, 29)]:
        ref = np.linalg.norm(np.linalg.matrix_power(w, tt - k) @ w_ih)
        np.testing.assert_allclose(m[tt, k], ref, rtol=1e-12)


def test_jacobian_norms_stay_exact_far_below_float_range():
    """0.2^500 = 1e-350 underflows float64; the logarithm does not."""
    net, _, w, _ = _linear_rnn(hidden=3, scale=0.2, seed=2)
    trace = net.forward(1e-9 * np.random.default_rng(0).standard_normal((600, 2)))
    t = 550
    norms = an.jacobian_norms(net, trace, t)
    np.testing.assert_allclose(norms.log10_norm, np.arange(t + 2) * np.log10(0.2), rtol=1e-12)
    assert norms.norm[-1] == 0.0 and norms.norm[100] > 0


@pytest.mark.parametrize("cell", CELL_TYPES)
def test_jacobian_norms_are_norms_of_the_products(cell):
    net = _net(cell, layers=2, hidden=3, seed=6)
    _, _, _, trace = _run(net, steps=9)
    jac = an.state_jacobians(net, trace)
    t = 7
    got = an.jacobian_norms(net, trace, t)
    product = np.eye(jac.shape[1])
    expect = [1.0]
    for k in range(t, -1, -1):
        product = product @ jac[k]
        expect.append(np.linalg.norm(product, 2))
    np.testing.assert_allclose(got.norm, expect, rtol=1e-10)
    np.testing.assert_allclose(got.log10_norm, np.log10(expect), rtol=1e-10, atol=1e-12)


def test_step_singular_values_are_those_of_the_finite_difference_jacobian():
    net = _net("gru", layers=2)
    x, _, _, trace = _run(net)
    states = an.state_trajectory(net, trace)
    fd = _fd_state_jacobians(net, x, np.vstack([an.initial_state(net, trace)[None],
                                                states[:-1]]))
    np.testing.assert_allclose(an.step_singular_values(net, trace, 2),
                               np.linalg.svd(fd[2], compute_uv=False), atol=1e-8)


# ---- influence ------------------------------------------------------------------------------
@pytest.mark.parametrize(("cell", "layers", "bias"), CONFIGS)
@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_influence_matches_finite_differences(cell, layers, bias, mode):
    net = _net(cell, layers, bias)
    x, h0, c0, trace = _run(net)
    for of in ("hidden", "output"):
        m = an.influence(net, trace, of, mode=mode)
        assert m.shape == (6, 6)
        assert np.all(np.triu(m, 1) == 0)
        np.testing.assert_allclose(m, _fd_influence(net, x, h0, c0, of), rtol=1e-6,
                                   atol=1e-9, err_msg=of)


@pytest.mark.parametrize("cell", CELL_TYPES)
@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_influence_of_wide_inputs_and_outputs_matches_finite_differences(cell, mode):
    """Inputs wider than the state and outputs wider than H are shrunk to their rank first."""
    net = _net(cell, layers=2, inputs=9, hidden=3, outputs=5, readout="softmax", seed=2)
    x, h0, c0, trace = _run(net, steps=5)
    for of in ("hidden", "output"):
        np.testing.assert_allclose(an.influence(net, trace, of, mode=mode),
                                   _fd_influence(net, x, h0, c0, of, eps=1e-4), rtol=1e-6,
                                   atol=1e-9, err_msg=of)


@pytest.mark.parametrize("cell", CELL_TYPES)
def test_forward_and_reverse_mode_agree_on_a_larger_network(cell):
    net = Network(cell=cell, input_size=3, hidden_size=8, num_layers=2, output_size=4,
                  readout="sigmoid", seed=5)
    trace = net.forward(np.random.default_rng(3).standard_normal((40, 3)))
    for of in ("hidden", "output"):
        fwd = an.influence(net, trace, of, mode="forward")
        rev = an.influence(net, trace, of, mode="reverse")
        np.testing.assert_allclose(rev, fwd, rtol=1e-10, atol=1e-300)
        np.testing.assert_array_equal(an.influence(net, trace, of),
                                      an.influence(net, trace, of,
                                                   mode=an.influence_plan(net, 40, of).mode))


def test_influence_in_chunks_equals_influence_in_one_sweep(monkeypatch):
    net = _net("lstm", layers=2, inputs=3, hidden=5, outputs=2)
    trace = net.forward(np.random.default_rng(0).standard_normal((30, 3)))
    whole = {mode: an.influence(net, trace, "output", mode=mode)
             for mode in ("forward", "reverse")}
    monkeypatch.setattr(an, "_WORK_BYTES", 2000)  # a few sources / outputs per chunk
    for mode, ref in whole.items():
        np.testing.assert_allclose(an.influence(net, trace, "output", mode=mode), ref,
                                   rtol=1e-12, atol=0)


def test_plan_prefers_reverse_mode_for_few_outputs_of_wide_inputs():
    text = Network(cell="lstm", input_size=65, hidden_size=16, output_size=1)
    plan = an.influence_plan(text, 200, "output")
    assert plan.mode == "reverse" and plan.reverse < plan.forward / 4
    assert an.influence_plan(text, 200, "hidden").mode == "forward"
    small = Network(cell="lstm", input_size=2, hidden_size=64)
    plan = an.influence_plan(small, 200)
    assert plan.mode == "forward"
    # 2 tangents × 20100 (t, k) pairs × (2H·H + elementwise + norm) multiply-adds
    assert 2 * 20100 * 2 * 64 * 64 < plan.multiply_adds < 1.2 * 2 * 20100 * 2 * 64 * 64


def test_float32_network_is_analysed_in_float64():
    n64 = _net("lstm", layers=2, hidden=4)
    n32 = Network(**{**n64.config.to_dict(), "dtype": "float32"})
    n32.load_state_dict(n64.state_dict())
    x = np.random.default_rng(0).standard_normal((10, 2))
    m64 = an.influence(n64, n64.forward(x))
    m32 = an.influence(n32, n32.forward(x))
    assert m32.dtype == np.float64
    np.testing.assert_allclose(m32, m64, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_input_jacobian_and_perturbation(cell):
    net = _net(cell, layers=2)
    x, h0, c0, trace = _run(net)
    fd = _fd_input_jacobian(net, x, h0, c0, "output")
    jac = an.input_jacobian(net, trace, 2, of="output")
    assert jac.shape == (4, 2, 2)
    np.testing.assert_allclose(jac, fd[2:, 2], rtol=1e-6, atol=1e-9)
    eps = 1e-4
    p = an.perturbation(net, trace, 2, 1, eps)
    rerun = net.forward(x + _bump(x, 2, 1, eps), h0, c0)
    np.testing.assert_array_equal(p.actual, rerun.hidden[-1, 2:] - trace.hidden[-1, 2:])
    np.testing.assert_array_equal(p.steps, np.arange(2, 6))
    np.testing.assert_allclose(p.predicted, eps * an.input_jacobian(net, trace, 2)[:, :, 1])
    # first order: the prediction misses the rerun by O(eps²)
    miss = [np.linalg.norm(q.predicted - q.actual) / np.linalg.norm(q.actual)
            for q in (an.perturbation(net, trace, 2, 1, e) for e in (1e-2, 1e-3))]
    assert miss[1] < 1e-3 and 5 < miss[0] / miss[1] < 20


def _bump(x, k, c, eps):
    d = np.zeros_like(x)
    d[k, c] = eps
    return d


def test_forget_products_are_products_of_forget_gates():
    net = _net("lstm", layers=2, hidden=3)
    _, _, _, trace = _run(net, steps=8)
    t = 6
    fp = an.forget_products(net, trace, t)
    assert fp.shape == (2, t + 2, 3)
    f = trace.gates["f"]
    for d in range(t + 2):
        np.testing.assert_allclose(fp[:, d], np.prod(f[:, t - d + 1:t + 1], axis=1),
                                   rtol=1e-14)
    with pytest.raises(EngineError, match="only in an LSTM"):
        an.forget_products(_net("gru"), _run(_net("gru"))[3], 2)


def test_recurrent_spectrum_per_gate_block():
    net = Network(cell="gru", input_size=1, hidden_size=2, seed=0)
    sd = net.state_dict()
    sd["weight_hh_l0"] = np.array([[0.5, 0], [0, -2.0],      # r: eigenvalues 0.5, -2
                                   [0, 1.0], [-1.0, 0],      # z: ±i
                                   [3.0, 4.0], [0, 0]])      # n: 3, 0; norm 5
    net.load_state_dict(sd)
    (layer,) = an.recurrent_spectrum(net)
    assert [b.name for b in layer.blocks] == ["r", "z", "n"]
    np.testing.assert_allclose(layer.block("r").eigenvalues, [-2, 0.5])
    np.testing.assert_allclose(sorted(layer.block("z").eigenvalues, key=np.imag), [-1j, 1j])
    assert layer.block("r").radius == 2.0 and layer.block("z").radius == pytest.approx(1.0)
    assert layer.block("n").radius == pytest.approx(3.0)
    assert layer.block("n").norm == pytest.approx(5.0)
    assert layer.norm == pytest.approx(np.linalg.norm(sd["weight_hh_l0"], 2))
    rnn = Network(cell="rnn_tanh", hidden_size=3, num_layers=2, seed=1)
    spec = an.recurrent_spectrum(rnn)
    assert len(spec) == 2 and [b.name for b in spec[1].blocks] == ["hh"]
    w = rnn.state_dict()["weight_hh_l1"]
    assert spec[1].block("hh").radius == pytest.approx(max(abs(np.linalg.eigvals(w))))
    with pytest.raises(EngineError, match="no block 'f'"):
        spec[0].block("f")


# ---- memory horizon -------------------------------------------------------------------------
def test_memory_horizon_of_a_geometric_decay():
    net, trace, w, _ = _linear_rnn(scale=0.5)
    h = an.memory_horizon(an.influence(net, trace))
    # M[t, t−d] = 0.5^d · ‖W_ih‖ (W orthogonal ×0.5): first below 1% at d = 7 (0.5^7 = 0.0078)
    np.testing.assert_array_equal(h.per_step[7:], 7)
    assert np.all(np.isinf(h.per_step[:7])) and h.censored == 7
    assert h.value == 7.0 and h.threshold == 0.01


def test_memory_horizon_edge_cases():
    m = np.tril(np.ones((5, 5)))
    h = an.memory_horizon(m)
    assert h.value == np.inf and h.censored == 5
    m = np.array([[0.0, 0, 0], [1e-5, 1.0, 0], [0.5, 1e-3, 1.0]])
    h = an.memory_horizon(m)
    assert np.isnan(h.per_step[0])  # nothing to compare with
    np.testing.assert_array_equal(h.per_step[1:], [1, 1])  # not monotone: first crossing
    assert h.value == 1.0 and h.censored == 0
    assert np.isnan(an.memory_horizon(np.zeros((3, 3))).value)
    assert an.memory_horizon(np.zeros((0, 0))).per_step.shape == (0,)
    with pytest.raises(EngineError, match="square"):
        an.memory_horizon(np.zeros((3, 2)))
    with pytest.raises(EngineError, match="threshold"):
        an.memory_horizon(m, threshold=1.5)


# ---- progress, cancellation, refusals -------------------------------------------------------
def test_progress_reaches_one_and_raising_aborts():
    net = _net("lstm", hidden=8)
    trace = net.forward(np.random.default_rng(0).standard_normal((60, 2)))
    for call in (lambda p: an.influence(net, trace, progress=p),
                 lambda p: an.influence(net, trace, "output", mode="reverse", progress=p),
                 lambda p: an.state_jacobians(net, trace, progress=p),
                 lambda p: an.jacobian_norms(net, trace, 59, progress=p)):
        seen = []
        call(seen.append)
        assert seen and seen[-1] == 1.0 and seen == sorted(seen)

        def stop(f):
            if f > 0.3:
                raise Cancelled

        with pytest.raises(Cancelled):
            call(stop)


def test_bad_requests_are_refused_in_one_line():
    net = _net("lstm")
    _, _, _, trace = _run(net)
    plain = Network(cell="lstm", input_size=2, hidden_size=3)
    cases = [
        (lambda: an.influence(net, trace, of="gates"), "of must be"),
        (lambda: an.influence(net, trace, mode="sideways"), "mode must be"),
        (lambda: an.influence(plain, plain.forward(np.zeros((3, 2))), "output"), "readout"),
        (lambda: an.influence(_net("lstm", seed=9), trace), "does not match the network"),
        (lambda: an.influence(_net("gru"), trace), "does not come from a network"),
        (lambda: an.influence(net, "trace"), "expected a Trace"),
        (lambda: an.step_jacobian(net, trace, 6), "t must lie in 0..5"),
        (lambda: an.jacobian_norms(net, trace, -1), "t must lie in 0..5"),
        (lambda: an.perturbation(net, trace, 1, 2, 0.1), "channel must lie in 0..1"),
        (lambda: an.perturbation(net, trace, 1, 0, float("nan")), "eps must be finite"),
        (lambda: an.state_jacobians(net, trace, steps=[1.5]), "whole step number"),
    ]
    for call, message in cases:
        with pytest.raises(EngineError, match=message) as info:
            call()
        assert "\n" not in str(info.value)


def test_a_run_with_nan_is_refused():
    net = _net("rnn_tanh")
    x = np.ones((4, 2))
    x[2, 0] = np.nan
    with pytest.raises(EngineError, match="NaN or Inf from step 2"):
        an.influence(net, net.forward(x))


def test_jacobian_stack_too_large_is_refused(monkeypatch):
    net = _net("lstm")
    _, _, _, trace = _run(net)
    monkeypatch.setattr(an, "MAX_RESULT_BYTES", 1000)
    with pytest.raises(EngineError, match="ask for fewer steps"):
        an.state_jacobians(net, trace)


def test_an_absurdly_long_run_is_refused_before_allocating(monkeypatch):
    net = _net("lstm")
    _, _, _, trace = _run(net)
    monkeypatch.setattr(an, "MAX_WORK_BYTES", 1000)
    with pytest.raises(EngineError, match="GiB of per-step derivatives; use a shorter"):
        an.influence(net, trace)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_an_empty_sequence_has_empty_results(cell):
    net = _net(cell, layers=2)
    trace = net.forward(np.zeros((0, 2)))
    size = an.state_size(net.config)
    assert an.influence(net, trace).shape == (0, 0)
    assert an.influence(net, trace, "output", mode="reverse").shape == (0, 0)
    assert an.state_jacobians(net, trace).shape == (0, size, size)
    assert an.state_trajectory(net, trace).shape == (0, size)
    assert np.isnan(an.memory_horizon(an.influence(net, trace)).value)
