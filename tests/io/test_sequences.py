"""Importing sequences from text tables and NumPy files."""

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnviz.io.errors import FileFormatError
from rnnviz.io.sequences import format_table, load_sequence, parse_table

# --------------------------------------------------------------------------- parse_table


@pytest.mark.parametrize(
    "text",
    [
        "1,2,3\n4,5,6\n",
        "1\t2\t3\n4\t5\t6",
        "1;2;3\r\n4;5;6\r\n",
        "1 2   3\n  4\t5 6\n",
        "\n1, 2, 3\n\n   \n4 ,5,6\n\n",
        "# written by numpy.savetxt\n1 2 3\n4 5 6\n",
        '"1","2","3"\n"4","5","6"\n',
    ],
)
def test_delimiters_are_sniffed(text):
    table = parse_table(text)
    assert table.header is None
    assert table.values.dtype == np.float64
    np.testing.assert_array_equal(table.values, [[1, 2, 3], [4, 5, 6]])


def test_header_row_is_detected():
    table = parse_table("time,x,target\n0,0.5,-1e-3\n1,2.5,7\n")
    assert table.header == ["time", "x", "target"]
    np.testing.assert_array_equal(table.values, [[0, 0.5, -0.001], [1, 2.5, 7]])


def test_quoted_header_and_empty_header_cell():
    table = parse_table('"","speed (m/s)"\n1,0.5\n2,1.5\n')
    assert table.header == ["column 1", "speed (m/s)"]
    np.testing.assert_array_equal(table.values, [[1, 0.5], [2, 1.5]])


def test_semicolon_with_decimal_comma():
    table = parse_table("a;b\n1,5;2\n-0,25;3,0\n")
    assert table.header == ["a", "b"]
    np.testing.assert_array_equal(table.values, [[1.5, 2.0], [-0.25, 3.0]])


def test_single_column():
    np.testing.assert_array_equal(parse_table("value\n1\n2\n3\n").values, [[1], [2], [3]])
    table = parse_table("wind speed\n1.5\n2\n")
    assert table.header == ["wind speed"]
    np.testing.assert_array_equal(table.values, [[1.5], [2]])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"^<pasted>: no data \(the text is empty\)$"),
        ("\n \n\t\n", r"^<pasted>: no data"),
        ("a,b,c\n", r"^<pasted>: has a header row but no data rows$"),
        ("1,2,3\n4,5,6\n\n7,8\n", r"^<pasted>: row 4 has 2 column\(s\), expected 3$"),
        ("a,b\n1,2\n3,4,5\n", r"^<pasted>: row 3 has 3 column\(s\), expected 2$"),
        ("1,2\n3,x\n", r"^<pasted>: row 2, column 2 'x' is not a number$"),
        ("1,2\n3,\n", r"^<pasted>: row 2, column 2 is empty$"),
        ("a,b\n1,nan\n", r"^<pasted>: row 2, column 2 is NaN$"),
        ("1;2\n-inf;4\n", r"^<pasted>: row 2, column 1 is infinite$"),
        ("1 2\n3 1e999\n", r"^<pasted>: row 2, column 2 is infinite$"),
        ("1,2\n1_000,3\n", r"^<pasted>: row 2, column 1 '1_000' is not a number$"),
        ("1,abc\n2,3\n", r"^<pasted>: row 1, column 2 'abc' is not a number$"),
    ],
)
def test_bad_tables_are_refused(text, message):
    with pytest.raises(FileFormatError, match=message):
        parse_table(text)


def test_source_names_the_file():
    with pytest.raises(FileFormatError, match=r"^data\.csv: row 4 has 2 column\(s\), expected 3"):
        parse_table("x,y,z\n1,2,3\n4,5,6\n7,8\n", source="data.csv")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_parse_table_on_any_text_returns_finite_floats_or_refuses(text):
    try:
        table = parse_table(text)
    except FileFormatError as exc:
        assert str(exc).startswith("<pasted>: ")
        assert "\n" not in str(exc)
        return
    assert table.values.dtype == np.float64 and table.values.ndim == 2
    assert table.values.shape[0] >= 1 and table.values.shape[1] >= 1
    assert np.isfinite(table.values).all()
    if table.header is not None:
        assert len(table.header) == table.values.shape[1]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list('0123456789.,;\t -+eE\n#"x')), max_size=80).map("".join))
def test_parse_table_on_number_like_text_returns_finite_floats_or_refuses(text):
    try:
        table = parse_table(text)
    except FileFormatError:
        return
    assert np.isfinite(table.values).all() and table.values.size > 0


