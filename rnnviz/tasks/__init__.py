"""Inputs for networks to read: signal generators, text encodings and the training tasks (their
definitions, baselines, success measures and seeded batch samplers). NumPy only; no Qt, no
sessions.

The training tasks' public API is re-exported here: :data:`TASKS`, :func:`make_task`,
:class:`Task`, :class:`Batch`, :class:`Example`, :class:`TrainingDefaults`, :class:`TaskError`
(see :mod:`rnnviz.tasks.base` for the conventions every task follows).
"""

from rnnviz.tasks.base import (
    Batch,
    Evaluation,
    Example,
    OptionSpec,
    Task,
    TaskError,
    TrainingDefaults,
)
from rnnviz.tasks.registry import TASKS, TaskSpec, get_task_spec, make_task, parse_task_spec

__all__ = [
    "TASKS", "Batch", "Evaluation", "Example", "OptionSpec", "Task", "TaskError", "TaskSpec",
    "TrainingDefaults", "get_task_spec", "make_task", "parse_task_spec",
]
