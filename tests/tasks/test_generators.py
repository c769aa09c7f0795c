"""Input generators: each checked against its definition, plus validation and determinism."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnviz.tasks.generators import (
    GENERATORS,
    MAX_LENGTH,
    GeneratorError,
    generate,
)

SIGNALS = [n for n, s in GENERATORS.items() if s.category == "signal"]
RANDOM = ["white_noise", "random_walk", "adding", "temporal_order", "copy_memory", "latch"]


def x(seq) -> np.ndarray:
    """The single input channel, (T,)."""
    return seq.inputs[:, 0]


# ------------------------------------------------------------------ registry and common shape


def test_registry_lists_signals_and_the_four_tasks():
    assert set(SIGNALS) == {
        "sine",
        "square",
        "sawtooth",
        "step",
        "impulse",
        "white_noise",
        "random_walk",
        "sine_plus_step",
    }
    tasks = {n for n, s in GENERATORS.items() if s.category == "task"}
    assert tasks == {"adding", "temporal_order", "copy_memory", "latch"}


@pytest.mark.parametrize("name", list(GENERATORS))
def test_defaults_are_valid_and_shapes_follow_the_names(name):
    spec = GENERATORS[name]
    for p in spec.params:
        assert isinstance(p.default, p.kind)
        assert p.minimum <= p.default <= p.maximum, p.name
    assert spec.default_length >= spec.min_length()
    seq = generate(name, spec.default_length, seed=3)
    T = spec.default_length
    assert seq.length == T
    assert seq.inputs.shape == (T, len(seq.channel_names))
    assert seq.targets.shape == (T, len(seq.target_names))
    assert seq.inputs.dtype == np.float64 and seq.targets.dtype == np.float64
    assert seq.target_mask.shape == (T,) and seq.target_mask.dtype == np.bool_
    assert seq.loss == spec.loss
    assert dict(seq.params) == spec.defaults()
    assert seq.description
    for a in (seq.inputs, seq.targets, seq.target_mask):
        with pytest.raises(ValueError):
            a[0] = 0


@pytest.mark.parametrize("name", [n for n, s in GENERATORS.items() if s.loss == "ce"])
def test_class_targets_are_int_indices_with_matching_one_hot_rows(name):
    seq = generate(name, GENERATORS[name].default_length, seed=5)
    classes, mask = seq.target_classes, seq.target_mask
    assert classes.dtype == np.int64 and classes.shape == (seq.length,)
    assert seq.num_classes == len(seq.target_names) == seq.targets.shape[1]
    assert np.all((classes >= 0) & (classes < seq.num_classes))
    np.testing.assert_array_equal(seq.targets[mask], np.eye(seq.num_classes)[classes[mask]])
    assert np.all(seq.targets[~mask] == 0.0)


@pytest.mark.parametrize("name", [n for n, s in GENERATORS.items() if s.loss == "mse"])
def test_regression_generators_have_no_classes(name):
    seq = generate(name, GENERATORS[name].default_length)
    assert seq.target_classes is None and seq.num_classes is None


@pytest.mark.parametrize("name", list(GENERATORS))
def test_params_reproduce_the_sequence(name):
    seq = generate(name, GENERATORS[name].default_length, seed=11)
    again = generate(seq.name, seq.length, seq.seed, **seq.params)
    np.testing.assert_array_equal(again.inputs, seq.inputs)
    np.testing.assert_array_equal(again.targets, seq.targets)


# ------------------------------------------------------------------ signals


@pytest.mark.parametrize("name", [n for n in SIGNALS if n != "sine_plus_step"])
def test_signal_target_is_the_next_input(name):
    seq = generate(name, 200, seed=2)
    np.testing.assert_array_equal(seq.targets[:-1, 0], x(seq)[1:])
    assert seq.target_mask.all()
    assert seq.channel_names == ("x",)


def test_sine_follows_its_formula():
    period, amplitude, phase, offset = 12.5, 2.0, 0.3, -1.0
    seq = generate("sine", 80, period=period, amplitude=amplitude, phase=phase, offset=offset)
    t = np.arange(81)
    s = offset + amplitude * np.sin(2 * np.pi * t / period + phase)
    np.testing.assert_allclose(x(seq), s[:-1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(seq.targets[:, 0], s[1:], rtol=0, atol=1e-12)


def test_sine_defaults_start_at_zero_and_peak_a_quarter_period_later():
    seq = generate("sine", 40)  # period 20, amplitude 1
    assert x(seq)[0] == pytest.approx(0.0, abs=1e-12)
    assert x(seq)[5] == pytest.approx(1.0)
    assert x(seq)[15] == pytest.approx(-1.0)


def test_square_is_high_for_the_duty_fraction_of_each_period():
    seq = generate("square", 50, period=10.0, amplitude=1.5, duty=0.3)
    expected = np.tile([1.5] * 3 + [-1.5] * 7, 5)
    np.testing.assert_array_equal(x(seq), expected)
    assert seq.targets[-1, 0] == 1.5  # step 50 starts a new period


@pytest.mark.parametrize("duty, level", [(0.0, -1.0), (1.0, 1.0)])
def test_square_duty_extremes_are_constant(duty, level):
    assert np.all(x(generate("square", 30, duty=duty)) == level)


def test_sawtooth_ramps_from_minus_to_plus_amplitude():
    seq = generate("sawtooth", 20, period=10.0, amplitude=2.0)
    ramp = -2.0 + 0.4 * np.arange(10)
    np.testing.assert_allclose(x(seq), np.tile(ramp, 2), atol=1e-12)


def test_step_switches_level_at_k():
    seq = generate("step", 20, at=7, low=-1.0, high=3.0)
    assert np.all(x(seq)[:7] == -1.0) and np.all(x(seq)[7:] == 3.0)
    assert seq.targets[5, 0] == -1.0 and seq.targets[6, 0] == 3.0


def test_step_at_zero_is_high_throughout():
    assert np.all(x(generate("step", 5, at=0)) == 1.0)


def test_impulse_is_a_single_spike():
    seq = generate("impulse", 30, at=5, height=2.5)
    assert np.flatnonzero(x(seq)).tolist() == [5] and x(seq)[5] == 2.5
    assert np.flatnonzero(seq.targets[:, 0]).tolist() == [4]


def test_white_noise_has_the_requested_spread():
    seq = generate("white_noise", 40_000, seed=1, std=0.5)
    assert abs(x(seq).mean()) < 0.02
    assert x(seq).std() == pytest.approx(0.5, rel=0.03)


def test_random_walk_starts_at_zero_with_steps_of_the_requested_spread():
    seq = generate("random_walk", 40_000, seed=1, step_std=2.0)
    assert x(seq)[0] == 0.0
    assert np.diff(x(seq)).std() == pytest.approx(2.0, rel=0.03)


def test_sine_plus_step_target_is_the_level_under_the_sine():
    seq = generate("sine_plus_step", 60, period=8.0, amplitude=0.5, at=25, height=-2.0)
    t = np.arange(60)
    level = np.where(t >= 25, -2.0, 0.0)
    np.testing.assert_array_equal(seq.targets[:, 0], level)
    np.testing.assert_allclose(x(seq) - level, 0.5 * np.sin(2 * np.pi * t / 8.0), atol=1e-12)
    assert seq.target_mask.all()


# ------------------------------------------------------------------ adding problem


def check_adding(seq, first_window: int) -> tuple[int, int]:
    """Assert the 1997 definition; return the two marked steps (sorted)."""
    T = seq.length
    values, markers = seq.inputs[:, 0], seq.inputs[:, 1]
    assert np.all((values >= -1.0) & (values <= 1.0))
    assert set(np.unique(markers)) <= {-1.0, 0.0, 1.0}
    marked = np.flatnonzero(markers == 1.0)
    assert marked.size == 2
    assert marked.min() < first_window  # one mark among the first `first_window` steps
    assert marked.max() < T // 2  # the other in the first half
    unmarked_ends = [i for i in (0, T - 1) if i not in marked]
    assert np.all(markers[unmarked_ends] == -1.0)
    inner = np.setdiff1d(np.arange(1, T - 1), marked)
    assert np.all(markers[inner] == 0.0)
    if 0 in marked:
        assert values[0] == 0.0
    expected = 0.5 + values[marked].sum() / 4.0
    assert seq.targets[-1, 0] == pytest.approx(expected, abs=1e-15)
    assert seq.target_mask.tolist() == [False] * (T - 1) + [True]
    assert np.all(seq.targets[:-1] == 0.0)
    return int(marked[0]), int(marked[1])


@pytest.mark.parametrize("length", [20, 21, 100, 501])
def test_adding_follows_the_1997_definition(length):
    for seed in range(40):
        check_adding(generate("adding", length, seed=seed), first_window=10)


def test_adding_marks_cover_their_windows():
    firsts, seconds = set(), set()
    for seed in range(600):
        seq = generate("adding", 40, seed=seed, first_window=4)
        a, b = check_adding(seq, first_window=4)
        (firsts if a < 4 else seconds).add(a)
        seconds.add(b)
    assert firsts == {0, 1, 2, 3}
    assert seconds == set(range(1, 20))


def test_adding_with_a_mark_on_the_first_step_zeroes_its_value():
    seq = generate("adding", 12, seed=4, first_window=1)
    assert seq.inputs[0, 1] == 1.0 and seq.inputs[0, 0] == 0.0
    check_adding(seq, first_window=1)


# ------------------------------------------------------------------ temporal order


def test_temporal_order_follows_the_1997_definition():
    seen_classes, seen_t1, seen_t2 = set(), set(), set()
    for seed in range(400):
        seq = generate("temporal_order", 100, seed=seed)
        names = seq.channel_names
        assert sorted(names) == sorted("abcdXYEB")
        assert np.all(seq.inputs.sum(axis=1) == 1.0)
        symbols = [names[i] for i in seq.inputs.argmax(axis=1)]
        assert symbols[0] == "E" and symbols[-1] == "B"
        relevant = [i for i, s in enumerate(symbols) if s in "XY"]
        assert len(relevant) == 2
        t1, t2 = relevant
        assert 9 <= t1 <= 19 and 49 <= t2 <= 59  # the paper's 1-based 10..20 and 50..60
        assert all(s in "abcd" for i, s in enumerate(symbols[1:-1], 1) if i not in relevant)
        cls = int(seq.target_classes[-1])
        assert seq.target_names[cls] == symbols[t1] + symbols[t2]
        assert seq.target_mask.tolist() == [False] * 99 + [True]
        seen_classes.add(seq.target_names[cls])
        seen_t1.add(t1)
        seen_t2.add(t2)
    assert seen_classes == {"XX", "XY", "YX", "YY"}
    assert seen_t1 == set(range(9, 20)) and seen_t2 == set(range(49, 60))


def test_temporal_order_windows_scale_with_the_fractions():
    for seed in range(50):
        seq = generate("temporal_order", 200, seed=seed, t1_from=0.0, t1_to=0.05, t2_to=1.0)
        symbols = [seq.channel_names[i] for i in seq.inputs.argmax(axis=1)]
        t1, t2 = (i for i, s in enumerate(symbols) if s in "XY")
        assert 1 <= t1 <= 9  # 1-based 2..10: never on the leading E
        assert 99 <= t2 <= 198  # 1-based 100..199: never on the trailing B


# ------------------------------------------------------------------ copy memory


@pytest.mark.parametrize("length, k, alphabet", [(30, 5, 4), (11, 5, 8), (120, 10, 8)])
def test_copy_memory_reproduces_the_first_k_symbols_at_the_end(length, k, alphabet):
    seq = generate("copy_memory", length, seed=7, symbols=k, alphabet=alphabet)
    assert seq.inputs.shape == (length, alphabet + 2)
    assert seq.num_classes == alphabet + 1
    assert seq.channel_names[0] == "blank" and seq.channel_names[-1] == "delimiter"
    assert np.all(seq.inputs.sum(axis=1) == 1.0)
    cats = seq.inputs.argmax(axis=1)
    delimiter = alphabet + 1
    assert np.all((cats[:k] >= 1) & (cats[:k] <= alphabet))
    assert np.all(cats[k : length - k - 1] == 0)
    assert cats[length - k - 1] == delimiter
    assert np.all(cats[length - k :] == 0)
    np.testing.assert_array_equal(seq.target_classes[-k:], cats[:k])
    assert np.all(seq.target_classes[:-k] == 0)
    assert seq.target_mask.all()


# ------------------------------------------------------------------ latch


def test_latch_shows_the_class_then_noise_and_targets_its_sign():
    signs = set()
    for seed in range(30):
        seq = generate("latch", 40, seed=seed, latch_steps=3, amplitude=0.7, target_value=0.8)
        head = x(seq)[:3]
        assert np.all(np.abs(head) == 0.7) and np.all(head == head[0])
        assert seq.targets[-1, 0] == pytest.approx(0.8 * np.sign(head[0]))
        assert seq.target_mask.tolist() == [False] * 39 + [True]
        signs.add(np.sign(head[0]))
    assert signs == {-1.0, 1.0}


def test_latch_noise_has_the_requested_variance():
    seq = generate("latch", 40_001, seed=0, noise_variance=0.2)
    assert x(seq)[1:].var() == pytest.approx(0.2, rel=0.03)
    assert abs(x(seq)[1:].mean()) < 0.01


# ------------------------------------------------------------------ determinism


@pytest.mark.parametrize("name", list(GENERATORS))
def test_same_seed_same_sequence(name):
    a = generate(name, GENERATORS[name].default_length, seed=9)
    b = generate(name, GENERATORS[name].default_length, seed=9)
    np.testing.assert_array_equal(a.inputs, b.inputs)
    np.testing.assert_array_equal(a.targets, b.targets)
    np.testing.assert_array_equal(a.target_mask, b.target_mask)


@pytest.mark.parametrize("name", RANDOM)
def test_different_seeds_differ(name):
    a = generate(name, GENERATORS[name].default_length, seed=1)
    b = generate(name, GENERATORS[name].default_length, seed=2)
    assert not np.array_equal(a.inputs, b.inputs)


# ------------------------------------------------------------------ validation


def out_of_range_values(p):
    if p.kind is int:
        return [p.minimum - 1, p.maximum + 1]
    return [p.minimum - abs(p.minimum) * 0.5 - 0.5, p.maximum * 1.5 + 0.5]


PARAM_CASES = [(n, p) for n, s in GENERATORS.items() for p in s.params]


@pytest.mark.parametrize("name, param", PARAM_CASES, ids=[f"{n}.{p.name}" for n, p in PARAM_CASES])
def test_every_bad_parameter_value_is_named(name, param):
    spec = GENERATORS[name]
    wrong_type = [True, "1", None] + ([1.5] if param.kind is int else [math.nan, math.inf])
    for value in out_of_range_values(param) + wrong_type:
        with pytest.raises(GeneratorError) as err:
            generate(name, spec.default_length, **{param.name: value})
        message = str(err.value)
        assert param.name in message and name in message and "\n" not in message, message


@pytest.mark.parametrize(
    "name, length, kwargs, expected",
    [
        ("nope", 10, {}, "unknown generator 'nope'"),
        ("sine", 10, {"perod": 5.0}, "no parameter 'perod'"),
        ("sine", 0, {}, "length=0"),
        ("sine", MAX_LENGTH + 1, {}, f"length={MAX_LENGTH + 1}"),
        ("sine", 2.5, {}, "length must be an integer"),
        ("sine", True, {}, "length must be an integer"),
        ("sine", 10, {"seed": -1}, "seed"),
        ("sine", 10, {"seed": "3"}, "seed"),
        ("step", 50, {"at": 50}, "at=50"),
        ("impulse", 10, {"at": 10}, "at=10"),
        ("sine_plus_step", 20, {}, "at=50"),
        ("adding", 19, {}, "first_window=10"),
        ("adding", 3, {"first_window": 1}, "at least 4"),
        ("copy_memory", 20, {"symbols": 10}, "symbols=10"),
        ("latch", 3, {"latch_steps": 3}, "latch_steps=3"),
        ("temporal_order", 7, {}, "at least 8"),
        ("temporal_order", 100, {"t1_from": 0.3}, "t1_from=0.3"),
        ("temporal_order", 100, {"t1_to": 0.5}, "t2_from=0.5"),
        ("temporal_order", 100, {"t2_to": 0.4}, "t2_to=0.4"),
        ("temporal_order", 100, {"t1_from": 0.0, "t1_to": 0.0}, "t1_to=0"),
        ("temporal_order", 100, {"t2_from": 1.0, "t2_to": 1.0}, "t2_from=1"),
    ],
)
def test_bad_arguments_raise_one_line_errors(name, length, kwargs, expected):
    with pytest.raises(GeneratorError) as err:
        generate(name, length, **kwargs)
    assert expected in str(err.value)
    assert "\n" not in str(err.value)


def test_generator_error_is_a_value_error():
    assert issubclass(GeneratorError, ValueError)


@pytest.mark.parametrize("name", list(GENERATORS))
def test_min_length_is_accepted_and_one_less_is_not(name):
    spec = GENERATORS[name]
    shortest = spec.min_length()
    assert generate(name, shortest).length == shortest
    if shortest > 1:
        with pytest.raises(GeneratorError, match="length"):
            generate(name, shortest - 1)


# ------------------------------------------------------------------ properties


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_valid_length_gives_finite_arrays_of_the_right_shape(data):
    name = data.draw(st.sampled_from(list(GENERATORS)), label="name")
    spec = GENERATORS[name]
    length = data.draw(st.integers(spec.min_length(), spec.min_length() + 3000), label="length")
    seed = data.draw(st.integers(0, 2**32), label="seed")
    seq = generate(name, length, seed=seed)
    assert seq.inputs.shape == (length, len(seq.channel_names))
    assert seq.targets.shape == (length, len(seq.target_names))
    assert seq.target_mask.shape == (length,) and seq.target_mask.any()
    assert np.all(np.isfinite(seq.inputs)) and np.all(np.isfinite(seq.targets))


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(["sine", "square", "sawtooth", "sine_plus_step"]),
    length=st.integers(1, 2000),
    period=st.floats(2.0, 1e6),
    amplitude=st.floats(0.0, 1e6),
)
def test_periodic_signals_stay_within_their_amplitude(name, length, period, amplitude):
    kwargs = {"period": period, "amplitude": amplitude}
    if name == "sine_plus_step":
        kwargs["at"] = length - 1
    seq = generate(name, length, **kwargs)
    assert seq.inputs.shape == (length, 1) and seq.targets.shape == (length, 1)
    assert np.all(np.isfinite(seq.inputs)) and np.all(np.isfinite(seq.targets))
    bound = amplitude * (1 + 1e-12) + (1.0 if name == "sine_plus_step" else 0.0)
    assert np.all(np.abs(seq.inputs) <= bound)
