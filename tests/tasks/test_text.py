"""Text encoding: one-hot inputs, next-character targets, labels and decoding."""

from __future__ import annotations

import string

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnviz.tasks.text import MAX_TEXT_LENGTH, TextError, decode, encode_text, visible_char


def test_text_mode_vocabulary_is_the_sorted_distinct_characters():
    enc = encode_text("hello world")
    assert enc.vocabulary == (" ", "d", "e", "h", "l", "o", "r", "w")
    assert enc.inputs.shape == (11, 8) and enc.inputs.dtype == np.float64
    assert enc.length == 11 and enc.text == "hello world"


def test_inputs_are_one_hot_and_decode_back_to_the_text():
    enc = encode_text("abracadabra")
    assert np.all(enc.inputs.sum(axis=1) == 1.0)
    assert set(np.unique(enc.inputs)) == {0.0, 1.0}
    chars = [enc.vocabulary[i] for i in enc.inputs.argmax(axis=1)]
    assert "".join(chars) == "abracadabra"
    assert enc.decode(enc.inputs.argmax(axis=1)) == "abracadabra"
    np.testing.assert_array_equal(enc.indices, enc.inputs.argmax(axis=1))


def test_targets_are_the_next_character_and_the_last_step_is_masked():
    enc = encode_text("abcab")
    next_chars = [enc.vocabulary[i] for i in enc.targets[:-1]]
    assert next_chars == ["b", "c", "a", "b"]
    assert enc.targets.dtype == np.int64 and enc.targets.shape == (5,)
    assert enc.target_mask.tolist() == [True, True, True, True, False]


def test_single_character_has_no_scored_step():
    enc = encode_text("x")
    assert enc.inputs.shape == (1, 1)
    assert enc.target_mask.tolist() == [False]


def test_labels_make_whitespace_visible():
    enc = encode_text("a b\tc\nd\r\x01")
    assert enc.labels == ("a", "␣", "b", "⇥", "c", "⏎", "d", "␍", "␁")
    assert visible_char("\x0b") == "␋" and visible_char("\x0c") == "␌"
    assert visible_char("é") == "é"


def test_printable_mode_uses_string_printable_in_its_order():
    enc = encode_text("Hi!\n", mode="printable")
    assert enc.vocabulary == tuple(string.printable)
    assert enc.inputs.shape == (4, 100)
    expected = [string.printable.index(c) for c in "Hi!\n"]
    assert enc.indices.tolist() == expected
    assert enc.targets[:-1].tolist() == expected[1:]


def test_given_vocabulary_keeps_its_order():
    enc = encode_text("ba", vocabulary="cab")
    assert enc.vocabulary == ("c", "a", "b")
    assert enc.indices.tolist() == [2, 1]
    assert enc.inputs.shape == (2, 3)
    again = encode_text("abc", vocabulary=enc.vocabulary)
    assert again.indices.tolist() == [1, 2, 0]


def test_arrays_are_read_only():
    enc = encode_text("abc")
    for a in (enc.inputs, enc.targets, enc.target_mask, enc.indices):
        with pytest.raises(ValueError):
            a[0] = 0


@pytest.mark.parametrize(
    "args, kwargs, expected",
    [
        (("",), {}, "text is empty"),
        ((b"abc",), {}, "text must be a string"),
        (("abcd",), {"vocabulary": "abc"}, "character 'd' at position 3"),
        (("naïve",), {"mode": "printable"}, "character 'ï' at position 2"),
        (("abc",), {"mode": "binary"}, "mode must be"),
        (("abc",), {"vocabulary": "abc", "mode": "printable"}, "not both"),
        (("abc",), {"vocabulary": "abca"}, "'a' more than once"),
        (("abc",), {"vocabulary": ""}, "vocabulary is empty"),
        (("abc",), {"vocabulary": ["ab", "c"]}, "vocabulary entry 0"),
        (("abc",), {"vocabulary": 3}, "vocabulary must be"),
    ],
)
def test_bad_text_or_vocabulary_raises_naming_the_problem(args, kwargs, expected):
    with pytest.raises(TextError) as err:
        encode_text(*args, **kwargs)
    assert expected in str(err.value)
    assert "\n" not in str(err.value)


def test_over_long_text_raises():
    with pytest.raises(TextError, match=f"at most {MAX_TEXT_LENGTH}"):
        encode_text("a" * (MAX_TEXT_LENGTH + 1))


def test_text_error_is_a_value_error():
    assert issubclass(TextError, ValueError)


def test_decode_maps_indices_to_characters():
    assert decode([2, 0, 1], "abc") == "cab"
    assert decode(np.array([], dtype=np.int64), "abc") == ""
    assert decode(np.array([1, 1], dtype=np.int32), ("x", "y")) == "yy"


@pytest.mark.parametrize(
    "indices, expected",
    [
        ([0, 3], "index 3 at position 1"),
        ([-1], "index -1 at position 0"),
        ([0.0, 1.0], "must be integers"),
        (np.array([True]), "must be integers"),
        ([[0, 1]], "one-dimensional"),
        ([2**70], "integers"),
    ],
)
def test_decode_rejects_bad_indices(indices, expected):
    with pytest.raises(TextError, match=expected):
        decode(indices, "abc")


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=string.printable, min_size=1, max_size=300))
def test_any_printable_text_round_trips_in_both_modes(text):
    for mode in ("text", "printable"):
        enc = encode_text(text, mode=mode)
        assert enc.inputs.shape == (len(text), len(enc.vocabulary))
        assert np.all(enc.inputs.sum(axis=1) == 1.0)
        assert enc.decode(enc.inputs.argmax(axis=1)) == text
        assert enc.decode(enc.targets[:-1]) == text[1:]
        assert len(enc.labels) == len(text)
    assert list(encode_text(text).vocabulary) == sorted(set(text))


@settings(max_examples=100, deadline=None)
@given(text=st.text(min_size=1, max_size=200))
def test_any_unicode_text_round_trips_in_text_mode(text):
    enc = encode_text(text)
    assert enc.decode(enc.indices) == text
    assert len(enc.vocabulary) == len(set(text))
