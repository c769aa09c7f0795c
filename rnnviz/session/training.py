"""Training a document's models: what they train on, the documents training makes, and what a
session file keeps of it. No Qt here.

- :func:`training_from_state` rebuilds a model's training record (``Model.training``, a
  :class:`~rnnviz.train.record.TrainingRecord`) from the JSON object and arrays a session file
  holds for it (see :mod:`rnnviz.io.session_schema`).
- :class:`TaskChoice` is what a user picks to train on: a task of :mod:`rnnviz.tasks` with its
  length and options, "fit" (the document's own input and target), or "next_step" (next-step
  prediction of the document's own input); :meth:`TaskChoice.build` makes the task.
- :func:`fit_problem` says why a document's sequence and models cannot show a task (None when
  they can); :func:`example_document` makes the sequence an example of it instead.
- :class:`TrainingRun` trains some of a document's models together as a job and hands out, with
  every snapshot, the new document (the trained weights, each with its record) and that
  document's results, computed in the job's thread: the window installs both with
  :meth:`~rnnviz.session.Session.install` and computes nothing itself. The sequence may change
  while the run goes on (:meth:`TrainingRun.set_base`): each snapshot is built on the newest.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnviz.engine import NetworkConfig
from rnnviz.session.compute import Results, compute
from rnnviz.session.document import Document, Model, SessionError, Task
from rnnviz.session.document import Sequence as DocSequence
from rnnviz.tasks import TASKS, Example, TaskError, get_task_spec, make_task
from rnnviz.tasks import Task as TrainTask
from rnnviz.train import (
    FIT,
    FitTask,
    Trainer,
    TrainError,
    TrainingRecord,
    TrainJob,
    TrainModel,
    TrainSettings,
    TrainSnapshot,
    check_fits,
    record_from_state,
    task_definition,
)
from rnnviz.train.trainer import continues

NEXT_STEP = "next_step"
_WHERE = {"all": "every step", "last": "the last step"}


def training_from_state(meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> Any:
    """The training record saved as ``meta`` and ``arrays`` (ValueError when it is not one)."""
    return record_from_state(meta, arrays)


# ---- sequences for tasks ---------------------------------------------------------------------


def sequence_from_example(example: Example) -> tuple[DocSequence, Task]:
    """A task's example as the document's sequence and task. For a cross-entropy task the
    classes' names are the sequence's vocabulary (so every model's readout has one output per
    class, whichever classes the example shows)."""
    if example.loss == "ce":
        targets = example.targets.astype(np.float64)[:, None]
        vocabulary = example.vocabulary or example.target_names
    else:
        targets = example.targets
        vocabulary = example.vocabulary
    seq = DocSequence(example.inputs, targets=targets, target_mask=example.mask,
                      labels=example.labels, channel_names=example.channel_names,
                      text=example.text, vocabulary=vocabulary)
    return seq, Task(example.loss, example.where)


def example_document(document: Document, task: TrainTask, seed: int = 0) -> Document:
    """``document`` with an example of ``task`` as its sequence (models resized as needed).
    For next-step prediction of the document's own input, its targets become the next inputs
    instead (see :func:`next_step_document`)."""
    if task.name == NEXT_STEP and getattr(task, "data", None) is not None and np.array_equal(
            task.data, document.sequence.inputs):
        return next_step_document(document)
    seq, doc_task = sequence_from_example(task.example(seed))
    return document.with_sequence_and_task(seq, doc_task)


def next_step_document(document: Document) -> Document:
    """``document`` with the next input as every step's target (the last step has none)."""
    seq = document.sequence
    x = seq.inputs
    targets = np.zeros_like(x)
    targets[:-1] = x[1:]
    mask = np.ones(seq.steps, bool)
    mask[-1] = False
    new = DocSequence(x, targets=targets, target_mask=mask, labels=seq.labels,
                      channel_names=seq.channel_names)
    return document.with_sequence_and_task(new, Task("mse", "all"))


