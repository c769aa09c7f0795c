"""Each task checked against its published definition (positions, target formula, class
encoding, masks) and its baseline checked empirically against the stated value."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnviz.tasks import make_task
from rnnviz.tasks.char_lm import bits_per_char
from rnnviz.tasks.temporal_order import CLASSES, SYMBOLS, windows

RNG = np.random.default_rng


def within(values: np.ndarray, expected: float, sigmas: float = 4.0) -> bool:
    """Whether the mean of ``values`` is ``expected`` to sampling error."""
    values = np.asarray(values, dtype=np.float64).ravel()
    error = values.std(ddof=1) / math.sqrt(values.size)
    return abs(values.mean() - expected) <= sigmas * error


# ------------------------------------------------------------------ adding (Arjovsky 2016)


@pytest.mark.parametrize("length", [2, 3, 11, 100])
def test_adding_marks_one_step_in_each_half_and_targets_their_sum(length):
    task = make_task("adding", length)
    batch = task.sample(RNG(0), 4000)
    values, markers = batch.inputs[..., 0], batch.inputs[..., 1]
    assert np.all((values >= 0.0) & (values < 1.0))
    assert set(np.unique(markers).tolist()) <= {0.0, 1.0}
    half = length // 2
    assert np.all(markers[:, :half].sum(axis=1) == 1)
    assert np.all(markers[:, half:].sum(axis=1) == 1)
    first = np.argmax(markers[:, :half], axis=1)
    second = half + np.argmax(markers[:, half:], axis=1)
    # every step of each half is used
    assert set(first.tolist()) == set(range(half))
    assert set(second.tolist()) == set(range(half, length))
    rows = np.arange(batch.size)
    expected = values[rows, first] + values[rows, second]
    np.testing.assert_array_equal(batch.targets[:, -1, 0], expected)
    assert np.all(batch.targets[:, :-1] == 0.0)
    assert batch.mask[:, -1].all() and batch.mask.sum() == batch.size


def test_adding_baseline_is_one_sixth_empirically():
    task = make_task("adding", 50)
    assert task.baseline == 1.0 / 6.0 and round(task.baseline, 3) == 0.167
    batch = task.sample(RNG(1), 100_000)
    sums = batch.targets[:, -1, 0]
    assert within(sums, 1.0)  # the best constant prediction is the mean, 1
    assert within((sums - 1.0) ** 2, 1.0 / 6.0)
    ones = np.ones((batch.size, 50, 1))
    assert task.loss_value(ones, batch) == pytest.approx(1 / 6, abs=4 * 0.21 / math.sqrt(1e5))
    assert task.success(ones, batch) < 0.01


def test_adding_is_solved_below_test_mse_001():
    task = make_task("adding", 30, test_size=2000)
    test = task.test_set()
    noise = RNG(2).standard_normal(test.targets.shape)
    near = test.targets + 0.09 * noise  # MSE ≈ 0.0081
    far = test.targets + 0.11 * noise   # MSE ≈ 0.0121
    assert task.loss_value(near, test) < 0.01 < task.loss_value(far, test)
    assert task.solved(near, test) and not task.solved(far, test)
    assert task.loss_threshold == 0.01
    assert task.success(near, test) > task.success_threshold == pytest.approx(0.94)
    assert task.success(far, test) < task.success_threshold


# ------------------------------------------------------------------ adding (H&S 1997)


def test_adding_original_follows_hochreiter_schmidhuber():
    task = make_task("adding_hs", 40)
    batch = task.sample(RNG(3), 20_000)
    values, markers = batch.inputs[..., 0], batch.inputs[..., 1]
    assert np.all((values >= -1.0) & (values < 1.0))
    marked = markers == 1.0
    assert np.all(marked.sum(axis=1) == 2)
    assert not marked[:, 20:].any()  # both in the first half
    positions = np.sort(np.argwhere(marked)[:, 1].reshape(-1, 2), axis=1)
    assert np.all(positions[:, 0] < 10)  # one of them among the first 10 steps
    # ends are −1 unless marked, everything else 0
    np.testing.assert_array_equal(markers[~marked[:, 0], 0], -1.0)
    np.testing.assert_array_equal(markers[:, -1], -1.0)
    assert np.all(markers[:, 1:-1][~marked[:, 1:-1]] == 0.0)
    assert np.all(values[marked[:, 0], 0] == 0.0)  # "we set X1 to zero"
    x = np.where(marked, values, 0.0).sum(axis=1)
    np.testing.assert_allclose(batch.targets[:, -1, 0], 0.5 + x / 4.0, rtol=0, atol=1e-15)
    assert np.all(batch.targets[:, :-1] == 0.0) and batch.mask[:, -1].all()


def test_adding_original_second_marker_covers_the_rest_of_the_first_half():
    task = make_task("adding_hs", 30, first_window=3)
    markers = task.sample(RNG(4), 20_000).inputs[..., 1] == 1.0
    assert set(np.flatnonzero(markers.any(axis=0)).tolist()) == set(range(15))


@pytest.mark.parametrize("length, window", [(100, 10), (20, 10), (40, 2)])
def test_adding_original_baseline_empirically(length, window):
    task = make_task("adding_hs", length, first_window=window)
    half = length // 2
    p0 = 1 / window + (1 - 1 / window) / (half - 1)
    assert task.baseline == pytest.approx((2 - p0) / 48)
    batch = task.sample(RNG(5), 100_000)
    target = batch.targets[:, -1, 0]
    assert within(target, 0.5)
    assert within((target - 0.5) ** 2, task.baseline)
    # the step-0 correction is real: (20, 10) gives 0.0375, not 1/24 ≈ 0.0417
    if length == 20:
        assert abs(np.mean((target - 0.5) ** 2) - 1 / 24) > 0.003


def test_adding_original_counts_errors_below_004_as_correct():
    task = make_task("adding_hs", 20, test_size=5)
    test = task.test_set()
    out = np.zeros((5, 20, 1))
    out[:, -1, 0] = test.targets[:, -1, 0] + np.array([0.0, 0.039, -0.039, 0.041, -0.5])
    assert task.success(out, test) == pytest.approx(3 / 5)
    assert not task.solved(out, test)


# ------------------------------------------------------------------ temporal order


def test_temporal_order_windows_are_the_papers_at_100_and_scale_with_length():
    assert windows(100) == (10, 20, 50, 60)
    assert windows(200) == (20, 40, 100, 120)
    for length in range(10, 400):
        lo1, hi1, lo2, hi2 = windows(length)
        assert 2 <= lo1 <= hi1 < lo2 <= hi2 <= length - 1


@pytest.mark.parametrize("length", [100, 37])
def test_temporal_order_sequences_and_classes(length):
    task = make_task("temporal_order", length)
    assert SYMBOLS == ("a", "b", "c", "d", "X", "Y", "E", "B")
    assert task.target_names == CLASSES == ("XX", "XY", "YX", "YY")
    batch = task.sample(RNG(6), 20_000)
    assert np.all(batch.inputs.sum(axis=-1) == 1.0)  # one-hot
    symbols = np.argmax(batch.inputs, axis=-1)
    assert np.all(symbols[:, 0] == 6) and np.all(symbols[:, -1] == 7)  # E ... B
    relevant = (symbols == 4) | (symbols == 5)
    assert np.all(relevant.sum(axis=1) == 2)
    middle = symbols[:, 1:-1][~relevant[:, 1:-1]]
    assert set(np.unique(middle).tolist()) == {0, 1, 2, 3}
    at = np.argwhere(relevant)[:, 1].reshape(-1, 2) + 1  # 1-based positions
    lo1, hi1, lo2, hi2 = windows(length)
    assert set(at[:, 0].tolist()) == set(range(lo1, hi1 + 1))
    assert set(at[:, 1].tolist()) == set(range(lo2, hi2 + 1))
    rows = np.arange(batch.size)
    first_y = symbols[rows, at[:, 0] - 1] == 5
    second_y = symbols[rows, at[:, 1] - 1] == 5
    np.testing.assert_array_equal(batch.targets[:, -1], 2 * first_y + second_y)
    names = np.array(CLASSES)[batch.targets[:, -1]]
    letters = np.array(SYMBOLS)
    expected = np.char.add(letters[symbols[rows, at[:, 0] - 1]],
                           letters[symbols[rows, at[:, 1] - 1]])
    np.testing.assert_array_equal(names, expected)
    assert batch.mask[:, -1].all() and batch.mask.sum() == batch.size


def test_temporal_order_baseline_is_ln4_empirically():
    task = make_task("temporal_order", 30)
    assert task.baseline == pytest.approx(math.log(4))
    batch = task.sample(RNG(7), 100_000)
    counts = np.bincount(batch.targets[:, -1], minlength=4)
    freq = counts / counts.sum()
    assert np.all(np.abs(freq - 0.25) < 4 * math.sqrt(0.25 * 0.75 / counts.sum()))
    # the best constant prediction, the empirical frequencies, scores ln 4 to sampling error
    logits = np.broadcast_to(np.log(freq), (batch.size, 30, 4))
    assert task.loss_value(logits, batch) == pytest.approx(math.log(4), abs=2e-4)
    assert task.success(logits, batch) < 0.27


# ------------------------------------------------------------------ copy memory


def test_copy_memory_layout_matches_arjovsky():
    task = make_task("copy_memory", 30)  # T = 30 → 50 steps
    assert task.steps == 50 and task.input_size == 10 and task.output_size == 9
    assert task.channel_names[8:] == ("blank", "delimiter")
    batch = task.sample(RNG(8), 5000)
    cats = np.argmax(batch.inputs, axis=-1)
    assert np.all(batch.inputs.sum(axis=-1) == 1.0)
    data = cats[:, :10]
    assert set(np.unique(data).tolist()) == set(range(8))  # the 8 symbols a_0..a_7
    assert np.all(cats[:, 10:39] == 8)  # T − 1 = 29 blanks (a_8)
    assert np.all(cats[:, 39] == 9)  # the delimiter (a_9)
    assert np.all(cats[:, 40:] == 8)  # 10 blanks
    assert np.all(batch.targets[:, :40] == 8)  # T + 10 blanks
    np.testing.assert_array_equal(batch.targets[:, 40:], data)  # then the symbols, in order
    assert batch.mask.all()  # scored: every step, as the paper averages
    assert task.recall_steps == slice(40, 50)


def test_copy_memory_recall_scoring_masks_the_last_k_steps():
    task = make_task("copy_memory", 15, symbols=4, alphabet=5, scored="recall")
    assert task.steps == 23
    batch = task.sample(RNG(9), 100)
    assert not batch.mask[:, :19].any() and batch.mask[:, 19:].all()
    np.testing.assert_array_equal(batch.targets[:, 19:], np.argmax(batch.inputs[:, :4], -1))
    assert np.all(batch.targets[:, :19] == 0)
    assert task.baseline == pytest.approx(math.log(5))


def _memoryless_logits(task, batch) -> np.ndarray:
    """The paper's memoryless strategy: blank for T + K steps, then uniform over the symbols."""
    logits = np.full((batch.size, batch.steps, task.output_size), -1e9)
    logits[:, :, task.alphabet] = 0.0
    logits[:, task.recall_steps] = 0.0
    logits[:, task.recall_steps, task.alphabet] = -1e9
    return logits


