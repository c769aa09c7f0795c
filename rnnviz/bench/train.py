"""``python -m rnnviz.bench train``: milliseconds per training update beside torch's.

One update is what a trainer does per batch: forward, MSE at the last step, backward (with the
parameter gradients), ``clip_grad_norm``, an Adam step and installing the new weights. The
default shape is the adding problem's: B=32 sequences of T=100 steps, 2 inputs, H=64, 1 output.
When torch is importable the same update runs in torch in the same process (one thread, same
dtype: ``nn.RNN``/``nn.LSTM``/``nn.GRU`` + ``nn.Linear``, ``clip_grad_norm_``, ``Adam``), and the
ratio engine / torch is printed (below 1: the engine is faster). Then the trainer's own
updates per second (:class:`rnnviz.train.Trainer`, drawing real adding-problem batches, with and
without its evaluations every 50 updates) beside the bare engine loop's, in the same run.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import numpy as np

from rnnviz.engine import Network
from rnnviz.engine.optim import Adam, clip_grad_norm

TORCH_MODULES = {"rnn_tanh": "RNN", "rnn_relu": "RNN", "lstm": "LSTM", "gru": "GRU"}


def best_time(fn: Callable[[], object], budget: float = 1.0, max_runs: int = 30,
              min_runs: int = 5) -> float:
    """The fastest of several runs of ``fn`` (seconds), after two warm-up runs."""
    fn()
    fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < max_runs and (len(times) < min_runs
                                     or time.perf_counter() - start < budget):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def best_times(fns: list[Callable[[], object]], budget: float = 2.0, max_rounds: int = 40,
               min_rounds: int = 8) -> list[float]:
    """The fastest run of each function (seconds), the functions taking turns round by round,
    so that a change in the machine's load (others share its cores) hits them alike."""
    for fn in fns:
        fn()
        fn()
    best = [float("inf")] * len(fns)
    start = time.perf_counter()
    rounds = 0
    while rounds < max_rounds and (rounds < min_rounds or time.perf_counter() - start < budget):
        for k, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - t0)
        rounds += 1
    return best


