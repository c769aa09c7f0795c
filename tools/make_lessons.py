"""Write the sessions the bundled lessons open to ``resources/lessons/``.

Each lesson (``resources/lessons/NN-name.toml``, written by hand: the lesson format is
documented in :mod:`rnnviz.io.lesson_file`) opens a session made here. Trained models are
trained here with the engine (Adam, gradient clipping, batches from the task's seeded sampler),
so re-running the script reproduces every file byte for byte: ``python tools/make_lessons.py``.
It prints each trained model's test loss and success beside the task's baseline.

- 01-recurrence: a vanilla tanh RNN with 6 units and a readout over a sine with a step;
- 02-forgetting and 03-gradients: a tanh RNN with 32 orthogonal units on the adding problem
  (T = 100, loss at the last step), recurrent scale 0.9 and 1.0;
- 04-lstm, 05-gru and 06-train: a vanilla RNN, an LSTM and a GRU, 16 units each, trained alike
  on the adding problem (T = 50, 3000 updates): the LSTM and the GRU solve it, the RNN stays
  near the baseline. 04 holds the LSTM, 05 the GRU and the LSTM, 06 the RNN and the LSTM.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from rnnviz.engine import Network, NetworkConfig
from rnnviz.engine.optim import Adam, clip_grad_norm
from rnnviz.io.session_file import SESSION_SUFFIX, save_session
from rnnviz.session import Document, Model, Sequence, Task, ViewState
from rnnviz.session.demos import document_for, sequence_from_generated
from rnnviz.tasks import make_task
from rnnviz.tasks.generators import generate

LESSONS_DIR = Path(__file__).resolve().parent.parent / "resources" / "lessons"


def task_sequence(task, seed: int) -> tuple[Sequence, Task]:
    """One example of ``task`` as a document's sequence and task."""
    ex = task.example(seed)
    seq = Sequence(ex.inputs, targets=ex.targets, target_mask=ex.mask,
                   channel_names=ex.channel_names)
    return seq, Task(ex.loss, ex.where)


def train(task, config: NetworkConfig, updates: int, learning_rate: float, batch: int = 32,
          clip: float = 1.0, seed: int = 0) -> dict[str, np.ndarray]:
    """Train a network of ``config`` on ``task``; returns its state dict and prints how it
    does on the task's test set."""
    net = Network.from_config(config)
    opt = Adam(net.state_dict(), lr=learning_rate)
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    for _ in range(updates):
        b = task.sample(rng, batch)
        _, _, grads = net.loss_and_grads(b.inputs, b.targets, task.loss, task.where,
                                         mask=b.mask)
        clipped, _ = clip_grad_norm(grads.params, clip)
        net.set_params(opt.step(clipped))
    test = task.test_set()
    result = task.evaluate(net.forward(test.inputs).output, test)
    print(f"  {config.cell} {config.hidden_size} on {task.name} T={task.steps}: "
          f"{updates} updates in {time.perf_counter() - start:.1f} s, test loss "
          f"{result.loss:.4f} (baseline {task.baseline:.4f}), success {result.success:.3f}"
          f"{' (solved)' if result.solved else ''}")
    return {k: np.array(v) for k, v in net.state_dict().items()}


def model_for(task, cell: str, hidden: int, name: str, weights=None,
              forget_bias: float | None = None, seed: int = 0) -> Model:
    cfg = NetworkConfig(cell=cell, input_size=task.input_size, hidden_size=hidden,
                        output_size=task.output_size, seed=seed, forget_bias=forget_bias)
    return Model(name, cfg, weights)


def recurrence() -> tuple[Document, ViewState]:
    seq = sequence_from_generated(generate("sine_plus_step", 60, seed=0, period=20, at=30))
    cfg = NetworkConfig(cell="rnn_tanh", hidden_size=6, seed=3)
    return document_for(seq, cfg, Task("mse", "all"), "RNN 6"), ViewState(units=(0, 1, 2))


def adding_rnn(scale: float) -> tuple[Document, ViewState]:
    task = make_task("adding", 100)
    seq, t = task_sequence(task, 0)
    cfg = NetworkConfig(cell="rnn_tanh", hidden_size=32, init="orthogonal",
                        recurrent_scale=scale, seed=0)
    return document_for(seq, cfg, t, "RNN 32"), ViewState()


def adding_models(updates: int) -> tuple[dict[str, Model], Sequence, Task]:
    """A vanilla RNN, an LSTM and a GRU, 16 units each, trained alike on the adding problem."""
    task = make_task("adding", 50)
    seq, t = task_sequence(task, 0)
    models = {}
    for cell, name in (("rnn_tanh", "RNN 16 (trained)"), ("lstm", "LSTM 16 (trained)"),
                       ("gru", "GRU 16 (trained)")):
        m = model_for(task, cell, 16, name, forget_bias=1.0 if cell == "lstm" else None)
        models[cell] = m.with_weights(train(task, m.config, updates, 1e-2))
    return models, seq, t


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=LESSONS_DIR, help="output directory")
    parser.add_argument("--updates", type=int, default=3000,
                        help="training updates of each trained model")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    sessions: dict[str, tuple[Document, ViewState]] = {}
    sessions["01-recurrence"] = recurrence()
    sessions["02-forgetting"] = adding_rnn(0.9)
    sessions["03-gradients"] = adding_rnn(1.0)
    print("training on the adding problem")
    models, seq, t = adding_models(args.updates)
    sessions["04-lstm"] = Document(seq, t, (models["lstm"],)), ViewState()
    sessions["05-gru"] = Document(seq, t, (models["gru"], models["lstm"])), ViewState()
    sessions["06-train"] = Document(seq, t, (models["rnn_tanh"], models["lstm"])), ViewState()
    for name, (doc, view) in sessions.items():
        path = args.out / f"{name}{SESSION_SUFFIX}"
        save_session(path, doc, view)
        print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
