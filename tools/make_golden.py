"""Write PyTorch reference values for the NumPy engine to ``tests/engine/golden/``.

Run with ``python tools/make_golden.py`` (needs only torch and numpy). Every fixture is a small
float64 ``.npz`` file; ``tests/engine/golden/README.md`` lists the keys. Everything is seeded, so
re-running the script reproduces the same files.

Two runs of the same module are made per fixture:

* a full-sequence run (one ``nn.RNN``/``nn.LSTM``/``nn.GRU`` call over all T steps), which gives
  the output, final state and parameter/input/initial-state gradients;
* a hand-unrolled run (one call per layer and step with ``nn.RNNCell``/``nn.GRUCell`` sharing the
  module's parameters; the LSTM step written in torch ops), whose state tensors are kept with
  ``retain_grad()`` to read the total ``dL/dh_t`` and ``dL/dc_t`` of every layer and step.

Per-step gradients cannot come from one multi-layer ``nn.*`` call per step: inside such a call
layer l feeds layer l+1 (and an LSTM's h_t is computed from c_t) without passing through the
returned state tensors, so their ``.grad`` would miss those paths. The script asserts that the
unrolled run reproduces the full-sequence run's outputs and gradients to 1e-12.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

T, INPUT_SIZE, HIDDEN_SIZE = 7, 3, 5
CELLS = ("rnn_tanh", "rnn_relu", "lstm", "gru")
AGREE_ATOL = 1e-12
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "tests" / "engine" / "golden"

# Readout fixtures: (cell, readout activation, loss, where, output size).
READOUT_CASES = (
    ("lstm", "tanh", "mse", "all", 4),
    ("lstm", "identity", "ce", "last", 4),
    ("gru", "tanh", "mse", "all", 2),
    ("gru", "identity", "ce", "last", 2),
)

Head = Callable[[torch.Tensor], torch.Tensor]


def make_module(cell: str, num_layers: int, bias: bool) -> nn.RNNBase:
    """Build the torch recurrent module for ``cell`` (float64, default initialisation)."""
    if cell in ("rnn_tanh", "rnn_relu"):
        return nn.RNN(INPUT_SIZE, HIDDEN_SIZE, num_layers, nonlinearity=cell[4:], bias=bias)
    if cell == "lstm":
        return nn.LSTM(INPUT_SIZE, HIDDEN_SIZE, num_layers, bias=bias)
    return nn.GRU(INPUT_SIZE, HIDDEN_SIZE, num_layers, bias=bias)


def _leaf(a: torch.Tensor) -> torch.Tensor:
    return a.detach().clone().requires_grad_(True)


def full_run(
    module: nn.RNNBase, head: Head, x: np.ndarray, h0: np.ndarray, c0: np.ndarray | None
) -> dict[str, np.ndarray]:
    """One call over the whole sequence; ``x`` (T, I), ``h0``/``c0`` (L, H).

    Returns output (T, H), h_n/c_n (L, H), loss, and grads of x, h0, c0 and every parameter.
    """
    module.zero_grad()
    xt, ht = _leaf(torch.from_numpy(x)), _leaf(torch.from_numpy(h0))
    ct = None if c0 is None else _leaf(torch.from_numpy(c0))
    if ct is None:
        out, h_n = module(xt, ht)
        c_n = None
    else:
        out, (h_n, c_n) = module(xt, (ht, ct))
    loss = head(out)
    loss.backward()
    res = {
        "output": out.detach().numpy(),
        "h_n": h_n.detach().numpy(),
        "loss": loss.detach().numpy(),
        "grad.input": xt.grad.numpy(),
        "grad.h0": ht.grad.numpy(),
    }
    if ct is not None:
        res["c_n"] = c_n.detach().numpy()
        res["grad.c0"] = ct.grad.numpy()
    for name, p in module.named_parameters():
        res[f"grad.{name}"] = p.grad.detach().numpy().copy()
    return res


StepFn = Callable[
    [torch.Tensor, torch.Tensor, torch.Tensor | None], tuple[torch.Tensor, torch.Tensor | None]
]


def layer_step(module: nn.RNNBase, cell: str, layer: int) -> StepFn:
    """One step of one layer, ``(x_t, h, c) -> (h_t, c_t)``, using the module's own parameters.

    RNN and GRU use ``nn.RNNCell``/``nn.GRUCell`` sharing the module's ``*_l{layer}`` tensors.
    The LSTM step is written out in torch ops because in ``nn.LSTM``/``nn.LSTMCell`` the new
    hidden state is computed inside the op, so the returned ``c_t`` would miss the gradient that
    reaches it through ``h_t = o * tanh(c_t)``.
    """
    p = {
        kind: getattr(module, f"{kind}_l{layer}", None)
        for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    }
    if cell == "lstm":

        def lstm_step(x_t, h, c):
            a = nn.functional.linear(x_t, p["weight_ih"], p["bias_ih"])
            a = a + nn.functional.linear(h, p["weight_hh"], p["bias_hh"])
            i, f, g, o = a.chunk(4)
            c_t = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            return torch.sigmoid(o) * torch.tanh(c_t), c_t

        return lstm_step
    in_size = p["weight_ih"].shape[1]
    if cell == "gru":
        unit: nn.Module = nn.GRUCell(in_size, HIDDEN_SIZE, bias=module.bias)
    else:
        unit = nn.RNNCell(in_size, HIDDEN_SIZE, bias=module.bias, nonlinearity=cell[4:])
    for kind, tensor in p.items():
        if tensor is not None:
            setattr(unit, kind, tensor)
    return lambda x_t, h, c: (unit(x_t, h), None)


def step_run(
    module: nn.RNNBase,
    cell: str,
    head: Head,
    x: np.ndarray,
    h0: np.ndarray,
    c0: np.ndarray | None,
) -> dict[str, np.ndarray]:
    """The same network unrolled by hand: one call per layer and step, sharing the parameters.

    Every layer's state after every step is its own graph node, consumed by the next step, the
    layer above and (top layer) the loss, so its ``retain_grad()`` gradient is the total one.
    Returns the states trace.hidden/trace.cell (L, T, H), their total gradients
    grad.hidden/grad.cell (L, T, H), plus the same quantities as :func:`full_run`.
    """
    module.zero_grad()
    steps, layers = x.shape[0], h0.shape[0]
    xt, ht = _leaf(torch.from_numpy(x)), _leaf(torch.from_numpy(h0))
    ct = None if c0 is None else _leaf(torch.from_numpy(c0))
    step_fns = [layer_step(module, cell, k) for k in range(layers)]
    h = list(ht.unbind(0))
    c = [None] * layers if ct is None else list(ct.unbind(0))
    hs: list[list[torch.Tensor]] = [[] for _ in range(layers)]
    cs: list[list[torch.Tensor]] = [[] for _ in range(layers)]
    for t in range(steps):
        below = xt[t]
        for k in range(layers):
            h[k], c[k] = step_fns[k](below, h[k], c[k])
            h[k].retain_grad()
            hs[k].append(h[k])
            if c[k] is not None:
                c[k].retain_grad()
                cs[k].append(c[k])
            below = h[k]
    top = torch.stack(hs[-1])  # (T, H)
    loss = head(top)
    loss.backward()

    def stacked(states: list[list[torch.Tensor]], grad: bool) -> np.ndarray:
        rows = [torch.stack([s.grad if grad else s for s in layer]) for layer in states]
        return torch.stack(rows).detach().numpy()  # (L, T, H)

    res = {
        "output": top.detach().numpy(),
        "h_n": torch.stack(h).detach().numpy(),
        "trace.hidden": stacked(hs, grad=False),
        "loss": loss.detach().numpy(),
        "grad.input": xt.grad.numpy(),
        "grad.h0": ht.grad.numpy(),
        "grad.hidden": stacked(hs, grad=True),
    }
    if ct is not None:
        res["c_n"] = torch.stack(c).detach().numpy()
        res["trace.cell"] = stacked(cs, grad=False)
        res["grad.c0"] = ct.grad.numpy()
        res["grad.cell"] = stacked(cs, grad=True)
    for name, p in module.named_parameters():
        res[f"grad.{name}"] = p.grad.detach().numpy().copy()
    return res


def check_agree(full: dict[str, np.ndarray], step: dict[str, np.ndarray], label: str) -> None:
    """Assert that every quantity both runs produce agrees to AGREE_ATOL."""
    for key, value in full.items():
        err = float(np.max(np.abs(value - step[key]))) if value.size else 0.0
        assert err <= AGREE_ATOL, f"{label}: full and step runs differ in {key} by {err:.3g}"


def make_fixture(
    seed: int,
    cell: str,
    num_layers: int,
    bias: bool,
    readout: tuple[str, str, str, int] | None = None,
) -> dict[str, np.ndarray]:
    """Build one fixture's arrays. ``readout`` is (activation, loss, where, output_size) or None.

    Without a readout the loss is ``(output * G).sum()`` with random ``h0``/``c0``; with one it is
    the readout loss from a zero initial state.
    """
    torch.manual_seed(seed)
    module = make_module(cell, num_layers, bias)
    gen = np.random.default_rng(seed)
    shape_state = (num_layers, HIDDEN_SIZE)
    x = gen.standard_normal((T, INPUT_SIZE))
    fx: dict[str, np.ndarray] = {
        "cell": np.array(cell),
        "num_layers": np.array(num_layers),
        "bias": np.array(bias),
        "input_size": np.array(INPUT_SIZE),
        "hidden_size": np.array(HIDDEN_SIZE),
        "x": x,
    }
    if readout is None:
        h0 = gen.uniform(-0.9, 0.9, shape_state)
        c0 = gen.standard_normal(shape_state) if cell == "lstm" else None
        g = gen.standard_normal((T, HIDDEN_SIZE))
        g_t = torch.from_numpy(g)
        extra_params: dict[str, torch.Tensor] = {}

        def head(out: torch.Tensor) -> torch.Tensor:
            return (out * g_t).sum()

        fx["G"] = g
    else:
        activation, loss_name, where, out_size = readout
        h0 = np.zeros(shape_state)
        c0 = np.zeros(shape_state) if cell == "lstm" else None
        lin = nn.Linear(HIDDEN_SIZE, out_size)
        extra_params = {"readout.weight": lin.weight, "readout.bias": lin.bias}
        if loss_name == "mse":
            target = gen.standard_normal((T, out_size))
        else:
            target = gen.integers(0, out_size, size=T)
        target_t = torch.from_numpy(target)
        captured: dict[str, torch.Tensor] = {}

        def head(out: torch.Tensor) -> torch.Tensor:
            z = lin(out)
            y = torch.tanh(z) if activation == "tanh" else z
            y.retain_grad()
            captured["z"], captured["y"] = z, y
            sel = slice(None) if where == "all" else slice(-1, None)
            if loss_name == "mse":
                return nn.functional.mse_loss(y[sel], target_t[sel])
            return nn.functional.cross_entropy(y[sel], target_t[sel])

        fx.update(
            output_size=np.array(out_size),
            readout=np.array(activation),
            loss_name=np.array(loss_name),
            where=np.array(where),
            target=target,
        )

    fx["h0"] = h0
    if c0 is not None:
        fx["c0"] = c0
    for name, p in module.named_parameters():
        fx[name] = p.detach().numpy().copy()
    for name, p in extra_params.items():
        fx[name] = p.detach().numpy().copy()
    fx["param_names"] = np.array(list(module.state_dict()) + list(extra_params))

    label = f"{cell} L={num_layers} bias={bias} readout={readout}"
    full = full_run(module, head, x, h0, c0)
    for name, p in extra_params.items():
        full[f"grad.{name}"] = p.grad.detach().numpy().copy()
        p.grad = None
    if readout is not None:
        full["readout_output"] = captured["y"].detach().numpy()
        full["logits"] = captured["z"].detach().numpy()
        full["grad.readout_output"] = captured["y"].grad.numpy()
    step = step_run(module, cell, head, x, h0, c0)
    for name, p in extra_params.items():
        step[f"grad.{name}"] = p.grad.detach().numpy().copy()
    if readout is not None:
        step["readout_output"] = captured["y"].detach().numpy()
        step["logits"] = captured["z"].detach().numpy()
        step["grad.readout_output"] = captured["y"].grad.numpy()
    check_agree(full, step, label)
    clash = set(fx) & set(step)
    assert not clash, f"{label}: result keys clash with inputs: {sorted(clash)}"
    fx.update(step)
    return fx


def fixture_cases() -> list[tuple[str, dict]]:
    """All (file name, make_fixture kwargs) pairs, with a distinct seed each."""
    cases: list[tuple[str, dict]] = []
    for cell in CELLS:
        for num_layers in (1, 2):
            for bias in (True, False):
                name = f"{cell}_L{num_layers}_{'bias' if bias else 'nobias'}.npz"
                cases.append((name, {"cell": cell, "num_layers": num_layers, "bias": bias}))
    for cell, activation, loss_name, where, out_size in READOUT_CASES:
        name = f"readout_{cell}_{loss_name}.npz"
        kwargs = {
            "cell": cell,
            "num_layers": 2,
            "bias": True,
            "readout": (activation, loss_name, where, out_size),
        }
        cases.append((name, kwargs))
    return cases


def main(argv: list[str] | None = None) -> None:
    """Write every fixture into the output directory (default: tests/engine/golden)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    args = parser.parse_args(argv)
    torch.set_default_dtype(torch.float64)
    args.out.mkdir(parents=True, exist_ok=True)
    total = 0
    for seed, (name, kwargs) in enumerate(fixture_cases(), start=1000):
        path = args.out / name
        np.savez_compressed(path, **make_fixture(seed, **kwargs))
        total += path.stat().st_size
    print(f"wrote {len(fixture_cases())} fixtures ({total / 1024:.1f} KiB) to {args.out}")


if __name__ == "__main__":
    main()