def problem(batch: int, steps: int, inputs: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """x (B, T, I) and a last-step target (B, 1) as the adding problem draws them."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, (batch, steps, inputs))
    return x, rng.uniform(0.0, 2.0, (batch, 1))


def engine_update(cell: str, dtype: str, batch: int, steps: int, hidden: int,
                  inputs: int = 2, max_norm: float = 1.0) -> Callable[[], float]:
    """One engine training update as a callable (returns the loss)."""
    net = Network(cell=cell, input_size=inputs, hidden_size=hidden, output_size=1,
                  dtype=dtype, seed=0)
    opt = Adam(net.state_dict(), lr=1e-3)
    x, target = problem(batch, steps, inputs)
    x, target = x.astype(dtype), target.astype(dtype)

    def update() -> float:
        loss, _, grads = net.loss_and_grads(x, target, "mse", where="last")
        clipped, _ = clip_grad_norm(grads.params, max_norm)
        net.set_params(opt.step(clipped))
        return loss

    return update


def torch_update(cell: str, dtype: str, batch: int, steps: int, hidden: int,
                 inputs: int = 2, max_norm: float = 1.0) -> Callable[[], float] | None:
    """The same update in torch (one thread), or None without torch."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    tdt = getattr(torch, dtype)
    kwargs = {"nonlinearity": cell.split("_")[1]} if cell.startswith("rnn") else {}
    torch.manual_seed(0)
    rnn = getattr(torch.nn, TORCH_MODULES[cell])(inputs, hidden, batch_first=True, dtype=tdt,
                                                 **kwargs)
    lin = torch.nn.Linear(hidden, 1, dtype=tdt)
    params = list(rnn.parameters()) + list(lin.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    x, target = problem(batch, steps, inputs)
    xt = torch.from_numpy(x.astype(dtype))
    tt = torch.from_numpy(target.astype(dtype))

    def update() -> float:
        opt.zero_grad(set_to_none=True)
        out, _ = rnn(xt)
        loss = torch.nn.functional.mse_loss(lin(out[:, -1]), tt)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, max_norm)
        opt.step()
        return float(loss.detach())

    return update


def trainer_update(cell: str, dtype: str, batch: int, steps: int, hidden: int,
                   eval_every: int = 10**7) -> Callable[[], object]:
    """One update of :class:`rnnviz.train.Trainer` on the adding problem of the same shape:
    the engine's update plus drawing the batch from the task, the gradient norm, the history
    and (every ``eval_every`` updates) evaluating on the task's 1000 test sequences."""
    from rnnviz.engine import NetworkConfig
    from rnnviz.tasks import make_task
    from rnnviz.train import Trainer, TrainModel, TrainSettings

    task = make_task("adding", steps)
    config = NetworkConfig(cell=cell, input_size=2, hidden_size=hidden, output_size=1,
                           dtype=dtype, seed=0)
    settings = TrainSettings(learning_rate=1e-3, batch_size=batch, clip_norm=1.0,
                             updates=10**7, eval_every=eval_every)
    trainer = Trainer(task, [TrainModel(cell, config)], settings)
    return trainer.step


def bench_trainer(cells: list[str], dtypes: list[str], batch: int, steps: int, hidden: int,
                  out=sys.stdout) -> list[dict]:
    """The trainer's updates per second beside the bare engine loop's, in the same run."""
    print(f"\ntrainer overhead: Trainer.step() against the bare engine update above, adding "
          f"problem B={batch} T={steps} H={hidden}; updates/s, best of 8-40 runs taking turns",
          file=out)
    print(f"{'cell':9} {'dtype':8} {'engine':>8} {'trainer':>8} {'ratio':>6} "
          f"{'+eval/50':>9} {'ratio':>6}", file=out)
    rows = []
    for dtype in dtypes:
        for cell in cells:
            bare = engine_update(cell, dtype, batch, steps, hidden)
            plain = trainer_update(cell, dtype, batch, steps, hidden)
            evals = trainer_update(cell, dtype, batch, steps, hidden, eval_every=50)

            def fifty(step=evals) -> None:  # a whole evaluation interval per run
                for _ in range(50):
                    step()

            t_bare, t_plain = best_times([bare, plain])
            t_fifty = best_time(fifty, budget=2.0, max_runs=5, min_runs=2) / 50
            print(f"{cell:9} {dtype:8} {1 / t_bare:8.1f} {1 / t_plain:8.1f} "
                  f"{t_bare / t_plain:6.2f} {1 / t_fifty:9.1f} {t_bare / t_fifty:6.2f}",
                  file=out, flush=True)
            rows.append({"cell": cell, "dtype": dtype, "engine": t_bare, "trainer": t_plain,
                         "trainer_eval50": t_fifty})
    return rows


def engine_parts(cell: str, dtype: str, batch: int, steps: int, hidden: int,
                 inputs: int = 2) -> dict[str, float]:
    """Seconds of each part of one engine update: forward, backward (with the parameter
    gradients), clipping, Adam step + installing the weights."""
    net = Network(cell=cell, input_size=inputs, hidden_size=hidden, output_size=1,
                  dtype=dtype, seed=0)
    opt = Adam(net.state_dict(), lr=1e-3)
    x, target = problem(batch, steps, inputs)
    trace = net.forward(x)
    res = net.loss(trace, target, "mse", "last")
    grads = net.backward(trace, d_output=res.grad)
    params = grads.params
    clipped, _ = clip_grad_norm(params, 1.0)
    return {
        "fwd": best_time(lambda: net.forward(x), budget=0.3),
        "bwd": best_time(lambda: net.backward(trace, d_output=res.grad).params, budget=0.3),
        "clip": best_time(lambda: clip_grad_norm(params, 1.0), budget=0.1),
        "adam": best_time(lambda: net.set_params(opt.step(clipped)), budget=0.1),
    }


def bench_train(cells: list[str], dtypes: list[str], batch: int, steps: int, hidden: int,
                parts: bool = True, out=sys.stdout) -> list[dict]:
    rows = []
    print(f"training update (forward, mse at the last step, backward, clip_grad_norm, Adam), "
          f"B={batch} T={steps} H={hidden} I=2 O=1; ms, best of 8-40 runs taking turns with "
          f"torch's", file=out)
    head = f"{'cell':9} {'dtype':8} {'engine':>8} {'torch':>8} {'ratio':>6}"
    if parts:
        head += f"   {'fwd':>6} {'bwd':>6} {'clip':>6} {'adam':>6}"
    print(head, file=out)
    for dtype in dtypes:
        for cell in cells:
            ours_fn = engine_update(cell, dtype, batch, steps, hidden)
            theirs_fn = torch_update(cell, dtype, batch, steps, hidden)
            if theirs_fn is None:
                ours, theirs = best_times([ours_fn])[0], None
            else:
                ours, theirs = best_times([ours_fn, theirs_fn])
            ratio = f"{ours / theirs:6.2f}" if theirs else "     -"
            ref = f"{theirs * 1e3:8.2f}" if theirs else "       -"
            line = f"{cell:9} {dtype:8} {ours * 1e3:8.2f} {ref} {ratio}"
            row = {"cell": cell, "dtype": dtype, "engine": ours, "torch": theirs}
            if parts:
                split = engine_parts(cell, dtype, batch, steps, hidden)
                line += "   " + " ".join(f"{split[k] * 1e3:6.2f}"
                                         for k in ("fwd", "bwd", "clip", "adam"))
                row.update(split)
            print(line, file=out, flush=True)
            rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnviz.bench train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", default="rnn_tanh,lstm,gru")
    parser.add_argument("--dtypes", default="float64,float32")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--no-parts", action="store_true",
                        help="skip the per-part split of the engine's update")
    parser.add_argument("--no-trainer", action="store_true",
                        help="skip the trainer's updates/s against the bare engine loop")
    parser.add_argument("--reuse-freed-memory", action="store_true",
                        help="tune glibc's allocator as the app does at start-up (freed blocks "
                             "stay in the heap instead of page-faulting afresh), for both")
    args = parser.parse_args(argv)
    if args.reuse_freed_memory:
        from rnnviz.allocator import reuse_freed_memory

        print(f"reuse freed memory: {reuse_freed_memory()}")
    bench_train(args.cells.split(","), args.dtypes.split(","), args.batch, args.steps,
                args.hidden, parts=not args.no_parts)
    if not args.no_trainer:
        bench_trainer(args.cells.split(","), args.dtypes.split(","), args.batch, args.steps,
                      args.hidden)
    return 0
