"""Batches: a batch (B, T, N_IN) gives, to float64 round-off, what its sequences give one by one."""

import numpy as np
import pytest

import rnnviz.engine.network as network_module
from rnnviz.engine import CELL_TYPES, EngineError, Network

CONFIGS = [(c, n, b) for c in CELL_TYPES for n in (1, 2) for b in (True, False)]
B, T, N_IN, H, N_OUT = 4, 9, 3, 5, 2
ATOL = 1e-13


def _case(cell, layers, bias, seed=0, readout="tanh", dtype="float64"):
    net = Network(cell=cell, input_size=N_IN, hidden_size=H, num_layers=layers, bias=bias,
                  output_size=N_OUT, readout=readout, dtype=dtype, seed=seed + 1)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((B, T, N_IN))
    h0 = rng.standard_normal((layers, B, H)) * 0.5
    c0 = rng.standard_normal((layers, B, H)) * 0.5 if cell == "lstm" else None
    return net, rng, x, h0, c0


def _one(a, b):
    """Sequence b of a batched initial state (L, B, H), or None."""
    return None if a is None else a[:, b]


@pytest.mark.parametrize(("cell", "layers", "bias"), CONFIGS)
def test_batched_forward_equals_sequences_one_by_one(cell, layers, bias):
    net, _, x, h0, c0 = _case(cell, layers, bias)
    trace = net.forward(x, h0, c0)
    assert trace.batch_size == B and trace.steps == T
    assert trace.input.shape == (B, T, N_IN)
    assert trace.hidden.shape == (layers, B, T, H) and trace.h_n.shape == (layers, B, H)
    assert trace.output.shape == (B, T, N_OUT) and trace.logits.shape == (B, T, N_OUT)
    for b in range(B):
        one = net.forward(x[b], _one(h0, b), _one(c0, b))
        np.testing.assert_allclose(trace.hidden[:, b], one.hidden, rtol=0, atol=ATOL)
        np.testing.assert_allclose(trace.h_n[:, b], one.h_n, rtol=0, atol=ATOL)
        np.testing.assert_allclose(trace.output[b], one.output, rtol=0, atol=ATOL)
        np.testing.assert_allclose(trace.logits[b], one.logits, rtol=0, atol=ATOL)
        assert set(trace.gates) == set(one.gates)
        for name, value in trace.gates.items():
            assert value.shape == (layers, B, T, H)
            np.testing.assert_allclose(value[:, b], one.gates[name], rtol=0, atol=ATOL)
        if cell == "lstm":
            assert trace.cell.shape == (layers, B, T, H)
            np.testing.assert_allclose(trace.cell[:, b], one.cell, rtol=0, atol=ATOL)
            np.testing.assert_allclose(trace.c_n[:, b], one.c_n, rtol=0, atol=ATOL)
            np.testing.assert_allclose(trace.cell_norm[:, b], one.cell_norm, rtol=0, atol=ATOL)
        else:
            assert trace.cell is None and trace.c_n is None


@pytest.mark.parametrize(("cell", "layers", "bias"), CONFIGS)
def test_batched_backward_equals_sequences_one_by_one(cell, layers, bias):
    """Every incoming gradient at once (d_hidden, d_output, d_h_n, d_c_n); the parameter
    gradients of the batch are the sum of the sequences'."""
    net, rng, x, h0, c0 = _case(cell, layers, bias, seed=3)
    g = rng.standard_normal((B, T, H))
    dy = rng.standard_normal((B, T, N_OUT))
    dhn = rng.standard_normal((layers, B, H))
    dcn = rng.standard_normal((layers, B, H)) if cell == "lstm" else None
    grads = net.backward(net.forward(x, h0, c0), d_hidden=g, d_output=dy, d_h_n=dhn, d_c_n=dcn)
    assert grads.hidden.shape == (layers, B, T, H) and grads.input.shape == (B, T, N_IN)
    assert grads.h0.shape == (layers, B, H) and grads.d_logits.shape == (B, T, N_OUT)
    assert grads.hidden_norm.shape == (layers, B, T) and grads.input_norm.shape == (B, T)
    total = None
    for b in range(B):
        one = net.backward(net.forward(x[b], _one(h0, b), _one(c0, b)), d_hidden=g[b],
                           d_output=dy[b], d_h_n=dhn[:, b], d_c_n=_one(dcn, b))
        for name in ("hidden", "input", "h0", "d_logits", "hidden_norm", "input_norm"):
            batched = getattr(grads, name)
            batched = batched[b] if name in ("input", "d_logits", "input_norm") else batched[:, b]
            np.testing.assert_allclose(batched, getattr(one, name), rtol=0, atol=ATOL,
                                       err_msg=name)
        if cell == "lstm":
            for name in ("cell", "c0", "cell_norm"):
                np.testing.assert_allclose(getattr(grads, name)[:, b], getattr(one, name),
                                           rtol=0, atol=ATOL, err_msg=name)
        total = dict(one.params) if total is None else {
            k: total[k] + v for k, v in one.params.items()}
    assert list(grads.params) == list(net.state_dict())
    for key, value in total.items():
        np.testing.assert_allclose(grads.params[key], value, rtol=1e-12, atol=ATOL, err_msg=key)


