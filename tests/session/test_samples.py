"""The bundled trained samples hold what they are there to show (tools/make_samples.py makes
them with the trainer and checks it too): an LSTM that solved the adding problem beside a
vanilla RNN that did not, and a flip-flop LSTM with one stable fixed point per memory state."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rnnviz.engine.analysis import state_trajectory
from rnnviz.engine.dynamics import fixed_points
from rnnviz.io.session_file import load_session
from rnnviz.session import compute
from rnnviz.train import TrainingRecord

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples"


def test_the_adding_sample_has_an_lstm_that_solved_it_and_an_rnn_that_did_not():
    path = SAMPLES / "adding_lstm_vs_rnn.rnnviz"
    assert path.stat().st_size < 400_000
    doc, _ = load_session(path)
    lstm, rnn = doc.models
    assert (lstm.config.cell, rnn.config.cell) == ("lstm", "rnn_tanh")
    for model in doc.models:
        assert isinstance(model.training, TrainingRecord) and model.training.update == 1200
    task = lstm.training.make_task()
    assert task.name == "adding" and task.length == 100
    assert lstm.training.history.test_loss[-1] < task.loss_threshold
    assert rnn.training.history.test_loss[-1] > 0.9 * task.baseline
    # the numbers recorded are the weights' own: evaluate again
    test = task.test_set()
    for model in doc.models:
        out = model.network().forward(test.inputs).output
        assert task.loss_value(out, test) == pytest.approx(model.training.history.test_loss[-1],
                                                           rel=1e-12)
    results = compute(doc)
    assert results.model(0).loss.total < results.model(1).loss.total


def test_the_flip_flop_sample_has_eight_stable_fixed_points():
    doc, _ = load_session(SAMPLES / "flip_flop.rnnviz")
    [model] = doc.models
    task = model.training.make_task()
    assert task.name == "flip_flop" and model.training.history.success[-1] >= 0.99
    net = model.network()
    states = np.concatenate([state_trajectory(net, net.forward(task.test_set().inputs[k]))
                             for k in range(40)])
    points = fixed_points(net, np.zeros(3), states, count=512, noise=0.01, seed=0)
    assert points.count("stable") == 8
