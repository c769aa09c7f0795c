"""Opening files into the current document: sequences (CSV/TSV/TXT/NPY/NPZ) and trained
weights (NPZ/safetensors/PyTorch). Every failure is one line naming the file."""

from __future__ import annotations

from pathlib import Path

from rnnviz.engine import EngineError
from rnnviz.io.errors import FileFormatError
from rnnviz.io.sequences import load_sequence
from rnnviz.io.weights import load_weights
from rnnviz.session import Document, Sequence, SessionError

WEIGHT_SUFFIXES = (".safetensors", ".pt", ".pth", ".bin")
SEQUENCE_SUFFIXES = (".csv", ".tsv", ".txt", ".npy")
FILE_FILTER = (
    "Sequences and weights (*.csv *.tsv *.txt *.npy *.npz *.safetensors *.pt *.pth);;All files (*)"
)


class OpenError(ValueError):
    """A file that cannot be opened; the message names it and says why."""


def _with_sequence(doc: Document, path: Path) -> Document:
    imported = load_sequence(path)
    seq = Sequence(
        imported.inputs, targets=imported.targets, channel_names=tuple(imported.channel_names)
    )
    return doc.with_sequence(seq)


def _with_weights(doc: Document, path: Path) -> Document:
    loaded = load_weights(path)
    return doc.with_weights(loaded.config, loaded.state_dict)


def open_into(doc: Document, path: str | Path) -> Document:
    """``doc`` with the sequence or weights from ``path``; raises OpenError."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix in WEIGHT_SUFFIXES:
            return _with_weights(doc, path)
        if suffix in SEQUENCE_SUFFIXES:
            return _with_sequence(doc, path)
        if suffix == ".npz":
            try:
                return _with_weights(doc, path)
            except (FileFormatError, EngineError, SessionError, ValueError):
                return _with_sequence(doc, path)
    except (FileFormatError, EngineError, SessionError, OSError, ValueError) as exc:
        raise OpenError(f"cannot open {path.name}: {exc}") from None
    raise OpenError(f"cannot open {path.name}: unsupported file type {suffix or '(none)'!r}")
