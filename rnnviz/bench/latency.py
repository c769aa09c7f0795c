"""``python -m rnnviz.bench latency``: the window's own cost, in the real window offscreen.

Edits: each case times edit → pixels (total) beside the engine's compute time of the same
edits, and prints redraw (total − compute) and the ratio total p95 / compute p50, the target
being a ratio because the compute time is the reference measured in the same run. Cursor moves:
the GUI thread's CPU time per single step and per frame of playback, as a share of a 60 Hz frame,
and how many recomputations they caused (none is right).

Options: ``--edits N`` per case (default 50), ``--quick`` (the small cases only, fewer edits).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class EditCase:
    """One edit → pixels case: a network of ``cell`` × ``hidden`` over ``steps`` steps, or
    with ``compare`` one of each of those cells side by side in the comparison view;
    ``target``: the largest acceptable total p95 / compute p50 (for a comparison: its p95 over
    the one-network case's p95; None: shown for reference). ``every_panel``: every view open,
    not only the dashboard of the default layout."""

    steps: int
    hidden: int
    target: float | None
    cell: str = "lstm"
    compare: tuple[str, ...] | None = None
    every_panel: bool = False


EDIT_CASES: tuple[EditCase, ...] = (
    EditCase(200, 64, 2.0),
    EditCase(1000, 128, 1.3),
    # RNN vs LSTM vs GRU: its target is 2x the one-LSTM edit -> pixels p95
    EditCase(200, 64, 2.0, compare=("rnn_tanh", "lstm", "gru")),
    # every view open besides the dashboard (analysis, comparison, diagram, training)
    EditCase(200, 64, None, every_panel=True),
)
CURSOR_CASE = {"cell": "lstm", "steps": 1000, "hidden": 128}
CURSOR_TARGET = 0.25  # of a frame


def bench_edits(cases=EDIT_CASES, edits: int = 50, out=sys.stdout) -> list[dict]:
    from rnnviz.gui.latency import measure_latency

    print("edit -> pixels, real window offscreen, default layout unless said (ms)", file=out)
    print(f"{'case':<32} {'compute p50':>11} {'p95':>7} {'redraw p50':>11} {'p95':>7} "
          f"{'total p50':>10} {'p95':>7} {'p95/compute':>12} {'target':>7}", file=out)
    rows = []
    for case in cases:
        r = measure_latency(cell=case.cell, steps=case.steps, hidden=case.hidden, edits=edits,
                            compare=case.compare, every_panel=case.every_panel)
        name = (" vs ".join(case.compare) if case.compare else case.cell) + (
            f" T={case.steps} H={case.hidden}") + (", every view" if case.every_panel else "")
        ratio, note = r["ratio"], ""
        single = next((o for o in rows if o["models"] == 1 and o["steps"] == case.steps
                       and o["hidden"] == case.hidden and not o["every_panel"]), None)
        if case.compare and single is not None:
            ratio = r["p95_ms"] / single["p95_ms"]
            note = f"  (p95/one network's p95; p95/its own compute {r['ratio']:.2f})"
        if case.target is None:
            verdict = f"{'':>7} (for reference)"
        else:
            verdict = f"{case.target:7.2f} {'ok' if ratio <= case.target else 'MISSED'}"
        print(f"{name:<32} {r['compute_p50_ms']:11.2f} {r['compute_p95_ms']:7.2f} "
              f"{r['redraw_p50_ms']:11.2f} {r['redraw_p95_ms']:7.2f} {r['p50_ms']:10.2f} "
              f"{r['p95_ms']:7.2f} {ratio:12.2f} {verdict}{note}",
              file=out, flush=True)
        rows.append(r)
    return rows


def bench_cursor(out=sys.stdout, moves: int = 100) -> dict:
    from rnnviz.gui.latency import FRAME_MS, measure_cursor

    r = measure_cursor(**CURSOR_CASE, moves=moves)
    print(f"cursor moves, {r['cell']} T={r['steps']} H={r['hidden']}, every panel open "
          f"(GUI thread CPU per move; a frame is {FRAME_MS:.1f} ms)", file=out)
    for label, ms, share in (
        ("step (->) p50", r["step_cpu_p50_ms"], r["step_cpu_p50_ms"] / FRAME_MS),
        ("step (->) p95", r["step_cpu_p95_ms"], r["frame_share_p95"]),
        ("playing 60 steps/s, per frame", r["play_cpu_ms"], r["play_frame_share"]),
    ):
        ok = "ok" if share <= CURSOR_TARGET else "MISSED"
        print(f"  {label:<32} {ms:7.2f} ms  {share:6.1%} of a frame  "
              f"(target < {CURSOR_TARGET:.0%}) {ok}", file=out)
    print(f"  played {r['play_steps']} steps in {r['play_seconds']:.2f} s "
          f"({r['play_moves']} moves); recomputations: {r['recomputes']} (target 0)",
          file=out, flush=True)
    return r


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m rnnviz.bench latency")
    p.add_argument("--edits", type=int, default=50, help="edits per case (default 50)")
    p.add_argument("--quick", action="store_true", help="the small cases only, 10 edits")
    p.add_argument("--no-cursor", action="store_true", help="skip the cursor-move case")
    args = p.parse_args(argv or [])
    cases = EDIT_CASES[:1] if args.quick else EDIT_CASES
    bench_edits(cases, 10 if args.quick else args.edits)
    if not args.no_cursor:
        bench_cursor(moves=20 if args.quick else 100)
    return 0
