"""Training a document's models: runs hand out documents with their results, examples of
tasks become the sequence, and a saved and reopened session trains on exactly as an
uninterrupted run."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from rnnviz.io.errors import FileFormatError
from rnnviz.io.session_file import load_session, save_session
from rnnviz.jobs import run_job
from rnnviz.session import Model, ViewState, compute
from rnnviz.session.demos import load_demo
from rnnviz.session.training import (
    TaskChoice,
    TrainingRun,
    example_document,
    fit_problem,
    next_step_document,
    reset_document,
    snapshot_document,
)
from rnnviz.train import DONE, TrainError, TrainingRecord, TrainSettings

SETTINGS = TrainSettings(updates=30, eval_every=10, batch_size=8)


def adding_doc():
    doc = load_demo("adding")
    model = doc.models[0]
    return doc.with_model(0, Model(model.name, model.config.replace(hidden_size=8)))


def same(a, b) -> bool:
    return set(a) == set(b) and all(np.array_equal(a[k], b[k]) for k in a)


def test_a_run_hands_out_documents_with_their_results_computed():
    doc = adding_doc()
    task = TaskChoice("adding", 20, {"test_size": 32}).build(doc)
    run = TrainingRun(doc, [0], task, SETTINGS)
    snaps = []
    job = run.job(30)
    job.publish_every = 0.0
    final = run_job(job, on_snapshot=snaps.append)
    assert final.status == DONE and len(snaps) == 29
    for snap in (snaps[3], final):
        extra = snap.extra
        model = extra.document.models[0]
        assert same(model.weights, snap.weights[0])
        assert isinstance(model.training, TrainingRecord)
        assert model.training.update == snap.update
        fresh = compute(extra.document)
        assert extra.results.document is extra.document
        np.testing.assert_array_equal(extra.results.model(0).trace.hidden,
                                      fresh.model(0).trace.hidden)
        assert extra.results.model(0).loss.total == fresh.model(0).loss.total
    assert extra.document.sequence is doc.sequence


def test_a_sequence_edited_during_a_run_is_the_one_the_next_snapshots_show():
    doc = adding_doc()
    task = TaskChoice("adding", 20, {"test_size": 32}).build(doc)
    run = TrainingRun(doc, [0], task, SETTINGS)
    edited = doc.with_sequence(doc.sequence.with_inputs(doc.sequence.inputs * 0.5))
    job = run.job(30)

    def on_progress(_f, message):
        if message.startswith("update 10/"):
            run.set_base(edited)

    final = run_job(job, on_progress)
    assert final.extra.base is edited
    np.testing.assert_array_equal(final.extra.document.sequence.inputs, edited.sequence.inputs)
    assert same(final.extra.document.models[0].weights, final.weights[0])


def test_a_saved_and_reopened_session_trains_on_exactly_as_an_uninterrupted_run(tmp_path):
    doc = adding_doc()
    task = TaskChoice("adding", 20, {"test_size": 32}).build(doc)
    whole = run_job(TrainingRun(doc, [0], task, SETTINGS.replace(updates=60)).job(60))

    half = run_job(TrainingRun(doc, [0], task, SETTINGS).job(30))
    path = tmp_path / "half.rnnviz"
    save_session(path, half.extra.document, ViewState())
    reopened, _ = load_session(path)
    record = reopened.models[0].training
    choice = TaskChoice.from_record(record)
    assert choice == TaskChoice("adding", 20, {"test_size": 32})
    run = TrainingRun(reopened, [0], choice.build(reopened), record.settings.replace(updates=60))
    assert run.prepare().continued
    rest = run_job(run.job(60))
    assert same(rest.weights[0], whole.weights[0])
    assert rest.records[0].history.equals(whole.records[0].history)
    # and saving is deterministic: the same document gives the same bytes
    again = tmp_path / "again.rnnviz"
    save_session(again, half.extra.document, ViewState())
    assert again.read_bytes() == path.read_bytes()


def test_a_damaged_training_record_in_a_session_file_is_refused_in_one_line(tmp_path):
    doc = adding_doc()
    task = TaskChoice("adding", 20, {"test_size": 32}).build(doc)
    done = run_job(TrainingRun(doc, [0], task, SETTINGS).job(10))
    path = tmp_path / "s.rnnviz"
    save_session(path, done.extra.document, ViewState())
    bad = tmp_path / "bad.rnnviz"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "session.json":
                meta = json.loads(data)
                meta["models"][0]["training"]["meta"]["update"] = 11
                data = json.dumps(meta).encode()
            dst.writestr(item, data)
    with pytest.raises(FileFormatError, match="bad.rnnviz: .*bad training record: loss must "
                                              "have shape") as info:
        load_session(bad)
    assert "\n" not in str(info.value)


def test_examples_of_tasks_become_the_sequence_and_the_models_follow():
    doc = load_demo("sine")
    for name, length in (("adding", 30), ("temporal_order", 40), ("char_lm", 20),
                         ("flip_flop", 25)):
        task = TaskChoice(name, length).build(doc)
        assert fit_problem(task, doc, [0]) is not None
        shown = example_document(doc, task, seed=2)
        assert fit_problem(task, shown, [0]) is None, name
        assert shown.sequence.steps == task.steps
        np.testing.assert_array_equal(shown.sequence.inputs, task.example(2).inputs)
        assert shown.models[0].config.output_size == task.output_size
    temporal = TaskChoice("temporal_order", 40).build(doc)
    shown = example_document(doc, temporal)
    assert shown.sequence.vocabulary == temporal.target_names
    assert shown.task.loss == "ce" and shown.models[0].config.readout == "softmax"


def test_fit_problem_names_what_does_not_match():
    doc = load_demo("sine")
    adding = TaskChoice("adding", 30).build(doc)
    assert fit_problem(adding, doc, [0]) == "the sequence has 1 channel(s); Adding problem reads 2"
    assert fit_problem(TaskChoice("fit").build(doc), doc, [0]) is None
    with pytest.raises(TrainError, match="no targets to fit"):
        TaskChoice("fit").build(doc.with_sequence(type(doc.sequence)(doc.sequence.inputs)))


def test_next_step_prediction_of_the_documents_own_input():
    doc = load_demo("sine")
    task = TaskChoice("next_step", 30).build(doc)
    shown = example_document(doc, task)
    assert shown is not doc and fit_problem(task, shown, [0]) is None
    np.testing.assert_array_equal(shown.sequence.targets[:-1], doc.sequence.inputs[1:])
    assert not shown.sequence.target_mask[-1]
    assert next_step_document(doc).task.where == "all"
    done = run_job(TrainingRun(shown, [0], task, SETTINGS).job(5))
    assert done.update == 5


def test_a_snapshot_and_the_reset_bring_back_earlier_weights():
    doc = adding_doc()
    task = TaskChoice("adding", 20, {"test_size": 32}).build(doc)
    done = run_job(TrainingRun(doc, [0], task, SETTINGS).job(30))
    trained = done.extra.document
    at10 = snapshot_document(trained, [0], 10)
    mid = run_job(TrainingRun(doc, [0], task, SETTINGS).job(10))
    assert same(at10.models[0].weights, mid.weights[0])
    assert at10.models[0].training.update == 10
    assert at10.models[0].training.optimizer is None
    back = reset_document(trained, [0])
    assert back.models[0].training is None
    assert same(back.models[0].weights, doc.models[0].network().state_dict())
