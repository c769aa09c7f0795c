"""The job runner: jobs off the GUI thread, with progress, snapshots, cancel and errors."""

import threading
import time

import numpy as np
import pytest

from rnnviz.gui.runner import JobRunner
from rnnviz.jobs import FunctionJob


@pytest.fixture
def runner(qtbot):
    r = JobRunner()
    yield r
    r.cancel()
    r.wait()


def test_a_job_runs_off_the_gui_thread_and_reports_on_it(runner, qtbot):
    main = threading.get_ident()
    seen: dict = {"progress": [], "snapshots": []}

    def work(ctx):
        seen["thread"] = threading.get_ident()
        for k in range(5):
            ctx.progress((k + 1) / 5, f"part {k + 1}")
            ctx.publish(k)
            time.sleep(0.04)
        return "result"

    runner.progressed.connect(lambda slot, f, m: seen["progress"].append((slot, f, m)))
    done = []
    runner.start("analysis", FunctionJob("work", work), done=done.append,
                 snapshot=lambda v: seen["snapshots"].append((v, threading.get_ident())))
    assert runner.running("analysis")
    qtbot.waitUntil(lambda: done == ["result"], timeout=5000)
    assert seen["thread"] != main
    assert seen["progress"][-1] == ("analysis", 1.0, "part 5")
    values = [v for v, _ in seen["snapshots"]]
    assert values and values == sorted(values) and values[-1] == 4
    assert {t for _, t in seen["snapshots"]} == {main}
    assert not runner.running("analysis")


def test_a_second_job_in_a_slot_cancels_the_first_which_delivers_nothing(runner, qtbot):
    gate = threading.Event()
    stopped = threading.Event()

    def slow(ctx):
        while not gate.is_set():
            try:
                ctx.check()
            except Exception:
                stopped.set()
                raise
            time.sleep(0.005)
        return "slow"

    results = []
    runner.start("compute", FunctionJob("slow", slow), done=results.append)
    runner.start("compute", FunctionJob("fast", lambda ctx: "fast"), done=results.append)
    assert stopped.wait(5)
    qtbot.waitUntil(lambda: results == ["fast"], timeout=5000)
    gate.set()
    assert runner.wait(timeout_ms=5000)
    qtbot.wait(50)
    assert results == ["fast"]


def test_jobs_in_different_slots_run_side_by_side(runner, qtbot):
    both = threading.Barrier(2, timeout=5)
    done = []
    for slot in ("train", "analysis"):
        runner.start(slot, FunctionJob(slot, lambda ctx, s=slot: (both.wait(), s)[1]),
                     done=done.append)
    qtbot.waitUntil(lambda: sorted(done) == ["analysis", "train"], timeout=5000)


def test_an_expected_error_is_one_line_and_anything_else_reaches_the_gui_thread(runner,
                                                                                  qtbot):
    failed = []

    def bad_input(ctx):
        raise ValueError("the file\nis broken")

    runner.start("open", FunctionJob("open", bad_input), failed=failed.append)
    qtbot.waitUntil(lambda: failed == ["the file is broken"], timeout=5000)

    def bug(ctx):
        raise KeyError("a bug")

    with qtbot.captureExceptions() as raised:
        runner.start("open", FunctionJob("bug", bug))
        qtbot.waitUntil(lambda: bool(raised), timeout=5000)
    assert isinstance(raised[0][1], KeyError)


def test_the_engine_stops_promptly_when_its_job_is_cancelled(runner, qtbot):
    from rnnviz.engine import Network

    net = Network(cell="lstm", input_size=4, hidden_size=256, seed=0)
    x = np.random.default_rng(0).standard_normal((200_000, 4))
    started = threading.Event()
    reports = []

    def work(ctx):
        started.set()
        return net.forward(x, progress=lambda f: (reports.append(f), ctx.progress(f)))

    done = []
    runner.start("compute", FunctionJob("big", work), done=done.append)
    assert started.wait(5)
    qtbot.waitUntil(lambda: len(reports) >= 1, timeout=5000)
    runner.cancel("compute")
    assert runner.wait(timeout_ms=10000)
    # stopped at the next chunk: one more report at most, far from the end of the run
    assert done == [] and reports[-1] < 0.5
