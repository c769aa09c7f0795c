"""Optimisers and clipping against torch.optim and clip_grad_norm_ (fixtures written by
tools/make_golden.py), whole training updates against torch, and bit-for-bit resumption."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from rnnviz.engine import EngineError, Network
from rnnviz.engine.optim import OPTIMIZERS, SGD, Adam, RMSprop, clip_grad_norm

GOLDEN = Path(__file__).parent / "golden"
TOL = {"rtol": 1e-10, "atol": 1e-10}
OPTIM_CASES = ["sgd", "sgd_momentum", "sgd_dampening_wd", "sgd_nesterov_wd", "adam", "adam_wd",
               "adam_low_beta1", "rmsprop", "rmsprop_momentum_wd", "rmsprop_centered"]


def load(name: str) -> dict[str, np.ndarray]:
    with np.load(GOLDEN / name, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def names(fx) -> list[str]:
    return [str(n) for n in fx["param_names"]]


def build_optimizer(fx):
    kwargs = json.loads(str(fx["hyper"]))
    if "betas" in kwargs:
        kwargs["betas"] = tuple(kwargs["betas"])
    init = {k: fx[f"init.{k}"] for k in names(fx)}
    return OPTIMIZERS[str(fx["kind"])](init, **kwargs)


@pytest.mark.parametrize("case", OPTIM_CASES)
def test_ten_steps_equal_torch_optim(case):
    fx = load(f"optim_{case}.npz")
    opt = build_optimizer(fx)
    for step in range(10):
        params = opt.step({k: fx[f"grads.{k}"][step] for k in names(fx)})
        assert list(params) == names(fx)
        for k in names(fx):
            np.testing.assert_allclose(params[k], fx[f"after.{k}"][step],
                                       err_msg=f"{case} step {step + 1} {k}", **TOL)
    assert opt.steps == 10


def test_clip_grad_norm_equals_torch():
    fx = load("clip_grad_norm.npz")
    for c, max_norm in enumerate(fx["max_norm"]):
        grads = {k: fx[f"grads.{k}"][c] for k in names(fx)}
        clipped, total = clip_grad_norm(grads, max_norm=float(max_norm))
        assert total == pytest.approx(fx["total_norm"][c], rel=1e-12)
        for k in names(fx):
            np.testing.assert_allclose(clipped[k], fx[f"clipped.{k}"][c], **TOL)
        scale = min(1.0, max_norm / (total + 1e-6))  # torch's eps, even when it clips to 0
        for k in names(fx):
            np.testing.assert_allclose(clipped[k], grads[k] * scale, rtol=1e-15, atol=0)
    assert clip_grad_norm({}, 1.0) == ({}, 0.0)


def test_clip_grad_norm_of_nonfinite_gradients_is_nonfinite():
    clipped, total = clip_grad_norm({"a": np.array([1.0, np.nan]), "b": np.ones(2)}, 1.0)
    assert np.isnan(total) and np.isnan(clipped["b"]).all()
    clipped, total = clip_grad_norm({"a": np.array([1.0, np.inf]), "b": np.ones(2)}, 1.0)
    assert total == np.inf and np.all(clipped["b"] == 0.0)


@pytest.mark.parametrize("cell", ["rnn_tanh", "lstm", "gru"])
def test_ten_training_updates_equal_torch(cell):
    """Batch-first module + Linear, MSE at the last step, clip_grad_norm_, Adam: the losses,
    the norms before clipping and the weights after ten updates equal torch's."""
    fx = load(f"train_{cell}.npz")
    net = Network(cell=cell, input_size=int(fx["input_size"]),
                  hidden_size=int(fx["hidden_size"]), output_size=1)
    net.set_params({k: fx[f"init.{k}"] for k in names(fx)})
    opt = Adam(net.state_dict(), lr=float(fx["lr"]))
    for u in range(int(fx["updates"])):
        # the target as one value per sequence at the last step, (B, 1)
        loss, _, grads = net.loss_and_grads(fx["x"][u], fx["target"][u], "mse", where="last")
        clipped, norm = clip_grad_norm(grads.params, max_norm=float(fx["max_norm"]))
        net.set_params(opt.step(clipped))
        assert loss == pytest.approx(fx["loss"][u], rel=1e-10)
        assert norm == pytest.approx(fx["total_norm"][u], rel=1e-10)
    assert fx["total_norm"].max() > float(fx["max_norm"])  # clipping was exercised
    for k in names(fx):
        np.testing.assert_allclose(net.state_dict()[k], fx[f"final.{k}"], err_msg=k, **TOL)


