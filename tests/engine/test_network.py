"""The engine against centred finite differences and against itself (step vs forward, dtypes)."""

import json

import numpy as np
import pytest

from rnnviz.engine import CELL_TYPES, EngineError, Network, NetworkConfig
from rnnviz.engine.init import spectral_radius

CONFIGS = [(c, n, b) for c in CELL_TYPES for n in (1, 2) for b in (True, False)]


def _data(steps=5, inputs=3, outputs=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((steps, inputs)), rng.standard_normal((steps, outputs))


def _numeric_grad(f, arr, eps=1e-6):
    """Centred differences of scalar f() with respect to every entry of arr (modified in place)."""
    out = np.zeros_like(arr)
    for idx in np.ndindex(*arr.shape):
        old = arr[idx]
        arr[idx] = old + eps
        up = f()
        arr[idx] = old - eps
        down = f()
        arr[idx] = old
        out[idx] = (up - down) / (2 * eps)
    return out


@pytest.mark.parametrize(("cell", "layers", "bias"), CONFIGS)
def test_every_parameter_gradient_matches_finite_differences(cell, layers, bias):
    net = Network(cell=cell, input_size=3, hidden_size=4, num_layers=layers, bias=bias,
                  output_size=2, readout="tanh", seed=3)
    x, target = _data()
    rng = np.random.default_rng(9)
    h0 = rng.standard_normal((layers, 4)) * 0.5
    c0 = rng.standard_normal((layers, 4)) * 0.5 if cell == "lstm" else None
    loss, _, grads = net.loss_and_grads(x, target, "mse", "all", h0=h0, c0=c0)
    params = {k: v.copy() for k, v in net.state_dict().items()}

    def f():
        net.load_state_dict(params)
        return net.loss_and_grads(x, target, "mse", "all", h0=h0, c0=c0)[0]

    for key, value in params.items():
        num = _numeric_grad(f, value)
        np.testing.assert_allclose(grads.params[key], num, atol=1e-8, rtol=1e-6, err_msg=key)
    net.load_state_dict(params)
    np.testing.assert_allclose(grads.input, _numeric_grad(f, x), atol=1e-8, rtol=1e-6)
    np.testing.assert_allclose(grads.h0, _numeric_grad(f, h0), atol=1e-8, rtol=1e-6)
    if c0 is not None:
        np.testing.assert_allclose(grads.c0, _numeric_grad(f, c0), atol=1e-8, rtol=1e-6)


@pytest.mark.parametrize("cell", CELL_TYPES)
def test_hidden_state_gradients_match_finite_differences(cell):
    """dL/dh_t at every step: perturb h_t by feeding the perturbation in as d/dh of a probe."""
    net = Network(cell=cell, input_size=2, hidden_size=3, num_layers=1, seed=1)
    x = np.random.default_rng(4).standard_normal((6, 2))
    g = np.random.default_rng(5).standard_normal((6, 3))
    grads = net.backward(net.forward(x), d_hidden=g)
    # dL/dh_{T-1} is g[T-1]; earlier steps are checked through the initial state: run the
    # suffix from step t with h_{t-1} as h0 and compare dL/dh0 with grads.hidden[:, t-1].
    trace = net.forward(x)
    for t in range(1, 6):
        h_start = trace.hidden[:, t - 1].copy()
        c_start = trace.cell[:, t - 1].copy() if cell == "lstm" else None

        def f(h_start=h_start, c_start=c_start, t=t):
            tail = net.forward(x[t:], h_start, c_start)
            return float(np.sum(tail.hidden[-1] * g[t:]))

        num = _numeric_grad(f, h_start)[0] + g[t - 1]
        np.testing.assert_allclose(grads.hidden[0, t - 1], num, atol=1e-8, rtol=1e-6)
    np.testing.assert_allclose(grads.hidden[0, -1], g[-1])


@pytest.mark.parametrize("cell", CELL_TYPES)
def test_cross_entropy_last_step_gradient(cell):
    net = Network(cell=cell, input_size=2, hidden_size=3, output_size=4, readout="softmax", seed=2)
    x = np.random.default_rng(0).standard_normal((5, 2))
    target = np.array([0, 1, 2, 3, 2])
    loss, trace, grads = net.loss_and_grads(x, target, "ce", "last")
    z = trace.logits[-1]
    expected = -(z[2] - np.log(np.sum(np.exp(z))))
    assert loss == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(trace.output.sum(axis=1), 1.0)
    params = {k: v.copy() for k, v in net.state_dict().items()}
    key = "weight_hh_l0"

    def f():
        net.load_state_dict(params)
        return net.loss_and_grads(x, target, "ce", "last")[0]

    np.testing.assert_allclose(grads.params[key], _numeric_grad(f, params[key]), atol=1e-8)


@pytest.mark.parametrize("cell", CELL_TYPES)
def test_step_by_step_equals_forward(cell):
    net = Network(cell=cell, input_size=3, hidden_size=6, num_layers=2, output_size=2, seed=7)
    x = np.random.default_rng(1).standard_normal((12, 3))
    trace = net.forward(x)
    state = None
    for t in range(12):
        state, rec = net.step(x[t], state)
        np.testing.assert_allclose(rec.hidden, trace.hidden[:, t], atol=1e-14)
        np.testing.assert_allclose(rec.output, trace.output[t], atol=1e-14)
        for name, value in rec.gates.items():
            np.testing.assert_allclose(value, trace.gates[name][:, t], atol=1e-14)
        if cell == "lstm":
            np.testing.assert_allclose(rec.cell, trace.cell[:, t], atol=1e-14)
    np.testing.assert_allclose(state.h, trace.h_n)


@pytest.mark.parametrize("cell", CELL_TYPES)
def test_float32_agrees_with_float64(cell):
    kw = dict(cell=cell, input_size=3, hidden_size=8, num_layers=2, output_size=1, seed=4)
    n64, n32 = Network(**kw), Network(**kw, dtype="float32")
    n32.load_state_dict(n64.state_dict())
    x, target = _data(steps=30, outputs=1)
    l64, t64, g64 = n64.loss_and_grads(x, target)
    l32, t32, g32 = n32.loss_and_grads(x, target)
    assert t32.hidden.dtype == np.float32 and g32.params["weight_hh_l0"].dtype == np.float32
    np.testing.assert_allclose(t32.hidden, t64.hidden, atol=1e-5)
    np.testing.assert_allclose(g32.hidden, g64.hidden, atol=1e-5, rtol=1e-3)
    assert l32 == pytest.approx(l64, rel=1e-5)


@pytest.mark.parametrize("cell", CELL_TYPES)
def test_huge_weights_raise_no_floating_point_warnings(cell):
    net = Network(cell=cell, input_size=2, hidden_size=16, num_layers=2, output_size=2,
                  readout="sigmoid", seed=0)
    net.load_state_dict({k: v * 1000 for k, v in net.state_dict().items()})
    x, target = _data(steps=300, inputs=2)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, trace, grads = net.loss_and_grads(x, target)
    if cell == "rnn_relu":  # relu really explodes: the first bad step is recorded
        assert trace.nonfinite_step is not None and 0 < trace.nonfinite_step < 300
    else:  # saturating cells stay finite
        assert trace.nonfinite_step is None
        assert np.all((trace.output >= 0) & (trace.output <= 1))


def test_nan_in_input_marks_first_nonfinite_step():
    net = Network(cell="lstm", input_size=1, hidden_size=4)
    x = np.zeros((10, 1))
    x[6, 0] = np.nan
    trace = net.forward(x)
    assert trace.nonfinite_step == 6
    assert np.all(np.isfinite(trace.hidden[:, :6]))


def test_trace_is_read_only():
    trace = Network(cell="gru", input_size=1, hidden_size=2).forward(np.ones((3, 1)))
    with pytest.raises(ValueError):
        trace.hidden[0, 0, 0] = 1.0
    with pytest.raises(TypeError):
        trace.gates["r"] = trace.gates["z"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda n: n.forward(np.zeros((5, 2))),
         r"x must have shape \(T, 3\) or \(B, T, 3\), got \(5, 2\)"),
        (lambda n: n.forward(np.zeros(5)),
         r"x must have shape \(T, 3\) or \(B, T, 3\), got \(5,\)"),
        (lambda n: n.forward(np.zeros((5, 3)), h0=np.zeros(4)), r"h0 must have shape \(1, 4\)"),
        (lambda n: n.forward(np.zeros((5, 3)), c0=np.zeros((2, 4))), r"c0 must have shape"),
        (lambda n: n.backward(n.forward(np.zeros((5, 3))), d_hidden=np.zeros((4, 4))),
         r"d_hidden must have shape \(5, 4\), got \(4, 4\)"),
        (lambda n: n.forward(np.array([["a", "b", "c"]])), r"x must be a numeric array"),
    ],
)
def test_shape_errors_name_argument_and_shapes(call, message):
    net = Network(cell="lstm", input_size=3, hidden_size=4)
    with pytest.raises(EngineError, match=message):
        call(net)


