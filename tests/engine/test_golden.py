"""The engine against PyTorch reference values (fixtures written by tools/make_golden.py).

Each fixture holds a torch module's weights, inputs and torch's forward results and BPTT
gradients in float64; the engine must reproduce them to 1e-10.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from rnnviz.engine import Network

GOLDEN = Path(__file__).parent / "golden"
TOL = {"rtol": 1e-10, "atol": 1e-10}

PLAIN_FIXTURES = [
    f"{cell}_L{layers}_{bias}.npz"
    for cell in ("rnn_tanh", "rnn_relu", "lstm", "gru")
    for layers in (1, 2)
    for bias in ("bias", "nobias")
]
READOUT_FIXTURES = [
    f"readout_{cell}_{loss}.npz" for cell in ("lstm", "gru") for loss in ("mse", "ce")
]
BATCH_FIXTURES = [
    f"batch_{cell}_L{layers}.npz"
    for cell in ("rnn_tanh", "rnn_relu", "lstm", "gru")
    for layers in (1, 2)
]
BATCH_READOUT_FIXTURES = [
    "batch_readout_lstm_mse_all_mask.npz",
    "batch_readout_gru_ce_all_mask.npz",
    "batch_readout_rnn_tanh_mse_last.npz",
    "batch_readout_rnn_relu_ce_last.npz",
]
OPTIM_FIXTURES = [
    f"optim_{stem}.npz"
    for stem in ("sgd", "sgd_momentum", "sgd_dampening_wd", "sgd_nesterov_wd", "adam", "adam_wd",
                 "adam_low_beta1", "rmsprop", "rmsprop_momentum_wd", "rmsprop_centered")
]
TRAIN_FIXTURES = [f"train_{cell}.npz" for cell in ("rnn_tanh", "lstm", "gru")]
ALL_FIXTURES = (PLAIN_FIXTURES + READOUT_FIXTURES + BATCH_FIXTURES + BATCH_READOUT_FIXTURES
                + OPTIM_FIXTURES + TRAIN_FIXTURES + ["clip_grad_norm.npz"])


def load(name: str) -> dict[str, np.ndarray]:
    """All arrays of one fixture file (fails, rather than skips, if the file is missing)."""
    with np.load(GOLDEN / name, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def param_names(fx: dict[str, np.ndarray]) -> list[str]:
    return [str(n) for n in fx["param_names"]]


def build(fx: dict[str, np.ndarray]) -> Network:
    """A Network with the fixture's config and weights."""
    readout = {}
    if "output_size" in fx:
        readout = {"output_size": int(fx["output_size"]), "readout": str(fx["readout"])}
    net = Network(
        cell=str(fx["cell"]),
        input_size=int(fx["input_size"]),
        hidden_size=int(fx["hidden_size"]),
        num_layers=int(fx["num_layers"]),
        bias=bool(fx["bias"]),
        **readout,
    )
    net.load_state_dict({key: fx[key] for key in param_names(fx)})
    return net


def close(actual, fx: dict[str, np.ndarray], key: str, label: str) -> None:
    assert actual is not None, f"{label}: engine returned None for {key}"
    np.testing.assert_allclose(np.asarray(actual), fx[key], err_msg=f"{label}: {key}", **TOL)


def check_states_and_grads(trace, grads, fx: dict[str, np.ndarray], label: str) -> None:
    """Forward states and every gradient the fixture holds, for any fixture kind (batched
    fixtures hold (B, T, ·) sequences and (L, B, T, H) states, as the engine's batched trace)."""
    is_lstm = str(fx["cell"]) == "lstm"
    close(trace.hidden[-1], fx, "output", label)
    close(trace.hidden, fx, "trace.hidden", label)
    close(trace.h_n, fx, "h_n", label)
    close(grads.hidden, fx, "grad.hidden", label)
    close(grads.input, fx, "grad.input", label)
    close(grads.h0, fx, "grad.h0", label)
    np.testing.assert_allclose(
        grads.hidden_norm, np.linalg.norm(fx["grad.hidden"], axis=-1), err_msg=label, **TOL
    )
    np.testing.assert_allclose(
        grads.input_norm, np.linalg.norm(fx["grad.input"], axis=-1), err_msg=label, **TOL
    )
    if is_lstm:
        close(trace.cell, fx, "trace.cell", label)
        close(trace.c_n, fx, "c_n", label)
        close(grads.cell, fx, "grad.cell", label)
        close(grads.c0, fx, "grad.c0", label)
        np.testing.assert_allclose(
            grads.cell_norm, np.linalg.norm(fx["grad.cell"], axis=-1), err_msg=label, **TOL
        )
    else:
        assert trace.cell is None and grads.cell is None, label
    assert set(grads.params) == set(param_names(fx)), label
    for name in param_names(fx):
        close(grads.params[name], fx, f"grad.{name}", label)


