"""The bundled demos load and compute, and show what they are there to show."""

import numpy as np
import pytest

from rnnviz.session import SessionError, compute
from rnnviz.session.demos import DEMOS, load_demo


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


def test_text_demo_labels_the_time_axis_with_characters():
    doc = load_demo("text")
    assert doc.sequence.labels[:3] == ("T", "o", "␣")
    assert doc.task.loss == "ce"
    assert doc.models[0].config.output_size == len(doc.sequence.vocabulary)


def test_unknown_demo_is_refused():
    with pytest.raises(SessionError, match="unknown demo 'nope'"):
        load_demo("nope")