# --------------------------------------------------------------------------- format_table


def test_format_table_is_tab_separated_with_header():
    text = format_table(np.array([[1.0, 0.1], [-2.5, 1e-20]]), ["a", "b c"])
    assert text == "a\tb c\n1.0\t0.1\n-2.5\t1e-20\n"


def test_format_table_one_dimensional_and_header_mismatch():
    assert format_table(np.array([3.0, 4.0])) == "3.0\n4.0\n"
    with pytest.raises(ValueError, match="header has 1 names for 2 columns"):
        format_table(np.zeros((2, 2)), ["only"])


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 6).flatmap(
        lambda cols: st.tuples(
            st.lists(
                st.lists(
                    st.floats(allow_nan=False, allow_infinity=False), min_size=cols, max_size=cols
                ),
                min_size=1,
                max_size=8,
            ),
            st.none()
            | st.lists(
                # Names that read as numbers ("nan", "inf") cannot mark a header row.
                st.from_regex(r"[A-Za-z][A-Za-z0-9_ ]{0,8}[a-z]", fullmatch=True).filter(
                    lambda name: name.lower() not in ("nan", "inf", "infinity")
                ),
                min_size=cols,
                max_size=cols,
            ),
        )
    )
)
def test_format_then_parse_round_trips_exactly(rows_and_header):
    rows, header = rows_and_header
    values = np.array(rows, dtype=np.float64)
    table = parse_table(format_table(values, header))
    np.testing.assert_array_equal(table.values, values)
    # runs of white space in a header name are written (and so read back) as one space
    assert table.header == (None if header is None else [" ".join(h.split()) for h in header])


# --------------------------------------------------------------------------- load_sequence


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def test_csv_with_header_and_target_by_name(tmp_path):
    path = write(tmp_path, "data.csv", "x1,x2,y\n1,2,3\n4,5,6\n7,8,9\n")
    seq = load_sequence(path, target_column="y", expected_channels=2)
    np.testing.assert_array_equal(seq.inputs, [[1, 2], [4, 5], [7, 8]])
    np.testing.assert_array_equal(seq.targets, [[3], [6], [9]])
    assert seq.channel_names == ["x1", "x2"]
    assert seq.target_name == "y"


def test_target_by_name_ignores_case_and_by_index(tmp_path):
    path = write(tmp_path, "data.tsv", "Speed\tTarget\tLoad\n1\t2\t3\n4\t5\t6\n")
    by_name = load_sequence(path, target_column="target")
    assert by_name.target_name == "Target"
    np.testing.assert_array_equal(by_name.targets, [[2], [5]])
    assert by_name.channel_names == ["Speed", "Load"]
    by_index = load_sequence(path, target_column=-1)
    np.testing.assert_array_equal(by_index.targets, [[3], [6]])
    np.testing.assert_array_equal(by_index.inputs, [[1, 2], [4, 5]])


def test_text_without_header_gets_generic_names(tmp_path):
    path = write(tmp_path, "walk.txt", "0.5 1.0 2.0\n1.5 2.0 3.0\n")
    seq = load_sequence(path)
    assert seq.targets is None and seq.target_name is None
    assert seq.channel_names == ["x1", "x2", "x3"]
    seq = load_sequence(path, target_column=0)
    np.testing.assert_array_equal(seq.targets, [[0.5], [1.5]])
    assert seq.channel_names == ["x1", "x2"]
    assert seq.target_name == "column 1"


def test_utf8_bom_and_utf16_text(tmp_path):
    csv = "a,b\n1,2\n3,4\n"
    seq = load_sequence(write(tmp_path, "bom.csv", b"\xef\xbb\xbf" + csv.encode()))
    assert seq.channel_names == ["a", "b"]
    seq = load_sequence(write(tmp_path, "excel.txt", csv.replace(",", "\t").encode("utf-16")))
    np.testing.assert_array_equal(seq.inputs, [[1, 2], [3, 4]])


def test_npy_one_and_two_dimensional(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(4, dtype=np.int32))
    seq = load_sequence(tmp_path / "a.npy")
    assert seq.inputs.shape == (4, 1) and seq.inputs.dtype == np.float64
    np.testing.assert_array_equal(seq.inputs[:, 0], [0, 1, 2, 3])
    values = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.save(tmp_path / "b.npy", np.asfortranarray(values))
    seq = load_sequence(tmp_path / "b.npy", target_column=1)
    np.testing.assert_array_equal(seq.inputs, values[:, [0, 2]])
    np.testing.assert_array_equal(seq.targets, values[:, [1]])