def test_load_state_dict_names_the_bad_key():
    net = Network(cell="gru", input_size=2, hidden_size=3, num_layers=2)
    sd = net.state_dict()
    sd["weight_hh_l1"] = np.zeros((9, 4))
    with pytest.raises(ValueError, match=r"weight_hh_l1 must have shape \(9, 3\), got \(9, 4\)"):
        net.load_state_dict(sd)
    sd = net.state_dict()
    del sd["bias_ih_l0"]
    with pytest.raises(ValueError, match="missing 'bias_ih_l0'"):
        net.load_state_dict(sd)
    sd = net.state_dict()
    sd["weight_ih_l2"] = np.zeros((9, 3))
    with pytest.raises(ValueError, match="unexpected key 'weight_ih_l2'"):
        net.load_state_dict(sd)


def test_state_dict_uses_pytorch_names_and_shapes():
    net = Network(cell="lstm", input_size=3, hidden_size=5, num_layers=2, output_size=2)
    shapes = {k: v.shape for k, v in net.state_dict().items()}
    assert shapes == {
        "weight_ih_l0": (20, 3), "weight_hh_l0": (20, 5), "bias_ih_l0": (20,), "bias_hh_l0": (20,),
        "weight_ih_l1": (20, 5), "weight_hh_l1": (20, 5), "bias_ih_l1": (20,), "bias_hh_l1": (20,),
        "readout.weight": (2, 5), "readout.bias": (2,),
    }