@pytest.mark.parametrize("cell", CELL_TYPES)
def test_batched_mse_with_mask_is_torchs_mean_over_counted_elements(cell):
    """loss = mean over every counted (sequence, step, output) of the batch, as torch's
    MSELoss(reduction="mean")(y[mask], target[mask]); the gradient is that of this mean."""
    net, rng, x, _, _ = _case(cell, 2, True, seed=5)
    target = rng.standard_normal((B, T, N_OUT))
    mask = rng.random((B, T)) < 0.4
    mask[0] = False  # a sequence with no target at all
    mask[1, 2] = True
    loss, trace, grads = net.loss_and_grads(x, target, "mse", "all", mask=mask)
    y = trace.output
    assert loss == pytest.approx(np.mean((y[mask] - target[mask]) ** 2), rel=1e-13)
    count = mask.sum() * N_OUT
    total = {k: np.zeros_like(v) for k, v in net.state_dict().items()}
    for b in range(B):
        if not mask[b].any():
            continue
        lb, _, gb = net.loss_and_grads(x[b], target[b], "mse", "all", mask=mask[b])
        weight = mask[b].sum() * N_OUT / count  # this sequence's share of the pooled mean
        for k, v in gb.params.items():
            total[k] += v * weight
        np.testing.assert_allclose(grads.input[b], gb.input * weight, rtol=0, atol=ATOL)
    np.testing.assert_allclose(grads.input[0], 0.0)
    for key, value in total.items():
        np.testing.assert_allclose(grads.params[key], value, rtol=1e-12, atol=ATOL, err_msg=key)
    res = net.loss(trace, target, "mse", "all", mask)
    assert res.per_step.shape == (B, T) and res.mask.shape == (B, T)
    assert np.isnan(res.per_step[~mask]).all() and not np.isnan(res.per_step[mask]).any()


