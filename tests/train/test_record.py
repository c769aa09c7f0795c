"""Training records as a session file stores them: a round trip keeps every number, and a
damaged record is refused with one line naming the problem."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from rnnviz.engine import NetworkConfig
from rnnviz.tasks import make_task
from rnnviz.train import (
    FitTask,
    Trainer,
    TrainError,
    TrainModel,
    TrainSettings,
    record_from_state,
    task_definition,
    task_from_definition,
)


@pytest.fixture(scope="module")
def saved():
    task = make_task("adding", 8, test_size=16)
    cfg = NetworkConfig(cell="gru", input_size=2, hidden_size=4, output_size=1)
    trainer = Trainer(task, [TrainModel("m", cfg)], TrainSettings(updates=12, eval_every=4))
    trainer.run(12)
    record = trainer.record(0)
    meta, arrays = record.to_state()
    return record, json.loads(json.dumps(meta, allow_nan=False)), arrays


def test_a_record_survives_its_saved_form(saved):
    record, meta, arrays = saved
    back = record_from_state(meta, arrays)
    assert back.update == record.update == 12
    assert back.history.equals(record.history)
    assert back.rng_state == record.rng_state
    assert back.settings == record.settings
    assert back.optimizer["kind"] == "Adam" and back.optimizer["steps"] == 12
    for name, values in record.optimizer["buffers"].items():
        for key, a in values.items():
            np.testing.assert_array_equal(back.optimizer["buffers"][name][key], a)
    assert back.make_task().to_dict() == record.make_task().to_dict()
    assert all(a.dtype.kind in "biuf" and (a.dtype.kind != "f" or np.isfinite(a).all())
               for a in arrays.values())


def _broken(saved, change):
    _, meta, arrays = saved
    meta, arrays = copy.deepcopy(meta), dict(arrays)
    change(meta, arrays)
    return meta, arrays


@pytest.mark.parametrize("change, text", [
    (lambda m, a: m.update(format="other"), "not an rnnviz training record"),
    (lambda m, a: m.update(version=99), "version 99"),
    (lambda m, a: m.pop("rng"), "lacks 'rng'"),
    (lambda m, a: m.update(extra=1), "unknown key 'extra'"),
    (lambda m, a: m.update(update=13), "loss must have shape"),
    (lambda m, a: m.update(update=-1), "update must be a whole number"),
    (lambda m, a: m.update(rng={"bit_generator": "PCG64", "state": "x"}), "PCG64"),
    (lambda m, a: m.update(start="elsewhere"), "start must be"),
    (lambda m, a: m["settings"].update(learning_rate=-1), "learning_rate"),
    (lambda m, a: m["task"].update(name="juggling"), "unknown task"),
    (lambda m, a: m["task"].update(length=10**9), "outside"),
    (lambda m, a: m.update(params=[["w", [10**9]]]), "params"),
    (lambda m, a: m.update(seconds=float("inf")), "seconds"),
    (lambda m, a: a.update(loss=np.full(12, np.nan)), "NaN or Inf"),
    (lambda m, a: a.pop("snapshots"), "'snapshots' is missing"),
    (lambda m, a: a.update(snapshots=np.zeros((3, 5))), "snapshots must have shape"),
    (lambda m, a: a.update(eval_update=np.array([0, 8, 4, 12])), "increase"),
    (lambda m, a: a.update(snapshot_update=np.array([0, 4, 8, 99])), "increase"),
    (lambda m, a: a.update(eval_update=np.zeros(4)), "whole numbers"),
    (lambda m, a: m["optimizer"].update(buffers=["exp_avg", "bogus"]), "'optimizer.bogus'"),
    (lambda m, a: m.update(optimizer={"kind": "Adam"}), "optimizer must be"),
    (lambda m, a: m.update(diverged={"update": "x"}), "diverged"),
    (lambda m, a: m.update(settings=[]), "settings must be a JSON object"),
])
def test_a_damaged_record_is_refused_with_one_line(saved, change, text):
    meta, arrays = _broken(saved, change)
    with pytest.raises(TrainError, match=text) as info:
        record_from_state(meta, arrays)
    assert "\n" not in str(info.value)


def test_task_definitions_rebuild_the_same_task_and_data():
    fit = FitTask(np.arange(10.0).reshape(5, 2), np.ones((5, 1)), [1, 1, 0, 1, 1], "mse", "all")
    next_step = make_task("next_step", 10, data=np.sin(np.arange(200.0) / 7))
    text = make_task("char_lm", 5, text="abcabcabcabd" * 20)
    for task in (make_task("flip_flop", 30, bits=2), fit, next_step, text):
        meta, arrays = task_definition(task)
        back = task_from_definition(json.loads(json.dumps(meta)), arrays)
        assert task_definition(back)[0] == meta
        rng1, rng2 = np.random.default_rng(5), np.random.default_rng(5)
        a, b = task.sample(rng1, 3), back.sample(rng2, 3)
        np.testing.assert_array_equal(a.inputs, b.inputs)
        np.testing.assert_array_equal(a.targets, b.targets)
        np.testing.assert_array_equal(a.mask, b.mask)
        assert back.baseline == task.baseline