def test_default_init_range_and_seeding():
    a = Network(cell="gru", input_size=2, hidden_size=16, seed=5).state_dict()
    b = Network(cell="gru", input_size=2, hidden_size=16, seed=5).state_dict()
    c = Network(cell="gru", input_size=2, hidden_size=16, seed=6).state_dict()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
        assert np.abs(a[key]).max() <= 0.25  # 1/sqrt(16)
    assert not np.array_equal(a["weight_hh_l0"], c["weight_hh_l0"])


@pytest.mark.parametrize("init", ["default", "xavier", "orthogonal"])
def test_recurrent_scale_sets_spectral_radius_of_every_gate_block(init):
    net = Network(cell="lstm", input_size=2, hidden_size=8, init=init, recurrent_scale=1.7)
    w = net.state_dict()["weight_hh_l0"]
    for k in range(4):
        assert spectral_radius(w[8 * k:8 * (k + 1)]) == pytest.approx(1.7, rel=1e-9)


def test_orthogonal_blocks_and_forget_bias():
    net = Network(cell="lstm", input_size=2, hidden_size=6, init="orthogonal", forget_bias=1.0)
    sd = net.state_dict()
    block = sd["weight_hh_l0"][12:18]
    np.testing.assert_allclose(block @ block.T, np.eye(6), atol=1e-12)
    np.testing.assert_array_equal(sd["bias_ih_l0"][6:12], 1.0)
    np.testing.assert_array_equal(sd["bias_hh_l0"][6:12], 0.0)


def test_vanishing_and_exploding_gradients_follow_recurrent_scale():
    """The picture the app exists to show: with the state at rest (the linear regime of tanh)
    ||dL/dh_t|| shrinks back in time by the spectral radius per step below 1, grows above 1."""
    x = np.zeros((60, 1))
    g = np.zeros((60, 8))
    g[-1] = 1.0
    for scale in (0.5, 1.5):
        net = Network(cell="rnn_tanh", input_size=1, hidden_size=8, init="orthogonal",
                      recurrent_scale=scale, bias=False)
        norms = net.backward(net.forward(x), d_hidden=g).hidden_norm[0]
        np.testing.assert_allclose(norms[:-1] / norms[1:], scale, rtol=1e-9)


