"""The task API every task shares: registry, shapes, determinism, the fixed test set, examples,
scoring against the engine's losses, and one-line errors for bad options."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnviz.engine import losses
from rnnviz.session.document import Sequence
from rnnviz.tasks import (
    TASKS,
    Batch,
    Task,
    TaskError,
    TrainingDefaults,
    get_task_spec,
    make_task,
    parse_task_spec,
)

GENERATED = [n for n, s in TASKS.items() if s.needs == "none"]


# ------------------------------------------------------------------ registry


def test_registry_lists_every_task_with_a_reference():
    assert list(TASKS) == ["adding", "adding_hs", "temporal_order", "copy_memory", "latch",
                           "flip_flop", "next_step", "char_lm"]
    for name, spec in TASKS.items():
        assert spec.name == name and spec.title and spec.summary and spec.length_help
        assert spec.reference and ("(19" in spec.reference or "(20" in spec.reference)
        assert spec.min_length <= spec.default_length <= spec.max_length
        assert spec.cls.__doc__ and len(spec.cls.__doc__) > 300
        assert spec.loss in ("mse", "ce")


@pytest.mark.parametrize("name", list(TASKS))
def test_option_defaults_lie_in_their_ranges(name):
    for option in TASKS[name].options:
        assert isinstance(option.default, option.kind), option.name
        if option.kind in (int, float):
            assert option.minimum <= option.default <= option.maximum, option.name
        if option.kind is str:
            assert option.default in option.choices, option.name
        assert option.check(option.default, name) == option.default
        assert option.help


def test_make_task_uses_the_default_length_and_records_its_options():
    task = make_task("latch")
    assert task.length == TASKS["latch"].default_length == 100
    assert dict(task.options) == TASKS["latch"].defaults()
    again = make_task(task.name, task.length, **task.options)
    np.testing.assert_array_equal(again.test_set().inputs, task.test_set().inputs)


def test_to_dict_round_trips_through_json(task: Task):
    import json

    d = json.loads(json.dumps(task.to_dict()))
    extra = {}
    if TASKS[task.name].needs == "data":
        extra["data"] = task.data
    rebuilt = make_task(d["name"], d["length"], **extra, **d["options"])
    assert rebuilt.to_dict() == task.to_dict()
    np.testing.assert_array_equal(rebuilt.test_set().inputs, task.test_set().inputs)


def test_parse_task_spec_reads_a_command_line_value():
    name, values = parse_task_spec("copy_memory:symbols=5, scored=recall,alphabet=4")
    assert name == "copy_memory"
    assert values == {"symbols": 5, "scored": "recall", "alphabet": 4}
    assert make_task(name, 30, **values).steps == 40
    assert parse_task_spec("flip_flop:start_pulse=off")[1] == {"start_pulse": False}
    assert parse_task_spec("adding") == ("adding", {})


# ------------------------------------------------------------------ shapes and conventions


def test_batch_shapes_dtypes_and_conventions(task: Task):
    batch = task.sample(np.random.default_rng(1), 7)
    steps = task.steps
    assert isinstance(batch, Batch) and batch.size == len(batch) == 7 and batch.steps == steps
    assert batch.inputs.shape == (7, steps, task.input_size)
    assert batch.inputs.dtype == np.float64
    assert batch.mask.shape == (7, steps) and batch.mask.dtype == np.bool_
    if task.loss == "mse":
        assert batch.targets.shape == (7, steps, task.output_size)
        assert batch.targets.dtype == np.float64
        assert np.all(batch.targets[~batch.mask] == 0.0)
        assert task.readout == "identity"
    else:
        assert batch.targets.shape == (7, steps) and batch.targets.dtype == np.int64
        assert np.all((batch.targets >= 0) & (batch.targets < task.output_size))
        assert task.readout == "softmax"
    assert np.all(np.isfinite(batch.inputs))
    # every sequence has the same number of scored steps, so batch means combine exactly
    assert len(set(batch.mask.sum(axis=1).tolist())) == 1
    if task.where == "last":
        assert batch.mask[:, -1].all() and not batch.mask[:, :-1].any()
    assert len(task.channel_names) == task.input_size
    assert len(task.target_names) == task.output_size
    assert math.isfinite(task.baseline) and task.baseline > 0 and task.baseline_note
    assert 0.0 < task.success_threshold <= 1.0 and task.success_name


def test_training_defaults_are_data_the_app_can_read(task: Task):
    defaults = task.training
    assert isinstance(defaults, TrainingDefaults)
    d = defaults.as_dict()
    assert set(d) == {"cell", "hidden_size", "num_layers", "optimizer", "learning_rate",
                      "batch_size", "clip_norm", "updates", "eval_every"}
    assert d["hidden_size"] >= 1 and d["batch_size"] >= 1 and 0 < d["learning_rate"] < 1
    assert d["updates"] >= d["eval_every"] >= 1


def test_adding_defaults_at_length_100():
    d = make_task("adding", 100).training
    assert (d.cell, d.hidden_size, d.batch_size, d.optimizer, d.learning_rate, d.clip_norm) == (
        "lstm", 32, 32, "adam", 1e-2, 1.0)


# ------------------------------------------------------------------ determinism and test set


def _same(a: Batch, b: Batch) -> bool:
    return all(x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y)
               for x, y in ((a.inputs, b.inputs), (a.targets, b.targets), (a.mask, b.mask)))


def test_same_seed_gives_the_same_batches_bit_for_bit(task: Task, build_task):
    first, second = np.random.default_rng(123), np.random.default_rng(123)
    for _ in range(3):
        a, b = task.sample(first, 16), task.sample(second, 16)
        assert _same(a, b)
        assert a.inputs.tobytes() == b.inputs.tobytes()
    # a rebuilt task draws the same from the same seed
    c = build_task(task.name, test_size=64).sample(np.random.default_rng(123), 16)
    assert _same(c, task.sample(np.random.default_rng(123), 16))


def test_batches_change_with_the_seed_and_as_the_generator_advances(task: Task):
    rng = np.random.default_rng(0)
    a, b = task.sample(rng, 16), task.sample(rng, 16)
    c = task.sample(np.random.default_rng(1), 16)
    assert not np.array_equal(a.inputs, b.inputs)
    assert not np.array_equal(a.inputs, c.inputs)


def test_test_set_is_fixed_read_only_and_the_same_for_a_rebuilt_task(task: Task, build_task):
    test = task.test_set()
    assert task.test_set() is test
    assert test.size == task.test_size >= 1
    for a in (test.inputs, test.targets, test.mask):
        with pytest.raises(ValueError):
            a.flat[0] = 0
    assert _same(build_task(task.name, test_size=64).test_set(), test)


@pytest.mark.parametrize("name", GENERATED)
def test_generated_test_set_is_not_any_small_seeds_stream(name):
    task = make_task(name, test_size=16)
    test = task.test_set()
    assert test.size == 16
    for seed in range(20):
        assert not np.array_equal(task.sample(np.random.default_rng(seed), 16).inputs,
                                  test.inputs)


@pytest.mark.parametrize("name", GENERATED)
def test_test_size_sets_the_number_of_test_sequences(name):
    small, large = make_task(name, test_size=5), make_task(name, test_size=50)
    assert small.test_set().size == 5 and large.test_set().size == 50


def test_batch_slicing_split_and_cast():
    task = make_task("adding", 20)
    batch = task.sample(np.random.default_rng(0), 10)
    parts = list(batch.split(4))
    assert [p.size for p in parts] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([p.inputs for p in parts]), batch.inputs)
    x, y, m = batch.sequence(3)
    np.testing.assert_array_equal(x, batch.inputs[3])
    assert y.shape == (20, 1) and m.shape == (20,)
    f32 = batch.astype(np.float32)
    assert f32.inputs.dtype == np.float32 and f32.targets.dtype == np.float32
    ce = make_task("temporal_order").sample(np.random.default_rng(0), 2).astype(np.float32)
    assert ce.targets.dtype == np.int64
    with pytest.raises(TaskError, match="split size"):
        list(batch.split(0))


# ------------------------------------------------------------------ examples


def test_example_is_the_first_sequence_of_its_seeds_batch(task: Task):
    ex = task.example(seed=4)
    one = task.sample(np.random.default_rng(4), 1)
    np.testing.assert_array_equal(ex.inputs, one.inputs[0])
    np.testing.assert_array_equal(ex.targets, one.targets[0])
    np.testing.assert_array_equal(ex.mask, one.mask[0])
    assert ex.task == task.name and ex.seed == 4 and ex.steps == task.steps
    assert ex.loss == task.loss and ex.where == task.where
    assert ex.channel_names == task.channel_names and ex.target_names == task.target_names
    assert ex.description and "\n" not in ex.description
    with pytest.raises(ValueError):
        ex.inputs[0, 0] = 1.0
    rows = ex.one_hot_targets()
    assert rows.shape == (task.steps, task.output_size)
    if task.loss == "ce":
        np.testing.assert_array_equal(np.argmax(rows[ex.mask], axis=1), ex.targets[ex.mask])


def test_example_makes_a_document_sequence(task: Task):
    ex = task.example(seed=2)
    targets = ex.targets if ex.loss == "mse" else ex.targets[:, None]
    seq = Sequence(ex.inputs, targets=targets, target_mask=ex.mask, labels=ex.labels,
                   channel_names=ex.channel_names, text=ex.text, vocabulary=ex.vocabulary)
    assert seq.steps == task.steps and seq.channels == task.input_size


def test_char_example_carries_its_characters():
    ex = make_task("char_lm").example(0)
    assert ex.text is not None and len(ex.text) == ex.steps == len(ex.labels)
    assert "".join(ex.vocabulary[i] for i in np.argmax(ex.inputs, axis=1)) == ex.text


# ------------------------------------------------------------------ scoring


def _random_outputs(task: Task, batch: Batch, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((batch.size, batch.steps,
                                                        task.output_size))


def test_loss_value_matches_the_engine_losses(task: Task):
    batch = task.sample(np.random.default_rng(2), 6)
    out = _random_outputs(task, batch)
    per_sequence = []
    for b in range(batch.size):
        mask = losses.step_mask(batch.steps, task.where, batch.mask[b])
        if task.loss == "mse":
            per_sequence.append(losses.mse(out[b], batch.targets[b], mask).total)
        else:
            per_sequence.append(losses.cross_entropy(out[b], batch.targets[b], mask).total)
    assert task.loss_value(out, batch) == pytest.approx(np.mean(per_sequence), rel=1e-12)


def test_perfect_outputs_succeed_and_evaluate_agrees(task: Task):
    batch = task.test_set()
    if task.loss == "mse":
        perfect = batch.targets.copy()
    else:
        perfect = np.full((batch.size, batch.steps, task.output_size), -30.0)
        np.put_along_axis(perfect, batch.targets[..., None], 30.0, axis=-1)
    assert task.success(perfect, batch) == 1.0
    assert task.solved(perfect, batch)
    result = task.evaluate(perfect, batch)
    assert result.success == 1.0 and result.solved and result.loss < 1e-12
    if task.loss_threshold is not None:
        assert result.loss < task.loss_threshold


def test_random_outputs_neither_succeed_nor_solve(task: Task):
    batch = task.test_set()
    out = 5.0 * _random_outputs(task, batch)
    result = task.evaluate(out, batch)
    assert 0.0 <= result.success < task.success_threshold and not result.solved
    assert result.loss > task.baseline


def test_chunked_evaluation_equals_the_whole(task: Task):
    batch = task.sample(np.random.default_rng(3), 10)
    out = _random_outputs(task, batch)
    whole = task.loss_value(out, batch), task.success(out, batch)
    parts = [(p.size, task.loss_value(out[i:i + p.size], p), task.success(out[i:i + p.size], p))
             for i, p in zip(range(0, 10, 4), batch.split(4), strict=True)]
    assert sum(n * loss for n, loss, _ in parts) / 10 == pytest.approx(whole[0], rel=1e-12)
    assert sum(n * s for n, _, s in parts) / 10 == pytest.approx(whole[1], rel=1e-12)


def test_nan_outputs_do_not_count_as_success():
    task = make_task("flip_flop")
    batch = task.test_set()
    out = np.full((batch.size, batch.steps, 3), np.nan)
    assert task.success(out, batch) == 0.0 and not task.solved(out, batch)
    assert math.isnan(task.loss_value(out, batch))
    adding = make_task("adding", 20)
    test = adding.test_set()
    assert adding.success(np.full((test.size, 20, 1), np.nan), test) == 0.0


def test_outputs_of_the_wrong_shape_are_refused_in_one_line():
    task = make_task("adding", 20, test_size=8)
    with pytest.raises(TaskError, match=r"^adding: outputs must have shape \(8, 20, 1\), got"):
        task.loss_value(np.zeros((8, 20)), task.test_set())
    with pytest.raises(TaskError, match="outputs must be numbers"):
        task.success([["a"]], task.test_set())


# ------------------------------------------------------------------ bad options


BAD = [
    (lambda: make_task("nope"), r"^unknown task 'nope'; expected one of: adding, adding_hs"),
    (lambda: make_task("adding", 1), r"^adding: length=1 is outside \[2, 100000\]$"),
    (lambda: make_task("adding", 2.5), r"^adding: length must be a whole number in \[2, 100000\]"),
    (lambda: make_task("adding", True), r"^adding: length must be a whole number"),
    (lambda: make_task("adding", wibble=3),
     r"^adding has no option 'wibble' \(options: test_size\)"),
    (lambda: make_task("adding", test_size=0), r"^adding: test_size=0 is outside \[1, 100000\]$"),
    (lambda: make_task("adding_hs", 15),
     r"^adding_hs: length=15 is outside \[20, 100000\] \(first_window=10 needs at least 20"),
    (lambda: make_task("adding_hs", first_window="3"),
     r"^adding_hs: first_window must be a whole number in \[1, 50000\], got '3'$"),
    (lambda: make_task("temporal_order", 9), r"^temporal_order: length=9 is outside \[10, "),
    (lambda: make_task("copy_memory", alphabet=1),
     r"^copy_memory: alphabet=1 is outside \[2, 64\]$"),
    (lambda: make_task("copy_memory", symbols=0),
     r"^copy_memory: symbols=0 is outside \[1, 1000\]$"),
    (lambda: make_task("copy_memory", scored="some"),
     r"^copy_memory: scored='some' is not one of all, recall$"),
    (lambda: make_task("copy_memory", 0), r"^copy_memory: length=0 is outside \[1, 99980\]"),
    (lambda: make_task("latch", 3, info_steps=3),
     r"^latch: length=3 is outside \[4, 100000\] \(info_steps=3 needs at least 4 steps\)$"),
    (lambda: make_task("latch", noise_variance=-1.0),
     r"^latch: noise_variance=-1 is outside \[0, 100\]$"),
    (lambda: make_task("latch", noise_variance=float("nan")),
     r"^latch: noise_variance must be a finite number in \[0, 100\]"),
    (lambda: make_task("flip_flop", p_pulse=1.5), r"^flip_flop: p_pulse=1.5 is outside \[0, 1\]$"),
    (lambda: make_task("flip_flop", bits=0), r"^flip_flop: bits=0 is outside \[1, 64\]$"),
    (lambda: make_task("flip_flop", start_pulse=1),
     r"^flip_flop: start_pulse must be true or false, got 1$"),
    (lambda: make_task("next_step"), r"^next_step: needs data, a \(T, I\) array"),
    (lambda: make_task("next_step", data=[[1.0, np.nan]] * 50),
     r"^next_step: data must be finite; step 0, channel 1 is nan$"),
    (lambda: make_task("next_step", data=np.zeros((4, 3, 2))),
     r"^next_step: data must be a \(T, I\) array, got shape \(4, 3, 2\)$"),
    (lambda: make_task("next_step", data=["x", "y"]), r"^next_step: data must be a \(T, I\) array"),
    (lambda: make_task("next_step", 120, data=np.zeros(200)),
     r"^next_step: length=120 is too long for 200 points held out at test_fraction=0.2; "
     r"at most 99$"),
    (lambda: make_task("next_step", data=np.zeros(200), test_fraction=0.9),
     r"^next_step: test_fraction=0.9 is outside \[0.05, 0.5\]$"),
    (lambda: make_task("next_step", data=np.zeros(3)), r"^next_step: 3 points are too few"),
    (lambda: make_task("char_lm", corpus="missing.txt"),
     r"^char_lm: corpus='missing.txt' is not one of .*tiny_shakespeare.txt$"),
    (lambda: make_task("char_lm", 150), r"^char_lm: length=150 is too long for 198 points"),
    (lambda: make_task("char_lm", text=""), r"^char_lm: text is empty$"),
    (lambda: make_task("char_lm", text=5), r"^char_lm: text must be a string, got int$"),
    (lambda: make_task("adding", data=np.zeros(10)), r"^adding: takes no data"),
    (lambda: make_task("adding", text="abc"), r"^adding: takes no text"),
    (lambda: parse_task_spec("latch:info_steps"), r"^latch: expected key=value, got 'info_steps'"),
    (lambda: parse_task_spec("latch:info_steps=two"),
     r"^latch: info_steps must be a whole number in \[1, 99999\], got 'two'$"),
    (lambda: parse_task_spec("latch:info_steps=1,info_steps=2"),
     r"^latch: info_steps is given twice"),
    (lambda: parse_task_spec("flip_flop:start_pulse=maybe"),
     r"^flip_flop: start_pulse must be true or false, got 'maybe'$"),
]


@pytest.mark.parametrize("call, message", BAD, ids=[m[:40] for _, m in BAD])
def test_bad_options_give_one_line_errors_naming_the_option_and_range(call, message):
    with pytest.raises(TaskError, match=message) as info:
        call()
    assert isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)


def test_bad_sample_arguments_are_refused_in_one_line():
    task = make_task("adding", 20)
    with pytest.raises(TaskError, match=r"^adding: batch=0 is outside \[1, 100000\]$"):
        task.sample(np.random.default_rng(0), 0)
    with pytest.raises(TaskError, match=r"^adding: batch must be a whole number"):
        task.sample(np.random.default_rng(0), 2.0)
    with pytest.raises(TaskError, match=r"^adding: rng must be a numpy.random.Generator, got int"):
        task.sample(0, 4)
    with pytest.raises(TaskError, match=r"^adding: seed must be a non-negative whole number"):
        task.example(-1)
    huge = make_task("copy_memory", 99_000, alphabet=64)
    with pytest.raises(TaskError, match=r"^copy_memory: a batch of 1000 × 99020 steps × 66 inputs "
                                        r"needs 50\.2 GiB; at most 1 GiB is allowed$"):
        huge.sample(np.random.default_rng(0), 1000)


def test_spec_lookup_and_option_lookup():
    spec = get_task_spec("flip_flop")
    assert spec.option("p_pulse").range_text() == "[0, 1]"
    assert spec.option("start_pulse").range_text() == "true or false"
    assert get_task_spec("copy_memory").option("scored").range_text() == "one of all, recall"
    with pytest.raises(TaskError, match="flip_flop has no option 'p'"):
        spec.option("p")
