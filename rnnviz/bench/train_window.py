"""``python -m rnnviz.bench train_window``: training in the window against the trainer alone.

The same run (the adding problem at T=100 on the adding demo's LSTM 32: Adam 0.01, clipping at
1, batch 32, evaluation every 50 updates on 1000 test sequences) first as the bare training job
(:class:`rnnviz.train.TrainJob`, no window), then through the window's Train command, with the
dashboard showing the network a few times a second. A QTimer heartbeat every 5 ms measures the
event loop: the longest gap between beats is the longest the window stalled. Prints updates/s
in the window against alone, and the longest and 99th-percentile gaps while the run trains
(from its first update on), and apart from them the longest gap at the press of Train (the
window lays out the training docks while the run sets up).

With ``RNNVIZ_BENCH_TRACE=1`` every gap over 40 ms is printed with the update it came at and
where the GUI thread was during it (its stack, sampled every 10 ms while the beat is late).

Runs offscreen unless QT_QPA_PLATFORM says otherwise. Others share the machine's cores: repeat
when figures look noisy (the load average is printed).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import traceback


def _load() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "?"


def alone(updates: int, task_name: str, length: int) -> float:
    """Updates per second of the bare training job."""
    from rnnviz.jobs import run_job
    from rnnviz.session.demos import load_demo
    from rnnviz.session.training import TaskChoice, TrainingRun
    from rnnviz.train import TrainJob, TrainSettings

    doc = load_demo("adding")
    task = TaskChoice(task_name, length).build(doc)
    run = TrainingRun(doc, [0], task, TrainSettings.from_defaults(task.training,
                                                                  updates=updates))
    trainer = run.prepare()  # (its update-0 evaluation is not timed, in the window neither)
    start = time.perf_counter()
    run_job(TrainJob(trainer, updates))
    return updates / (time.perf_counter() - start)


def in_window(updates: int, task_name: str, length: int, size: tuple[int, int]):
    """(updates per second, event-loop gaps in seconds) of the same run in the window."""
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["rnnviz-bench"])
    from rnnviz.gui.main_window import MainWindow
    from rnnviz.gui.theme import LIGHT
    from rnnviz.session import Session
    from rnnviz.session.demos import load_demo
    from rnnviz.session.training import TaskChoice

    with tempfile.TemporaryDirectory() as folder:
        settings = QSettings(os.path.join(folder, "s.ini"), QSettings.Format.IniFormat)
        window = MainWindow(Session(load_demo("adding")), settings=settings, theme=LIGHT,
                            restore_layout=False)
        window.resize(*size)
        window.show()
        app.processEvents()
        training = window.training
        training.form.set_choice(TaskChoice(task_name, length))
        training._apply_task_defaults()  # noqa: SLF001 (as picking the task in the form does)
        training.form.updates_spin.setValue(updates)
        gaps: list[float] = []  # once the run has made its first update
        pressed: list[float] = []  # before: the window shows the training docks, the run sets up
        last = [time.perf_counter()]
        started: list[float] = []
        trace = bool(os.environ.get("RNNVIZ_BENCH_TRACE"))
        samples: list[str] = []

        def beat() -> None:
            now = time.perf_counter()
            if started and training.running:
                snap = training.last_snapshot
                (gaps if snap is not None and snap.update > 0 else pressed).append(now - last[0])
                if trace and now - last[0] > 0.04:
                    snap = training.last_snapshot
                    print(f"  gap {1e3 * (now - last[0]):.0f} ms at {now - started[0]:.2f} s, "
                          f"update {snap.update if snap else None}")
                    for where in dict.fromkeys(samples):
                        print(f"    {where}")
            samples.clear()
            last[0] = now

        gui = threading.get_ident()

        def sample() -> None:  # where the GUI thread is while the beat is late
            while not done.is_set():
                time.sleep(0.01)
                frame = sys._current_frames().get(gui)  # noqa: SLF001 (a sampling profiler)
                if frame is not None and time.perf_counter() - last[0] > 0.02:
                    stack = traceback.extract_stack(frame)[-4:]
                    samples.append(" < ".join(f"{os.path.basename(f.filename)}:{f.name}:"
                                              f"{f.lineno}" for f in reversed(stack)))

        done = threading.Event()
        if trace:
            threading.Thread(target=sample, daemon=True).start()

        def go() -> None:
            started.append(time.perf_counter())
            training.start()

        def check() -> None:
            if started and not training.running:
                app.exit(0)

        heart = QTimer()
        heart.timeout.connect(beat)
        heart.start(5)
        watch = QTimer()
        watch.timeout.connect(check)
        watch.start(20)
        QTimer.singleShot(300, go)
        app.exec()
        done.set()
        snap = training.last_snapshot
        rate = snap.updates_per_second if snap is not None else 0.0
        window.session.mark_saved()
        window.close()
        window.deleteLater()
        app.processEvents()
    return rate, gaps, pressed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnviz.bench train_window",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=400)
    parser.add_argument("--task", default="adding")
    parser.add_argument("--length", type=int, default=100)
    parser.add_argument("--size", default="1280x800", help="window size WxH")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from rnnviz.allocator import reuse_freed_memory

    reuse_freed_memory()
    size = tuple(int(v) for v in args.size.lower().split("x"))
    print(f"{args.task} T={args.length}, LSTM 32, {args.updates} updates; load {_load()}")
    solo = alone(args.updates, args.task, args.length)
    rate, gaps, pressed = in_window(args.updates, args.task, args.length, size)
    gaps_ms = sorted(g * 1e3 for g in gaps)
    p99 = gaps_ms[int(0.99 * (len(gaps_ms) - 1))] if gaps_ms else float("nan")
    print(f"trainer alone      {solo:7.1f} updates/s")
    print(f"in the window      {rate:7.1f} updates/s  ({rate / solo:.2f} of alone)")
    print(f"event loop gaps    longest {gaps_ms[-1] if gaps_ms else float('nan'):.0f} ms, "
          f"99th percentile {p99:.0f} ms, {len(gaps_ms)} beats of 5 ms, while it trains; "
          f"load {_load()}")
    print(f"at the press       longest {max(pressed, default=float('nan')) * 1e3:.0f} ms "
          "(before the first update: the training docks are laid out and painted, the run "
          "sets up)")
    return 0
