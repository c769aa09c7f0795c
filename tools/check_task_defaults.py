"""Train tasks with their TrainingDefaults in PyTorch and print test loss and success against
the baseline and threshold: the check behind the defaults in rnnviz/tasks.

    python tools/check_task_defaults.py adding latch --length 100
    python tools/check_task_defaults.py copy_memory --cell gru --hidden 128 --updates 12000

Needs torch (``pip install torch==2.13.0``), which rnnviz itself never imports. float32, one
thread, PyTorch's default initialisation, Adam with clipping as the defaults say; batches,
test set and scoring come from rnnviz.tasks.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np
import torch

from rnnviz.tasks import TASKS, make_task

CELLS = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn_tanh": torch.nn.RNN}


def train(name: str, length: int | None, seed: int, **overrides: object) -> str:
    task = make_task(name, length)
    d = dataclasses.replace(task.training,
                            **{k: v for k, v in overrides.items() if v is not None})
    torch.manual_seed(seed)
    rnn = CELLS[d.cell](task.input_size, d.hidden_size, num_layers=d.num_layers,
                        batch_first=True)
    readout = torch.nn.Linear(d.hidden_size, task.output_size)
    params = [*rnn.parameters(), *readout.parameters()]
    opt = torch.optim.Adam(params, lr=d.learning_rate)
    rng = np.random.default_rng(seed)
    test = task.test_set()

    def outputs(batch):
        hidden, _ = rnn(torch.tensor(batch.inputs, dtype=torch.float32))
        return readout(hidden)

    def loss_of(out, batch):
        mask = torch.as_tensor(batch.mask)
        if task.loss == "mse":
            target = torch.tensor(batch.targets, dtype=torch.float32)
            return ((out - target)[mask] ** 2).mean()
        return torch.nn.functional.cross_entropy(out[mask], torch.tensor(batch.targets)[mask])

    start, first_solved, result = time.perf_counter(), None, None
    for update in range(1, d.updates + 1):
        batch = task.sample(rng, d.batch_size)
        loss = loss_of(outputs(batch), batch)
        opt.zero_grad()
        loss.backward()
        if d.clip_norm:
            torch.nn.utils.clip_grad_norm_(params, d.clip_norm)
        opt.step()
        if update % d.eval_every == 0 or update == d.updates:
            with torch.no_grad():
                out = np.concatenate([outputs(p).numpy() for p in test.split(250)])
            result = task.evaluate(out.astype(np.float64), test)
            if result.solved and first_solved is None:
                first_solved = update
    assert result is not None
    return (f"{name} T={task.length} {d.cell} H={d.hidden_size} lr={d.learning_rate:g} "
            f"updates={d.updates}: test loss {result.loss:.4g} (baseline {task.baseline:.4g}), "
            f"{task.success_name} {result.success:.3f} (solved at {task.success_threshold}); "
            f"first solved at update {first_solved} [{time.perf_counter() - start:.0f} s]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tasks", nargs="*", default=[n for n, s in TASKS.items()
                                                     if s.needs == "none"])
    parser.add_argument("--length", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cell", choices=sorted(CELLS))
    parser.add_argument("--hidden", type=int, dest="hidden_size")
    parser.add_argument("--lr", type=float, dest="learning_rate")
    parser.add_argument("--updates", type=int)
    args = parser.parse_args()
    torch.set_num_threads(1)
    for name in args.tasks:
        print(train(name, args.length, args.seed, cell=args.cell, hidden_size=args.hidden_size,
                    learning_rate=args.learning_rate, updates=args.updates), flush=True)


if __name__ == "__main__":
    main()
