"""``python -m rnnviz.bench tasks``: success against sequence length on the adding problem.

The claim behind rnnviz, reproduced with its own trainer: a vanilla tanh RNN cannot carry the
two marked values over long sequences, while LSTM and GRU cells can (Pascanu, Mikolov & Bengio
2013, Fig. 7; Arjovsky, Shah & Bengio 2016, Fig. 2). For each length T and seed, each cell
(same hidden size, same budget, Adam with gradient clipping) trains on the same stream of
batches (the seed's), evaluated on the task's fixed test set every ``--eval-every`` updates; a
run counts as solved at the first evaluation with test MSE < 0.01 (the baseline of always
predicting 1 is 0.167) and stops there. The table gives, per cell and T, the seeds solved and
the median update at which they were, and the median best test MSE over the seeds.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from rnnviz.engine import NetworkConfig
from rnnviz.tasks import make_task
from rnnviz.train import Trainer, TrainModel, TrainSettings

CELL_TITLES = {"rnn_tanh": "tanh RNN", "rnn_relu": "ReLU RNN", "lstm": "LSTM", "gru": "GRU"}


def run_one(cell: str, length: int, seed: int, args: argparse.Namespace) -> dict:
    """Train one cell at one length from one seed; returns what the table needs."""
    task = make_task("adding", length, test_size=args.test_size)
    config = NetworkConfig(cell=cell, input_size=2, hidden_size=args.hidden, output_size=1,
                           seed=seed)
    settings = TrainSettings(optimizer="adam", learning_rate=args.lr, batch_size=args.batch,
                             clip_norm=args.clip, updates=args.updates,
                             eval_every=args.eval_every, seed=seed, max_snapshots=2)
    trainer = Trainer(task, [TrainModel(CELL_TITLES.get(cell, cell), config)], settings)
    start = time.perf_counter()
    solved_at = None
    while trainer.update < args.updates:
        trainer.run(min(trainer.update + args.eval_every, args.updates))
        if trainer.diverged is not None:
            break
        history = trainer.record(0).history
        if history.test_loss.size and history.test_loss[-1] < task.loss_threshold:
            solved_at = int(history.eval_update[-1])
            break
    history = trainer.record(0).history
    best = float(np.min(history.test_loss)) if history.test_loss.size else float("nan")
    return {"cell": cell, "length": length, "seed": seed, "solved_at": solved_at,
            "best": best, "updates": trainer.update, "seconds": time.perf_counter() - start,
            "diverged": trainer.diverged}


def _cell_text(runs: list[dict]) -> str:
    solved = [r["solved_at"] for r in runs if r["solved_at"] is not None]
    median = f"@{int(np.median(solved))}" if solved else ""
    best = float(np.median([r["best"] for r in runs]))
    return f"{len(solved)}/{len(runs)} {median:>6} {best:7.4f}"


def table(results: list[dict], cells: list[str], lengths: list[int]) -> str:
    width = 22
    head = f"{'T':>5}  " + "".join(f"{CELL_TITLES.get(c, c):<{width}}" for c in cells)
    lines = [head.rstrip()]
    for length in lengths:
        row = f"{length:>5}  "
        for cell in cells:
            runs = [r for r in results if r["cell"] == cell and r["length"] == length]
            row += f"{_cell_text(runs) if runs else '-':<{width}}"
        lines.append(row.rstrip())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnviz.bench tasks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", default="rnn_tanh,lstm,gru")
    parser.add_argument("--lengths", default="10,25,50,100,200")
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1")
    parser.add_argument("--updates", type=int, default=3000, help="budget per run")
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--clip", type=float, default=1.0)
    parser.add_argument("--eval-every", type=int, default=100)
    parser.add_argument("--test-size", type=int, default=1000)
    args = parser.parse_args(argv)
    from rnnviz.allocator import reuse_freed_memory

    reuse_freed_memory()
    cells = args.cells.split(",")
    lengths = [int(t) for t in args.lengths.split(",")]
    print(f"adding problem (Arjovsky et al. 2016 form), H={args.hidden}, batch {args.batch}, "
          f"Adam {args.lr:g}, clip {args.clip:g}, at most {args.updates} updates, "
          f"{args.seeds} seeds; solved = test MSE < 0.01 ({args.test_size} test sequences, "
          f"evaluated every {args.eval_every} updates; baseline 0.167)", flush=True)
    results = []
    start = time.perf_counter()
    for length in lengths:
        for seed in range(args.seeds):
            for cell in cells:
                r = run_one(cell, length, seed, args)
                results.append(r)
                state = (f"solved at {r['solved_at']}" if r["solved_at"] is not None else
                         f"diverged at {r['diverged'].update}" if r["diverged"] else
                         "not solved")
                print(f"  T={length:<4} seed {seed} {cell:9} {state:18} best MSE "
                      f"{r['best']:.4f}  ({r['updates']} updates, {r['seconds']:.0f} s)",
                      file=sys.stderr, flush=True)
    print(f"\nseeds solved / seeds, @ median update solved at, median best test MSE "
          f"({time.perf_counter() - start:.0f} s in all)")
    print(table(results, cells, lengths))
    return 0