@pytest.mark.parametrize("length, scored", [(100, "all"), (20, "all"), (20, "recall")])
def test_copy_memory_baseline_is_the_memoryless_strategy(length, scored):
    task = make_task("copy_memory", length, scored=scored)
    stated = 10 * math.log(8) / (length + 20) if scored == "all" else math.log(8)
    assert task.baseline == pytest.approx(stated, rel=1e-15)
    batch = task.sample(RNG(10), 20_000)
    logits = _memoryless_logits(task, batch)
    assert task.loss_value(logits, batch) == pytest.approx(stated, rel=1e-9)
    # the recalled symbols are uniform, so no constant guess does better than ln 8 there
    counts = np.bincount(batch.targets[:, task.recall_steps].ravel(), minlength=9)[:8]
    freq = counts / counts.sum()
    entropy = -np.sum(freq * np.log(freq))
    assert entropy == pytest.approx(math.log(8), abs=1e-3)
    assert task.success(logits, batch) == pytest.approx(1 / 8, abs=0.01)


def test_copy_memory_success_is_recall_accuracy_only():
    task = make_task("copy_memory", 10, symbols=4, alphabet=3, test_size=10)
    test = task.test_set()
    logits = np.zeros((10, 18, 4))
    np.put_along_axis(logits, test.targets[..., None], 1.0, axis=-1)
    logits[:, :14] = 0.0  # the blank steps wrong (all tied → argmax 0), the recall right
    logits[:, :14, 0] = 1.0
    assert task.success(logits, test) == 1.0
    logits[:5, 14, :] = 0.0
    logits[np.arange(5), 14, (test.targets[:5, 14] + 1) % 3] = 1.0  # one recall step wrong in half
    assert task.success(logits, test) == pytest.approx(1 - 5 / 40)


