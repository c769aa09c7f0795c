"""Computing a document's results with the engine: pure, thread-safe. No Qt here.

:func:`compute` runs every model of a document over its sequence (forward, loss, BPTT) and
returns :class:`Results`, one :class:`ModelResults` per model. It reuses what an earlier
computation already has: a model whose network, sequence and task are unchanged keeps its
results as they are, and a changed input resumes the forward pass from the first changed step.
Numbers that several views show are derived here, once, not in the views.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from rnnviz import limits
from rnnviz.engine import Grads, LossResult, NetworkConfig, Trace
from rnnviz.session.document import Document, Model, Sequence, SessionError, Task

Progress = Callable[[float], None]


@dataclass(frozen=True, eq=False)
class ModelResults:
    """What the engine computed for one model reading the document's sequence: everything a
    panel draws.

    trace: the forward pass; grads: BPTT of the task's loss (or of Σ h_T without a loss);
    loss: the loss with its per-step values, or None; nonfinite_step: the first step where
    anything (forward or backward) is NaN/Inf, or None; seconds: how long it took.
    """

    sequence: Sequence
    task: Task
    model: Model
    trace: Trace
    grads: Grads
    loss: LossResult | None
    nonfinite_step: int | None
    seconds: float

    @property
    def config(self) -> NetworkConfig:
        return self.model.config

    @property
    def steps(self) -> int:
        return self.sequence.steps

    @property
    def masked_targets(self) -> np.ndarray | None:
        """The targets (T, O) with NaN at steps without a target, or None."""
        return self.sequence.masked_targets

    @cached_property
    def target_output(self) -> np.ndarray | None:
        """For class targets: y_t[target class], the probability the network gives the right
        answer, (T,) with NaN at steps without a target; None for other tasks."""
        output, targets = self.trace.output, self.masked_targets
        if output is None or targets is None or self.task.loss != "ce":
            return None
        classes = targets[:, 0]
        out = np.full(output.shape[0], np.nan)
        keep = np.isfinite(classes)
        idx = classes[keep].astype(int)
        ok = (idx >= 0) & (idx < output.shape[1])
        rows = np.flatnonzero(keep)[ok]
        out[rows] = output[rows, idx[ok]]
        out.flags.writeable = False
        return out


@dataclass(frozen=True, eq=False)
class Results:
    """What the engine computed for ``document``: ``models[i]`` for ``document.models[i]``;
    seconds: how long the whole computation took."""

    document: Document
    models: tuple[ModelResults, ...]
    seconds: float

    def model(self, index: int) -> ModelResults:
        """The results of model ``index``, clamped to the models there are."""
        return self.models[min(max(int(index), 0), len(self.models) - 1)]

    @property
    def nonfinite_step(self) -> int | None:
        """The first NaN/Inf step of any model, or None."""
        bad = [m.nonfinite_step for m in self.models if m.nonfinite_step is not None]
        return min(bad) if bad else None


def model_memory(sequence: Sequence, config: NetworkConfig) -> int:
    """Bytes one model's computation holds at its peak, roughly: the forward buffers and the
    backward pass's coefficients and gradients, per step, layer and unit, and the weights with
    their working copies."""
    cfg = config
    per_unit = 5 * cfg.gate_count + 4  # buffers of G·H or H values, forward and backward
    itemsize = 4 if cfg.dtype == "float32" else 8
    states = sequence.steps * cfg.num_layers * cfg.hidden_size * per_unit
    hidden = cfg.hidden_size
    params = cfg.gate_count * hidden * ((cfg.input_size + hidden)
                                        + (cfg.num_layers - 1) * 2 * hidden)
    return (states + 3 * params) * itemsize  # weights, their scaled and transposed copies


def memory_needed(document: Document) -> int:
    """Bytes a computation of every model of ``document`` holds at its peak, roughly (their
    results are all kept), with the sequence's own copies (the document's, each network's
    input copy, and the drawn or exported ones)."""
    seq = document.sequence
    inputs = 4 * 8 * seq.steps * (seq.channels + (seq.targets.shape[1] if seq.targets is not None
                                                  else 0))
    return inputs + sum(model_memory(seq, m.config) for m in document.models)


# What any machine the app runs on can spare for one run, without looking.
ALWAYS_AFFORDABLE = 64 << 20


def check_memory(document: Document, budget: int | None = None) -> None:
    """Refuse (SessionError) a run that would not fit in the memory this process may use (a
    share of physical memory, or of the container's limit where that is smaller; see
    :func:`rnnviz.limits.memory_budget`), instead of letting the system swap or kill it."""
    needed = memory_needed(document)
    if budget is None and needed <= ALWAYS_AFFORDABLE:
        return  # every edit of a small run asks: not worth reading /proc and the cgroups
    steps = document.sequence.steps
    if len(document.models) == 1:
        cfg = document.models[0].config
        what = (f"a run of {steps} steps through {cfg.num_layers} × {cfg.hidden_size} "
                f"{cfg.cell} units")
    else:
        what = f"a run of {steps} steps through {len(document.models)} models"
    try:
        limits.check_bytes(needed, what, budget)
    except limits.MemoryLimitError as exc:
        raise SessionError(str(exc)) from None


def compute_model(sequence: Sequence, task: Task, model: Model,
                  progress: Progress | None = None, resume: Trace | None = None) -> ModelResults:
    """Run one model over ``sequence``: forward, the task's loss, backward. Pure; thread-safe.

    ``resume``: a trace of the same network over an earlier version of the sequence; the
    forward pass starts again from the first changed input step."""
    start = time.perf_counter()
    net = model.network()

    def part(offset: float):
        return None if progress is None else (lambda f: progress(offset + 0.5 * f))

    trace = net.forward(sequence.inputs, progress=part(0.0), resume=resume)
    loss = None
    if task.loss != "none" and net.config.output_size is not None:
        loss = net.loss(trace, sequence.targets, task.loss, task.where, sequence.target_mask)
        if task.loss == "ce":
            grads = net.backward(trace, d_logits=loss.grad, progress=part(0.5))
        else:
            grads = net.backward(trace, d_output=loss.grad, progress=part(0.5))
    else:
        g = np.zeros((sequence.steps, net.config.hidden_size))
        g[-1] = 1.0
        grads = net.backward(trace, d_hidden=g, progress=part(0.5))
    bad = [s for s in (trace.nonfinite_step, grads.nonfinite_step) if s is not None]
    return ModelResults(sequence, task, model, trace, grads, loss, min(bad) if bad else None,
                        time.perf_counter() - start)


def compute(document: Document, progress: Progress | None = None,
            previous: Results | None = None) -> Results:
    """Run the engine over every model of the document. Pure; thread-safe.

    ``progress`` receives the fraction done (0..1); raising from it aborts the computation.
    ``previous``: results of an earlier document. A model whose network, sequence and task are
    the same as there keeps those results; one with the same network resumes its forward pass
    from the first changed input step instead of starting over.
    """
    check_memory(document)
    start = time.perf_counter()
    seq, task = document.sequence, document.task
    old = previous.models if previous is not None else ()
    todo = [m for m in document.models if _reusable(old, seq, task, m) is None]
    done = 0
    out = []
    for model in document.models:
        kept = _reusable(old, seq, task, model)
        if kept is None:
            span = None
            if progress is not None:
                share, base = 1.0 / len(todo), done / len(todo)
                span = lambda f, s=share, b=base: progress(b + s * f)  # noqa: E731
            resume = next((r.trace for r in old if _same_network(r.model, model)), None)
            kept = compute_model(seq, task, model, span, resume)
            done += 1
        out.append(kept)
    return Results(document, tuple(out), time.perf_counter() - start)


def _reusable(old: tuple[ModelResults, ...], sequence: Sequence, task: Task,
              model: Model) -> ModelResults | None:
    """Earlier results that are exactly what ``model`` would compute now, or None."""
    for r in old:
        if r.sequence is sequence and r.task == task and _same_network(r.model, model):
            return r if r.model is model else _relabelled(r, model)
    return None


def _relabelled(results: ModelResults, model: Model) -> ModelResults:
    """The same numbers under another Model value (a rename, say)."""
    return ModelResults(results.sequence, results.task, model, results.trace, results.grads,
                        results.loss, results.nonfinite_step, results.seconds)


def _same_network(a: Model, b: Model) -> bool:
    """Whether two models' networks compute the same function (same config and weights)."""
    return a.config == b.config and a.weights is b.weights
