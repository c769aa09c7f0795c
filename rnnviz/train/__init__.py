"""The trainer: one or more networks trained together on a task, as a job. NumPy only; no Qt,
no sessions.

- :class:`TrainSettings` — optimiser, learning rate, batch size, clipping, budget, evaluation
  interval, seed (:mod:`~rnnviz.train.settings`);
- :class:`FitTask` and task definitions — fit one given sequence, or rebuild a saved run's task
  (:mod:`~rnnviz.train.tasks`);
- :class:`Trainer` and :class:`TrainModel` — lockstep updates, evaluation, divergence
  (:mod:`~rnnviz.train.trainer`);
- :class:`TrainingRecord` — one model's history, optimiser and random state, as a session file
  stores it (:mod:`~rnnviz.train.record`, :mod:`~rnnviz.train.history`);
- :class:`TrainJob` and :class:`TrainSnapshot` — the trainer as a job, with Pause
  (:mod:`~rnnviz.train.job`).
"""

from rnnviz.train.history import History, HistoryView
from rnnviz.train.job import DIVERGED, DONE, PAUSED, RUNNING, TrainJob, TrainSnapshot
from rnnviz.train.record import Divergence, TrainingRecord, record_from_state
from rnnviz.train.settings import OPTIMIZER_TITLES, OPTIMIZERS, TrainError, TrainSettings
from rnnviz.train.tasks import FIT, FitTask, task_definition, task_from_definition
from rnnviz.train.trainer import Trainer, TrainModel, check_fits, grad_norm

__all__ = [
    "DIVERGED", "DONE", "FIT", "OPTIMIZERS", "OPTIMIZER_TITLES", "PAUSED", "RUNNING",
    "Divergence", "FitTask", "History", "HistoryView", "TrainError", "TrainJob", "TrainModel",
    "TrainSettings", "TrainSnapshot", "Trainer", "TrainingRecord", "check_fits", "grad_norm",
    "record_from_state", "task_definition", "task_from_definition",
]