# ---- what to train on ------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskChoice:
    """``name``: "fit", or a task of :data:`rnnviz.tasks.TASKS` ("next_step" predicts the
    document's own input); ``length`` (None: the task's default) and ``options`` (the task's
    option values by name; the rest take their defaults)."""

    name: str = FIT
    length: int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        if self.name == FIT:
            return FitTask.title
        try:
            return get_task_spec(self.name).title
        except TaskError:
            return self.name

    def build(self, document: Document) -> TrainTask:
        """The task on ``document`` (TrainError, one line, when it cannot be built)."""
        seq = document.sequence
        try:
            if self.name == FIT:
                if document.task.loss == "none" or seq.targets is None:
                    raise TrainError("the sequence has no targets to fit: give it a target, "
                                     "or choose next-step prediction or a task")
                config = document.models[0].config
                names = seq.vocabulary if document.task.loss == "ce" else None
                if document.task.loss == "ce" and config.output_size:
                    names = tuple(names or ())[:config.output_size]
                    if len(names) != config.output_size:
                        names = tuple(f"class {k}" for k in range(config.output_size))
                return FitTask(seq.inputs, seq.targets, seq.target_mask, document.task.loss,
                               document.task.where, seq.channel_names, names)
            if self.name == NEXT_STEP:
                return make_task(NEXT_STEP, self.length, data=seq.inputs,
                                 channel_names=seq.channel_names, **dict(self.options))
            return make_task(self.name, self.length, **dict(self.options))
        except TaskError as exc:
            raise TrainError(str(exc)) from None

    @classmethod
    def from_record(cls, record: TrainingRecord) -> TaskChoice:
        """The choice a record trained on (for "next_step": the same task on the document's
        input, which continues the run when the input is still the same)."""
        task = record.task
        if task.get("name") == FIT:
            return cls(FIT)
        options = {k: v for k, v in dict(task.get("options", {})).items()}
        return cls(str(task.get("name")), task.get("length"), options)


def continued_update(document: Document, indices: Sequence[int], task: TrainTask,
                     settings: TrainSettings) -> int:
    """The update a run of ``task`` with ``settings`` on the models ``indices`` starts from:
    their records' update when it continues them, else 0."""
    records = [document.model(i).training for i in indices]
    if not all(isinstance(r, TrainingRecord) for r in records):
        return 0
    return records[0].update if continues(records, task_definition(task), settings) else 0


def suggest_choice(document: Document) -> TaskChoice:
    """What to train the document on by default: what a model's record trained on; else the
    first generated task whose examples look like the document's sequence (the adding
    problem for the adding demo); else fitting the sequence (or, without targets, next-step
    prediction of it)."""
    for model in document.models:
        if isinstance(model.training, TrainingRecord):
            return TaskChoice.from_record(model.training)
    indices = range(len(document.models))
    for spec in TASKS.values():
        if spec.needs != "none":
            continue
        try:
            task = make_task(spec.name, max(document.sequence.steps, spec.min_length))
        except TaskError:
            continue
        if fit_problem(task, document, indices) is None:
            return TaskChoice(spec.name, task.length)
    if document.task.loss != "none" and document.sequence.targets is not None:
        return TaskChoice(FIT)
    return TaskChoice(NEXT_STEP)


def fit_problem(task: TrainTask, document: Document, indices: Sequence[int]) -> str | None:
    """Why the document cannot show ``task`` being learned by its models ``indices`` (its
    sequence is not an example of the task), or None when it can."""
    seq = document.sequence
    if isinstance(task, FitTask):
        problem = None
    elif seq.channels != task.input_size:
        problem = (f"the sequence has {seq.channels} channel(s); {task.title} reads "
                   f"{task.input_size}")
    elif document.task.loss != task.loss or seq.targets is None:
        problem = f"the sequence's targets are not {task.title}'s ({task.loss} loss)"
    elif document.task.where != task.where:
        problem = (f"the sequence's targets count at {_WHERE[document.task.where]}; "
                   f"{task.title}'s at {_WHERE[task.where]}")
    elif task.loss == "mse" and seq.targets.shape[1] != task.output_size:
        problem = (f"the sequence has {seq.targets.shape[1]} target(s); {task.title} has "
                   f"{task.output_size}")
    else:
        problem = None
    if problem is None:
        for i in indices:
            model = document.model(i)
            try:
                check_fits(task, model.config, model.name)
            except TrainError as exc:
                return str(exc)
    return problem


# ---- documents from training -----------------------------------------------------------------


def trained_config(config: NetworkConfig) -> NetworkConfig:
    """The configuration trained weights live under: no recurrent rescaling (the weights are
    what the network uses)."""
    return config if config.recurrent_scale is None else config.replace(recurrent_scale=None)


def training_models(document: Document, indices: Sequence[int]) -> list[TrainModel]:
    """The document's models ``indices`` as the trainer takes them: their networks' weights
    (rescaled as the network uses them) and their records."""
    out = []
    for i in indices:
        model = document.model(i)
        params = model.network().state_dict()
        out.append(TrainModel(model.name, trained_config(model.config), params,
                              model.training, "config" if model.weights is None else "weights"))
    return out


