"""The latency probes drive the real window: edits and cursor moves reach the screen, the
timings are sane and cursor moves never recompute."""

from __future__ import annotations

from rnnviz.gui.latency import measure_cursor, measure_latency


def test_measure_latency_times_real_edits(qapp):
    result = measure_latency(cell="gru", steps=60, hidden=8, edits=5)
    assert result["edits"] == 5 and result["cell"] == "gru"
    assert 0 < result["p50_ms"] <= result["p95_ms"] <= result["max_ms"]
    assert 0 < result["compute_p50_ms"] < result["max_ms"]
    assert result["ratio"] == result["p95_ms"] / result["compute_p50_ms"]


def test_measure_latency_of_a_comparison(qapp):
    result = measure_latency(cell="rnn_tanh", steps=60, hidden=4, edits=3, models=3)
    assert result["models"] == 3 and result["p50_ms"] > 0


def test_cursor_moves_are_timed_and_never_recompute(qapp):
    result = measure_cursor(cell="gru", steps=80, hidden=8, moves=5, play_seconds=0.3)
    assert result["recomputes"] == 0
    assert 0 < result["step_cpu_p50_ms"] <= result["step_cpu_p95_ms"]
    assert result["play_moves"] > 0 and result["play_steps"] > 0
