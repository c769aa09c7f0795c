"""The bundled demos load and compute, and show what they are there to show."""

import numpy as np
import pytest

from rnnviz.jobs import run_job
from rnnviz.session import SessionError, compute
from rnnviz.session.demos import DEMOS, load_demo
from rnnviz.session.training import TrainingRun, suggest_choice
from rnnviz.train import TrainSettings


@pytest.mark.parametrize("name", list(DEMOS))
def test_every_demo_computes_finite_results(name):
    res = compute(load_demo(name))
    assert res.nonfinite_step is None
    assert res.models[0].loss is not None and np.isfinite(res.models[0].loss.total)
    assert res.models[0].trace.output.shape[0] == res.document.sequence.steps


def test_vanishing_and_exploding_demos_show_their_gradients():
    vanish = compute(load_demo("vanishing")).models[0].grads.hidden_norm[0]
    explode = compute(load_demo("exploding")).models[0].grads.hidden_norm[0]
    assert vanish[0] < 1e-6 * vanish[-1]
    assert explode[0] > 100 * explode[-1]


def test_the_lstm_demo_holds_its_gradient_where_the_vanilla_rnn_loses_it():
    doc = load_demo("adding")
    assert doc.models[0].config.forget_bias == 3.0
    assert "forget bias" in DEMOS["adding"].description
    lstm = compute(doc).models[0].grads.hidden_norm[0]
    vanilla = compute(load_demo("vanishing")).models[0].grads.hidden_norm[0]
    assert lstm[0] > 1e-2 * lstm[-1]  # 100 steps back, the gradient is still there
    assert lstm[0] / lstm[-1] > 1e6 * (vanilla[0] / vanilla[-1])
    without = compute(doc.with_config(0, doc.models[0].config.replace(forget_bias=None)))
    g = without.models[0].grads.hidden_norm[0]
    assert g[0] < 1e-12 * g[-1]  # what the bias is for: without it the LSTM forgets


def test_text_demo_labels_the_time_axis_with_characters():
    doc = load_demo("text")
    assert doc.sequence.labels[:3] == ("T", "o", "␣")
    assert doc.task.loss == "ce"
    assert doc.models[0].config.output_size == len(doc.sequence.vocabulary)


def test_unknown_demo_is_refused():
    with pytest.raises(SessionError, match="unknown demo 'nope'"):
        load_demo("nope")


def test_training_the_adding_demo_with_what_the_form_suggests_solves_it():
    """Train on the adding demo, as the Training dock fills itself in: the LSTM gets below
    the task's success threshold (the seed's claim, seen happening in the window)."""
    doc = load_demo("adding")
    choice = suggest_choice(doc)
    assert (choice.name, choice.length) == ("adding", 100)
    task = choice.build(doc)
    settings = TrainSettings.from_defaults(task.training, seed=0)
    snap = run_job(TrainingRun(doc, [0], task, settings.replace(updates=1000)).job(1000))
    test_loss = np.asarray(snap.records[0].history.test_loss)
    assert test_loss[0] > 0.1  # it starts above the baseline of 0.167...
    assert test_loss[-1] < 0.01  # ...and has solved the task by update 1000

