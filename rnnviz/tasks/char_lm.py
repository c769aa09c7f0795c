"""A character-level language model on a bundled public-domain text (or any given text)."""

from __future__ import annotations

import math
from importlib import resources
from typing import Any

import numpy as np

from rnnviz.tasks import windows
from rnnviz.tasks.base import (
    MAX_BATCH,
    Batch,
    OptionSpec,
    Task,
    TaskError,
    TrainingDefaults,
    check_length,
    float_option,
    int_option,
    one_hot,
)
from rnnviz.tasks.text import TextError, encode_text, visible_char

DEFAULT_CORPUS = "tiny_shakespeare.txt"


def bundled_texts() -> tuple[str, ...]:
    """Names of the texts bundled under resources/texts, sorted."""
    folder = resources.files("rnnviz.resources").joinpath("texts")
    return tuple(sorted(p.name for p in folder.iterdir() if p.name.endswith(".txt")))


def read_bundled_text(name: str) -> str:
    """The bundled text called ``name`` (UTF-8); TaskError listing the names if there is none."""
    names = bundled_texts()
    if name not in names:
        raise TaskError(f"char_lm: corpus={name!r} is not one of {', '.join(names)}")
    return resources.files("rnnviz.resources").joinpath("texts", name).read_text("utf-8")


def bits_per_char(loss: float) -> float:
    """A cross-entropy in nats per character as bits per character."""
    return loss / math.log(2.0)


def unigram_entropy(indices: np.ndarray, classes: int) -> float:
    """−Σ p ln p over the characters' relative frequencies (nats)."""
    counts = np.bincount(indices, minlength=classes)
    p = counts[counts > 0] / indices.size
    return float(-np.sum(p * np.log(p)))


class CharLMTask(Task):
    """A character-level language model: predict every next character of a text.

    The vocabulary is the text's distinct characters sorted by code point (V of them; as
    :func:`rnnviz.tasks.text.encode_text` builds it). A window of T steps has one-hot inputs
    (T, V) of characters s..s+T−1 and as targets the indices of characters s+1..s+T; every step
    carries a target and the loss is the next-character cross-entropy over all of them (nats;
    :func:`bits_per_char` converts). The text is split once: its last ⌈test_fraction·N⌉
    characters (at least T + 1) are held out and the test set is their non-overlapping windows;
    training windows start uniformly anywhere in the first part (as min-char-rnn reads a text
    in windows, Karpathy 2015, whose 25 steps are the default length).

    The text is the bundled ``corpus`` (read with importlib.resources from rnnviz.resources),
    or any string given as ``text``.

    Baseline: the unigram entropy of the text, −Σ p_c ln p_c over its character frequencies:
    the cross-entropy per character of the best prediction that ignores what came before.
    Success measure: next-character accuracy; solved at 50% on the test set (an rnnviz
    convention: a language model has no natural "solved").
    """

    name = "char_lm"
    title = "Character language model"
    summary = "predict the next character of a text, one-hot over its characters"
    reference = ("character-level language modelling as in Karpathy (2015), min-char-rnn and "
                 "The unreasonable effectiveness of recurrent neural networks")
    loss = "ce"
    where = "all"
    success_name = "next-character accuracy"
    OPTIONS = (
        OptionSpec("corpus", str, DEFAULT_CORPUS, "bundled text to model",
                   choices=bundled_texts()),
        float_option("test_fraction", 0.1, 0.01, 0.5, "fraction of the text held out"),
        int_option("test_size", 1000, 1, MAX_BATCH, "most test windows"),
    )
    DEFAULT_LENGTH = 25
    MIN_LENGTH = 1

    def __init__(self, length: int | None = None, text: str | None = None,
                 **options: object) -> None:
        values = self.resolve(options)
        if text is None:
            text = read_bundled_text(str(values["corpus"]))
            source = str(values["corpus"])
        elif not isinstance(text, str):
            raise TaskError(f"char_lm: text must be a string, got {type(text).__name__}")
        else:
            source = "the given text"
        try:
            encoding = encode_text(text)
        except TextError as exc:
            raise TaskError(f"char_lm: {exc}") from None
        fraction = float(values["test_fraction"])
        if length is None:
            length = max(1, min(self.DEFAULT_LENGTH, windows.longest(len(text), fraction)))
        length = check_length(self.name, length, self.MIN_LENGTH)
        self.split = windows.split(self.name, len(text), length, fraction)
        self.text = text
        self.source = source
        self.vocabulary = encoding.vocabulary
        self.indices = encoding.indices
        vocab = len(self.vocabulary)
        entropy = unigram_entropy(self.indices, vocab)
        names = tuple(visible_char(c) for c in self.vocabulary)
        super().__init__(
            length, length, values,
            channel_names=names, target_names=names,
            baseline=entropy,
            baseline_note=(f"the unigram entropy of {source}: {entropy:.4f} nats "
                           f"({bits_per_char(entropy):.3f} bits) per character"),
            success_threshold=0.5,
            training=TrainingDefaults(cell="gru", hidden_size=64, learning_rate=3e-3,
                                      batch_size=32, clip_norm=1.0, updates=2000,
                                      eval_every=50),
        )

    def _windows(self, starts: np.ndarray) -> Batch:
        chars = self.indices[windows.window_index(starts, self.split.length)]
        inputs = one_hot(chars[:, :-1], len(self.vocabulary))
        targets = np.ascontiguousarray(chars[:, 1:])
        return Batch(inputs, targets, np.ones(targets.shape, bool))

    def _sample(self, rng: np.random.Generator, batch: int) -> Batch:
        return self._windows(self.split.sample_starts(rng, batch))

    def _make_test_set(self) -> Batch:
        return self._windows(self.split.test_starts(int(self.options["test_size"])))

    @property
    def test_size(self) -> int:
        """How many test windows there are (at most the ``test_size`` option)."""
        return len(self.split.test_starts(int(self.options["test_size"])))

    def decode(self, indices: Any) -> str:
        """The characters at ``indices`` (1-D) of the vocabulary."""
        return "".join(self.vocabulary[int(i)] for i in np.asarray(indices).ravel())

    def _window_text(self, one: Batch) -> str:
        return self.decode(np.argmax(one.inputs[0], axis=-1))

    def _describe(self, one: Batch) -> str:
        shown = self._window_text(one)
        shown = shown if len(shown) <= 40 else shown[:40] + "…"
        return (f"character language model on {self.source}: {len(self.vocabulary)} "
                f"characters; window {shown!r}")

    def _example_extras(self, one: Batch) -> dict[str, Any]:
        window = self._window_text(one)
        return {"labels": tuple(visible_char(c) for c in window), "text": window,
                "vocabulary": self.vocabulary}

