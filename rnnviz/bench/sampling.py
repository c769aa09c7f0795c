"""``python -m rnnviz.bench sampling``: time to draw one training batch of every task, beside
two references measured in the same run: drawing the batch's raw random numbers alone
(``rng.random`` of the input shape, the floor any sampler pays) and one LSTM forward+backward
of a single sequence of the same shape through the engine (H=32), the smallest piece of the
update the batch feeds. Sampling should cost a small fraction of that.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from rnnviz.bench.engine import best_time
from rnnviz.engine import Network
from rnnviz.tasks import TASKS, make_task


def _task(name: str, length: int):
    if TASKS[name].needs == "data":
        data = np.sin(np.arange(20_000) / 7.0)
        return make_task(name, length, data=data)
    if name == "char_lm":
        return make_task(name, min(length, 90))  # the bundled text holds windows of ≤ 97
    return make_task(name, length)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnviz.bench sampling",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--length", type=int, default=100)
    parser.add_argument("--hidden", type=int, default=32)
    args = parser.parse_args(argv)
    print(f"batch {args.batch}, length {args.length}; best of repeated runs, microseconds")
    print(f"{'task':<16}{'shape':>16}{'sample':>10}{'raw rng':>10}{'engine 1 seq':>14}"
          f"{'sample/engine':>15}")
    for name in TASKS:
        task = _task(name, args.length)
        rng = np.random.default_rng(0)
        sample = best_time(lambda t=task, r=rng: t.sample(r, args.batch), max_runs=200)
        shape = (args.batch, task.steps, task.input_size)
        raw = best_time(lambda r=rng, s=shape: r.random(s), max_runs=200)
        net = Network(cell="lstm", input_size=task.input_size, hidden_size=args.hidden, seed=0)
        x = task.sample(rng, 1).inputs[0]
        grad = np.ones((task.steps, args.hidden))
        engine = best_time(lambda n=net, s=x, g=grad: n.backward(n.forward(s), d_hidden=g).params)
        print(f"{name:<16}{str(shape):>16}{sample * 1e6:>10.0f}{raw * 1e6:>10.0f}"
              f"{engine * 1e6:>14.0f}{sample / engine:>15.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
