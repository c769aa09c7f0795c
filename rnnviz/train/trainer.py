"""The trainer: one or more networks trained in lockstep on one task.

Every update draws ONE batch from the task's seeded stream and gives it to every model (so a
race between an RNN, an LSTM and a GRU is fair, and each model ends with exactly the weights a
run of it alone on the same batches gives): forward, the task's loss, BPTT, the gradient norm
before clipping, optional clipping (``clip_grad_norm``), the optimiser's step. Every
``eval_every`` updates (and at update 0) each model is evaluated on the task's fixed test set
and offered as a weight snapshot (see :mod:`rnnviz.train.history`).

NaN/Inf stop training: a non-finite training loss or gradient norm (of any model) stops the run
before that update is applied to any model, with the random stream rewound to before its batch;
a step that makes a model's weights non-finite keeps that model's previous weights (its
optimiser state is then lost) and stops the run; a non-finite test loss stops it after the
update. Either way :attr:`Trainer.diverged` names the update and the quantity.

Reproducible: the same task, settings, starting weights and seed give the same weights, bit for
bit; and a run continued from :meth:`Trainer.record` (weights, optimiser state, random state,
history) equals an uninterrupted one, bit for bit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from rnnviz.engine import EngineError, Network, NetworkConfig
from rnnviz.engine.optim import clip_grad_norm
from rnnviz.engine.threads import single_blas_thread
from rnnviz.tasks import Task
from rnnviz.tasks.base import Batch
from rnnviz.train.history import History
from rnnviz.train.record import Divergence, TrainingRecord, record_for
from rnnviz.train.settings import TrainError, TrainSettings
from rnnviz.train.tasks import same_definition, task_definition

# Test sets are evaluated in chunks of about this many (sequence × step × unit) values.
EVAL_CHUNK_VALUES = 1 << 21


@dataclass(frozen=True, eq=False)
class TrainModel:
    """A model to train: its ``name``, ``config`` (input and output sizes must fit the task),
    starting weights ``params`` (a state dict; None: the configuration's initialisation), the
    ``record`` of its training so far or None, and what a new run's update 0 is, for its
    record: "config" or "weights" (None: "config" exactly when ``params`` is None)."""

    name: str
    config: NetworkConfig
    params: Mapping[str, np.ndarray] | None = None
    record: TrainingRecord | None = None
    start: str | None = None


def grad_norm(grads: Mapping[str, np.ndarray]) -> float:
    """The 2-norm of the per-array 2-norms, as ``clip_grad_norm`` reports it."""
    with np.errstate(all="ignore"), single_blas_thread():
        norms = np.array([np.linalg.norm(np.asarray(a).ravel()) for a in grads.values()])
        return float(np.linalg.norm(norms))


def _finite(params: Mapping[str, np.ndarray]) -> bool:
    return all(np.isfinite(a).all() for a in params.values())


def check_fits(task: Task, config: NetworkConfig, name: str = "the model") -> None:
    """TrainError unless a network of ``config`` can learn ``task``."""
    if config.input_size != task.input_size:
        raise TrainError(f"{name} reads {config.input_size} input channel(s); {task.title} "
                         f"has {task.input_size}")
    if config.output_size != task.output_size:
        raise TrainError(f"{name} has {config.output_size or 'no'} output(s); {task.title} "
                         f"needs {task.output_size}")
    if task.loss == "ce" and config.readout not in ("softmax", "identity"):
        raise TrainError(f"{name}: a cross-entropy task needs a softmax readout")
    if task.loss == "mse" and config.readout == "softmax":
        raise TrainError(f"{name}: a regression task needs a readout without softmax")


def continues(records: Sequence[TrainingRecord | None],
              definition: tuple[Mapping, Mapping[str, np.ndarray]],
              settings: TrainSettings) -> bool:
    """Whether a run of the task ``definition`` with ``settings`` continues these records (one
    per model): every model has one, for that task, with the same optimiser and seed, not
    lost to divergence, and all at the same update with the same random state."""
    if not records or any(r is None for r in records):
        return False
    first = records[0]
    for r in records:
        if r.optimizer is None and r.update > 0:
            return False
        if not same_definition(r.definition, definition):
            return False
        if not r.settings.continues(settings):
            return False
        if r.update != first.update or dict(r.rng_state) != dict(first.rng_state):
            return False
    return True


class _Member:
    """One model's mutable state inside a run."""

    def __init__(self, spec: TrainModel, net: Network, settings: TrainSettings,
                 history: History, start: str, optimizer_state: Mapping | None,
                 seconds: float) -> None:
        self.name = spec.name
        self.config = spec.config
        self.net = net
        self.params = net.state_dict()
        self.opt = settings.make_optimizer(self.params)
        if optimizer_state is not None:
            state = dict(optimizer_state)
            # The optimiser's buffers carry over; its hyperparameters are this run's (a changed
            # learning rate takes effect as torch's param_groups["lr"] does).
            state["hyperparameters"] = self.opt.hyperparameters()
            try:
                self.opt.load_state_dict(state)
            except EngineError as exc:
                raise TrainError(f"{spec.name}: cannot continue the optimiser: {exc}") from None
        self.history = history
        self.start = start
        self.seconds = seconds
        self.optimizer_lost = optimizer_state is None and history.updates > 0


class Trainer:
    """Trains ``models`` together on ``task`` with ``settings``.

    A run continues the models' records when every model has one that agrees with this run
    (the same task definition, optimiser and seed, and the same update count and random state:
    the models were trained together before, or there is one): then the history goes on, the
    batch stream and the optimiser state carry on, and :attr:`continued` is True. Otherwise it
    starts a new run from the models' current weights: update 0, the stream seeded with
    ``settings.seed``, fresh optimisers. ``token``: an object stamped on the records this
    trainer makes (so a caller can tell its own records).
    """

    def __init__(self, task: Task, models: Sequence[TrainModel], settings: TrainSettings,
                 token: object = None) -> None:
        if not models:
            raise TrainError("nothing to train: no models")
        names = [m.name for m in models]
        if len(set(names)) != len(names):
            raise TrainError("the models to train need different names")
        for m in models:
            check_fits(task, m.config, m.name)
        self.task = task
        self.settings = settings
        self.token = token
        self._definition = task_definition(task)
        records = [m.record for m in models]
        self.continued = self._continues(records)
        self.reason = "" if self.continued else self._new_run_reason(records)
        if self.continued:
            first = records[0]
            self.update = first.update
            rng_state = first.rng_state
        else:
            self.update = 0
            rng_state = np.random.default_rng(settings.seed).bit_generator.state
        self.first_update = self.update
        self._rng = np.random.Generator(np.random.PCG64())
        self._rng.bit_generator.state = dict(rng_state)
        self.diverged: Divergence | None = None
        self._members: list[_Member] = []
        for spec in models:
            net = Network.from_config(spec.config)
            start = "config"
            if spec.params is not None:
                try:
                    net.load_state_dict(spec.params)
                except EngineError as exc:
                    raise TrainError(f"{spec.name}: {exc}") from None
                start = "weights"
            start = spec.start or start
            if self.continued:
                rec = spec.record
                history = History(settings.eval_every, settings.max_snapshots, rec.history)
                member = _Member(spec, net, settings, history, rec.start, rec.optimizer,
                                 rec.seconds)
            else:
                history = History(settings.eval_every, settings.max_snapshots)
                member = _Member(spec, net, settings, history, start, None, 0.0)
            self._members.append(member)
        self._version = 0
        self._cache: dict[int, tuple[int, TrainingRecord]] = {}
        if not self.continued:
            self._evaluate_all(0)

    # ---- deciding whether a run continues ----------------------------------------------------
    def _continues(self, records: list[TrainingRecord | None]) -> bool:
        return continues(records, self._definition, self.settings)

    def _new_run_reason(self, records: list[TrainingRecord | None]) -> str:
        present = [r for r in records if r is not None]
        if not present:
            return ""
        if any(not same_definition(r.definition, self._definition) for r in present):
            return "the task changed"
        if any(r.settings.optimizer != self.settings.optimizer for r in present):
            return "the optimiser changed"
        if any(r.settings.seed != self.settings.seed for r in present):
            return "the seed changed"
        if len(present) < len(records):
            return "not every model has been trained"
        if any(r.optimizer is None for r in present):
            return "the optimiser state was not kept"
        return "the models were not trained together"

    # ---- state ---------------------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self._members)

    @property
    def models(self) -> int:
        return len(self._members)

    def weights(self, index: int) -> Mapping[str, np.ndarray]:
        """Model ``index``'s current weights (read-only arrays)."""
        return dict(self._members[index].params)

    def network(self, index: int) -> Network:
        return self._members[index].net

    def seconds(self, index: int) -> float:
        """Model ``index``'s own compute time over its updates so far."""
        return self._members[index].seconds

    def record(self, index: int) -> TrainingRecord:
        """Model ``index``'s training record as of now (a value; training on does not change
        it)."""
        hit = self._cache.get(index)
        if hit is not None and hit[0] == self._version:
            return hit[1]
        m = self._members[index]
        optimizer = None if m.optimizer_lost else m.opt.state_dict()
        rec = record_for(self.task, self.settings, m.history.updates,
                         self._rng.bit_generator.state, optimizer, m.history.view(), m.start,
                         self.diverged, m.seconds, self.token, self._definition)
        self._cache[index] = (self._version, rec)
        return rec

    # ---- training ------------------------------------------------------------------------------
    def step(self) -> bool:
        """One update of every model; False (and :attr:`diverged` set) when training cannot go
        on, or went on no further."""
        if self.diverged is not None:
            return False
        self._version += 1
        u = self.update + 1
        before = self._rng.bit_generator.state
        batch = self.task.sample(self._rng, self.settings.batch_size)
        steps = []
        for m in self._members:
            t0 = time.perf_counter()
            loss, _, grads = m.net.loss_and_grads(batch.inputs, batch.targets, self.task.loss,
                                                  self.task.where, mask=batch.mask)
            params = grads.params
            if self.settings.clip_norm is not None:
                params, norm = clip_grad_norm(params, self.settings.clip_norm)
            else:
                norm = grad_norm(params)
            steps.append((loss, norm, params, time.perf_counter() - t0))
            bad = ("training loss" if not math.isfinite(loss) else
                   "gradient norm" if not math.isfinite(norm) else None)
            if bad is not None:
                self._rng.bit_generator.state = before
                self.diverged = Divergence(u, bad, m.name)
                return False
        for m, (loss, norm, grads, seconds) in zip(self._members, steps, strict=True):
            t0 = time.perf_counter()
            new = m.opt.step(grads)
            if not _finite(new):
                self.diverged = Divergence(u, "weights", m.name)
                m.optimizer_lost = True
                continue
            m.net.set_params(new)
            m.params = new
            m.history.record_update(loss, norm)
            m.seconds += seconds + time.perf_counter() - t0
        self.update = u
        if self.diverged is not None:
            return False
        if u % self.settings.eval_every == 0:
            self._evaluate_all(u)
        return self.diverged is None

    def _evaluate_all(self, update: int) -> None:
        for m in self._members:
            if m.history.updates != update:  # a model that kept its weights: not this update
                continue
            loss, success = self.evaluate(m.net)
            if not (math.isfinite(loss) and math.isfinite(success)):
                self.diverged = Divergence(update, "test loss", m.name)
                continue
            m.history.record_eval(update, loss, success)
            m.history.offer_snapshot(update, m.params)

    def evaluate(self, net: Network, batch: Batch | None = None) -> tuple[float, float]:
        """(loss, success) of ``net`` on the task's test set (or ``batch``)."""
        batch = batch or self.task.test_set()
        cfg = net.config
        per_sequence = max(1, batch.steps * cfg.hidden_size * cfg.num_layers * cfg.gate_count)
        chunk = max(1, min(batch.size, EVAL_CHUNK_VALUES // per_sequence))
        outputs = []
        with np.errstate(all="ignore"):
            for part in batch.split(chunk):
                trace = net.forward(part.inputs)
                outputs.append(trace.logits if self.task.loss == "ce" else trace.output)
            out = np.concatenate(outputs, axis=0) if len(outputs) > 1 else outputs[0]
            if not np.isfinite(out).all():
                return math.nan, math.nan
            ev = self.task.evaluate(out, batch)
        return ev.loss, ev.success

    def run(self, updates: int) -> int:
        """Train until ``updates`` updates are done (or divergence); returns the update count."""
        while self.update < updates and self.step():
            pass
        return self.update