def test_fixture_directory_is_complete():
    found = {p.name for p in GOLDEN.glob("*.npz")}
    assert found == set(ALL_FIXTURES)


@pytest.mark.parametrize("name", PLAIN_FIXTURES)
def test_forward_and_bptt_match_torch(name: str):
    fx = load(name)
    net = build(fx)
    trace = net.forward(fx["x"], fx["h0"], fx.get("c0"))
    grads = net.backward(trace, d_hidden=fx["G"])
    check_states_and_grads(trace, grads, fx, name)


@pytest.mark.parametrize("name", READOUT_FIXTURES)
def test_readout_loss_and_grads_match_torch(name: str):
    fx = load(name)
    net = build(fx)
    loss, trace, grads = net.loss_and_grads(
        fx["x"], fx["target"], loss=str(fx["loss_name"]), where=str(fx["where"])
    )
    close(loss, fx, "loss", name)
    close(trace.logits, fx, "logits", name)
    close(trace.output, fx, "readout_output", name)
    check_states_and_grads(trace, grads, fx, name)


@pytest.mark.parametrize("name", READOUT_FIXTURES)
def test_backward_from_output_gradient_matches_torch(name: str):
    # The same gradients, fed in as dL/dy from outside instead of through the built-in loss.
    fx = load(name)
    net = build(fx)
    trace = net.forward(fx["x"], fx["h0"], fx.get("c0"))
    grads = net.backward(trace, d_output=fx["grad.readout_output"])
    check_states_and_grads(trace, grads, fx, name)


@pytest.mark.parametrize("name", BATCH_FIXTURES)
def test_batched_forward_and_bptt_match_torch(name: str):
    fx = load(name)
    assert fx["x"].shape == (int(fx["batch"]), 7, 3)
    net = build(fx)
    trace = net.forward(fx["x"], fx["h0"], fx.get("c0"))
    assert trace.hidden.shape == fx["trace.hidden"].shape  # (L, B, T, H)
    grads = net.backward(trace, d_hidden=fx["G"])
    check_states_and_grads(trace, grads, fx, name)


@pytest.mark.parametrize("name", BATCH_READOUT_FIXTURES)
def test_batched_loss_with_mask_matches_torch(name: str):
    """torch's mean over y[mask] (mse) or z[mask] (cross-entropy): the loss, the readout and
    every gradient, summed over the batch, to 1e-10."""
    fx = load(name)
    net = build(fx)
    loss, trace, grads = net.loss_and_grads(
        fx["x"], fx["target"], loss=str(fx["loss_name"]), where=str(fx["where"]),
        mask=fx.get("mask"),
    )
    if "mask" in fx:
        assert not fx["mask"][0].any() and fx["mask"][1:].any()  # one sequence counts nowhere
    close(loss, fx, "loss", name)
    close(trace.logits, fx, "logits", name)
    close(trace.output, fx, "readout_output", name)
    check_states_and_grads(trace, grads, fx, name)
    # the same gradients fed in from outside as dL/dy
    grads = net.backward(net.forward(fx["x"]), d_output=fx["grad.readout_output"])
    check_states_and_grads(trace, grads, fx, name)


@pytest.mark.parametrize("key", ["weight_ih_l0", "weight_hh_l0", "bias_ih_l1", "readout.weight"])
def test_load_state_dict_wrong_shape_names_key(key: str):
    fx = load("readout_lstm_mse.npz")
    net = build(fx)
    state = {name: fx[name] for name in param_names(fx)}
    state[key] = state[key][:-1]
    with pytest.raises(ValueError, match=re.escape(key)):
        net.load_state_dict(state)


def test_load_state_dict_missing_key_names_key():
    fx = load("gru_L2_bias.npz")
    net = build(fx)
    state = {name: fx[name] for name in param_names(fx) if name != "bias_hh_l1"}
    with pytest.raises(ValueError, match="bias_hh_l1"):
        net.load_state_dict(state)
