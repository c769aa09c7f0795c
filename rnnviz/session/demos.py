"""Ready-made documents: the demos a new user sees, and conversions from generated sequences
and encoded text to session sequences."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from rnnviz.engine import NetworkConfig
from rnnviz.session.document import Document, Sequence, SessionError, Task
from rnnviz.tasks.generators import GeneratedSequence, generate
from rnnviz.tasks.text import TextEncoding, encode_text


def sequence_from_generated(gen: GeneratedSequence) -> Sequence:
    """A session sequence from a generator's output (class targets as a (T, 1) column)."""
    targets = gen.targets if gen.target_classes is None else gen.target_classes[:, None]
    return Sequence(gen.inputs, targets=targets, target_mask=gen.target_mask,
                    channel_names=gen.channel_names)


def sequence_from_text(enc: TextEncoding) -> Sequence:
    """A session sequence from encoded text: one-hot inputs, next-character class targets."""
    return Sequence(enc.inputs, targets=enc.targets[:, None], target_mask=enc.target_mask,
                    labels=enc.labels, channel_names=tuple(f"'{c}'" for c in enc.vocabulary),
                    text=enc.text, vocabulary=enc.vocabulary)


def document_for(sequence: Sequence, config: NetworkConfig, task: Task,
                 name: str | None = None) -> Document:
    """A one-model document whose network sizes follow the sequence and task."""
    base = Document.single(sequence, config.replace(input_size=sequence.channels,
                                                    output_size=None),
                           Task("none", task.where), name=name)
    return base.with_task(task)


def sample_text(name: str = "tiny_shakespeare.txt") -> str:
    """A text bundled under resources/texts."""
    return resources.files("rnnviz.resources").joinpath("texts", name).read_text("utf-8")


@dataclass(frozen=True)
class Demo:
    name: str
    description: str


DEMOS: dict[str, Demo] = {
    "sine": Demo("sine", "LSTM over a sine with a step: does it hold the new level?"),
    "adding": Demo("adding", "LSTM on the adding problem (Hochreiter & Schmidhuber 1997), "
                   "forget bias 3: f_t starts near 0.95, so memory and gradients last"),
    "vanishing": Demo("vanishing", "Vanilla tanh RNN on the adding problem: gradients vanish"),
    "exploding": Demo("exploding", "Vanilla tanh RNN with recurrent scale 1.6: gradients explode"),
    "text": Demo("text", "GRU character-level language model over a line of Shakespeare"),
}


def load_demo(name: str = "sine") -> Document:
    """The document of a named demo (see :data:`DEMOS`)."""
    if name == "sine":
        seq = sequence_from_generated(generate("sine_plus_step", 200, seed=0))
        cfg = NetworkConfig(cell="lstm", hidden_size=16, seed=0)
        return document_for(seq, cfg, Task("mse", "all"))
    if name in ("adding", "vanishing", "exploding"):
        seq = sequence_from_generated(generate("adding", 100, seed=0))
        cell = "lstm" if name == "adding" else "rnn_tanh"
        scale = {"adding": None, "vanishing": 0.8, "exploding": 1.6}[name]
        # An untrained LSTM's forget gates start near σ(0) = 0.5 and forget within a few
        # steps (‖∂L/∂h_0‖ ≈ 1e-21 here, below the vanilla RNN's); a forget bias of 3 starts
        # them near 0.95, which is what lets an LSTM carry memory and gradient. A larger one
        # (4: f ≈ 0.98) holds the gradient too, but the cell memory then piles up the noise
        # of all 100 steps and saturates: Train on it took twice as many updates or more.
        cfg = NetworkConfig(cell=cell, hidden_size=32, init="orthogonal" if scale else "default",
                            recurrent_scale=scale, forget_bias=3.0 if cell == "lstm" else None,
                            seed=0)
        return document_for(seq, cfg, Task("mse", "last"))
    if name == "text":
        seq = sequence_from_text(encode_text(sample_text().splitlines()[0]))
        cfg = NetworkConfig(cell="gru", hidden_size=32, readout="softmax", seed=0)
        return document_for(seq, cfg, Task("ce", "all"))
    raise SessionError(f"unknown demo {name!r}; choose one of {', '.join(DEMOS)}")
