"""Computing a document's results with the engine: pure, thread-safe. No Qt here."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rnnviz.engine import Grads, LossResult, Trace
from rnnviz.session.document import Document, SessionError

MEMORY_SHARE = 0.6  # of physical memory, at most, for one computation


@dataclass(frozen=True, eq=False)
class Results:
    """What the engine computed for ``document``.

    trace: the forward pass; grads: BPTT of the task's loss (or of Σ h_T); loss: the loss with
    its per-step values, or None; nonfinite_step: the first step where anything (forward or
    backward) is NaN/Inf, or None; seconds: how long it took.
    """

    document: Document
    trace: Trace
    grads: Grads
    loss: LossResult | None
    nonfinite_step: int | None
    seconds: float




def memory_needed(document: Document) -> int:
    """Bytes a computation of ``document`` holds at its peak, roughly: the forward buffers
    and the backward pass's coefficients and gradients, per step, layer and unit, and the
    weights with their working copies."""
    cfg = document.config
    per_unit = 5 * cfg.gate_count + 4  # buffers of G·H or H values, forward and backward
    itemsize = 4 if cfg.dtype == "float32" else 8
    states = document.sequence.steps * cfg.num_layers * cfg.hidden_size * per_unit
    hidden = cfg.hidden_size
    params = cfg.gate_count * hidden * ((cfg.input_size + hidden)
                                        + (cfg.num_layers - 1) * 2 * hidden)
    return (states + 3 * params) * itemsize  # weights, their scaled and transposed copies


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def check_memory(document: Document) -> None:
    """Refuse (SessionError) a run that would not fit in this machine's memory, instead of
    letting the system start swapping or kill the program."""
    physical = _physical_memory()
    needed = memory_needed(document)
    if physical is not None and needed > MEMORY_SHARE * physical:
        cfg = document.config
        raise SessionError(
            f"a run of {document.sequence.steps} steps through {cfg.num_layers} × "
            f"{cfg.hidden_size} {cfg.cell} units needs about {needed / 2**30:.1f} GiB of "
            f"memory; this machine has {physical / 2**30:.1f} GiB"
        )


def compute(document: Document, progress: Callable[[float], None] | None = None,
            previous: Results | None = None) -> Results:
    """Run the engine over the document: forward, loss, backward. Pure; thread-safe.

    ``progress`` receives the fraction done (0..1); raising from it aborts the computation.
    ``previous``: results of an earlier document; when it had the same network, the forward
    pass resumes from the first changed input step instead of starting over.
    """
    check_memory(document)
    start = time.perf_counter()
    net = document.network()
    resume = None
    if previous is not None and _same_network(previous.document, document):
        resume = previous.trace
    seq, task = document.sequence, document.task

    def part(offset: float):
        return None if progress is None else (lambda f: progress(offset + 0.5 * f))

    trace = net.forward(seq.inputs, progress=part(0.0), resume=resume)
    loss = None
    if task.loss != "none" and net.config.output_size is not None:
        loss = net.loss(trace, seq.targets, task.loss, task.where, seq.target_mask)
        if task.loss == "ce":
            grads = net.backward(trace, d_logits=loss.grad, progress=part(0.5))
        else:
            grads = net.backward(trace, d_output=loss.grad, progress=part(0.5))
    else:
        g = np.zeros((seq.steps, net.config.hidden_size))
        g[-1] = 1.0
        grads = net.backward(trace, d_hidden=g, progress=part(0.5))
    bad = [s for s in (trace.nonfinite_step, grads.nonfinite_step) if s is not None]
    return Results(document, trace, grads, loss, min(bad) if bad else None,
                   time.perf_counter() - start)


def _same_network(a: Document, b: Document) -> bool:
    """Whether two documents' networks compute the same function (same config and weights)."""
    return a.config == b.config and a.weights is b.weights


