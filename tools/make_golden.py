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

Batched fixtures do the same with batch-first modules on B=3 sequences (and masks that count
only some steps, as torch's mean over ``y[mask]``). Beside the networks: ten steps of each
``torch.optim`` optimiser variant on fixed gradients, ``clip_grad_norm_``, and ten whole training
updates (module + Linear, MSE at the last step, clipping, Adam) per cell. Unchanged files are left
as they are, so re-running the script touches nothing unless torch's results change.
"""

from __future__ import annotations

import argparse
import json
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
BATCH = 3
# Batched readout fixtures: (cell, activation, loss, where, output size, masked).
BATCH_READOUT_CASES = (
    ("lstm", "tanh", "mse", "all", 2, True),
    ("gru", "identity", "ce", "all", 3, True),
    ("rnn_tanh", "identity", "mse", "last", 1, False),
    ("rnn_relu", "identity", "ce", "last", 3, False),
)

Head = Callable[[torch.Tensor], torch.Tensor]


def make_module(cell: str, num_layers: int, bias: bool, batch_first: bool = False,
                input_size: int = INPUT_SIZE, hidden_size: int = HIDDEN_SIZE) -> nn.RNNBase:
    """Build the torch recurrent module for ``cell`` (float64, default initialisation)."""
    kw = {"bias": bias, "batch_first": batch_first}
    if cell in ("rnn_tanh", "rnn_relu"):
        return nn.RNN(input_size, hidden_size, num_layers, nonlinearity=cell[4:], **kw)
    if cell == "lstm":
        return nn.LSTM(input_size, hidden_size, num_layers, **kw)
    return nn.GRU(input_size, hidden_size, num_layers, **kw)


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
            i, f, g, o = a.chunk(4, dim=-1)
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
    grad.hidden/grad.cell (L, T, H), plus the same quantities as :func:`full_run`. With a batch
    (x (B, T, I), h0 (L, B, H)) the states and gradients are (L, B, T, H).
    """
    module.zero_grad()
    batched = x.ndim == 3
    axis = 1 if batched else 0  # the time axis of x and of the stacked states
    steps, layers = x.shape[axis], h0.shape[0]
    xt, ht = _leaf(torch.from_numpy(x)), _leaf(torch.from_numpy(h0))
    ct = None if c0 is None else _leaf(torch.from_numpy(c0))
    step_fns = [layer_step(module, cell, k) for k in range(layers)]
    h = list(ht.unbind(0))
    c = [None] * layers if ct is None else list(ct.unbind(0))
    hs: list[list[torch.Tensor]] = [[] for _ in range(layers)]
    cs: list[list[torch.Tensor]] = [[] for _ in range(layers)]
    for t in range(steps):
        below = xt[:, t] if batched else xt[t]
        for k in range(layers):
            h[k], c[k] = step_fns[k](below, h[k], c[k])
            h[k].retain_grad()
            hs[k].append(h[k])
            if c[k] is not None:
                c[k].retain_grad()
                cs[k].append(c[k])
            below = h[k]
    top = torch.stack(hs[-1], dim=axis)  # (T, H) or (B, T, H)
    loss = head(top)
    loss.backward()

    def stacked(states: list[list[torch.Tensor]], grad: bool) -> np.ndarray:
        rows = [torch.stack([s.grad if grad else s for s in layer], dim=axis)
                for layer in states]
        return torch.stack(rows).detach().numpy()  # (L, T, H) or (L, B, T, H)

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
    batch: int | None = None,
    masked: bool = False,
) -> dict[str, np.ndarray]:
    """Build one fixture's arrays. ``readout`` is (activation, loss, where, output_size) or None.

    Without a readout the loss is ``(output * G).sum()`` with random ``h0``/``c0``; with one it is
    the readout loss from a zero initial state. With ``batch`` the module is batch-first and every
    array gains a batch axis (x (B, T, I), h0 (L, B, H), G (B, T, H), target (B, T, ·)); with
    ``masked`` the loss counts only the steps of a random mask (B, T), as torch's mean over
    ``y[mask]``.
    """
    torch.manual_seed(seed)
    module = make_module(cell, num_layers, bias, batch_first=batch is not None)
    gen = np.random.default_rng(seed)
    lead = () if batch is None else (batch,)
    shape_state = (num_layers, *lead, HIDDEN_SIZE)
    x = gen.standard_normal((*lead, T, INPUT_SIZE))
    fx: dict[str, np.ndarray] = {
        "cell": np.array(cell),
        "num_layers": np.array(num_layers),
        "bias": np.array(bias),
        "input_size": np.array(INPUT_SIZE),
        "hidden_size": np.array(HIDDEN_SIZE),
        "x": x,
    }
    if batch is not None:
        fx["batch"] = np.array(batch)
    if readout is None:
        h0 = gen.uniform(-0.9, 0.9, shape_state)
        c0 = gen.standard_normal(shape_state) if cell == "lstm" else None
        g = gen.standard_normal((*lead, T, HIDDEN_SIZE))
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
            target = gen.standard_normal((*lead, T, out_size))
        else:
            target = gen.integers(0, out_size, size=(*lead, T))
        target_t = torch.from_numpy(target)
        captured: dict[str, torch.Tensor] = {}
        # which steps count: all or the last, and of those the masked ones
        counted = np.zeros((*lead, T), bool)
        counted[..., slice(None) if where == "all" else slice(-1, None)] = True
        if masked:
            mask = gen.random((*lead, T)) < 0.5
            mask[..., 0] = True  # every sequence counts somewhere ...
            mask[0] = False  # ... except the first, which counts nowhere
            counted &= mask
            fx["mask"] = mask
        counted_t = torch.from_numpy(counted)

        def head(out: torch.Tensor) -> torch.Tensor:
            z = lin(out)
            y = torch.tanh(z) if activation == "tanh" else z
            y.retain_grad()
            captured["z"], captured["y"] = z, y
            if loss_name == "mse":  # y[counted]: (N, O) rows of the counted steps
                return nn.functional.mse_loss(y[counted_t], target_t[counted_t])
            return nn.functional.cross_entropy(y[counted_t], target_t[counted_t])

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

    label = f"{cell} L={num_layers} bias={bias} readout={readout} batch={batch}"
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
    # Batches (added after the cases above, so that their seeds stay as they were).
    for cell in CELLS:
        for num_layers in (1, 2):
            name = f"batch_{cell}_L{num_layers}.npz"
            cases.append((name, {"cell": cell, "num_layers": num_layers,
                                 "bias": num_layers == 1, "batch": BATCH}))
    for cell, activation, loss_name, where, out_size, masked in BATCH_READOUT_CASES:
        name = f"batch_readout_{cell}_{loss_name}_{where}{'_mask' if masked else ''}.npz"
        cases.append((name, {"cell": cell, "num_layers": 2, "bias": True, "batch": BATCH,
                             "readout": (activation, loss_name, where, out_size),
                             "masked": masked}))
    return cases


