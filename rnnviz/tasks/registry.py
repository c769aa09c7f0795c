"""Every training task by name, with what a form or a command line needs to build one.

>>> task = make_task("adding", length=100)
>>> batch = task.sample(np.random.default_rng(0), 32)      # inputs (32, 100, 2)
>>> task.loss, task.where, task.readout, task.baseline      # 'mse', 'last', 'identity', 1/6

:data:`TASKS` maps a name to its :class:`TaskSpec`: title, summary, reference, loss, the options
with their defaults and ranges, the default and minimum length, and whether it needs data (the
user's own sequence for "next_step") or takes a text ("char_lm"). :func:`make_task` validates
everything and builds the task.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from rnnviz.tasks.adding import AddingOriginalTask, AddingTask
from rnnviz.tasks.base import MAX_STEPS, Loss, OptionSpec, Task, TaskError, Value
from rnnviz.tasks.char_lm import CharLMTask
from rnnviz.tasks.copy_memory import CopyMemoryTask
from rnnviz.tasks.flip_flop import FlipFlopTask
from rnnviz.tasks.latch import LatchTask
from rnnviz.tasks.next_step import NextStepTask
from rnnviz.tasks.temporal_order import TemporalOrderTask

Needs = Literal["none", "data", "text"]


@dataclass(frozen=True)
class TaskSpec:
    """A task as a menu lists it. ``needs``: "none" (generated), "data" (``make_task`` needs
    ``data=``, a (N, I) array) or "text" (``text=`` optional, else the bundled ``corpus``).
    ``length_help`` says what the length counts for this task."""

    name: str
    title: str
    summary: str
    reference: str
    loss: Loss
    options: tuple[OptionSpec, ...]
    default_length: int
    min_length: int
    max_length: int
    needs: Needs
    length_help: str
    cls: type[Task]

    def option(self, name: str) -> OptionSpec:
        """The option called ``name``; TaskError listing the task's options if none is."""
        return self.cls.option(name)

    def defaults(self) -> dict[str, Value]:
        """Every option's default."""
        return self.cls.defaults()

    def resolve(self, options: Mapping[str, object]) -> dict[str, Value]:
        """``options`` checked and completed with defaults; TaskError naming a bad one."""
        return self.cls.resolve(options)


def _spec(cls: type[Task], needs: Needs = "none",
          length_help: str = "T, steps per sequence") -> TaskSpec:
    return TaskSpec(name=cls.name, title=cls.title, summary=cls.summary,
                    reference=cls.reference, loss=cls.loss, options=cls.OPTIONS,
                    default_length=cls.DEFAULT_LENGTH, min_length=cls.MIN_LENGTH,
                    max_length=MAX_STEPS, needs=needs, length_help=length_help, cls=cls)


TASKS: Mapping[str, TaskSpec] = MappingProxyType({s.name: s for s in (
    _spec(AddingTask),
    _spec(AddingOriginalTask),
    _spec(TemporalOrderTask),
    _spec(CopyMemoryTask, length_help="T, the delay; a sequence has T + 2·symbols steps"),
    _spec(LatchTask),
    _spec(FlipFlopTask),
    _spec(NextStepTask, needs="data", length_help="T, steps per window"),
    _spec(CharLMTask, needs="text", length_help="T, characters per window"),
)})
"""Every task by name, in the order a menu should list them."""


def get_task_spec(name: str) -> TaskSpec:
    """The spec called ``name``; TaskError listing the known names if there is none."""
    if not isinstance(name, str) or name not in TASKS:
        raise TaskError(f"unknown task {name!r}; expected one of: {', '.join(TASKS)}")
    return TASKS[name]


def make_task(name: str, length: int | None = None, *, data: Any = None,
              text: str | None = None, **options: object) -> Task:
    """Build task ``name`` at ``length`` (the spec's default when None) with ``options``
    (defaults for the rest).

    ``data`` is the (N, I) sequence for "next_step" (required there, refused elsewhere);
    ``text`` a string for "char_lm" to model instead of the bundled corpus. For tasks built from
    data a missing length is the default shortened to fit the data. Raises TaskError, one line
    naming the problem, for an unknown name or option, a value out of range, or unusable data.
    """
    spec = get_task_spec(name)
    if data is not None and spec.needs != "data":
        raise TaskError(f"{name}: takes no data (only next_step does)")
    if text is not None and spec.needs != "text":
        raise TaskError(f"{name}: takes no text (only char_lm does)")
    if spec.needs == "data":
        return NextStepTask(data, length, **options)
    if spec.needs == "text":
        return CharLMTask(length, text=text, **options)
    return spec.cls(spec.default_length if length is None else length, **options)


def parse_task_spec(text: str) -> tuple[str, dict[str, Value]]:
    """Split ``"name"`` or ``"name:key=value,key=value"`` (a command line's ``--task``) into
    the name and its checked option values (only those written)."""
    if not isinstance(text, str):
        raise TaskError(f"task spec must be text, got {text!r}")
    name, _, rest = text.strip().partition(":")
    spec = get_task_spec(name.strip())
    values: dict[str, Value] = {}
    for item in rest.split(",") if rest.strip() else ():
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise TaskError(f"{spec.name}: expected key=value, got {item.strip()!r}")
        if key in values:
            raise TaskError(f"{spec.name}: {key} is given twice")
        values[key] = spec.option(key).parse(raw, spec.name)
    return spec.name, values


__all__ = ["TASKS", "TaskSpec", "get_task_spec", "make_task", "parse_task_spec"]