def test_bad_config_values_are_refused_with_their_name():
    with pytest.raises(EngineError, match="cell must be one of"):
        Network(cell="transformer")
    with pytest.raises(EngineError, match="hidden_size must be between 1 and 4096, got 0"):
        Network(hidden_size=0)
    with pytest.raises(EngineError, match="recurrent_scale must be a finite number"):
        Network(recurrent_scale=float("nan"))


@pytest.mark.parametrize("cell", CELL_TYPES)
def test_resumed_forward_equals_a_fresh_run(cell):
    import rnnviz.engine.network as network_module

    net = Network(cell=cell, input_size=2, hidden_size=5, num_layers=2, output_size=1, seed=1)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((40, 2))
    first = net.forward(x)
    assert net.forward(x.copy(), resume=first) is first  # nothing changed: nothing recomputed
    old_chunk = network_module.CHUNK
    network_module.CHUNK = 7  # resuming must also work across chunk boundaries
    try:
        for t in (0, 1, 13, 39):
            edited = x.copy()
            edited[t, 1] += 0.5
            resumed = net.forward(edited, resume=first)
            fresh = net.forward(edited)
            # equal up to round-off (the input projection is a matmul over a shorter span)
            np.testing.assert_allclose(resumed.hidden, fresh.hidden, rtol=0, atol=1e-14)
            np.testing.assert_allclose(resumed.output, fresh.output, rtol=0, atol=1e-14)
            for name in fresh.gates:
                np.testing.assert_allclose(resumed.gates[name], fresh.gates[name], atol=1e-14)
            np.testing.assert_array_equal(resumed.hidden[:, :t], first.hidden[:, :t])
    finally:
        network_module.CHUNK = old_chunk
    # another initial state is not resumed from
    other = net.forward(x, h0=np.ones((2, 5)))
    np.testing.assert_allclose(net.forward(x, h0=np.ones((2, 5)), resume=first).hidden,
                               other.hidden, atol=1e-14)


def test_cell_norm_is_the_norm_of_each_step_cell_state():
    trace = Network(cell="lstm", input_size=1, hidden_size=3, num_layers=2).forward(np.ones((4, 1)))
    np.testing.assert_allclose(trace.cell_norm, np.sqrt((trace.cell**2).sum(axis=2)))
    assert Network(cell="gru", input_size=1, hidden_size=3).forward(np.ones((4, 1))).cell_norm \
        is None


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("hidden_size", json.loads("1e400"), "hidden_size must be a whole number, got inf"),
        ("input_size", json.loads("-1e400"), "input_size must be a whole number, got -inf"),
        ("num_layers", float("nan"), "num_layers must be a whole number, got nan"),
        ("hidden_size", 10**5000,
         "hidden_size must be between 1 and 4096, got a number of about 5001 digits"),
        ("num_layers", -(10**30),
         "num_layers must be between 1 and 16, got a negative number of about 31 digits"),
        ("output_size", 1e300,
         "output_size must be between 1 and 65536, got a number of about 301 digits"),
        ("recurrent_scale", 10**400,
         "recurrent_scale must be a finite number, got a number of about 401 digits"),
        ("forget_bias", json.loads("-1e400"), "forget_bias must be a finite number, got -inf"),
        ("seed", -(10**5000),
         "seed must be a non-negative whole number, got a negative number of about 5001 digits"),
        ("seed", json.loads("1e400"), "seed must be a non-negative whole number, got inf"),
        ("cell", "lstm\nx" * 30, "cell must be one of rnn_tanh, rnn_relu, lstm, gru, got 'lstm"),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 20 else type(v).__name__,
)
def test_config_values_too_large_or_not_numbers_give_one_line_engine_errors(setting, value,
                                                                              message):
    """Values a JSON file can hold (1e400 parses as inf) are refused in one line, never with
    OverflowError or Python's integer-string ValueError."""
    with pytest.raises(EngineError) as info:
        NetworkConfig.from_dict({setting: value})
    text = str(info.value)
    assert text.startswith(message) and "\n" not in text and len(text) < 120


def test_config_accepts_whole_floats_and_numpy_integers():
    cfg = NetworkConfig(hidden_size=8.0, input_size=np.int64(3), seed=np.uint32(7))
    assert (cfg.hidden_size, cfg.input_size, cfg.seed) == (8, 3, 7)
    assert all(type(v) is int for v in (cfg.hidden_size, cfg.input_size, cfg.seed))
