"""``python -m rnnviz.bench latency``: real edits driven through the real window offscreen, timed
from the edit to the redrawn plots."""

from __future__ import annotations

import sys


def bench_latency(out=sys.stdout) -> None:
    from rnnviz.gui.latency import measure_latency

    print("edit -> redrawn plots, LSTM, real window offscreen (ms)", file=out)
    for steps, hidden, target in ((200, 64, 16.0), (1000, 128, 33.0)):
        res = measure_latency(cell="lstm", steps=steps, hidden=hidden)
        print(f"T={steps:5d} H={hidden:4d}  p50 {res['p50_ms']:6.2f}  p95 {res['p95_ms']:6.2f}  "
              f"(target p95 <= {target:g})", file=out, flush=True)
    bench_comparison(out=out)


def bench_comparison(out=sys.stdout, steps: int = 200, hidden: int = 64,
                     repeats: int = 2) -> None:
    """One LSTM against RNN vs LSTM vs GRU with the comparison view open, alternated
    ``repeats`` times (the machine is shared: the figures of each pair were measured side
    by side); target: three models' p50 within 2x of one model's."""
    from rnnviz.gui.latency import measure_latency

    print(f"\ncomparison: edit -> redrawn plots, T={steps} H={hidden} (ms; compute = the "
          "engine alone)", file=out)
    for _ in range(repeats):
        one = measure_latency(cell="lstm", steps=steps, hidden=hidden)
        three = measure_latency(cell="lstm", steps=steps, hidden=hidden,
                                compare=("rnn_tanh", "lstm", "gru"))
        for label, res in (("one LSTM         ", one), ("RNN vs LSTM vs GRU", three)):
            print(f"{label}  p50 {res['p50_ms']:6.2f}  p95 {res['p95_ms']:6.2f}  "
                  f"compute p50 {res['compute_p50_ms']:6.2f}", file=out)
        ratio = three["p50_ms"] / one["p50_ms"]
        print(f"three / one: p50 {ratio:.2f}x, p95 {three['p95_ms'] / one['p95_ms']:.2f}x  "
              "(target p50 <= 2x)", file=out, flush=True)



def main(argv: list[str] | None = None) -> int:
    if argv and argv[0] == "compare":  # python -m rnnviz.bench latency compare
        bench_comparison()
    else:
        bench_latency()
    return 0
