"""A plain, readable BPTT per cell, written out step by step as min-char-rnn does, and the fast
kernels checked against it on random configurations (cell, layers, bias, batch, sizes).

The reference lives here, beside the tests, rather than in the package: it is an oracle, so it
imports nothing from the engine (no shared helper can hide the same bug in both), it is never
tempted into being optimised, and it is itself checked against torch's golden fixtures below.
One sequence at a time, vectors only, one equation per line; a batch is a loop over sequences.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rnnviz.engine import Network

GOLDEN = Path(__file__).parent / "golden"


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


# ---- one step forward and back, per cell ----------------------------------------------------
# p: this layer's weights {"W_ih", "W_hh", "b_ih", "b_hh"} (zero biases without bias).
# Each forward returns (h, c, cache); each backward takes the total dL/dh_t (and dL/dc_t flowing
# back from step t+1) and returns (dx, dh_prev, dc_prev, dL/dc_t) and adds into the grads d.


def rnn_forward(p, x, h_prev, c_prev, relu):
    a = p["W_ih"] @ x + p["b_ih"] + p["W_hh"] @ h_prev + p["b_hh"]
    h = np.maximum(a, 0.0) if relu else np.tanh(a)
    return h, None, {"x": x, "h_prev": h_prev, "a": a, "h": h}


def rnn_backward(p, d, cache, dh, dc_next, relu):
    da = dh * (cache["a"] > 0) if relu else dh * (1.0 - cache["h"] ** 2)
    d["W_ih"] += np.outer(da, cache["x"])
    d["W_hh"] += np.outer(da, cache["h_prev"])
    d["b_ih"] += da
    d["b_hh"] += da
    dx = p["W_ih"].T @ da
    dh_prev = p["W_hh"].T @ da
    return dx, dh_prev, None, None


def lstm_forward(p, x, h_prev, c_prev, relu):
    a = p["W_ih"] @ x + p["b_ih"] + p["W_hh"] @ h_prev + p["b_hh"]
    ai, af, ag, ao = np.split(a, 4)
    i, f, g, o = sigmoid(ai), sigmoid(af), np.tanh(ag), sigmoid(ao)
    c = f * c_prev + i * g
    h = o * np.tanh(c)
    return h, c, {"x": x, "h_prev": h_prev, "c_prev": c_prev, "i": i, "f": f, "g": g, "o": o,
                  "c": c}


def lstm_backward(p, d, cache, dh, dc_next, relu):
    i, f, g, o, c = cache["i"], cache["f"], cache["g"], cache["o"], cache["c"]
    tanh_c = np.tanh(c)
    do = dh * tanh_c
    dc = dc_next + dh * o * (1.0 - tanh_c**2)  # the total dL/dc_t
    di = dc * g
    dg = dc * i
    df = dc * cache["c_prev"]
    dc_prev = dc * f
    da = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g**2), do * o * (1 - o)])
    d["W_ih"] += np.outer(da, cache["x"])
    d["W_hh"] += np.outer(da, cache["h_prev"])
    d["b_ih"] += da
    d["b_hh"] += da
    dx = p["W_ih"].T @ da
    dh_prev = p["W_hh"].T @ da
    return dx, dh_prev, dc_prev, dc


def gru_forward(p, x, h_prev, c_prev, relu):
    gx = p["W_ih"] @ x + p["b_ih"]
    gh = p["W_hh"] @ h_prev + p["b_hh"]
    xr, xz, xn = np.split(gx, 3)
    hr, hz, hn = np.split(gh, 3)
    r = sigmoid(xr + hr)
    z = sigmoid(xz + hz)
    n = np.tanh(xn + r * hn)
    h = (1.0 - z) * n + z * h_prev
    return h, None, {"x": x, "h_prev": h_prev, "r": r, "z": z, "n": n, "hn": hn}


def gru_backward(p, d, cache, dh, dc_next, relu):
    r, z, n, hn, h_prev = cache["r"], cache["z"], cache["n"], cache["hn"], cache["h_prev"]
    dn = dh * (1.0 - z)
    dz = dh * (h_prev - n)
    dan = dn * (1.0 - n**2)  # d(W_in x + b_in + r ⊙ (W_hn h + b_hn))
    dr = dan * hn
    dar = dr * r * (1.0 - r)
    daz = dz * z * (1.0 - z)
    dgx = np.concatenate([dar, daz, dan])  # dL/d(W_ih x + b_ih)
    dgh = np.concatenate([dar, daz, dan * r])  # dL/d(W_hh h + b_hh)
    d["W_ih"] += np.outer(dgx, cache["x"])
    d["W_hh"] += np.outer(dgh, h_prev)
    d["b_ih"] += dgx
    d["b_hh"] += dgh
    dx = p["W_ih"].T @ dgx
    dh_prev = p["W_hh"].T @ dgh + dh * z
    return dx, dh_prev, None, None


STEPS = {
    "rnn_tanh": (rnn_forward, rnn_backward),
    "rnn_relu": (rnn_forward, rnn_backward),
    "lstm": (lstm_forward, lstm_backward),
    "gru": (gru_forward, gru_backward),
}


# ---- a whole network, one sequence -----------------------------------------------------------
def layer_params(sd, k, bias):
    rows = sd[f"weight_hh_l{k}"].shape[0]
    zero = np.zeros(rows)
    return {"W_ih": sd[f"weight_ih_l{k}"], "W_hh": sd[f"weight_hh_l{k}"],
            "b_ih": sd[f"bias_ih_l{k}"] if bias else zero,
            "b_hh": sd[f"bias_hh_l{k}"] if bias else zero}


def reference_run(cell, sd, bias, x, h0, c0, d_hidden, d_logits, dh_n, dc_n):
    """Forward and BPTT of one sequence x (T, I) through layers L from h0, c0 (L, H), with
    dL/d(top h_t) = d_hidden (T, H), dL/dz_t = d_logits (T, O) for an identity readout
    z = W_y h + b_y (when sd has one), dL/dh_T, dL/dc_T = dh_n, dc_n (L, H).

    Returns a dict: hidden, cell (L, T, H), logits (T, O); grads of every state-dict key,
    d_hidden and d_cell (L, T, H) (the total dL/dh_t, dL/dc_t), d_input (T, I), d_h0, d_c0."""
    forward, backward = STEPS[cell]
    relu = cell == "rnn_relu"
    layers = h0.shape[0]
    steps = x.shape[0]
    ps = [layer_params(sd, k, bias) for k in range(layers)]
    caches = [[None] * steps for _ in range(layers)]
    hs = np.zeros((layers, steps, h0.shape[1]))
    cs = np.zeros_like(hs)
    below = list(x)
    for k in range(layers):
        h, c = h0[k], (c0[k] if c0 is not None else None)
        for t in range(steps):
            h, c, caches[k][t] = forward(ps[k], below[t], h, c, relu)
            hs[k, t] = h
            if c is not None:
                cs[k, t] = c
        below = list(hs[k])
    out = {"hidden": hs, "cell": cs}
    dh_top = d_hidden.copy()
    grads = {}
    if "readout.weight" in sd:
        out["logits"] = hs[-1] @ sd["readout.weight"].T + sd["readout.bias"]
        grads["readout.weight"] = np.zeros_like(sd["readout.weight"])
        grads["readout.bias"] = np.zeros_like(sd["readout.bias"])
        for t in range(steps):
            dh_top[t] += sd["readout.weight"].T @ d_logits[t]
            grads["readout.weight"] += np.outer(d_logits[t], hs[-1, t])
            grads["readout.bias"] += d_logits[t]
    d_hid = np.zeros_like(hs)
    d_cell = np.zeros_like(hs)
    d_h0, d_c0 = np.zeros_like(h0), np.zeros_like(h0)
    from_above = list(dh_top)  # dL/dh_t of this layer from outside its recurrence
    for k in reversed(range(layers)):
        d = {name: np.zeros_like(w) for name, w in ps[k].items()}
        dh_next = dh_n[k].copy()
        dc_next = dc_n[k].copy() if c0 is not None else None
        dx_all = [None] * steps
        for t in reversed(range(steps)):
            dh = from_above[t] + dh_next
            d_hid[k, t] = dh
            dx_all[t], dh_next, dc_next, dc_total = backward(ps[k], d, caches[k][t], dh, dc_next,
                                                             relu)
            if dc_total is not None:
                d_cell[k, t] = dc_total
        d_h0[k] = dh_next
        if c0 is not None:
            d_c0[k] = dc_next
        from_above = dx_all
        grads[f"weight_ih_l{k}"] = d["W_ih"]
        grads[f"weight_hh_l{k}"] = d["W_hh"]
        if bias:
            grads[f"bias_ih_l{k}"] = d["b_ih"]
            grads[f"bias_hh_l{k}"] = d["b_hh"]
    out.update(grads=grads, d_hidden=d_hid, d_cell=d_cell, d_input=np.array(from_above),
               d_h0=d_h0, d_c0=d_c0)
    return out


# ---- the reference itself, against torch ------------------------------------------------------
@pytest.mark.parametrize("cell", ["rnn_tanh", "rnn_relu", "lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("bias", ["bias", "nobias"])
def test_reference_matches_torch(cell, layers, bias):
    with np.load(GOLDEN / f"{cell}_L{layers}_{bias}.npz", allow_pickle=False) as data:
        fx = {k: data[k] for k in data.files}
    sd = {str(n): fx[str(n)] for n in fx["param_names"]}
    zeros = np.zeros_like(fx["h0"])
    ref = reference_run(cell, sd, bias == "bias", fx["x"], fx["h0"], fx.get("c0"), fx["G"],
                        None, zeros, zeros)
    tol = {"rtol": 1e-10, "atol": 1e-10}
    np.testing.assert_allclose(ref["hidden"], fx["trace.hidden"], **tol)
    np.testing.assert_allclose(ref["d_hidden"], fx["grad.hidden"], **tol)
    np.testing.assert_allclose(ref["d_input"], fx["grad.input"], **tol)
    np.testing.assert_allclose(ref["d_h0"], fx["grad.h0"], **tol)
    if cell == "lstm":
        np.testing.assert_allclose(ref["cell"], fx["trace.cell"], **tol)
        np.testing.assert_allclose(ref["d_cell"], fx["grad.cell"], **tol)
        np.testing.assert_allclose(ref["d_c0"], fx["grad.c0"], **tol)
    for key, value in ref["grads"].items():
        np.testing.assert_allclose(value, fx[f"grad.{key}"], err_msg=key, **tol)


# ---- the fast kernels against the reference, on random configurations ------------------------
def random_config(seed):
    rng = np.random.default_rng(seed)
    return {
        "cell": ["rnn_tanh", "rnn_relu", "lstm", "gru"][seed % 4],
        "num_layers": int(rng.integers(1, 4)),
        "bias": bool(rng.integers(0, 2)),
        "batch": [None, 1, 2, 5][int(rng.integers(0, 4))],
        "hidden_size": int(rng.integers(1, 7)),
        "input_size": int(rng.integers(1, 5)),
        "steps": int(rng.integers(1, 9)),
        "readout": bool(rng.integers(0, 2)),
    }


@pytest.mark.parametrize("seed", range(32))
def test_fast_kernels_match_the_reference(seed):
    cfg = random_config(seed)
    rng = np.random.default_rng(1000 + seed)
    cell, layers, hidden = cfg["cell"], cfg["num_layers"], cfg["hidden_size"]
    out = 3 if cfg["readout"] else None
    net = Network(cell=cell, input_size=cfg["input_size"], hidden_size=hidden,
                  num_layers=layers, bias=cfg["bias"], output_size=out, seed=seed)
    # weights larger than the default, so that gates leave their linear range
    sd = {k: rng.standard_normal(v.shape) * 0.7 for k, v in net.state_dict().items()}
    net.set_params(sd)
    lead = () if cfg["batch"] is None else (cfg["batch"],)
    steps = cfg["steps"]
    x = rng.standard_normal((*lead, steps, cfg["input_size"]))
    h0 = rng.standard_normal((layers, *lead, hidden)) * 0.5
    c0 = rng.standard_normal((layers, *lead, hidden)) * 0.5 if cell == "lstm" else None
    g = rng.standard_normal((*lead, steps, hidden))
    dz = rng.standard_normal((*lead, steps, out)) if out else None
    dh_n = rng.standard_normal((layers, *lead, hidden))
    dc_n = rng.standard_normal((layers, *lead, hidden)) if cell == "lstm" else None

    trace = net.forward(x, h0, c0)
    grads = net.backward(trace, d_hidden=g, d_logits=dz, d_h_n=dh_n, d_c_n=dc_n)

    sequences = [None] if cfg["batch"] is None else range(cfg["batch"])
    total = {k: np.zeros_like(v) for k, v in sd.items()}
    tol = {"rtol": 1e-10, "atol": 1e-12}
    for b in sequences:
        def pick(a, layer_first=False, b=b):
            """Sequence b of a batched array ((B, ...) or layer-first (L, B, ...))."""
            if a is None or b is None:
                return a
            return a[:, b] if layer_first else a[b]

        ref = reference_run(cell, sd, cfg["bias"], pick(x), pick(h0, True), pick(c0, True),
                            pick(g), pick(dz), pick(dh_n, True),
                            pick(dc_n, True) if dc_n is not None else np.zeros_like(pick(h0, True)))
        np.testing.assert_allclose(pick(trace.hidden, True), ref["hidden"], **tol)
        np.testing.assert_allclose(pick(grads.hidden, True), ref["d_hidden"], **tol)
        np.testing.assert_allclose(pick(grads.input), ref["d_input"], **tol)
        np.testing.assert_allclose(pick(grads.h0, True), ref["d_h0"], **tol)
        if out:
            np.testing.assert_allclose(pick(trace.logits), ref["logits"], **tol)
        if cell == "lstm":
            np.testing.assert_allclose(pick(trace.cell, True), ref["cell"], **tol)
            np.testing.assert_allclose(pick(grads.cell, True), ref["d_cell"], **tol)
            np.testing.assert_allclose(pick(grads.c0, True), ref["d_c0"], **tol)
        for k, v in ref["grads"].items():
            total[k] += v
    assert set(grads.params) == set(total)
    for k, v in total.items():
        np.testing.assert_allclose(grads.params[k], v, err_msg=f"{cfg} {k}", **tol)


def test_random_configurations_cover_every_case():
    """The 32 configurations above include every cell, 1-3 layers, bias on and off, single
    sequences and batches, with and without a readout."""
    cfgs = [random_config(s) for s in range(32)]
    assert {c["cell"] for c in cfgs} == {"rnn_tanh", "rnn_relu", "lstm", "gru"}
    assert {c["num_layers"] for c in cfgs} == {1, 2, 3}
    assert {c["bias"] for c in cfgs} == {True, False}
    assert {c["batch"] for c in cfgs} == {None, 1, 2, 5}
    assert {c["readout"] for c in cfgs} == {True, False}
    for cell in ("rnn_tanh", "rnn_relu", "lstm", "gru"):
        assert {c["batch"] is None for c in cfgs if c["cell"] == cell} == {True, False}
