"""``rnnviz train ...``: train networks on a task without a display and save the session.

    rnnviz train --task adding --length 100 --cell lstm --hidden 32 --updates 2000 --seed 0 \\
        --out run.rnnviz --weights-out weights.npz
    rnnviz train --session run.rnnviz --updates 4000        # continue a saved run exactly

A new run's document is an example of the task (drawn with ``--seed``) read by one model per
``--cell`` (several cells train together, on the same batches); the seed also initialises the
networks and seeds the batches. Settings not given come from the task's suggestions
(:attr:`rnnviz.tasks.Task.training`), or, with ``--session``, from the run saved there, so that
training on continues exactly. Progress and the loss go to stderr; Ctrl+C stops after the
update under way and saves what is done. The session (with every model's training record) is
written to ``--out`` (default with ``--session``: the same file), and with ``--weights-out`` the
weights under PyTorch's names (``.npz`` or ``.safetensors``; one file per model when there are
several). Exit status: 0 when done, 1 when training diverged or was interrupted (the last
finite weights are saved either way), 2 for bad arguments (one line on stderr).
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
import time
from pathlib import Path

from rnnviz.cli.common import CELLS, Parser, UsageError, csv_list

TASK_HELP = ("a task (adding, adding_hs, temporal_order, copy_memory, latch, flip_flop, "
             "char_lm; options as name:key=value,...), or with --session also fit or next_step")


def parser() -> argparse.ArgumentParser:
    p = Parser(prog="rnnviz train", description="Train networks on a task without a display.")
    p.add_argument("--task", help=TASK_HELP)
    p.add_argument("--length", type=int, help="the task's length T")
    p.add_argument("--session", help="continue the run saved in this .rnnviz file")
    p.add_argument("--cell", type=csv_list(tuple(CELLS), "cell"),
                   help="cell type(s), comma-separated to train several together "
                        f"({', '.join(sorted(CELLS))})")
    p.add_argument("--hidden", type=int, help="hidden units per layer")
    p.add_argument("--layers", type=int, help="stacked layers")
    p.add_argument("--optimizer", choices=("adam", "sgd", "rmsprop"))
    p.add_argument("--lr", type=float, help="learning rate")
    p.add_argument("--momentum", type=float, help="SGD momentum")
    p.add_argument("--batch", type=int, help="sequences per update")
    p.add_argument("--clip", help="gradient clipping: a max norm, or 'off'")
    p.add_argument("--updates", type=int, help="the update count to train to")
    p.add_argument("--eval-every", type=int, help="updates between test-set evaluations")
    p.add_argument("--snapshots", type=int, help="most weight snapshots kept per model")
    p.add_argument("--seed", type=int, help="seed of the networks and the batches (default 0)")
    p.add_argument("--out", help="the session file to write (.rnnviz)")
    p.add_argument("--weights-out", help="also write the weights (.npz or .safetensors)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return p


def _settings(args: argparse.Namespace, base):
    """The run's settings: ``base`` (a TrainSettings) with what the arguments give."""
    changes = {k: v for k, v in (("optimizer", args.optimizer), ("learning_rate", args.lr),
                                 ("momentum", args.momentum), ("batch_size", args.batch),
                                 ("updates", args.updates), ("eval_every", args.eval_every),
                                 ("max_snapshots", args.snapshots), ("seed", args.seed))
               if v is not None}
    if args.clip is not None:
        if args.clip.strip().lower() in ("off", "none", "0"):
            changes["clip_norm"] = None
        else:
            try:
                changes["clip_norm"] = float(args.clip)
            except ValueError:
                raise UsageError(f"--clip must be a max norm or 'off', got {args.clip!r}") \
                    from None
    return base.replace(**changes)


def _new_document(args: argparse.Namespace, task, seed: int):
    from rnnviz.engine import NetworkConfig
    from rnnviz.session import Document, Model
    from rnnviz.session.document import default_name
    from rnnviz.session.training import sequence_from_example

    defaults = task.training
    cells = [CELLS[c] for c in (args.cell or [defaults.cell])]
    seq, doc_task = sequence_from_example(task.example(seed))
    models, names = [], []
    for cell in cells:
        config = NetworkConfig(cell=cell, input_size=task.input_size,
                               hidden_size=args.hidden or defaults.hidden_size,
                               num_layers=args.layers or defaults.num_layers,
                               output_size=task.output_size, readout=task.readout, seed=seed)
        name = default_name(config, names)
        names.append(name)
        models.append(Model(name, config))
    return Document(seq, doc_task, tuple(models))