@pytest.mark.parametrize(("input_key", "target_key"), [("inputs", "targets"), ("x", "y")])
def test_npz_with_inputs_and_targets(tmp_path, input_key, target_key):
    inputs = np.random.default_rng(0).normal(size=(6, 2))
    np.savez(tmp_path / "s.npz", **{input_key: inputs, target_key: np.arange(6.0)})
    seq = load_sequence(tmp_path / "s.npz")
    np.testing.assert_array_equal(seq.inputs, inputs)
    np.testing.assert_array_equal(seq.targets, np.arange(6.0)[:, None])
    assert seq.target_name == target_key


def test_npz_with_a_single_array(tmp_path):
    np.savez(tmp_path / "one.npz", signal=np.ones((3, 2)))
    seq = load_sequence(tmp_path / "one.npz")
    assert seq.inputs.shape == (3, 2) and seq.targets is None


def _npz_bytes(**arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _npy_bytes(array, allow_pickle=False):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "kwargs", "message"),
    [
        ("e.csv", "", {}, r"^e\.csv: file is empty$"),
        ("e.csv", "\n\n", {}, r"^e\.csv: no data"),
        ("r.csv", "a,b\n1,2\n3\n", {}, r"^r\.csv: row 3 has 1 column\(s\), expected 2$"),
        ("n.tsv", "1\t2\n3\tfoo\n", {}, r"^n\.tsv: row 2, column 2 'foo' is not a number$"),
        ("nan.txt", "1 2\nNaN 3\n", {}, r"^nan\.txt: row 2, column 1 is NaN$"),
        (
            "c.csv",
            "1,2,3\n4,5,6\n",
            {"expected_channels": 2},
            r"^c\.csv: has 3 input channel\(s\), the network expects 2$",
        ),
        (
            "c.csv",
            "1,2,3\n",
            {"expected_channels": 3, "target_column": 0},
            r"has 2 input channel\(s\), the network expects 3",
        ),
        ("l.csv", "1\n2\n3\n", {"max_length": 2}, r"^l\.csv: has more than 2 rows, the limit$"),
        (
            "t.csv",
            "a,b\n1,2\n",
            {"target_column": "z"},
            r"^t\.csv: no column named 'z'; columns are a, b$",
        ),
        (
            "t.csv",
            "1,2\n",
            {"target_column": "z"},
            r"^t\.csv: has no header row, so there is no column named 'z'",
        ),
        (
            "t.csv",
            "1,2\n",
            {"target_column": 2},
            r"^t\.csv: target column index 2 is out of range for 2 column\(s\)$",
        ),
        ("t.csv", "1,2\n", {"target_column": -3}, r"target column index -3 is out of range"),
        ("t.csv", "1,2\n", {"target_column": True}, r"target column must be a name or an index"),
        (
            "t.csv",
            "y\n1\n",
            {"target_column": "y"},
            r"^t\.csv: no input columns left after taking column 'y' as target$",
        ),
        (
            "b.csv",
            b"1,2\n\xff\xfe\xfa,3\n"[2:] + b"\xc3\x28",
            {},
            r"^b\.csv: not UTF-8 text \(undecodable byte at offset",
        ),
        ("z.csv", b"1,2\x00\n", {}, r"^z\.csv: binary data, not text"),
        (
            "x.xlsx",
            "1,2\n",
            {},
            r"^x\.xlsx: unsupported file type '\.xlsx'; use \.csv, \.tsv, \.txt, \.npy, \.npz$",
        ),
        (
            "three.npy",
            _npy_bytes(np.zeros((2, 3, 4))),
            {},
            r"^three\.npy: the array is 3-D with shape \(2, 3, 4\); expected 1-D",
        ),
        ("scalar.npy", _npy_bytes(np.float64(3)), {}, r"^scalar\.npy: the array is 0-D"),
        (
            "s.npy",
            _npy_bytes(np.array(["a", "b"])),
            {},
            r"^s\.npy: the array has dtype <U1, expected numbers$",
        ),
        (
            "c.npy",
            _npy_bytes(np.array([1 + 2j])),
            {},
            r"^c\.npy: the array has dtype complex128, expected numbers$",
        ),
        (
            "o.npy",
            _npy_bytes(np.array([None, 1], dtype=object), allow_pickle=True),
            {},
            r"^o\.npy: the array holds Python objects",
        ),
        (
            "nan.npy",
            _npy_bytes(np.array([[1.0, 2.0], [3.0, np.nan]])),
            {},
            r"^nan\.npy: the array has a NaN value at index \[1, 1\]$",
        ),
        (
            "inf.npy",
            _npy_bytes(np.array([1.0, -np.inf])),
            {},
            r"^inf\.npy: the array has an infinite value at index 1$",
        ),
        (
            "empty.npy",
            _npy_bytes(np.zeros((0, 2))),
            {},
            r"^empty\.npy: the array is empty \(shape \(0, 2\)\)$",
        ),
        (
            "long.npy",
            _npy_bytes(np.zeros(5)),
            {"max_length": 4},
            r"^long\.npy: the array has 5 steps, more than the limit of 4$",
        ),
        ("junk.npy", b"definitely not numpy", {}, r"^junk\.npy: not a NumPy \.npy file$"),
        ("cut.npy", _npy_bytes(np.zeros((50, 2)))[:-40], {}, r"^cut\.npy: "),
        (
            "zip.npy",
            _npz_bytes(a=np.zeros(2)),
            {},
            r"^zip\.npy: is a \.npz archive, not a \.npy array",
        ),
        (
            "npy.npz",
            _npy_bytes(np.zeros(2)),
            {},
            r"^npy\.npz: is a \.npy array, not a \.npz archive",
        ),
        (
            "many.npz",
            _npz_bytes(a=np.zeros(2), b=np.zeros(2)),
            {},
            r"^many\.npz: holds 'a', 'b'; expected 'inputs' \(or 'x'\)",
        ),
        (
            "o.npz",
            _npz_bytes(x=np.array([None], dtype=object)),
            {},
            r"^o\.npz: array 'x' holds Python objects",
        ),
        (
            "t.npz",
            _npz_bytes(x=np.zeros((3, 2)), y=np.zeros((3, 2))),
            {},
            r"^t\.npz: 'y' has shape \(3, 2\); only one target channel",
        ),
        (
            "t.npz",
            _npz_bytes(x=np.zeros((3, 2)), y=np.zeros(4)),
            {},
            r"^t\.npz: 'y' has 4 steps but 'x' has 3$",
        ),
        (
            "t.npz",
            _npz_bytes(x=np.zeros((3, 2)), y=np.array([0, np.nan, 0])),
            {},
            r"^t\.npz: array 'y' has a NaN value at index 1$",
        ),
        (
            "t.npz",
            _npz_bytes(x=np.zeros((3, 2)), y=np.zeros(3)),
            {"target_column": 0},
            r"^t\.npz: already holds a 'y' array",
        ),
        ("d.npz", _npz_bytes(x=np.zeros((2, 2, 2))), {}, r"^d\.npz: array 'x' is 3-D"),
    ],
)
def test_bad_files_are_refused(tmp_path, name, content, kwargs, message):
    path = write(tmp_path, name, content)
    with pytest.raises(FileFormatError, match=message) as info:
        load_sequence(path, **kwargs)
    assert "\n" not in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(FileFormatError, match=r"^gone\.csv: cannot read file"):
        load_sequence(tmp_path / "gone.csv")