# ------------------------------------------------------------------ latch


def test_latch_follows_experiment_3a():
    task = make_task("latch", 100)
    assert task.options["info_steps"] == 3 and task.options["noise_variance"] == 0.2
    batch = task.sample(RNG(11), 20_000)
    x = batch.inputs[..., 0]
    sign = x[:, 0]
    assert set(np.unique(sign).tolist()) == {-1.0, 1.0}
    np.testing.assert_array_equal(x[:, :3], np.repeat(sign[:, None], 3, axis=1))
    np.testing.assert_array_equal(batch.targets[:, -1, 0], (sign > 0).astype(float))
    noise = x[:, 3:]
    assert abs(noise.mean()) < 4 * math.sqrt(0.2 / noise.size)
    assert noise.var() == pytest.approx(0.2, rel=0.01)
    # the noise carries nothing about the class
    assert abs(np.corrcoef(noise[:, -1], sign)[0, 1]) < 4 / math.sqrt(batch.size)
    assert batch.mask[:, -1].all() and batch.mask.sum() == batch.size


def test_latch_baseline_and_tolerance():
    task = make_task("latch", 20, info_steps=1, test_size=8)
    batch = task.sample(RNG(12), 100_000)
    assert within(batch.targets[:, -1, 0], 0.5)  # the classes are balanced
    half = np.full((batch.size, 20, 1), 0.5)
    assert task.loss_value(half, batch) == task.baseline == 0.25
    test = task.test_set()
    out = np.zeros((8, 20, 1))
    out[:, -1, 0] = test.targets[:, -1, 0] + np.array([0, 0.19, -0.19, 0.21, -0.21, 0, 0, 0.5])
    assert task.success(out, test) == pytest.approx(5 / 8)


