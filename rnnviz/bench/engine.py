"""``python -m rnnviz.bench engine``: forward and forward+backward (batch 1) over cells × T × H
and, when torch is importable, torch's nn.RNN / nn.LSTM / nn.GRU forward+backward in the same run
(one thread, same dtype), with the ratio.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import numpy as np

from rnnviz.engine import Network

TORCH_CELLS = {"rnn_tanh": "RNN", "rnn_relu": "RNN", "lstm": "LSTM", "gru": "GRU"}


def best_time(fn: Callable[[], object], budget: float = 0.4, max_runs: int = 20) -> float:
    """The fastest of several runs of ``fn`` (seconds), after one warm-up run."""
    fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < max_runs and (not times or time.perf_counter() - start < budget):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def time_engine(cell: str, steps: int, hidden: int, dtype: str = "float64",
                inputs: int = 8) -> tuple[float, float]:
    """(forward, forward+backward) seconds for one sequence of ``steps``."""
    net = Network(cell=cell, input_size=inputs, hidden_size=hidden, dtype=dtype, seed=0)
    x = np.random.default_rng(0).standard_normal((steps, inputs))
    g = np.random.default_rng(1).standard_normal((steps, hidden))
    fwd = best_time(lambda: net.forward(x))
    # .params forces the parameter gradients, which torch's backward always computes.
    both = best_time(lambda: net.backward(net.forward(x), d_hidden=g).params)
    return fwd, both


def time_torch(cell: str, steps: int, hidden: int, dtype: str = "float64",
               inputs: int = 8) -> float | None:
    """torch's forward+backward seconds for the same problem, or None without torch."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    tdt = getattr(torch, dtype)
    kwargs = {"nonlinearity": cell.split("_")[1]} if cell.startswith("rnn") else {}
    module = getattr(torch.nn, TORCH_CELLS[cell])(inputs, hidden, dtype=tdt, **kwargs)
    x = torch.randn(steps, 1, inputs, dtype=tdt)
    g = torch.randn(steps, 1, hidden, dtype=tdt)

    def run() -> None:
        module.zero_grad(set_to_none=True)
        out, _ = module(x)
        out.backward(g)

    return best_time(run)


def bench_engine(cells: list[str], steps_list: list[int], hidden_list: list[int],
                 dtype: str, out=sys.stdout) -> list[dict]:
    rows = []
    print(f"engine {dtype}, batch 1, times in ms (best of several runs)", file=out)
    print(f"{'cell':9} {'T':>6} {'H':>4} {'fwd':>9} {'fwd+bwd':>9} {'torch f+b':>10} "
          f"{'ratio':>6} {'us/step':>8}", file=out)
    for cell in cells:
        for steps in steps_list:
            for hidden in hidden_list:
                fwd, both = time_engine(cell, steps, hidden, dtype)
                ref = time_torch(cell, steps, hidden, dtype)
                ratio = f"{both / ref:6.2f}" if ref else "     -"
                ref_s = f"{ref * 1e3:10.2f}" if ref else "         -"
                print(f"{cell:9} {steps:6d} {hidden:4d} {fwd * 1e3:9.2f} {both * 1e3:9.2f} "
                      f"{ref_s} {ratio} {both / steps * 1e6:8.1f}", file=out, flush=True)
                rows.append(dict(cell=cell, steps=steps, hidden=hidden, fwd=fwd, both=both,
                                 torch=ref))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnviz.bench engine", description=__doc__)
    parser.add_argument("--cells", default="rnn_tanh,lstm,gru")
    parser.add_argument("--steps", default="100,1000,10000")
    parser.add_argument("--hidden", default="32,128,512")
    parser.add_argument("--dtype", default="float64", choices=("float64", "float32"))
    args = parser.parse_args(argv)
    bench_engine(args.cells.split(","), [int(s) for s in args.steps.split(",")],
                 [int(s) for s in args.hidden.split(",")], args.dtype)
    return 0