# ---- optimisers, clipping and whole training updates ---------------------------------------
OPTIM_STEPS = 10
OPTIM_PARAM_SHAPES = {"weight_ih_l0": (8, 3), "weight_hh_l0": (8, 2), "bias_ih_l0": (8,)}
# (file stem, torch.optim class name, keyword arguments)
OPTIM_CASES = (
    ("sgd", "SGD", {"lr": 0.1}),
    ("sgd_momentum", "SGD", {"lr": 0.1, "momentum": 0.9}),
    ("sgd_dampening_wd", "SGD", {"lr": 0.1, "momentum": 0.8, "dampening": 0.3,
                                 "weight_decay": 0.05}),
    ("sgd_nesterov_wd", "SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True,
                                "weight_decay": 0.01}),
    ("adam", "Adam", {"lr": 0.01}),
    ("adam_wd", "Adam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}),
    ("adam_low_beta1", "Adam", {"lr": 0.02, "betas": (0.3, 0.9)}),
    ("rmsprop", "RMSprop", {"lr": 0.01}),
    ("rmsprop_momentum_wd", "RMSprop", {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.01}),
    ("rmsprop_centered", "RMSprop", {"lr": 0.01, "alpha": 0.9, "centered": True,
                                     "momentum": 0.5}),
)