# ------------------------------------------------------------------ flip-flop


def _held_signs(inputs: np.ndarray) -> np.ndarray:
    """The flip-flop target by a plain loop: each channel's last pulse sign, 0 before any."""
    targets = np.zeros_like(inputs)
    for b in range(inputs.shape[0]):
        for c in range(inputs.shape[2]):
            level = 0.0
            for t in range(inputs.shape[1]):
                if inputs[b, t, c] != 0.0:
                    level = inputs[b, t, c]
                targets[b, t, c] = level
    return targets


@pytest.mark.parametrize("start_pulse", [True, False])
def test_flip_flop_outputs_hold_the_last_pulse_sign(start_pulse):
    task = make_task("flip_flop", 60, p_pulse=0.1, start_pulse=start_pulse)
    assert task.input_size == task.output_size == 3
    batch = task.sample(RNG(13), 200)
    assert set(np.unique(batch.inputs).tolist()) <= {-1.0, 0.0, 1.0}
    np.testing.assert_array_equal(batch.targets, _held_signs(batch.inputs))
    assert batch.mask.all()
    if start_pulse:
        assert np.all(batch.inputs[:, 0] != 0.0)
        assert np.all(np.abs(batch.targets) == 1.0)
    else:
        assert np.any(batch.targets == 0.0)