def test_long_text_file_is_refused_before_parsing(tmp_path):
    path = write(tmp_path, "big.csv", "1\n" * 50 + "oops\n")
    with pytest.raises(FileFormatError, match=r"^big\.csv: has more than 10 rows, the limit$"):
        load_sequence(path, max_length=10)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.binary(max_size=400),
    suffix=st.sampled_from([".csv", ".tsv", ".txt", ".npy", ".npz"]),
    expected=st.none() | st.integers(1, 3),
)
def test_random_bytes_load_or_raise_file_format_error(tmp_path, data, suffix, expected):
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    try:
        seq = load_sequence(path, expected_channels=expected)
    except FileFormatError as exc:
        assert str(exc).startswith(path.name)
        assert "\n" not in str(exc)
        return
    assert seq.inputs.dtype == np.float64 and seq.inputs.ndim == 2
    assert np.isfinite(seq.inputs).all()
    assert len(seq.channel_names) == seq.inputs.shape[1]
    assert expected is None or seq.inputs.shape[1] == expected


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    suffix=st.sampled_from([".npy", ".npz"]),
    edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=4),
    cut=st.floats(0.05, 1.0),
)
def test_damaged_numpy_files_load_or_raise_file_format_error(tmp_path, suffix, edits, cut):
    values = np.arange(24.0).reshape(8, 3)
    data = bytearray(
        _npy_bytes(values) if suffix == ".npy" else _npz_bytes(x=values, y=values[:, 0])
    )
    for where, byte in edits:
        data[int(where * len(data))] = byte
    path = tmp_path / f"damaged{suffix}"
    path.write_bytes(bytes(data[: max(1, int(cut * len(data)))]))
    try:
        seq = load_sequence(path)
    except FileFormatError as exc:
        assert str(exc).startswith(path.name + ": ")
        return
    assert seq.inputs.ndim == 2 and np.isfinite(seq.inputs).all()
    assert len(seq.channel_names) == seq.inputs.shape[1]
    if seq.targets is not None:
        assert seq.targets.shape == (len(seq.inputs), 1) and np.isfinite(seq.targets).all()


