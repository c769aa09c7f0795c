"""Write the bundled sample sessions to ``resources/samples/``.

- one ``<demo>.rnnviz`` per demo in :data:`rnnviz.session.demos.DEMOS`, each holding
  ``load_demo(name)`` with the default view (untrained networks);
- ``adding_lstm_vs_rnn.rnnviz``: the adding problem at T=100 (Arjovsky et al. 2016 form), an
  LSTM and a vanilla tanh RNN of 32 units trained together by rnnviz's trainer on the same
  batches (Adam 0.01, clipping at 1, batch 32, 1200 updates, seed 1): the LSTM solves it (test
  MSE < 0.01), the RNN stays at the baseline of 0.167 — long memory to look at without waiting
  for training;
- ``flip_flop.rnnviz``: the 3-bit flip-flop (Sussillo & Barak 2013) learned by an LSTM of 16
  units (1000 updates, seed 0), for the state-space view: its dynamics at zero input have 8
  stable fixed points, one per memory state (checked here with
  :func:`rnnviz.engine.dynamics.fixed_points` from trajectory starts).

The trained samples keep few weight snapshots (``SNAPSHOTS``) so that they stay small, and
their records' compute times are set to zero, so that re-running this script reproduces every
file byte for byte (training is deterministic, and so is saving). Each trained sample is shown
on an example of its task.

Run with ``python tools/make_samples.py`` after changing a demo, the trainer or the session
format; it checks that each trained sample still shows what it is there to show.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from rnnviz.engine.analysis import state_trajectory
from rnnviz.engine.dynamics import fixed_points
from rnnviz.io.session_file import SESSION_SUFFIX, save_session
from rnnviz.jobs import run_job
from rnnviz.session import Document, Model, ViewState
from rnnviz.session.demos import DEMOS, load_demo
from rnnviz.session.training import TaskChoice, TrainingRun, example_document
from rnnviz.train import TrainSettings

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "resources" / "samples"
SNAPSHOTS = 4


def _train(doc: Document, choice: TaskChoice, updates: int, seed: int) -> Document:
    """``doc`` (shown on an example of the task) with every model trained together."""
    task = choice.build(doc)
    doc = example_document(doc, task, seed=seed)
    settings = TrainSettings.from_defaults(task.training, updates=updates, seed=seed,
                                           max_snapshots=SNAPSHOTS)
    run = TrainingRun(doc, list(range(len(doc.models))), task, settings)
    final = run_job(run.job(updates))
    records = [replace(r, seconds=0.0) for r in final.records]
    trained = run.document_for(replace(final, records=tuple(records)), doc)
    for name, record in zip(final.names, records, strict=True):
        h = record.history
        print(f"  {name}: test loss {h.test_loss[-1]:.4g} (baseline {task.baseline:.4g}), "
              f"success {h.success[-1]:.3f} after {record.update} updates")
    return trained


def adding_lstm_vs_rnn() -> Document:
    base = load_demo("adding")
    config = base.models[0].config.replace(hidden_size=32, init="default", recurrent_scale=None,
                                           seed=1)
    doc = base.with_models((Model("LSTM 32", config.replace(cell="lstm")),
                            Model("RNN 32", config.replace(cell="rnn_tanh"))))
    trained = _train(doc, TaskChoice("adding", 100), updates=1200, seed=1)
    lstm, rnn = (m.training.history.test_loss[-1] for m in trained.models)
    if not (lstm < 0.01 < 0.1 < rnn):
        sys.exit(f"adding sample: expected the LSTM solved (< 0.01) and the RNN at the "
                 f"baseline, got {lstm:.4g} and {rnn:.4g}")
    return trained


def flip_flop() -> Document:
    base = load_demo("sine")
    config = base.models[0].config.replace(cell="lstm", hidden_size=16, seed=0)
    doc = base.with_models((Model("LSTM 16", config),))
    trained = _train(doc, TaskChoice("flip_flop", 100), updates=1000, seed=0)
    record = trained.models[0].training
    task = record.make_task()
    net = trained.models[0].network()
    test = task.test_set()
    states = np.concatenate([state_trajectory(net, net.forward(test.inputs[k]))
                             for k in range(40)])
    points = fixed_points(net, np.zeros(task.input_size), states, count=512, noise=0.01,
                          seed=0)
    stable = points.count("stable")
    print(f"  fixed points at zero input: {stable} stable, {points.count('saddle')} saddle, "
          f"{points.count('unstable')} unstable (from 512 trajectory starts)")
    if record.history.success[-1] < task.success_threshold or stable != 8:
        sys.exit(f"flip-flop sample: expected it solved with 8 stable fixed points, got "
                 f"success {record.history.success[-1]:.3f} and {stable}")
    return trained


TRAINED = {"adding_lstm_vs_rnn": adding_lstm_vs_rnn, "flip_flop": flip_flop}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SAMPLES_DIR, help="output directory")
    parser.add_argument("--only", help="comma-separated sample names to write")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    wanted = set(args.only.split(",")) if args.only else None
    for name in DEMOS:
        if wanted is None or name in wanted:
            path = args.out / f"{name}{SESSION_SUFFIX}"
            save_session(path, load_demo(name), ViewState())
            print(f"wrote {path} ({path.stat().st_size} bytes)")
    for name, make in TRAINED.items():
        if wanted is None or name in wanted:
            print(f"training {name}…")
            path = args.out / f"{name}{SESSION_SUFFIX}"
            save_session(path, make(), ViewState())
            print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