def make_optim_fixture(seed: int, kind: str, kwargs: dict) -> dict[str, np.ndarray]:
    """Ten steps of a torch optimiser on fixed random gradients.

    Keys: kind, hyper (JSON of the keyword arguments), param_names, init.<name> (shape),
    grads.<name> (steps, *shape), after.<name> (steps, *shape) the parameters after each step.
    """
    gen = np.random.default_rng(seed)
    init = {k: gen.standard_normal(shape) for k, shape in OPTIM_PARAM_SHAPES.items()}
    grads = {k: gen.standard_normal((OPTIM_STEPS, *shape)) * gen.uniform(0.1, 3.0)
             for k, shape in OPTIM_PARAM_SHAPES.items()}
    params = {k: torch.tensor(v, requires_grad=True) for k, v in init.items()}
    opt = getattr(torch.optim, kind)(list(params.values()), **kwargs)
    after = {k: [] for k in params}
    for step in range(OPTIM_STEPS):
        for k, p in params.items():
            p.grad = torch.from_numpy(grads[k][step].copy())
        opt.step()
        for k, p in params.items():
            after[k].append(p.detach().numpy().copy())
    fx = {"kind": np.array(kind), "hyper": np.array(json.dumps(kwargs)),
          "param_names": np.array(list(params))}
    for k in params:
        fx[f"init.{k}"] = init[k]
        fx[f"grads.{k}"] = grads[k]
        fx[f"after.{k}"] = np.stack(after[k])
    return fx


def make_clip_fixture(seed: int) -> dict[str, np.ndarray]:
    """torch.nn.utils.clip_grad_norm_ on random gradients, for max norms that clip and not.

    Keys: max_norm (C,), param_names, grads.<name> (C, *shape), clipped.<name> (C, *shape),
    total_norm (C,).
    """
    gen = np.random.default_rng(seed)
    max_norms = np.array([0.5, 1.0, 1e3, 0.0])
    fx: dict[str, np.ndarray] = {"max_norm": max_norms,
                                 "param_names": np.array(list(OPTIM_PARAM_SHAPES))}
    grads = {k: gen.standard_normal((len(max_norms), *shape))
             for k, shape in OPTIM_PARAM_SHAPES.items()}
    clipped = {k: [] for k in grads}
    totals = []
    for c, max_norm in enumerate(max_norms):
        ps = []
        for k in grads:
            p = torch.zeros(OPTIM_PARAM_SHAPES[k], requires_grad=True)
            p.grad = torch.from_numpy(grads[k][c].copy())
            ps.append(p)
        totals.append(float(torch.nn.utils.clip_grad_norm_(ps, float(max_norm))))
        for k, p in zip(grads, ps, strict=True):
            clipped[k].append(p.grad.numpy().copy())
    for k in grads:
        fx[f"grads.{k}"] = grads[k]
        fx[f"clipped.{k}"] = np.stack(clipped[k])
    fx["total_norm"] = np.array(totals)
    return fx


TRAIN = {"batch": 3, "steps": 6, "input_size": 2, "hidden_size": 4, "updates": 10,
         "lr": 0.05, "max_norm": 0.5}