def _run(opt, grads_seq):
    return [opt.step(g) for g in grads_seq]


def _grads_seq(params, count, seed=0):
    rng = np.random.default_rng(seed)
    return [{k: rng.standard_normal(v.shape) for k, v in params.items()} for _ in range(count)]


def _roundtrip(state):
    """The optimiser state through JSON and .npy, as a session file would keep it."""
    arrays = {}

    def strip(obj, path):
        if isinstance(obj, np.ndarray):
            buf = io.BytesIO()
            np.save(buf, obj, allow_pickle=False)
            arrays[path] = buf.getvalue()
            return {"__array__": path}
        if isinstance(obj, dict):
            return {k: strip(v, f"{path}/{k}") for k, v in obj.items()}
        return obj

    text = json.dumps(strip(state, ""))

    def restore(obj):
        if isinstance(obj, dict) and set(obj) == {"__array__"}:
            return np.load(io.BytesIO(arrays[obj["__array__"]]), allow_pickle=False)
        if isinstance(obj, dict):
            return {k: restore(v) for k, v in obj.items()}
        return obj

    return restore(json.loads(text))


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [
        (SGD, {"lr": 0.1}),
        (SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
        (Adam, {"lr": 0.01, "weight_decay": 0.1}),
        (RMSprop, {"lr": 0.01}),
        (RMSprop, {"lr": 0.01, "momentum": 0.9, "centered": True}),
    ],
)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_resumed_training_equals_an_uninterrupted_run_bit_for_bit(cls, kwargs, dtype):
    """k steps, save the state (through JSON + .npy), restore into a fresh optimiser built on
    the saved parameters, m more steps: the same parameters as k + m steps, bit for bit."""
    params = Network(cell="lstm", input_size=2, hidden_size=3, output_size=1,
                     dtype=dtype).state_dict()
    grads = _grads_seq(params, 7)
    whole = _run(cls(params, **kwargs), grads)
    first = cls(params, **kwargs)
    _run(first, grads[:4])
    saved_params = {k: v.copy() for k, v in first.params.items()}
    saved = _roundtrip(first.state_dict())
    resumed = cls(saved_params, **kwargs)
    resumed.load_state_dict(saved)
    rest = _run(resumed, grads[4:])
    assert resumed.steps == 7
    for k in params:
        assert rest[-1][k].dtype == np.dtype(dtype)
        np.testing.assert_array_equal(rest[-1][k], whole[-1][k])
    # and the state itself is the same afterwards
    a, b = resumed.state_dict(), cls(params, **kwargs)
    _run(b, grads)
    b = b.state_dict()
    assert a["steps"] == b["steps"] and a["hyperparameters"] == b["hyperparameters"]
    for name in b["buffers"]:
        for k in params:
            np.testing.assert_array_equal(a["buffers"][name][k], b["buffers"][name][k])


def test_state_dict_is_plain_scalars_and_arrays():
    opt = Adam({"w": np.ones((2, 2))}, lr=0.5, betas=(0.8, 0.9))
    opt.step({"w": np.ones((2, 2))})
    state = opt.state_dict()
    assert json.loads(json.dumps({k: v for k, v in state.items() if k != "buffers"})) == {
        "kind": "Adam", "steps": 1,
        "hyperparameters": {"lr": 0.5, "betas": [0.8, 0.9], "eps": 1e-8, "weight_decay": 0.0},
    }
    assert set(state["buffers"]) == {"exp_avg", "exp_avg_sq"}
    assert all(isinstance(v, np.ndarray) for b in state["buffers"].values() for v in b.values())
    state["buffers"]["exp_avg"]["w"][:] = 99.0  # a copy: the optimiser is unaffected
    assert not np.any(opt.state_dict()["buffers"]["exp_avg"]["w"] == 99.0)