def test_flip_flop_pulses_are_sparse_and_signs_balanced():
    task = make_task("flip_flop", 200, p_pulse=0.05, start_pulse=False)
    pulses = task.sample(RNG(14), 2000).inputs
    rate = np.mean(pulses != 0.0)
    assert rate == pytest.approx(0.05, abs=4 * math.sqrt(0.05 * 0.95 / pulses.size))
    signs = pulses[pulses != 0.0]
    assert within(signs, 0.0)


@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_flip_flop_start_pulse_signs_are_fair(p):
    task = make_task("flip_flop", 5, p_pulse=p)
    first = task.sample(RNG(21), 20_000).inputs[:, 0]
    assert np.all(np.abs(first) == 1.0)
    assert within(first, 0.0)
    assert abs(first.mean()) < 0.05


@pytest.mark.parametrize("length, p, start", [(100, 0.05, True), (100, 0.05, False),
                                              (30, 0.2, False), (50, 0.5, True)])
def test_flip_flop_baseline_and_echo_levels_empirically(length, p, start):
    task = make_task("flip_flop", length, p_pulse=p, start_pulse=start)
    batch = task.sample(RNG(15), 20_000)
    zero = np.zeros_like(batch.targets)
    per_seq_zero = np.mean(batch.targets ** 2, axis=(1, 2))
    assert within(per_seq_zero, task.baseline) or (start and np.all(per_seq_zero == 1.0))
    assert task.loss_value(zero, batch) == pytest.approx(task.baseline, abs=0.01)
    per_seq_echo = np.mean((batch.targets - batch.inputs) ** 2, axis=(1, 2))
    assert within(per_seq_echo, task.echo_level)
    if start:
        assert task.baseline == 1.0
        assert task.echo_level == pytest.approx((1 - p) * (length - 1) / length)


def test_flip_flop_success_counts_outputs_within_half():
    task = make_task("flip_flop", 10, bits=2, test_size=4)
    test = task.test_set()
    out = test.targets.copy()
    out[0, :5, 0] += 0.49  # still right
    out[1, :4, 1] -= 0.51  # wrong
    assert task.success(out, test) == pytest.approx(1 - 4 / 80)


# ------------------------------------------------------------------ next-step prediction


def test_next_step_windows_predict_the_next_value_from_the_training_part():
    data = np.arange(1000.0)[:, None] * np.array([1.0, -2.0])
    task = make_task("next_step", 30, data=data)
    assert task.split.train == 800 and task.split.test == 200
    batch = task.sample(RNG(16), 5000)
    np.testing.assert_array_equal(batch.targets[:, :-1], batch.inputs[:, 1:])
    starts = batch.inputs[:, 0, 0].astype(int)
    np.testing.assert_array_equal(batch.inputs[:, :, 0], starts[:, None] + np.arange(30))
    np.testing.assert_array_equal(batch.targets[:, :, 1], -2.0 * (starts[:, None] + 1 +
                                                                np.arange(30)))
    assert starts.min() == 0 and batch.targets[:, -1, 0].max() == 799  # never into the test part
    test = task.test_set()
    test_starts = test.inputs[:, 0, 0].astype(int)
    np.testing.assert_array_equal(test_starts, 800 + 30 * np.arange(6))  # non-overlapping
    assert test.targets[:, :, 0].max() <= 999 and test.mask.all()


