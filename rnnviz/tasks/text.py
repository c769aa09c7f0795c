"""Text as a network input: characters one-hot encoded, each step's target the next character.

``encode_text`` turns a string of T characters over a vocabulary of V characters into
inputs (T, V), integer targets (T,) and a target mask (T,) that leaves out the last step, which
has no next character. The vocabulary is either the distinct characters of the text (sorted by
code point, mode "text"), Python's ``string.printable`` in its own order (mode "printable"), or
one given explicitly, whose order then defines the indices.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np

MAX_TEXT_LENGTH = 1_000_000
PRINTABLE: tuple[str, ...] = tuple(string.printable)
TEXT_MODES = ("text", "printable")

_VISIBLE = {
    " ": "␣",
    "\n": "⏎",
    "\t": "⇥",
    "\r": "␍",
    "\x0b": "␋",
    "\x0c": "␌",
    "\x7f": "␡",
}


class TextError(ValueError):
    """Text or a vocabulary that cannot be encoded, or indices that cannot be decoded."""


def visible_char(ch: str) -> str:
    """A character as it should be shown on an axis: whitespace and control characters as
    visible symbols (space ␣, newline ⏎, tab ⇥, other C0 controls as U+2400 pictures)."""
    if ch in _VISIBLE:
        return _VISIBLE[ch]
    if len(ch) == 1 and ord(ch) < 0x20:
        return chr(0x2400 + ord(ch))
    return ch


@dataclass(frozen=True, eq=False)
class TextEncoding:
    """A text encoded for a character-level network.

    text: the T characters; vocabulary: the V characters, index i ↔ vocabulary[i];
    indices (T,) int64: each character's index; inputs (T, V) float64: one-hot rows;
    targets (T,) int64: the next character's index (0 at the last step, which has none);
    target_mask (T,) bool: False only at the last step; labels: T strings for the time axis
    (the characters, whitespace made visible). Arrays are read-only.
    """

    text: str
    vocabulary: tuple[str, ...]
    indices: np.ndarray
    inputs: np.ndarray
    targets: np.ndarray
    target_mask: np.ndarray
    labels: tuple[str, ...]

    @property
    def length(self) -> int:
        """T, the number of characters."""
        return len(self.text)

    def decode(self, indices: Iterable[int] | np.ndarray) -> str:
        """The characters at ``indices`` (1-D integers) in this vocabulary."""
        return decode(indices, self.vocabulary)


def _codes(chars: str) -> np.ndarray:
    """Code points of ``chars``, (len,) uint32; lone surrogates pass through."""
    return np.frombuffer(chars.encode("utf-32-le", "surrogatepass"), dtype="<u4")


def _check_vocabulary(vocabulary: object) -> tuple[str, ...]:
    if isinstance(vocabulary, str):
        chars = tuple(vocabulary)
    elif isinstance(vocabulary, Iterable):
        chars = tuple(vocabulary)
        for i, ch in enumerate(chars):
            if not isinstance(ch, str) or len(ch) != 1:
                raise TextError(f"vocabulary entry {i} must be a single character, got {ch!r}")
    else:
        raise TextError(f"vocabulary must be a string of characters, got {vocabulary!r}")
    if not chars:
        raise TextError("vocabulary is empty")
    seen: set[str] = set()
    for ch in chars:
        if ch in seen:
            raise TextError(f"vocabulary has the character {ch!r} more than once")
        seen.add(ch)
    return chars


def _read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def encode_text(
    text: str,
    vocabulary: str | Iterable[str] | None = None,
    mode: Literal["text", "printable"] = "text",
) -> TextEncoding:
    """Encode ``text`` (1..MAX_TEXT_LENGTH characters) one-hot over a vocabulary.

    With ``vocabulary`` None the vocabulary is the text's distinct characters sorted by code
    point (mode "text") or ``string.printable`` (mode "printable"). A given ``vocabulary`` is used
    in its own order and cannot be combined with mode "printable". Raises TextError for empty or
    over-long text, a bad vocabulary, or a character outside a fixed vocabulary (naming the
    character and its position).
    """
    if not isinstance(text, str):
        raise TextError(f"text must be a string, got {type(text).__name__}")
    if not text:
        raise TextError("text is empty")
    if len(text) > MAX_TEXT_LENGTH:
        raise TextError(f"text has {len(text)} characters; at most {MAX_TEXT_LENGTH} are allowed")
    if mode not in TEXT_MODES:
        raise TextError(f"mode must be 'text' or 'printable', got {mode!r}")
    if vocabulary is not None and mode == "printable":
        raise TextError("give either a vocabulary or mode 'printable', not both")
    if vocabulary is not None:
        vocab, which = _check_vocabulary(vocabulary), "the vocabulary"
    elif mode == "printable":
        vocab, which = PRINTABLE, "the printable characters"
    else:
        vocab, which = tuple(sorted(set(text))), ""

    codes = _codes(text)
    vocab_codes = _codes("".join(vocab))
    order = np.argsort(vocab_codes, kind="stable")
    sorted_codes = vocab_codes[order]
    pos = np.minimum(np.searchsorted(sorted_codes, codes), len(vocab) - 1)
    missing = np.flatnonzero(sorted_codes[pos] != codes)
    if missing.size:
        at = int(missing[0])
        raise TextError(f"character {text[at]!r} at position {at} is not in {which}")
    indices = order[pos].astype(np.int64)

    steps = len(text)
    inputs = np.zeros((steps, len(vocab)))
    inputs[np.arange(steps), indices] = 1.0
    targets = np.zeros(steps, np.int64)
    targets[:-1] = indices[1:]
    mask = np.ones(steps, bool)
    mask[-1] = False
    return TextEncoding(
        text=text,
        vocabulary=vocab,
        indices=_read_only(indices),
        inputs=_read_only(inputs),
        targets=_read_only(targets),
        target_mask=_read_only(mask),
        labels=tuple(visible_char(ch) for ch in text),
    )


def decode(indices: Iterable[int] | np.ndarray, vocabulary: str | Iterable[str]) -> str:
    """The string of ``vocabulary`` characters at ``indices`` (1-D integers in 0..V−1).

    Raises TextError for non-integer or multi-dimensional indices and for an index out of
    range (naming its position).
    """
    vocab = _check_vocabulary(vocabulary)
    try:
        idx = np.asarray(indices if isinstance(indices, np.ndarray) else list(indices))
    except (OverflowError, TypeError, ValueError) as exc:
        raise TextError(f"indices must be a sequence of integers ({exc})") from None
    if idx.ndim != 1:
        raise TextError(f"indices must be one-dimensional, got shape {idx.shape}")
    if idx.size == 0:
        return ""
    if idx.dtype == np.bool_ or not np.issubdtype(idx.dtype, np.integer):
        raise TextError(f"indices must be integers, got {idx.dtype}")
    bad = np.flatnonzero((idx < 0) | (idx >= len(vocab)))
    if bad.size:
        at = int(bad[0])
        raise TextError(
            f"index {int(idx[at])} at position {at} is outside the vocabulary (0..{len(vocab) - 1})"
        )
    return "".join(vocab[i] for i in idx.tolist())