def _plan(args: argparse.Namespace):
    """(document, view, indices, task, settings, out path) from the arguments."""
    from rnnviz.engine import EngineError
    from rnnviz.io.errors import FileFormatError
    from rnnviz.io.session_file import load_session
    from rnnviz.session import SessionError, ViewState
    from rnnviz.session.training import (
        FIT,
        NEXT_STEP,
        TaskChoice,
        example_document,
        fit_problem,
    )
    from rnnviz.tasks import TaskError, parse_task_spec
    from rnnviz.train import TrainError, TrainingRecord, TrainSettings

    try:
        if args.session:
            if args.cell or args.hidden or args.layers:
                raise UsageError("--cell/--hidden/--layers cannot be combined with --session "
                                 "(its models are trained as they are)")
            doc, view = load_session(args.session)
            record = next((m.training for m in doc.models
                           if isinstance(m.training, TrainingRecord)), None)
            if args.task:
                choice = _choice(args, parse_task_spec, TaskChoice, FIT, NEXT_STEP)
            elif record is not None:
                choice = TaskChoice.from_record(record)
                if args.length is not None:
                    choice = TaskChoice(choice.name, args.length, choice.options)
            else:
                raise UsageError("--session: the session has no training to continue; give "
                                 "--task")
            task = choice.build(doc)
            base = record.settings if record is not None and args.task is None \
                else TrainSettings.from_defaults(task.training)
            settings = _settings(args, base)
            indices = list(range(len(doc.models)))
            if fit_problem(task, doc, indices) is not None:
                doc = example_document(doc, task, seed=settings.seed)
            out = args.out or args.session
        else:
            if not args.task:
                raise UsageError("give --task (or --session to continue a saved run)")
            if not args.out:
                raise UsageError("give --out, the session file to write")
            if args.task.strip() in (FIT, NEXT_STEP):
                raise UsageError(f"--task {args.task.strip()} trains on a session's own "
                                 "sequence: give --session")
            name, options = parse_task_spec(args.task)
            from rnnviz.tasks import make_task

            task = make_task(name, args.length, **options)
            settings = _settings(args, TrainSettings.from_defaults(task.training))
            doc = _new_document(args, task, settings.seed)
            view = ViewState()
            indices = list(range(len(doc.models)))
            out = args.out
    except (TaskError, TrainError, SessionError, EngineError, FileFormatError) as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"{args.session}: {exc.strerror or exc}") from None
    if not str(out).endswith(".rnnviz"):
        raise UsageError(f"--out must be a .rnnviz file, got {out!r}")
    if args.weights_out and Path(args.weights_out).suffix.lower() not in (".npz",
                                                                          ".safetensors"):
        raise UsageError("--weights-out must end in .npz or .safetensors")
    return doc, view, indices, task, settings, Path(out)


def _choice(args, parse_task_spec, TaskChoice, fit, next_step):  # noqa: N803
    text = args.task.strip()
    if text in (fit, next_step):
        return TaskChoice(text, args.length)
    name, options = parse_task_spec(text)
    return TaskChoice(name, args.length, options)


class _Progress:
    """A progress bar with the loss on stderr (a line every few seconds when not a terminal)."""

    WIDTH = 28

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def show(self, snap, force: bool = False) -> None:
        now = time.perf_counter()
        if self.quiet or (not force and now - self.last < (0.2 if self.tty else 5.0)):
            return
        self.last = now
        span = max(snap.target, 1)
        done = min(snap.update / span, 1.0)
        bar = "#" * round(done * self.WIDTH)
        losses = " ".join(f"{n} {v:.4g}" for n, v in zip(snap.names, snap.losses(), strict=True)
                          if v is not None)
        rate = f" · {snap.updates_per_second:.0f} updates/s" if snap.updates_per_second else ""
        left = snap.seconds_left
        eta = f" · {math.ceil(left)} s left" if left is not None else ""
        line = (f"[{bar:<{self.WIDTH}}] {snap.update}/{snap.target} loss {losses or '–'}"
                f"{rate}{eta}")
        end = "\r" if self.tty and not force else "\n"
        sys.stderr.write(line + ("\033[K" if self.tty else "") + end)
        sys.stderr.flush()


def run(args: argparse.Namespace) -> int:
    from rnnviz.allocator import reuse_freed_memory

    reuse_freed_memory()
    doc, view, indices, task, settings, out = _plan(args)
    from rnnviz.io.errors import FileFormatError
    from rnnviz.io.session_file import save_session
    from rnnviz.io.weights import save_weights
    from rnnviz.jobs import run_job
    from rnnviz.session.training import TrainingRun, continued_update
    from rnnviz.train import DIVERGED, DONE, TrainError, TrainJob

    start = continued_update(doc, indices, task, settings)
    if start >= settings.updates:
        raise UsageError(f"the run is at update {start} already; give --updates above it")
    try:
        run_ = TrainingRun(doc, indices, task, settings)
    except TrainError as exc:
        raise UsageError(str(exc)) from None
    progress = _Progress(args.quiet)
    job = TrainJob(run_.prepare, settings.updates, publish_every=0.2)
    previous = signal.signal(signal.SIGINT, lambda *_: job.stop())
    try:
        final = run_job(job, on_snapshot=progress.show)
    finally:
        signal.signal(signal.SIGINT, previous)
    progress.show(final, force=True)
    trained = run_.document_for(final, doc)
    try:
        save_session(out, trained, view)
        written = [out]
        if args.weights_out:
            target = Path(args.weights_out)
            for k, i in enumerate(indices):
                model = trained.models[i]
                path = target
                if len(indices) > 1:
                    safe = "".join(c if c.isalnum() else "_" for c in model.name).strip("_")
                    path = target.with_name(f"{target.stem}_{safe or k}{target.suffix}")
                save_weights(path, model.weights, model.config.cell)
                written.append(path)
    except (FileFormatError, OSError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    for path in written:
        print(path)
    if final.status == DIVERGED and final.diverged is not None:
        print(f"rnnviz train: {final.diverged.message()}", file=sys.stderr)
        return 1
    if final.status != DONE:
        print(f"rnnviz train: interrupted at update {final.update}; saved (train on with "
              f"--session {out})", file=sys.stderr)
        return 1
    return 0