def test_load_state_dict_refuses_a_mismatch_with_a_message():
    params = {"w": np.ones(3)}
    adam = Adam(params, lr=0.1)
    adam.step({"w": np.ones(3)})
    state = adam.state_dict()
    with pytest.raises(EngineError, match="optimiser state is for 'Adam', not SGD"):
        SGD(params, lr=0.1).load_state_dict(state)
    with pytest.raises(EngineError, match="other hyperparameters"):
        Adam(params, lr=0.2).load_state_dict(state)
    with pytest.raises(EngineError, match=r"w must have shape \(4,\), got \(3,\)"):
        Adam({"w": np.ones(4)}, lr=0.1).load_state_dict(state)
    bad = dict(state, buffers={"exp_avg": state["buffers"]["exp_avg"]})
    with pytest.raises(EngineError, match="missing buffer 'exp_avg_sq'"):
        Adam(params, lr=0.1).load_state_dict(bad)
    with pytest.raises(EngineError, match="steps must be a whole number"):
        Adam(params, lr=0.1).load_state_dict(dict(state, steps=-1))


def test_step_refuses_gradients_that_do_not_match():
    opt = SGD({"w": np.ones(3), "b": np.ones(1)}, lr=0.1)
    with pytest.raises(EngineError, match="missing 'b'"):
        opt.step({"w": np.ones(3)})
    with pytest.raises(EngineError, match="unexpected key 'c'"):
        opt.step({"w": np.ones(3), "b": np.ones(1), "c": np.ones(1)})
    with pytest.raises(EngineError, match=r"w must have shape \(3,\), got \(2,\)"):
        opt.step({"w": np.ones(2), "b": np.ones(1)})
    assert opt.steps == 0  # nothing was applied


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: SGD(p, lr=-1), "lr must be a finite number >= 0.0"),
        (lambda p: SGD(p, lr=float("nan")), "lr must be a finite number"),
        (lambda p: SGD(p, lr=0.1, nesterov=True), "Nesterov momentum requires"),
        (lambda p: Adam(p, betas=(0.9, 1.0)), "beta2 must be a finite number >= 0.0 and < 1.0"),
        (lambda p: Adam(p, betas=0.9), "betas must be a pair"),
        (lambda p: Adam(p, lr="fast"), "lr must be a number, got 'fast'"),
        (lambda p: RMSprop(p, alpha=1.5), "alpha must be a finite number >= 0.0 and <= 1.0"),
        (lambda p: Adam({"w": np.array(["a"])}), "must be a float array"),
    ],
)
def test_bad_hyperparameters_are_refused_in_one_line(make, message):
    with pytest.raises(EngineError, match=message) as info:
        make({"w": np.ones(2)})
    assert "\n" not in str(info.value)


def test_step_returns_new_read_only_arrays_and_keeps_the_callers_untouched():
    w = np.ones(3)
    opt = SGD({"w": w}, lr=0.5)
    new = opt.step({"w": np.ones(3)})
    np.testing.assert_array_equal(w, 1.0)  # the caller's array is not updated in place
    np.testing.assert_array_equal(new["w"], 0.5)
    with pytest.raises(ValueError):
        new["w"][0] = 7.0
    again = opt.step({"w": np.ones(3)})
    np.testing.assert_array_equal(new["w"], 0.5)  # earlier results stay as they were
    np.testing.assert_array_equal(again["w"], 0.0)


def test_a_network_trained_with_adam_and_clipping_learns():
    """A tiny regression (the sum of a sequence's two channels at the last step) falls far
    below its baseline in a few hundred batched updates."""
    rng = np.random.default_rng(0)
    net = Network(cell="gru", input_size=2, hidden_size=8, output_size=1, seed=1)
    opt = Adam(net.state_dict(), lr=0.02)

    def batch():
        x = rng.uniform(0, 1, (16, 5, 2))
        return x, x[:, -1].sum(axis=1, keepdims=True)

    x_test, y_test = batch()
    baseline = float(np.mean((y_test - y_test.mean()) ** 2))
    for _ in range(300):
        x, y = batch()
        _, _, grads = net.loss_and_grads(x, y, "mse", where="last")
        clipped, _ = clip_grad_norm(grads.params, 1.0)
        net.set_params(opt.step(clipped))
    test_loss = net.loss(net.forward(x_test), y_test, "mse", "last").total
    assert test_loss < 0.05 * baseline
