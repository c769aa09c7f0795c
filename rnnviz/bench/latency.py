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



def main(argv: list[str] | None = None) -> int:
    bench_latency()
    return 0
