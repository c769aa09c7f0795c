"""``python -m rnnviz.bench analysis``: the analysis engine against the network's own
forward+backward in the same run.

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
from rnnviz.engine import Network
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
    parser.add_argument("--system-allocator", action="store_true",
                        help="leave glibc's defaults (the app keeps freed memory for reuse)")
    args = parser.parse_args(argv)
    names = [c for c in args.cases.split(",") if c]
    unknown = [c for c in names if c not in CASES]
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
    return 0