@pytest.mark.parametrize("cell", CELL_TYPES)
def test_batched_cross_entropy_last_step_is_the_batch_mean(cell):
    net, rng, x, _, _ = _case(cell, 1, True, seed=6, readout="identity")
    target = rng.integers(0, N_OUT, (B, T))
    loss, trace, grads = net.loss_and_grads(x, target, "ce", "last")
    z = trace.logits[:, -1]
    nll = -(z[np.arange(B), target[:, -1]] - np.log(np.exp(z).sum(axis=1)))
    assert loss == pytest.approx(nll.mean(), rel=1e-13)
    for b in range(B):
        lb, _, gb = net.loss_and_grads(x[b], target[b], "ce", "last")
        assert lb == pytest.approx(nll[b], rel=1e-13)
        np.testing.assert_allclose(grads.input[b], gb.input / B, rtol=0, atol=ATOL)
    # a target mask over (B, T) with where="all": the mean over the counted steps
    mask = rng.random((B, T)) < 0.5
    loss_m = net.loss_and_grads(x, target, "ce", "all", mask=mask)[0]
    logp = trace.logits - np.log(np.exp(trace.logits).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(logp, target[..., None], axis=-1)[..., 0]
    assert loss_m == pytest.approx(-picked[mask].mean(), rel=1e-13)


def test_batched_mse_target_may_omit_a_single_output_axis():
    net = Network(cell="gru", input_size=2, hidden_size=3, output_size=1, seed=0)
    x = np.random.default_rng(0).standard_normal((3, 6, 2))
    t = np.random.default_rng(1).standard_normal((3, 6))
    assert net.loss_and_grads(x, t, where="last")[0] == net.loss_and_grads(
        x, t[..., None], where="last")[0]


@pytest.mark.parametrize("cell", CELL_TYPES)
def test_batched_runs_in_chunks_with_progress_and_resumes(cell, monkeypatch):
    net, rng, x, h0, c0 = _case(cell, 2, True, seed=7)
    whole = net.forward(x, h0, c0)
    g = rng.standard_normal((B, T, H))
    whole_grads = net.backward(whole, d_hidden=g)
    monkeypatch.setattr(network_module, "CHUNK", 2)
    seen: list[float] = []
    chunked = net.forward(x, h0, c0, progress=seen.append)
    assert len(seen) == 2 * 5 and seen[-1] == 1.0 and seen == sorted(seen)
    np.testing.assert_allclose(chunked.hidden, whole.hidden, rtol=0, atol=ATOL)
    back: list[float] = []
    grads = net.backward(chunked, d_hidden=g, progress=back.append)
    assert back[-1] == 1.0
    np.testing.assert_allclose(grads.hidden, whole_grads.hidden, rtol=0, atol=ATOL)
    for key, value in whole_grads.params.items():
        np.testing.assert_allclose(grads.params[key], value, rtol=1e-12, atol=ATOL)
    # resume: an edit of sequence 2 at step 5 recomputes from step 5 on, for every sequence
    assert net.forward(x.copy(), h0, c0, resume=whole) is whole
    edited = x.copy()
    edited[2, 5, 0] += 1.0
    resumed = net.forward(edited, h0, c0, resume=whole)
    fresh = net.forward(edited, h0, c0)
    np.testing.assert_array_equal(resumed.hidden[:, :, :5], whole.hidden[:, :, :5])
    np.testing.assert_allclose(resumed.hidden, fresh.hidden, rtol=0, atol=ATOL)
    np.testing.assert_allclose(resumed.output, fresh.output, rtol=0, atol=ATOL)
    # a batch does not resume from a single sequence's trace, nor the other way round
    single = net.forward(x[0])
    np.testing.assert_allclose(net.forward(x, h0, c0, resume=single).hidden, whole.hidden,
                               rtol=0, atol=ATOL)


@pytest.mark.parametrize("cell", CELL_TYPES)
def test_batched_float32_agrees_with_float64(cell):
    n64, _, x, h0, c0 = _case(cell, 2, True, seed=8)
    n32 = Network(**{**n64.config.to_dict(), "dtype": "float32"})
    n32.set_params(n64.state_dict())
    target = np.random.default_rng(0).standard_normal((B, T, N_OUT))
    l64, t64, g64 = n64.loss_and_grads(x, target, h0=h0, c0=c0)
    l32, t32, g32 = n32.loss_and_grads(x, target, h0=h0, c0=c0)
    assert t32.hidden.dtype == np.float32 and g32.params["weight_hh_l0"].dtype == np.float32
    np.testing.assert_allclose(t32.hidden, t64.hidden, atol=1e-5)
    for key, value in g64.params.items():
        np.testing.assert_allclose(g32.params[key], value, atol=1e-5, rtol=1e-3)
    assert l32 == pytest.approx(l64, rel=1e-5)


def test_nonfinite_step_of_a_batch_is_the_first_step_any_sequence_is_bad():
    net = Network(cell="lstm", input_size=1, hidden_size=4, output_size=1)
    x = np.zeros((3, 10, 1))
    x[2, 6, 0] = np.nan
    x[1, 8, 0] = np.inf
    trace = net.forward(x)
    assert trace.nonfinite_step == 6
    assert np.all(np.isfinite(trace.hidden[:, 0])) and np.all(np.isfinite(trace.hidden[:, :, :6]))
    g = np.zeros((3, 10, 4))
    g[0, 3, 1] = np.nan
    assert net.backward(net.forward(np.zeros((3, 10, 1))), d_hidden=g).nonfinite_step == 0


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_batched_trace_and_grads_are_read_only(cell):
    """The batch-first arrays are views of time-major buffers: neither they nor their bases
    can be written."""
    net = Network(cell=cell, input_size=1, hidden_size=2, output_size=1)
    _, trace, grads = net.loss_and_grads(np.ones((2, 3, 1)), np.ones((2, 3)))
    arrays = [trace.hidden, trace.input, trace.output, trace.logits, trace.h_n, grads.hidden,
              grads.input, grads.h0, grads.d_logits, grads.hidden_norm, *trace.gates.values(),
              *grads.params.values()]
    if cell == "lstm":
        arrays += [trace.cell, trace.c_n, grads.cell, grads.c0]
    for a in arrays:
        with pytest.raises(ValueError):
            a[(0,) * a.ndim] = 1.0
        while a is not None:
            assert not a.flags.writeable
            a = a.base


def test_batched_inputs_are_copied_not_kept():
    net = Network(cell="rnn_tanh", input_size=2, hidden_size=3)
    x = np.ones((2, 4, 2))
    trace = net.forward(x)
    x[:] = 5.0  # the caller's array stays theirs; the trace keeps what it ran on
    np.testing.assert_array_equal(trace.input, 1.0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda n: n.forward(np.zeros((2, 5, 2))),
         r"x must have shape \(T, 3\) or \(B, T, 3\), got \(2, 5, 2\)"),
        (lambda n: n.forward(np.zeros((1, 2, 5, 3))), r"got \(1, 2, 5, 3\)"),
        (lambda n: n.forward(np.zeros((0, 5, 3))), "at least one sequence"),
        (lambda n: n.forward(np.zeros((2, 5, 3)), h0=np.zeros((1, 4))),
         r"h0 must have shape \(1, 2, 4\), got \(1, 4\)"),
        (lambda n: n.forward(np.zeros((2, 5, 3)), c0=np.zeros((1, 3, 4))),
         r"c0 must have shape \(1, 2, 4\)"),
        (lambda n: n.backward(n.forward(np.zeros((2, 5, 3))), d_hidden=np.zeros((5, 4))),
         r"d_hidden must have shape \(2, 5, 4\), got \(5, 4\)"),
        (lambda n: n.backward(n.forward(np.zeros((2, 5, 3))), d_output=np.zeros((2, 5, 2))),
         r"d_output must have shape \(2, 5, 1\), got \(2, 5, 2\)"),
        (lambda n: n.loss_and_grads(np.zeros((2, 5, 3)), np.zeros((2, 5)), mask=np.ones(5)),
         r"target mask must have shape \(2, 5\), got \(5,\)"),
        (lambda n: n.loss_and_grads(np.zeros((2, 5, 3)), np.zeros((2, 4))),
         r"target must have shape \(2, 5, 1\) for mse, got \(2, 4, 1\)"),
        (lambda n: n.loss_and_grads(np.zeros((2, 5, 3)), np.zeros((2, 5, 1), int), loss="ce",
                                    mask=np.ones((2, 5), bool)), None),
    ],
)
def test_batched_shape_errors_name_argument_and_shapes(call, message):
    net = Network(cell="lstm", input_size=3, hidden_size=4, output_size=1)
    if message is None:  # (B, T, 1) class indices are accepted as (B, T)
        assert call(net)[0] == 0.0  # one class: its log-probability is 0
        return
    with pytest.raises(EngineError, match=message):
        call(net)


def test_batched_cross_entropy_refuses_bad_class_targets():
    net = Network(cell="gru", input_size=3, hidden_size=4, output_size=3)
    x = np.zeros((2, 5, 3))
    with pytest.raises(EngineError, match=r"target must have shape \(2, 5\) of class indices"):
        net.loss_and_grads(x, np.zeros(5, int), loss="ce")
    with pytest.raises(EngineError, match="must be whole class indices"):
        net.loss_and_grads(x, np.full((2, 5), 0.5), loss="ce")
    with pytest.raises(EngineError, match=r"must lie in 0..2"):
        net.loss_and_grads(x, np.full((2, 5), 3), loss="ce")
