"""Shared helpers for the task tests: one instance of every registered task."""

from __future__ import annotations

import numpy as np
import pytest

from rnnviz.tasks import TASKS, make_task


def build(name: str, **options):
    """Task ``name`` at its default length (next_step on a noisy sine of 2000 steps)."""
    if TASKS[name].needs == "data":
        t = np.arange(2000)
        data = np.stack([np.sin(t / 7.0), np.cos(t / 11.0)], axis=1)
        data += 0.05 * np.random.default_rng(5).standard_normal(data.shape)
        return make_task(name, data=data, **options)
    return make_task(name, **options)


@pytest.fixture
def build_task():
    """The :func:`build` function, for tests that rebuild a task."""
    return build


@pytest.fixture(params=list(TASKS))
def task(request):
    return build(request.param, test_size=64)
