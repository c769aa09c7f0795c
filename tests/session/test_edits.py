"""Sequence edits: each a pure function whose result the user sees in the input plot."""

import numpy as np
import pytest

from rnnviz.session import Sequence, SessionError, edits
from rnnviz.session.demos import load_demo


def _seq(steps=10):
    x = np.arange(steps * 2, dtype=float).reshape(steps, 2)
    return Sequence(x, targets=np.zeros((steps, 1)), target_mask=np.ones(steps, bool))


def test_set_values_changes_only_the_given_points():
    seq = _seq()
    new = edits.set_values(seq, 1, [3, 4], [9.0, -9.0])
    expected = seq.inputs.copy()
    expected[[3, 4], 1] = [9.0, -9.0]
    np.testing.assert_array_equal(new.inputs, expected)
    np.testing.assert_array_equal(seq.inputs[3], [6.0, 7.0])  # the old value is untouched
    target = edits.set_values(seq, edits.TARGET, [0], [0.5])
    assert target.targets[0, 0] == 0.5


def test_stroke_replaces_values_under_it_by_interpolation():
    seq = _seq()
    new = edits.stroke(seq, 0, [(2.0, 0.0), (6.0, 4.0), (4.0, 2.0)])
    np.testing.assert_allclose(new.inputs[2:7, 0], [0.0, 1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(new.inputs[:2], seq.inputs[:2])
    np.testing.assert_array_equal(new.inputs[7:], seq.inputs[7:])
    np.testing.assert_array_equal(new.inputs[:, 1], seq.inputs[:, 1])


def test_insert_delete_and_resize_keep_every_column_aligned():
    seq = _seq(5)
    grown = edits.insert_steps(seq, 2, 3)
    assert grown.steps == 8
    np.testing.assert_array_equal(grown.inputs[2:5], np.repeat(seq.inputs[1:2], 3, axis=0))
    assert grown.targets.shape == (8, 1) and grown.target_mask.shape == (8,)
    back = edits.delete_steps(grown, 2, 5)
    np.testing.assert_array_equal(back.inputs, seq.inputs)
    assert edits.resize(seq, 2).steps == 2 and edits.resize(seq, 7).steps == 7
    with pytest.raises(SessionError, match="at least one step"):
        edits.delete_steps(seq, 0, 5)


def test_bad_edits_are_refused():
    seq = _seq()
    with pytest.raises(SessionError, match="steps must lie in 0..9"):
        edits.set_values(seq, 0, [10], [1.0])
    with pytest.raises(SessionError, match="finite"):
        edits.set_values(seq, 0, [1], [np.nan])
    with pytest.raises(SessionError, match="channel 5 does not exist"):
        edits.set_values(seq, 5, [1], [1.0])


def test_a_text_sequence_is_encoded_from_its_text_and_not_edited_value_by_value():
    from rnnviz.session.demos import sequence_from_text
    from rnnviz.tasks.text import encode_text

    new = sequence_from_text(encode_text("abca"))
    assert new.labels == ("a", "b", "c", "a") and new.vocabulary == ("a", "b", "c")
    np.testing.assert_array_equal(new.inputs.argmax(axis=1), [0, 1, 2, 0])
    np.testing.assert_array_equal(new.targets[:3, 0], [1, 2, 0])
    with pytest.raises(SessionError, match="edited through its text"):
        edits.set_values(load_demo("text").sequence, 0, [0], [1.0])