def with_trained(document: Document, indices: Sequence[int],
                 weights: Sequence[Mapping[str, np.ndarray]],
                 records: Sequence[TrainingRecord | None]) -> Document:
    """``document`` with models ``indices`` given ``weights`` and ``records``."""
    doc = document
    for i, w, r in zip(indices, weights, records, strict=True):
        model = doc.model(i)
        doc = doc.with_model(i, Model(model.name, trained_config(model.config), w, r))
    return doc


def snapshot_document(document: Document, indices: Sequence[int], update: int) -> Document:
    """``document`` with every model of ``indices`` at its weight snapshot of ``update`` (its
    record cut there; training on from it starts a fresh optimiser). SessionError if a model
    has no such snapshot."""
    weights, records = [], []
    for i in indices:
        model = document.model(i)
        record = model.training
        if not isinstance(record, TrainingRecord):
            raise SessionError(f"{model.name} has not been trained")
        try:
            weights.append(record.history.snapshot_at(update))
        except KeyError:
            raise SessionError(f"{model.name} has no snapshot at update {update}") from None
        records.append(record if update == record.update else record.at_snapshot(update))
    return with_trained(document, indices, weights, records)


def reset_document(document: Document, indices: Sequence[int]) -> Document:
    """``document`` with every trained model of ``indices`` back at its weights before
    training (its update-0 snapshot) and no training record."""
    doc = document
    for i in indices:
        model = doc.model(i)
        record = model.training
        if isinstance(record, TrainingRecord):
            try:
                weights = record.history.snapshot_at(0)
            except KeyError:
                continue
            doc = doc.with_model(i, Model(model.name, model.config, weights, None))
    return doc


@dataclass(frozen=True, eq=False)
class DocumentSnapshot:
    """What a training snapshot makes of the document: ``base`` (the document it was built
    on), ``document`` (base with the trained weights and records) and its ``results``
    (None when they could not be computed, with ``problem`` saying why)."""

    base: Document
    document: Document
    results: Results | None
    problem: str = ""


class TrainingRun:
    """Train the models ``indices`` of ``document`` together on ``task`` with ``settings``.

    :attr:`trainer` continues the models' records when they agree (see
    :class:`~rnnviz.train.Trainer`). :meth:`job` gives the job; each of its snapshots carries a
    :class:`DocumentSnapshot` as its ``extra``. ``token`` marks the records this run makes.
    """

    def __init__(self, document: Document, indices: Sequence[int], task: TrainTask,
                 settings: TrainSettings, token: object = None) -> None:
        self.indices = tuple(indices)
        problem = fit_problem(task, document, self.indices)
        if problem is not None:
            raise TrainError(problem)
        self.task = task
        self.settings = settings
        self.token = token if token is not None else object()
        self.models = training_models(document, self.indices)
        self.trainer: Trainer | None = None
        self.configs = tuple(trained_config(document.model(i).config) for i in self.indices)
        self._lock = threading.Lock()
        self._base = document
        self._previous: Results | None = None
        self.start_document = document

    def prepare(self) -> Trainer:
        """The trainer (built at the first call: it evaluates the models at update 0, so a
        job calls this in its own thread)."""
        if self.trainer is None:
            self.trainer = Trainer(self.task, self.models, self.settings, self.token)
        return self.trainer

    def set_base(self, document: Document) -> None:
        """Build the snapshots from now on on ``document`` (thread-safe)."""
        with self._lock:
            self._base = document

    @property
    def base(self) -> Document:
        with self._lock:
            return self._base

    def fits(self, document: Document) -> bool:
        """Whether ``document`` still holds the trained models (names and configurations)."""
        try:
            return all(trained_config(document.model(i).config) == cfg
                       for i, cfg in zip(self.indices, self.configs, strict=True))
        except SessionError:
            return False

    def document_for(self, snapshot: TrainSnapshot, base: Document | None = None) -> Document:
        return with_trained(base or self.base, self.indices, snapshot.weights, snapshot.records)

    def decorate(self, snapshot: TrainSnapshot) -> DocumentSnapshot:
        base = self.base
        if not self.fits(base):
            return DocumentSnapshot(base, base, None, "the trained models changed")
        doc = self.document_for(snapshot, base)
        try:
            results = compute(doc, previous=self._previous)
        except (SessionError, ValueError, MemoryError) as exc:
            return DocumentSnapshot(base, doc, None, " ".join(str(exc).split()))
        self._previous = results
        return DocumentSnapshot(base, doc, results)

    def job(self, target: int | None = None, steps: int | None = None,
            **options: Any) -> TrainJob:
        """The job that trains up to update ``target``, or ``steps`` more updates
        (``options``: those of :class:`~rnnviz.train.TrainJob`)."""
        return TrainJob(self.prepare, target, steps=steps, decorate=self.decorate, **options)