# --------------------------------------------------------------------------- encodings, limits


@pytest.mark.parametrize(
    "encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8"]
)
def test_unicode_text_in_any_common_encoding(tmp_path, encoding):
    text = "temp °C;wind\n1,5;2\n-3;4,25\n"
    path = write(tmp_path, "u.csv", text.encode(encoding))
    seq = load_sequence(path)
    assert seq.channel_names == ["temp °C", "wind"]
    np.testing.assert_array_equal(seq.inputs, [[1.5, 2.0], [-3.0, 4.25]])


def test_line_breaks_split_across_reads_count_once(tmp_path, monkeypatch):
    from rnnviz.io import text_table

    monkeypatch.setattr(text_table, "_READ_BYTES", 3)  # "\r" and "\n" land in different reads
    path = write(tmp_path, "crlf.csv", b"a,b\r\n1,2\r\n3,x\r\n")
    with pytest.raises(FileFormatError, match=r"^crlf\.csv: row 3, column 2 'x' is not a number$"):
        load_sequence(path)


def test_target_column_index_given_as_text(tmp_path):
    path = write(tmp_path, "t.csv", "1,10,100\n2,20,200\n")
    seq = load_sequence(path, target_column="1")
    np.testing.assert_array_equal(seq.targets, [[10], [20]])
    assert seq.target_name == "column 2" and seq.channel_names == ["x1", "x2"]
    assert load_sequence(path, target_column="-1").targets[0, 0] == 100
    named = write(tmp_path, "n.csv", "a,b,c\n1,2,3\n")
    assert load_sequence(named, target_column="1").target_name == "b"


def test_file_name_with_a_line_break_stays_one_line(tmp_path):
    path = write(tmp_path, "bad\nname.csv", "1,2\n3,x\n")
    with pytest.raises(FileFormatError) as info:
        load_sequence(path)
    assert str(info.value) == "bad\\nname.csv: row 2, column 2 'x' is not a number"


def test_text_limits_stop_the_parse_early(tmp_path, monkeypatch):
    from rnnviz import limits

    monkeypatch.setattr(limits, "MAX_TEXT_BYTES", 100)
    big = write(tmp_path, "big.csv", "1,2\n" * 40)
    with pytest.raises(FileFormatError, match=r"^big\.csv: the file is 160 bytes, more than the "
                                              r"100 bytes a text sequence may be$"):
        load_sequence(big)
    monkeypatch.setattr(limits, "MAX_TEXT_BYTES", 1 << 30)
    monkeypatch.setattr(limits, "MAX_SEQUENCE_VALUES", 50)
    with pytest.raises(FileFormatError, match=r"26 rows of 2 columns are more than the 50 numbers"):
        load_sequence(big)
    monkeypatch.setattr(limits, "MAX_LINE_CHARS", 10)
    with pytest.raises(FileFormatError, match=r"a line is longer than 10 characters"):
        load_sequence(write(tmp_path, "wide.csv", "1," * 20_000))


def test_npz_note_says_which_array_was_taken(tmp_path):
    np.savez(tmp_path / "one.npz", signal=np.ones((3, 2)))
    assert load_sequence(tmp_path / "one.npz").note == "inputs from its only array 'signal'"
    np.savez(tmp_path / "more.npz", x=np.ones((3, 2)), y=np.zeros(3), notes=np.zeros(1))
    seq = load_sequence(tmp_path / "more.npz")
    assert seq.note == "ignored array(s) 'notes'" and seq.target_name == "y"
    np.savez(tmp_path / "plain.npz", inputs=np.ones((3, 2)))
    assert load_sequence(tmp_path / "plain.npz").note == ""


def test_npy_and_npz_sizes_are_judged_before_reading(tmp_path, monkeypatch):
    from rnnviz import limits

    np.save(tmp_path / "a.npy", np.zeros((100, 3)))
    np.savez(tmp_path / "a.npz", x=np.zeros((100, 3)))
    monkeypatch.setattr(limits, "memory_budget", lambda: 1000)
    for name in ("a.npy", "a.npz"):
        with pytest.raises(FileFormatError, match=r"about 7\.0 KiB; the limit here is 1000 bytes$"):
            load_sequence(tmp_path / name)