def test_next_step_holds_out_at_least_one_window():
    task = make_task("next_step", 40, data=np.arange(100.0), test_fraction=0.1)
    assert task.split.test == 41 and task.test_set().size == 1
    assert make_task("next_step", data=np.arange(100.0)).length == 49  # default shortened


def test_next_step_baseline_is_the_variance_of_white_noise():
    noise = 2.0 * RNG(17).standard_normal(100_000)
    task = make_task("next_step", 50, data=noise)
    test = task.test_set()
    assert task.baseline == pytest.approx(4.0, rel=4 * math.sqrt(2 / test.targets.size))
    mean = np.full(test.targets.shape, noise[:80_000].mean())
    assert task.loss_value(mean, test) == pytest.approx(task.baseline, rel=1e-12)
    assert task.success(mean, test) == 0.0
    assert task.loss_threshold == pytest.approx(0.01 * task.baseline)
    assert "echoing the input gives 8" in task.baseline_note  # 2σ² for independent values


# ------------------------------------------------------------------ character language model


def test_char_lm_reads_the_bundled_text_and_predicts_each_next_character():
    task = make_task("char_lm", 25)
    assert task.source == "tiny_shakespeare.txt" and len(task.text) == 198
    assert list(task.vocabulary) == sorted(set(task.text))
    assert task.input_size == task.output_size == len(task.vocabulary)
    batch = task.sample(RNG(18), 2000)
    chars = np.argmax(batch.inputs, axis=-1)
    assert np.all(batch.inputs.sum(axis=-1) == 1.0)
    np.testing.assert_array_equal(batch.targets[:, :-1], chars[:, 1:])
    train = task.text[:task.split.train]
    for b in range(0, 2000, 97):
        window = task.decode(chars[b]) + task.vocabulary[batch.targets[b, -1]]
        assert window in train
    test = task.test_set()
    assert test.size == 1 and test.mask.all()
    held = task.decode(np.argmax(test.inputs[0], -1)) + task.vocabulary[test.targets[0, -1]]
    assert held == task.text[task.split.train:task.split.train + 26]


def test_char_lm_baseline_is_the_unigram_entropy():
    task = make_task("char_lm")
    counts = np.array([task.text.count(c) for c in task.vocabulary])
    p = counts / counts.sum()
    assert task.baseline == pytest.approx(-np.sum(p * np.log(p)), rel=1e-12)
    assert bits_per_char(task.baseline) == pytest.approx(task.baseline / math.log(2))


def test_char_lm_baseline_empirically_on_a_text_of_known_distribution():
    p = np.array([0.5, 0.25, 0.125, 0.0625, 0.0625])
    letters = np.array(list("etaoi"))
    text = "".join(letters[RNG(19).choice(5, size=200_000, p=p)])
    task = make_task("char_lm", 50, text=text)
    entropy = -np.sum(p * np.log(p))
    assert task.baseline == pytest.approx(entropy, abs=0.005)
    batch = task.sample(RNG(20), 4000)
    order = [list(task.vocabulary).index(c) for c in "etaoi"]
    logits = np.empty(5)
    logits[order] = np.log(p)
    per_step = -np.log(p[np.argsort(order)])[batch.targets]  # the unigram predictor's loss
    assert within(per_step, entropy)
    assert task.loss_value(np.broadcast_to(logits, (4000, 50, 5)), batch) == pytest.approx(
        per_step.mean(), rel=1e-12)
    assert task.success(np.broadcast_to(logits, (4000, 50, 5)), batch) == pytest.approx(
        0.5, abs=0.01)
