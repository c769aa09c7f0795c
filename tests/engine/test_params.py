"""Changing a network's parameters safely: read-only arrays, set_params, with_params."""

import numpy as np
import pytest

from rnnviz.engine import CELL_TYPES, EngineError, Network


def _net(cell, seed=0, **kw):
    return Network(cell=cell, input_size=2, hidden_size=4, num_layers=2, output_size=1,
                   readout="tanh", seed=seed, **kw)


def _data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((3, 6, 2)), rng.standard_normal((3, 6))


def _grads(net, x, t):
    return net.loss_and_grads(x, t, "mse", "all")


@pytest.mark.parametrize("cell", CELL_TYPES)
def test_state_dict_arrays_are_read_only_and_cannot_be_made_writable(cell):
    net = _net(cell)
    sd = net.state_dict()
    for value in sd.values():
        with pytest.raises(ValueError, match="read-only"):
            value[(0,) * value.ndim] = 1.0
        with pytest.raises(ValueError):
            value.flags.writeable = True
        with pytest.raises(ValueError):
            value *= 2.0
    sd["weight_hh_l0"] = np.zeros((4 * 4 if cell == "lstm" else 4, 4))  # the dict is the caller's
    assert np.any(net.state_dict()["weight_hh_l0"] != 0)


@pytest.mark.parametrize("cell", CELL_TYPES)
def test_gradients_after_set_params_are_those_of_the_new_parameters(cell):
    """Run (single sequence and batch, so that every cached copy of the weights is built), then
    set new parameters: results equal a fresh network's with them, and finite differences."""
    x, t = _data()
    net = _net(cell, seed=1)
    _grads(net, x, t)
    _grads(net, x[0], t[0])
    rng = np.random.default_rng(7)
    new = {k: rng.standard_normal(v.shape) * 0.5 for k, v in net.state_dict().items()}
    net.set_params(new)
    fresh = _net(cell, seed=2)
    fresh.load_state_dict(new)
    for xs, ts in ((x, t), (x[0], t[0])):
        loss, trace, grads = _grads(net, xs, ts)
        loss_f, trace_f, grads_f = _grads(fresh, xs, ts)
        assert loss == loss_f
        np.testing.assert_array_equal(trace.hidden, trace_f.hidden)
        for key in new:
            np.testing.assert_array_equal(grads.params[key], grads_f.params[key])
    # and against centred differences of the loss, for the recurrent weights of layer 0
    loss, _, grads = _grads(net, x, t)
    key = "weight_hh_l0"
    eps = 1e-6
    for idx in [(0, 0), (3, 2), (new[key].shape[0] - 1, 1)]:
        up, down = dict(new), dict(new)
        up[key] = new[key].copy()
        up[key][idx] += eps
        down[key] = new[key].copy()
        down[key][idx] -= eps
        numeric = (_grads(net.with_params(up), x, t)[0]
                   - _grads(net.with_params(down), x, t)[0]) / (2 * eps)
        assert grads.params[key][idx] == pytest.approx(numeric, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("cell", CELL_TYPES)
def test_with_params_gives_a_new_network_sharing_nothing(cell):
    x, t = _data(1)
    net = _net(cell, seed=3)
    before = _grads(net, x, t)[2].params
    params = {k: v * 0.5 for k, v in net.state_dict().items()}
    other = net.with_params(params)
    assert other is not net and other.config == net.config
    for key, value in other.state_dict().items():
        assert not np.shares_memory(value, net.state_dict()[key])
        assert not np.shares_memory(value, params[key])
        np.testing.assert_array_equal(value, params[key])
    params["weight_ih_l0"][:] = 100.0  # the caller's arrays stay the caller's
    assert not np.any(other.state_dict()["weight_ih_l0"] == 100.0)
    after = _grads(net, x, t)[2].params  # the original is unchanged
    for key in before:
        np.testing.assert_array_equal(after[key], before[key])


def test_set_params_is_validated_like_load_state_dict():
    net = _net("gru")
    sd = dict(net.state_dict())
    good = {k: v.copy() for k, v in sd.items()}
    with pytest.raises(EngineError, match=r"weight_hh_l1 must have shape \(12, 4\), got \(12, 3\)"):
        net.set_params({**sd, "weight_hh_l1": np.zeros((12, 3))})
    with pytest.raises(EngineError, match="missing 'bias_ih_l0'"):
        net.set_params({k: v for k, v in sd.items() if k != "bias_ih_l0"})
    with pytest.raises(EngineError, match="unexpected key 'weight_ih_l2'"):
        net.with_params({**sd, "weight_ih_l2": np.zeros((12, 4))})
    bad = {k: v.copy() for k, v in sd.items()}
    bad["readout.bias"][0] = np.nan
    with pytest.raises(EngineError, match="readout.bias holds NaN or Inf values"):
        net.set_params(bad)
    with pytest.raises(EngineError, match="must be a mapping"):
        net.set_params([1, 2, 3])
    for key, value in net.state_dict().items():  # nothing was changed by the refusals
        np.testing.assert_array_equal(value, good[key])


@pytest.mark.parametrize("cell", CELL_TYPES)
def test_a_trace_from_earlier_parameters_is_never_reused(cell):
    x, _ = _data(2)
    net = _net(cell, seed=4)
    old = net.forward(x)
    net.set_params({k: v * 0.9 for k, v in net.state_dict().items()})
    resumed = net.forward(x, resume=old)  # not resumed from: recomputed with the new weights
    assert resumed is not old
    np.testing.assert_array_equal(resumed.hidden, net.forward(x).hidden)
    with pytest.raises(EngineError, match="earlier parameters"):
        net.backward(old, d_output=np.ones((3, 6, 1)))


def test_the_arrays_a_network_holds_stay_as_set():
    """Nothing reachable from the public API can change the weights behind the network's back:
    results stay equal after every attempt to write."""
    net = _net("lstm")
    x, t = _data(3)
    reference = _grads(net, x, t)[0]
    for value in net.state_dict().values():
        with pytest.raises(ValueError):
            value.flat[0] = 5.0
    _, trace, grads = _grads(net, x, t)
    for value in grads.params.values():
        with pytest.raises(ValueError):
            value.flat[0] = 5.0
    assert _grads(net, x, t)[0] == reference
