"""The session layer: the document the user edits, its computed results and the view state.
No Qt here.

:mod:`~rnnviz.session.document` holds the immutable values (Sequence, Task, Document,
ViewState); :mod:`~rnnviz.session.compute` turns a document into Results with the engine (a pure
function, safe in a worker thread); :mod:`~rnnviz.session.session` is the Session object with
its change signals.
"""

from rnnviz.session.compute import (
    ModelResults,
    Results,
    check_memory,
    compute,
    compute_model,
    memory_needed,
)
from rnnviz.session.document import (
    LOSSES,
    MAX_CHANNELS,
    MAX_MODELS,
    MAX_STEPS,
    Document,
    Model,
    Sequence,
    SessionError,
    Task,
    ViewState,
)
from rnnviz.session.session import Session

__all__ = [
    "LOSSES",
    "MAX_CHANNELS",
    "MAX_STEPS",
    "MAX_MODELS",
    "Document",
    "Model",
    "ModelResults",
    "Results",
    "Sequence",
    "Session",
    "SessionError",
    "Task",
    "ViewState",
    "check_memory",
    "compute",
    "compute_model",
    "memory_needed",
]
