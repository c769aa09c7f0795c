"""The job protocol: progress, snapshots, cancellation, the same job run synchronously."""

import threading

import pytest

from rnnviz.jobs import Cancelled, FunctionJob, Job, JobContext, run_job


def counting(n: int):
    def work(ctx: JobContext) -> int:
        total = 0
        for k in range(n):
            total += k
            ctx.progress((k + 1) / n, f"step {k + 1} of {n}")
            if k % 10 == 9:
                ctx.publish(total)
        return total
    return FunctionJob("count", work)


def test_a_job_reports_progress_and_snapshots_and_returns_its_result():
    seen, snaps = [], []
    result = run_job(counting(30), lambda f, m: seen.append((f, m)), snaps.append)
    assert result == sum(range(30))
    assert seen[-1] == (1.0, "step 30 of 30") and len(seen) == 30
    assert snaps == [sum(range(10)), sum(range(20)), sum(range(30))]
    assert isinstance(counting(1), Job)


def test_a_cancelled_job_stops_at_its_next_report():
    ctx = JobContext()
    calls = []

    def work(c: JobContext) -> None:
        for k in range(1000):
            calls.append(k)
            if k == 5:
                ctx.cancel()  # as another thread would
            c.progress(k / 1000)

    with pytest.raises(Cancelled):
        run_job(FunctionJob("w", work), context=ctx)
    assert calls[-1] == 5


def test_cancel_from_another_thread_stops_a_job_promptly():
    ctx = JobContext()
    started = threading.Event()
    outcome = []

    def work(c: JobContext) -> None:
        started.set()
        while True:
            c.check()

    def runner() -> None:
        try:
            run_job(FunctionJob("spin", work), context=ctx)
        except Cancelled:
            outcome.append("cancelled")

    thread = threading.Thread(target=runner)
    thread.start()
    assert started.wait(5)
    ctx.cancel()
    thread.join(5)
    assert outcome == ["cancelled"] and not thread.is_alive()


def test_part_maps_a_sub_task_onto_a_span_of_the_job():
    seen = []
    ctx = JobContext(lambda f, m: seen.append(f))
    second_half = ctx.part(0.5, 1.0)
    second_half(0.0)
    second_half(0.5)
    second_half(1.0)
    assert seen == [0.5, 0.75, 1.0]
