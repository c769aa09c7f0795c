"""``python -m rnnviz.bench analysis``: the analysis engine against the network's own
forward+backward in the same run, then what each analysis view adds to an input edit in the
real window (``--views``), beside the engine's compute time of the same run.

For each case: the time of one forward+backward of the same network on the same sequence
(batch 1, parameter gradients included, as in ``bench engine``), the time of ``influence``
(and of the other analysis functions), their ratio, the multiply-adds each needs and the rate
achieved. Runs of the reference and of the function alternate, and the best of each is kept,
so both see the same load on a shared machine; BLAS runs on one thread throughout. By
default glibc is tuned as the app tunes it (freed memory kept for reuse), so neither pays
page faults the app would not.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import numpy as np
from threadpoolctl import threadpool_limits

from rnnviz.allocator import reuse_freed_memory
from rnnviz.engine import Network, NetworkConfig
from rnnviz.engine import analysis as an
from rnnviz.engine import dynamics as dyn

CASES = {
    # name: (cell, T, H, I, readout size or None, one-hot text input)
    "lstm-200": ("lstm", 200, 64, 2, 2, False),
    "gru-200": ("gru", 200, 64, 2, 2, False),
    "rnn-200": ("rnn_tanh", 200, 64, 2, 2, False),
    "lstm-1000": ("lstm", 1000, 128, 2, 2, False),
    "text-200": ("lstm", 200, 64, 65, 65, True),
    "text-400": ("lstm", 400, 32, 80, 80, True),
}


def interleaved(fns: list[Callable[[], object]], budget: float = 1.5,
                max_runs: int = 15) -> list[tuple[float, float]]:
    """(wall, cpu) seconds of the fastest of several alternating runs of each function, after
    a warm-up. CPU time (of this process; BLAS runs single-threaded) leaves out the time other
    processes on a shared machine take the core away."""
    for fn in fns:
        fn()
    best = [(float("inf"), float("inf"))] * len(fns)
    start = time.perf_counter()
    runs = 0
    while runs < max_runs and (runs < 3 or time.perf_counter() - start < budget):
        for i, fn in enumerate(fns):
            w0, c0 = time.perf_counter(), time.process_time()
            fn()
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            best[i] = (min(best[i][0], wall), min(best[i][1], cpu))
        runs += 1
    return best


def fwd_bwd_multiply_adds(cfg, steps: int) -> float:
    """Multiply-adds of one forward+backward with parameter gradients: forward G·H·(In + H)
    per layer and step; backward the same for ∂h, ∂x and twice for ∂W."""
    gh = cfg.gate_count * cfg.hidden_size
    total = 0.0
    for k in range(cfg.num_layers):
        n_in = cfg.input_size if k == 0 else cfg.hidden_size
        total += 3 * steps * gh * (n_in + cfg.hidden_size)
    return total


def _sequence(cell_inputs: int, steps: int, text: bool) -> np.ndarray:
    rng = np.random.default_rng(0)
    if text:
        return np.eye(cell_inputs)[rng.integers(0, cell_inputs, steps)]
    return rng.standard_normal((steps, cell_inputs))


def bench_case(name: str, out=sys.stdout, extras: bool = True, budget: float = 1.5) -> dict:
    cell, steps, hidden, inputs, outputs, text = CASES[name]
    net = Network(cell=cell, input_size=inputs, hidden_size=hidden, output_size=outputs,
                  readout="softmax" if text else "identity", seed=0)
    x = _sequence(inputs, steps, text)
    g = np.random.default_rng(1).standard_normal((steps, hidden))
    trace = net.forward(x)

    def fwd_bwd() -> object:
        return net.backward(net.forward(x), d_hidden=g).params

    rows = []
    jobs: list[tuple[str, Callable[[], object], float | None]] = []
    for of in ("hidden", "output"):
        plan = an.influence_plan(net, steps, of)
        modes = ["forward", "reverse"] if text else [plan.mode]
        for mode in modes:
            macs = plan.forward if mode == "forward" else plan.reverse
            label = f"influence {of} ({mode}{', auto' if mode == plan.mode else ''})"
            jobs.append((label, lambda of=of, mode=mode: an.influence(net, trace, of,
                                                                     mode=mode), macs))
    if extras:
        jobs.append(("jacobian_norms t=T-1", lambda: an.jacobian_norms(net, trace, steps - 1),
                     None))
        jobs.append(("state_jacobians", lambda: an.state_jacobians(net, trace), None))
        states = an.state_trajectory(net, trace)
        x_star = np.zeros(inputs) if text else x.mean(axis=0)
        jobs.append(("fixed_points 64 starts",
                     lambda: dyn.fixed_points(net, x_star, states, count=64, seed=0), None))
    ref_macs = fwd_bwd_multiply_adds(net.config, steps)
    print(f"\n{name}: {cell} T={steps} H={hidden} I={inputs}"
          f"{' one-hot' if text else ''}, readout {outputs}; float64, BLAS 1 thread", file=out)
    print(f"  {'':34} {'wall ms':>9} {'cpu ms':>9} {'x f+b cpu':>9} {'x f+b wall':>10} "
          f"{'Mmul-add':>9} {'GMAC/s':>7}", file=out)
    for label, fn, macs in jobs:
        long = macs is not None and macs >= 2e9
        (ref_w, ref_c), (took_w, took_c) = interleaved(
            [fwd_bwd, fn], budget=budget / 4 if long else budget,
            max_runs=3 if long else max(15, int(budget * 10)))
        rate = f"{macs / took_c / 1e9:7.1f}" if macs else "      -"
        mm = f"{macs / 1e6:9.0f}" if macs else "        -"
        print(f"  {label:34} {took_w * 1e3:9.2f} {took_c * 1e3:9.2f} {took_c / ref_c:9.2f} "
              f"{took_w / ref_w:10.2f} {mm} {rate}", file=out)
        print(f"  {'  fwd+bwd, same run':34} {ref_w * 1e3:9.2f} {ref_c * 1e3:9.2f} {1.0:9.2f} "
              f"{1.0:10.2f} {ref_macs / 1e6:9.1f} {ref_macs / ref_c / 1e9:7.1f}", file=out,
              flush=True)
        rows.append(dict(case=name, what=label, wall=took_w, cpu=took_c, fwd_bwd_wall=ref_w,
                         fwd_bwd_cpu=ref_c, multiply_adds=macs))
    return {"rows": rows}


# ==== the views, per edit ======================================================================
VIEW_CASES = ("lstm-200", "gru-200", "rnn-200")


def _median_times(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """(wall, GUI-thread CPU) seconds, the medians of ``runs`` calls after a warm-up."""
    fn()
    walls, cpus = [], []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.thread_time()
        fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.thread_time() - c0)
    return float(np.median(walls)), float(np.median(cpus))


def bench_views(name: str, out=sys.stdout, edits: int = 12) -> dict:
    """What each analysis view adds to one input edit in the real window (offscreen): the
    window's redraw after an edit (engine compute, every open panel, painting) with the view
    open minus with every analysis view closed, split into the value's own computation
    (session side) and the drawing. Views whose values are too dear for the GUI thread get
    them from jobs; for those the job's time is given instead (not on the GUI thread)."""
    import os
    import tempfile
    from pathlib import Path

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from rnnviz.gui.analysis import ANALYSIS_PANELS
    from rnnviz.gui.app import create_app
    from rnnviz.gui.main_window import MainWindow
    from rnnviz.gui.theme import LIGHT
    from rnnviz.session import Document, Sequence, Session, Task, compute
    from rnnviz.session import analysis as sa

    cell, steps, hidden, inputs, outputs, text = CASES[name]
    app = create_app()
    x = _sequence(inputs, steps, text)
    cfg = NetworkConfig(cell=cell, input_size=inputs, hidden_size=hidden, output_size=outputs,
                        seed=0)
    doc = Document.single(Sequence(inputs=x), cfg, Task("none", "all"))
    session = Session(doc)
    net = doc.models[0].network()
    g = np.random.default_rng(1).standard_normal((steps, hidden))
    ref_w, ref_c = _median_times(lambda: net.backward(net.forward(x), d_hidden=g).params,
                                 edits)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "bench.ini"), QSettings.Format.IniFormat)
        window = MainWindow(session, settings=settings, theme=LIGHT, restore_layout=False)
        window.resize(1600, 1000)
        window.show()
        window.reset_layout()
        app.processEvents()
        session.set_view(step=steps // 2)
        counter = [0]

        def edit() -> None:
            counter[0] += 1
            seq = session.document.sequence
            values = np.array(seq.inputs)
            values[steps // 2 + counter[0] % 3, 0] += 0.05 if counter[0] % 2 else -0.05
            session.set_document(session.document.with_sequence(seq.with_inputs(values)))
            window.redraw_now()
            QApplication.processEvents()  # paint

        def settled_edit() -> None:
            window.runner.wait()  # jobs of the previous edit end outside the clock
            QApplication.processEvents()

        def timed_edit() -> tuple[float, float]:
            settled_edit()
            w0, c0 = time.perf_counter(), time.thread_time()
            edit()
            return time.perf_counter() - w0, time.thread_time() - c0

        def paired(key: str) -> tuple[float, float, float, float]:
            """Edits with every analysis view shut and with ``key`` open, alternating so
            both see the same load: medians (base wall, base cpu, with wall, with cpu)."""
            dock = window.docks[key]
            base, with_view = [], []
            for k in range(edits + 1):
                for shown, into in ((False, base), (True, with_view)):
                    if shown:
                        window.analysis.show_panel(key)
                    else:
                        dock.hide()
                    window.redraw_now()
                    settled_edit()
                    timed_edit()  # the first edit after a change of layout is not timed
                    took = timed_edit()
                    if k:
                        into.append(took)
            b, v = np.array(base), np.array(with_view)
            dock.hide()
            return (float(np.median(b[:, 0])), float(np.median(b[:, 1])),
                    float(np.median(v[:, 0])), float(np.median(v[:, 1])))

        try:
            engine_w, engine_c = _median_times(
                lambda: compute(session.document.with_sequence(Sequence(
                    inputs=session.document.sequence.inputs + 0.0)),
                    previous=session.last_results), edits)
            print(f"\n{name}: views per input edit, real window offscreen 1600x1000 "
                  f"(medians of {edits} edits, each view's alternating with edits with every "
                  "analysis view shut; GUI-thread CPU and wall ms)", file=out)
            print(f"  {'':44} {'cpu ms':>8} {'wall ms':>8}", file=out)
            print(f"  {'fwd+bwd (the reference)':44} {ref_c * 1e3:8.2f} {ref_w * 1e3:8.2f}",
                  file=out)
            print(f"  {'compute() after an edit (resumes mid-way)':44} {engine_c * 1e3:8.2f} "
                  f"{engine_w * 1e3:8.2f}", file=out)
            for key in ANALYSIS_PANELS:
                panel = window.panels[key]
                base_w, base_c, with_w, with_c = paired(key)
                window.analysis.show_panel(key)
                window.redraw_now()
                QApplication.processEvents()
                results = session.results.model(0)
                reqs = [r for r in panel.requests(results, session.view, panel.step).values()
                        if r is not None]
                live = [r for r in reqs if window.analysis.cache.live(r, window.analysis.budget)]
                jobs = [r for r in reqs if r not in live]
                value_w, value_c = _median_times(lambda rs=live: [sa.evaluate(r) for r in rs],
                                                 edits) if live else (0.0, 0.0)
                job_w = _median_times(lambda rs=jobs: [sa.evaluate(r) for r in rs],
                                      max(3, edits // 4))[0] if jobs else 0.0
                view_c, view_w = with_c - base_c, with_w - base_w
                print(f"  {key + ': edit -> redrawn window, views shut':44} "
                      f"{base_c * 1e3:8.2f} {base_w * 1e3:8.2f}", file=out)
                print(f"  {'  with the view open':44} {with_c * 1e3:8.2f} {with_w * 1e3:8.2f}",
                      file=out)
                print(f"  {'  the view adds':44} {view_c * 1e3:8.2f} {view_w * 1e3:8.2f}   "
                      f"({view_c / ref_c:.1f}x fwd+bwd cpu)", file=out)
                if live:
                    kinds = ", ".join(r.kind for r in live)
                    print(f"  {'    of which its values (' + kinds + ')':44} "
                          f"{value_c * 1e3:8.2f} {value_w * 1e3:8.2f}", file=out)
                if jobs:
                    kinds = ", ".join(r.kind for r in jobs)
                    print(f"  {'    its job, off the GUI thread (' + kinds + ')':44} "
                          f"{'':8} {job_w * 1e3:8.2f}", file=out)
                out.flush()
                rows.append(dict(case=name, view=key, cpu=view_c, wall=view_w,
                                 values_cpu=value_c, job_wall=job_w, fwd_bwd_cpu=ref_c,
                                 base_cpu=base_c, engine_cpu=engine_c,
                                 live=[r.kind for r in live], jobs=[r.kind for r in jobs]))
                window.docks[key].hide()
                window.runner.wait()
                QApplication.processEvents()
        finally:
            window.runner.cancel()
            window.runner.wait()
            window.close()
            window.deleteLater()
            app.processEvents()
    return {"rows": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnviz.bench analysis",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default=",".join(CASES),
                        help=f"comma-separated, from: {', '.join(CASES)}")
    parser.add_argument("--influence-only", action="store_true",
                        help="skip Jacobian norms, state Jacobians and fixed points")
    parser.add_argument("--budget", type=float, default=1.5,
                        help="seconds of alternating runs per figure (more: steadier on a "
                             "busy machine)")
    parser.add_argument("--views", default=",".join(VIEW_CASES),
                        help="cases whose analysis views are timed per edit in the window "
                             f"(comma-separated, default {','.join(VIEW_CASES)}; '' for none)")
    parser.add_argument("--edits", type=int, default=12,
                        help="edits per view figure (the median is shown)")
    parser.add_argument("--system-allocator", action="store_true",
                        help="leave glibc's defaults (the app keeps freed memory for reuse)")
    args = parser.parse_args(argv)
    names = [c for c in args.cases.split(",") if c]
    views = [c for c in args.views.split(",") if c]
    unknown = [c for c in names + views if c not in CASES]
    if unknown:
        print(f"unknown case {unknown[0]!r}; choose from {', '.join(CASES)}", file=sys.stderr)
        return 2
    if not args.system_allocator:
        kept = reuse_freed_memory()
        print("allocator: " + ("freed memory kept for reuse, as in the app" if kept
                               else "system defaults (tuning not available here)"))
    # One BLAS thread throughout: otherwise the reference's parameter-gradient matmuls leave
    # OpenBLAS workers spinning, which steals the second core and inflates CPU times.
    with threadpool_limits(limits=1, user_api="blas"):
        for name in names:
            bench_case(name, extras=not args.influence_only, budget=args.budget)
        for name in views:
            bench_views(name, edits=max(3, args.edits))
    return 0