def make_train_fixture(seed: int, cell: str) -> dict[str, np.ndarray]:
    """Whole training updates as the adding problem has them: a batch-first module + Linear
    readout, MSE at the last step, clip_grad_norm_, Adam; a fresh batch per update.

    Keys: cell, the TRAIN settings, param_names, init.<name>, x (U, B, T, I), target (U, B, 1),
    loss (U,), total_norm (U,) before clipping, final.<name> the parameters after U updates.
    """
    torch.manual_seed(seed)
    gen = np.random.default_rng(seed)
    cfg = TRAIN
    module = make_module(cell, 1, True, batch_first=True, input_size=cfg["input_size"],
                         hidden_size=cfg["hidden_size"])
    lin = nn.Linear(cfg["hidden_size"], 1)
    named = dict(module.named_parameters())
    named.update({"readout.weight": lin.weight, "readout.bias": lin.bias})
    init = {k: p.detach().numpy().copy() for k, p in named.items()}
    opt = torch.optim.Adam(list(named.values()), lr=cfg["lr"])
    shape_x = (cfg["updates"], cfg["batch"], cfg["steps"], cfg["input_size"])
    xs = gen.uniform(0, 1, shape_x)
    targets = gen.uniform(0, 2, (cfg["updates"], cfg["batch"], 1))
    losses, norms = [], []
    for u in range(cfg["updates"]):
        opt.zero_grad()
        out, _ = module(torch.from_numpy(xs[u]))
        loss = nn.functional.mse_loss(lin(out[:, -1]), torch.from_numpy(targets[u]))
        loss.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(list(named.values()),
                                                            cfg["max_norm"])))
        opt.step()
        losses.append(float(loss.detach()))
    fx: dict[str, np.ndarray] = {"cell": np.array(cell), "param_names": np.array(list(named)),
                                 "x": xs, "target": targets, "loss": np.array(losses),
                                 "total_norm": np.array(norms)}
    fx.update({k: np.array(v) for k, v in cfg.items()})
    for k, p in named.items():
        fx[f"init.{k}"] = init[k]
        fx[f"final.{k}"] = p.detach().numpy().copy()
    return fx


def all_fixtures() -> list[tuple[str, Callable[[], dict[str, np.ndarray]]]]:
    """Every fixture file as (name, maker)."""
    out: list[tuple[str, Callable[[], dict[str, np.ndarray]]]] = []
    for seed, (name, kwargs) in enumerate(fixture_cases(), start=1000):
        out.append((name, lambda seed=seed, kwargs=kwargs: make_fixture(seed, **kwargs)))
    for seed, (stem, kind, kwargs) in enumerate(OPTIM_CASES, start=2000):
        out.append((f"optim_{stem}.npz",
                    lambda seed=seed, kind=kind, kwargs=kwargs: make_optim_fixture(
                        seed, kind, kwargs)))
    out.append(("clip_grad_norm.npz", lambda: make_clip_fixture(3000)))
    for seed, cell in enumerate(("rnn_tanh", "lstm", "gru"), start=4000):
        out.append((f"train_{cell}.npz", lambda seed=seed, cell=cell: make_train_fixture(
            seed, cell)))
    return out


def same_contents(path: Path, arrays: dict[str, np.ndarray]) -> bool:
    """Whether ``path`` already holds exactly these arrays (so it need not be rewritten)."""
    if not path.exists():
        return False
    with np.load(path, allow_pickle=False) as old:
        if set(old.files) != set(arrays):
            return False
        return all(old[k].dtype == np.asarray(v).dtype
                   and np.array_equal(old[k], v) for k, v in arrays.items())


def main(argv: list[str] | None = None) -> None:
    """Write every fixture into the output directory (default: tests/engine/golden); files whose
    contents are unchanged are left as they are."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    args = parser.parse_args(argv)
    torch.set_default_dtype(torch.float64)
    args.out.mkdir(parents=True, exist_ok=True)
    total = written = 0
    fixtures = all_fixtures()
    for name, maker in fixtures:
        path = args.out / name
        arrays = maker()
        if not same_contents(path, arrays):
            np.savez_compressed(path, **arrays)
            written += 1
        total += path.stat().st_size
    print(f"{len(fixtures)} fixtures ({total / 1024:.1f} KiB) in {args.out}, "
          f"{written} written")


if __name__ == "__main__":
    main()
