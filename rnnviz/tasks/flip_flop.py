"""The 3-bit (N-bit) flip-flop of Sussillo & Barak (2013)."""

from __future__ import annotations

import numpy as np

from rnnviz.tasks.base import (
    TEST_SIZE,
    Batch,
    OptionSpec,
    Task,
    TrainingDefaults,
    check_length,
    float_option,
    int_option,
)

SUSSILLO_BARAK_2013 = (
    "Sussillo & Barak (2013), Opening the black box: low-dimensional dynamics in "
    "high-dimensional recurrent neural networks, Neural Computation 25(3), the 3-bit "
    "flip-flop; discrete-time sampling as in Golub & Sussillo's FixedPointFinder (2018), "
    "FlipFlopData"
)


def hold_level(p: float, steps: int, start_pulse: bool) -> tuple[float, float]:
    """(baseline, echo): the expected MSE per channel and step of predicting 0 everywhere, and
    of echoing the input (predict x_t), for pulse probability ``p`` over ``steps`` steps."""
    q = 1.0 - p
    if start_pulse:  # a pulse at step 0: the target is ±1 at every step
        return 1.0, q * (steps - 1) / steps
    if p == 0.0:
        return 0.0, 0.0
    # P(a pulse at or before t) = 1 − q^(t+1); echo errs where none is at t but one came before.
    geometric = (1.0 - q**steps) / p  # Σ_{t<T} q^t
    baseline = 1.0 - q * geometric / steps
    echo = q * (1.0 - geometric / steps)
    return baseline, echo


class FlipFlopTask(Task):
    """The 3-bit flip-flop, Sussillo & Barak (2013) (``bits`` = 3; other counts as in
    FixedPointFinder's N-bit version).

    ``bits`` input channels of sparse pulses: at every step each channel independently carries
    a pulse with probability ``p_pulse``, of sign +1 or −1 with equal probability, and is 0
    otherwise. Each of the ``bits`` outputs must hold the sign of its own channel's most recent
    pulse, from the pulse's step on, until the next pulse on that channel. What an output should
    be before its channel's first pulse is a convention: following FixedPointFinder, every
    channel gets a pulse at step 0 (``start_pulse`` on), so the target is ±1 at every step; with
    ``start_pulse`` off the target is 0 before a channel's first pulse. The loss is MSE over
    every step and output. FixedPointFinder pulses with probability 0.5 per step; the default
    here, 0.05, keeps the pulses sparse so that holding, not echoing, is what the network
    learns.

    Baseline: by symmetry the best prediction that ignores the inputs is 0 at every step, whose
    MSE is the chance a pulse has come by step t, averaged over t: exactly 1 with ``start_pulse``
    (else 1 − (1−p)(1 − (1−p)^T)/(T·p)). A network without memory that echoes its input does
    better, (1−p)(T−1)/T with ``start_pulse`` (0.9405 at the defaults): the baseline note
    gives it. Success measure: the fraction of (step, output) entries within 0.5 of the target
    (rounding the output to the nearest of −1, 0, +1 gives the target); solved at 99% on the
    test set.
    """

    name = "flip_flop"
    title = "Flip-flop"
    summary = "each output holds the sign of its channel's last ±1 pulse"
    reference = SUSSILLO_BARAK_2013
    loss = "mse"
    where = "all"
    success_name = "fraction of outputs within 0.5"
    TOLERANCE = 0.5
    OPTIONS = (
        int_option("bits", 3, 1, 64, "channels (inputs and outputs)"),
        float_option("p_pulse", 0.05, 0.0, 1.0, "chance of a pulse per step and channel"),
        OptionSpec("start_pulse", bool, True, "every channel pulses at step 0"),
        TEST_SIZE,
    )
    DEFAULT_LENGTH = 100
    MIN_LENGTH = 1

    def __init__(self, length: int = DEFAULT_LENGTH, **options: object) -> None:
        values = self.resolve(options)
        length = check_length(self.name, length, self.MIN_LENGTH)
        bits, p = int(values["bits"]), float(values["p_pulse"])
        baseline, echo = hold_level(p, length, bool(values["start_pulse"]))
        super().__init__(
            length, length, values,
            channel_names=tuple(f"in {i + 1}" for i in range(bits)),
            target_names=tuple(f"bit {i + 1}" for i in range(bits)),
            baseline=baseline,
            baseline_note=(f"predict 0 everywhere: MSE {baseline:.4f}; echoing the input "
                           f"(no memory) gives {echo:.4f}"),
            success_threshold=0.99,
            # checked with PyTorch at the defaults: an LSTM is solved after 200 updates
            training=TrainingDefaults(hidden_size=32, learning_rate=1e-2, batch_size=32,
                                      clip_norm=1.0, updates=2000, eval_every=50),
        )
        self.bits, self.p_pulse = bits, p
        self.echo_level = echo

    def _sample(self, rng: np.random.Generator, batch: int) -> Batch:
        steps, bits, p = self.steps, self.bits, self.p_pulse
        # one uniform draw decides both: a pulse where u < p, negative where u < p/2 (given a
        # pulse, u is uniform on [0, p), so the sign is a fair coin)
        u = rng.random((batch, steps, bits))
        pulse = u < p
        negative = u < 0.5 * p
        if self.options["start_pulse"]:
            # a forced pulse where none was drawn: u is then uniform on [p, 1), halve that
            first = u[:, 0, :]
            negative[:, 0, :] = np.where(pulse[:, 0, :], negative[:, 0, :],
                                         first < 0.5 * (1.0 + p))
            pulse[:, 0, :] = True
        inputs = np.where(pulse, np.where(negative, -1.0, 1.0), 0.0)
        # the flat position of each entry's latest pulse at or before t; −1 (before the first
        # pulse) picks the 0 appended at the end
        pos = np.where(pulse, np.arange(inputs.size).reshape(inputs.shape), -1)
        np.maximum.accumulate(pos, axis=1, out=pos)
        targets = np.append(inputs.ravel(), 0.0)[pos]
        return Batch(inputs, targets, np.ones((batch, steps), bool))

    def _success(self, out: np.ndarray, batch: Batch) -> float:
        error = np.abs(out - batch.targets)
        return float(np.mean(error < self.TOLERANCE))

    def _describe(self, one: Batch) -> str:
        counts = np.count_nonzero(one.inputs[0], axis=0)
        final = " ".join(f"{v:+.0f}" for v in one.targets[0, -1])
        return (f"flip-flop: {', '.join(str(int(c)) for c in counts)} pulses on the "
                f"{self.bits} channels; final outputs {final}")
