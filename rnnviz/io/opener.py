"""Open any file the user gives — a session, a sequence or trained weights — into a document.

One place decides what a file is and how it changes the open document, so that the command
line (``rnnviz FILE...``, ``rnnviz export``), File → Open and drag and drop all agree.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from rnnviz.io.archive import Archive, npz_key
from rnnviz.io.errors import FileFormatError
from rnnviz.io.lesson_file import LESSON_SUFFIX
from rnnviz.io.sequences import load_sequence
from rnnviz.io.session_file import SESSION_SUFFIX, load_session
from rnnviz.io.weights import WEIGHT_SUFFIXES, load_weights
from rnnviz.session import Document, Sequence, SessionError, Task, ViewState

SEQUENCE_SUFFIXES = (".csv", ".tsv", ".txt", ".npy")
# .npz holds either a sequence or weights; it is a sequence when it has inputs/x arrays.
AMBIGUOUS_SUFFIXES = (".npz",)


@dataclass(frozen=True)
class Opened:
    """What opening a file gave: the new document, a view (sessions only), the kind of file
    ("session", "sequence", "weights") and a one-line description for the status bar."""

    document: Document
    view: ViewState | None
    kind: str
    message: str


def file_kind(path: str | Path) -> str:
    """"session", "sequence", "weights" or "lesson", judged by the name (and an .npz's keys,
    read from its directory by the hardened archive reader: no array is read)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == SESSION_SUFFIX:
        return "session"
    if suffix == LESSON_SUFFIX:
        return "lesson"  # opened by the window's lessons (rnnviz.io.lesson_file)
    if suffix in SEQUENCE_SUFFIXES:
        return "sequence"
    if suffix in AMBIGUOUS_SUFFIXES:
        try:
            with open(p, "rb") as probe:
                if probe.read(6) == b"\x93NUMPY":  # .npy data misnamed: the sequence reader says so
                    return "sequence"
        except OSError as exc:
            raise FileFormatError(f"{p.name}: cannot read file ({exc.strerror or exc})") from None
        with Archive(p, "a NumPy .npz archive") as archive:
            keys = {npz_key(member) for member in archive.members}
        return "sequence" if keys & {"inputs", "x"} or len(keys) == 1 else "weights"
    if suffix in WEIGHT_SUFFIXES:
        return "weights"
    raise FileFormatError(f"{p.name}: unknown kind of file (expected {SESSION_SUFFIX}, a "
                          f"sequence {', '.join(SEQUENCE_SUFFIXES + AMBIGUOUS_SUFFIXES)}, "
                          f"weights {', '.join(WEIGHT_SUFFIXES)} or a lesson {LESSON_SUFFIX})")


def open_file(path: str | Path, document: Document, *, prefix: str | None = None,
              target_column: str | int | None = None, expect: str | None = None,
              model: int = 0) -> Opened:
    """Apply the file at ``path`` to ``document``: a session replaces it, a sequence goes to
    every model, weights go to the model at index ``model``. ``expect`` ("session",
    "sequence", "weights") refuses a file of another kind. Raises FileFormatError with a
    one-line message; the given document is never changed (documents are values)."""
    p = Path(path)
    if not p.is_file():
        raise FileFormatError(f"{p.name}: no such file")
    if expect == "sequence" and p.suffix.lower() in AMBIGUOUS_SUFFIXES:
        kind = "sequence"  # given as a sequence: the sequence reader names what it holds
    else:
        kind = file_kind(p)
    if expect is not None and kind != expect:
        raise FileFormatError(f"{p.name}: not a {expect} file (it reads as a {kind})")
    if kind == "lesson":
        raise FileFormatError(f"{p.name}: a lesson, not a document: open it in the window "
                              "(File → Open or Help → Lessons)")
    try:
        if kind == "session":
            doc, view = load_session(p)
            return Opened(doc, view, kind, f"Opened {p.name}")
        if kind == "sequence":
            return _open_sequence(p, document, target_column)
        return _open_weights(p, document, prefix, model)
    except SessionError as exc:
        raise FileFormatError(f"{p.name}: {exc}") from None


def _open_sequence(p: Path, document: Document, target_column: str | int | None) -> Opened:
    imported = load_sequence(p, target_column=target_column)
    seq = Sequence(imported.inputs, targets=imported.targets,
                   channel_names=tuple(imported.channel_names))
    task = document.task
    if seq.targets is not None and task.loss in ("none", "ce"):
        task = Task("mse", task.where)
    doc = document.with_sequence_and_task(seq, task)
    notes = [imported.note] if imported.note else []
    if any(new.weights is None and old.weights is not None
           for new, old in zip(doc.models, document.models, strict=True)):
        notes.append("the network was resized")
    told = f" ({'; '.join(notes)})" if notes else ""
    return Opened(doc, None, "sequence",
                  f"Imported {seq.steps} steps × {seq.channels} channels from {p.name}{told}")


def _open_weights(p: Path, document: Document, prefix: str | None, model: int) -> Opened:
    loaded = load_weights(p, prefix=prefix)
    cfg = loaded.config
    if cfg.input_size != document.sequence.channels:
        raise FileFormatError(f"{p.name}: the weights take {cfg.input_size} input channels but "
                              f"the sequence has {document.sequence.channels}")
    task = document.task
    targets = document.sequence.targets
    if cfg.output_size is None or targets is None:
        task = Task("none", task.where)
    elif task.loss == "mse" and targets.shape[1] != cfg.output_size:
        task = Task("none", task.where)
    elif task.loss == "ce" and targets.max() >= cfg.output_size:
        task = Task("none", task.where)
    current = document.model(model)
    cfg = cfg.replace(readout=current.config.readout if cfg.output_size else "identity")
    others = [m for k, m in enumerate(document.models) if k != model]
    if task != document.task and any(m.config.output_size is not None for m in others):
        raise FileFormatError(f"{p.name}: the weights' readout does not fit the task the other "
                              "models of this comparison share")
    doc = replace(document, task=task).with_weights(model, cfg, loaded.state_dict)
    notes = f" ({'; '.join(loaded.notes)})" if loaded.notes else ""
    layers = f"{cfg.num_layers} layer{'s' if cfg.num_layers > 1 else ''}"
    return Opened(doc, None, "weights",
                  f"Loaded {cfg.cell.upper()} weights, {layers} of {cfg.hidden_size} units, "
                  f"from {p.name}{notes}")
