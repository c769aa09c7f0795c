"""The .rnnviz session file: round trips, atomic saves, and refusing hostile or damaged files."""

import io
import json
import os
import pathlib
import struct
import zipfile
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.lib import format as npy_format

from rnnviz import limits
from rnnviz.engine import Network, NetworkConfig
from rnnviz.io.errors import FileFormatError
from rnnviz.io.session_file import load_session, save_session
from rnnviz.session import Document, Model, Sequence, Task, ViewState, compute
from rnnviz.session.demos import DEMOS, load_demo

VIEW = ViewState(step=5, layer=1, units=(3, 0), reveal=True, phase="backward")


def assert_same_document(a: Document, b: Document) -> None:
    for field in ("inputs", "targets", "target_mask"):
        x, y = getattr(a.sequence, field), getattr(b.sequence, field)
        assert (x is None) == (y is None), field
        if x is not None:
            assert x.dtype == y.dtype and x.shape == y.shape, field
            np.testing.assert_array_equal(x, y)
    for field in ("labels", "channel_names", "text", "vocabulary"):
        assert getattr(a.sequence, field) == getattr(b.sequence, field), field
    assert a.models[0].config == b.models[0].config
    assert a.task == b.task
    assert (a.models[0].weights is None) == (b.models[0].weights is None)
    if a.models[0].weights is not None:
        assert list(a.models[0].weights) == list(b.models[0].weights)
        for key in a.models[0].weights:
            np.testing.assert_array_equal(a.models[0].weights[key], b.models[0].weights[key])


def trained_document() -> Document:
    """The text demo with a two-layer GRU whose weights are random, not the seeded init."""
    doc = load_demo("text")
    config = doc.models[0].config.replace(num_layers=2, seed=7)
    rng = np.random.default_rng(1)
    weights = {
        k: rng.normal(0, 0.3, v.shape) for k, v in Network.from_config(config).state_dict().items()
    }
    return doc.with_weights(0, config, weights)


def members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_zip(path, contents: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in contents.items():
            archive.writestr(name, data)


def npy_bytes(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    npy_format.write_array(buf, array, allow_pickle=allow_pickle)
    return buf.getvalue()


@pytest.fixture
def saved(tmp_path):
    """A valid session file (the sine demo) and its members."""
    path = tmp_path / "sine.rnnviz"
    save_session(path, load_demo("sine"), ViewState())
    return path, members(path)


def rewritten(saved, tmp_path, *, meta=None, drop=(), put=None):
    """A copy of the saved session with session.json edited by ``meta(dict)`` and members
    dropped or replaced."""
    _, contents = saved
    contents = {k: v for k, v in contents.items() if k not in drop}
    if meta is not None:
        data = json.loads(contents["session.json"])
        meta(data)
        contents["session.json"] = json.dumps(data).encode()
    contents.update(put or {})
    path = tmp_path / "edited.rnnviz"
    write_zip(path, contents)
    return path


def refused(path, *fragments: str) -> str:
    with pytest.raises(FileFormatError) as info:
        load_session(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{pathlib.Path(path).name}: ")
    for fragment in fragments:
        assert fragment in message
    return message


# ---------------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("name", list(DEMOS))
def test_every_demo_round_trips(tmp_path, name):
    doc = load_demo(name)
    path = tmp_path / f"{name}.rnnviz"
    save_session(path, doc, VIEW)
    loaded, view = load_session(path)
    assert_same_document(loaded, doc)
    assert view == VIEW


def test_text_demo_keeps_labels_vocabulary_and_text(tmp_path):
    doc = load_demo("text")
    save_session(tmp_path / "t.rnnviz", doc, ViewState())
    loaded, _ = load_session(tmp_path / "t.rnnviz")
    assert doc.sequence.labels is not None and doc.sequence.vocabulary is not None
    assert loaded.sequence.labels == doc.sequence.labels
    assert loaded.sequence.vocabulary == doc.sequence.vocabulary
    assert loaded.sequence.text == doc.sequence.text
    assert loaded.task == Task("ce", "all")


def test_loaded_weights_round_trip_and_drive_the_network(tmp_path):
    doc = trained_document()
    save_session(tmp_path / "w.rnnviz", doc, VIEW)
    loaded, view = load_session(tmp_path / "w.rnnviz")
    assert_same_document(loaded, doc)
    x = doc.sequence.inputs
    np.testing.assert_array_equal(
        loaded.models[0].network().forward(x).hidden, doc.models[0].network().forward(x).hidden
    )
    assert view == VIEW


def test_sequence_without_targets_round_trips(tmp_path):
    seq = Sequence(np.linspace(-1, 1, 24).reshape(12, 2), channel_names=("a", "b"))
    doc = Document.single(seq, NetworkConfig(cell="rnn_relu", input_size=2, hidden_size=3),
                          Task("none"))
    save_session(tmp_path / "plain.rnnviz", doc, ViewState())
    assert sorted(members(tmp_path / "plain.rnnviz")) == ["inputs.npy", "session.json"]
    loaded, _ = load_session(tmp_path / "plain.rnnviz")
    assert_same_document(loaded, doc)


def test_file_layout_is_plain_json_and_npy(tmp_path):
    doc = trained_document()
    path = tmp_path / "w.rnnviz"
    save_session(path, doc, VIEW)
    with zipfile.ZipFile(path) as archive:
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_DEFLATED}
        meta = json.loads(archive.read("session.json"))
        assert meta["format"] == "rnnviz-session" and meta["version"] == 2
        assert meta["models"][0]["name"] == doc.models[0].name
        assert meta["models"][0]["config"] == doc.models[0].config.to_dict()
        assert meta["task"] == {"loss": "ce", "where": "all"}
        assert meta["view"] == {
            "step": 5,
            "layer": 1,
            "units": [3, 0],
            "reveal": True,
            "phase": "backward",
            "model": 0,
        }
        assert meta["sequence"]["labels"] == list(doc.sequence.labels)
        assert meta["models"][0]["weights"] == list(doc.models[0].weights)
        with archive.open("inputs.npy") as f:
            inputs = np.load(io.BytesIO(f.read()), allow_pickle=False)
        np.testing.assert_array_equal(inputs, doc.sequence.inputs)
        with archive.open("target_mask.npy") as f:
            assert np.load(io.BytesIO(f.read()), allow_pickle=False).dtype == bool
        with archive.open("models/0/weights/readout.weight.npy") as f:
            readout = np.load(io.BytesIO(f.read()), allow_pickle=False)
        np.testing.assert_array_equal(readout, doc.models[0].weights["readout.weight"])


def test_saving_is_deterministic(tmp_path):
    doc = load_demo("adding")
    save_session(tmp_path / "a.rnnviz", doc, ViewState())
    save_session(tmp_path / "b.rnnviz", doc, ViewState())
    assert (tmp_path / "a.rnnviz").read_bytes() == (tmp_path / "b.rnnviz").read_bytes()


def test_bundled_samples_hold_the_demos():
    samples = resources.files("rnnviz.resources").joinpath("samples")
    names = sorted(p.name for p in samples.iterdir() if p.name.endswith(".rnnviz"))
    trained = ["adding_lstm_vs_rnn.rnnviz", "flip_flop.rnnviz"]  # see tests/session/test_samples
    assert names == sorted([f"{name}.rnnviz" for name in DEMOS] + trained)
    for name in DEMOS:
        with resources.as_file(samples.joinpath(f"{name}.rnnviz")) as path:
            doc, view = load_session(path)
        assert_same_document(doc, load_demo(name))
        assert view == ViewState()


def test_failed_save_leaves_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "work.rnnviz"
    save_session(path, load_demo("sine"), ViewState(step=2))
    before = path.read_bytes()
    real_write = npy_format.write_array
    calls = []

    def fail_on_second_array(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(npy_format, "write_array", fail_on_second_array)
    with pytest.raises(OSError, match="disk full"):
        save_session(path, load_demo("text"), ViewState())
    assert len(calls) == 2
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["work.rnnviz"]
    monkeypatch.undo()
    doc, view = load_session(path)
    assert_same_document(doc, load_demo("sine"))
    assert view == ViewState(step=2)


def test_arrays_too_large_for_the_format_are_not_saved(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_MEMBER_BYTES", 4096 + 1000)
    with pytest.raises(FileFormatError, match=r"big.rnnviz: cannot save: inputs.npy would hold"):
        save_session(tmp_path / "big.rnnviz", load_demo("sine"), ViewState())
    assert os.listdir(tmp_path) == []


# ----------------------------------------------------------------------------- hostile files


def test_missing_and_empty_files(tmp_path):
    refused(tmp_path / "nothing.rnnviz", "cannot read file")
    (tmp_path / "empty.rnnviz").write_bytes(b"")
    refused(tmp_path / "empty.rnnviz", "file is empty")


def test_garbage_bytes(tmp_path):
    path = tmp_path / "garbage.rnnviz"
    path.write_bytes(np.random.default_rng(0).bytes(5000))
    refused(path, "not an rnnviz session", "not a zip archive")


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.99])
def test_truncated_file(saved, tmp_path, keep):
    data = saved[0].read_bytes()
    path = tmp_path / "cut.rnnviz"
    path.write_bytes(data[: int(len(data) * keep)])
    refused(path)


def test_missing_session_json(saved, tmp_path):
    refused(rewritten(saved, tmp_path, drop=["session.json"]), "session.json is missing")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must hold a JSON object"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[" * 100_000, "not valid JSON"),
    ],
)
def test_bad_json(saved, tmp_path, text, fragment):
    refused(rewritten(saved, tmp_path, put={"session.json": text}), fragment)


def test_wrong_format_name(saved, tmp_path):
    path = rewritten(saved, tmp_path, meta=lambda m: m.update(format="something-else"))
    refused(path, "not an rnnviz session", "'something-else'")


def test_newer_version_is_refused_politely(saved, tmp_path):
    path = rewritten(saved, tmp_path, meta=lambda m: m.update(version=3, extra="new"))
    message = refused(path)
    assert message.endswith(
        "was saved by a newer rnnviz (format version 3); this version reads up to 2"
    )


@pytest.mark.parametrize("version", [0, "1", 1.5, None, True])
def test_unknown_version(saved, tmp_path, version):
    path = rewritten(saved, tmp_path, meta=lambda m: m.update(version=version))
    refused(path, "unknown session format version")


def test_missing_and_extra_arrays(saved, tmp_path):
    refused(rewritten(saved, tmp_path, drop=["targets.npy"]), "array targets.npy is missing")
    extra = {"extra.npy": npy_bytes(np.zeros(3))}
    refused(rewritten(saved, tmp_path, put=extra), "unexpected member extra.npy")


def test_pickle_bearing_npy_is_never_unpickled(saved, tmp_path):
    marker = tmp_path / "pickle_ran"
    payload = np.array([Touch(str(marker))], dtype=object)
    path = rewritten(saved, tmp_path, put={"inputs.npy": npy_bytes(payload, allow_pickle=True)})
    refused(path, "inputs.npy holds Python objects")
    assert not marker.exists()


class Touch:
    """Unpickling this creates a file: proof that a pickle was executed."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.path),))


@pytest.mark.parametrize(
    ("member", "array", "fragment"),
    [
        ("inputs.npy", np.zeros((200, 1), dtype=np.int64), "must hold floating-point numbers"),
        ("inputs.npy", np.zeros((200, 1), dtype=np.complex128), "floating-point"),
        ("inputs.npy", np.array([b"ab"] * 200).reshape(200, 1), "floating-point"),
        ("target_mask.npy", np.ones(200), "must hold true/false values"),
        ("inputs.npy", np.zeros(200), "must have 2 dimension(s)"),
        ("inputs.npy", np.zeros((200, 2)), "2 channels need 2 names, got 1"),
        ("targets.npy", np.zeros((199, 1)), "targets.npy has 199 rows"),
        ("target_mask.npy", np.ones(7, dtype=bool), "target_mask.npy has shape (7,)"),
        ("inputs.npy", np.full((200, 1), np.nan), "inputs.npy holds NaN or Inf"),
        ("targets.npy", np.full((200, 1), np.inf), "targets.npy holds NaN or Inf"),
    ],
)
def test_bad_arrays(saved, tmp_path, member, array, fragment):
    refused(rewritten(saved, tmp_path, put={member: npy_bytes(array)}), fragment)


def test_npy_data_shorter_than_its_header_says(saved, tmp_path):
    data = saved[1]["inputs.npy"]
    refused(rewritten(saved, tmp_path, put={"inputs.npy": data[:-8]}), "truncated or damaged")
    refused(rewritten(saved, tmp_path, put={"inputs.npy": b"\x93NUMPY\x01"}), "not valid .npy")


def test_zero_steps_refused(saved, tmp_path):
    path = rewritten(
        saved,
        tmp_path,
        drop=["targets.npy", "target_mask.npy"],
        put={"inputs.npy": npy_bytes(np.zeros((0, 1)))},
        meta=lambda m: m["sequence"].update(has_targets=False, has_mask=False),
    )
    refused(path, "a sequence needs 1 to")


def _central_header(data: bytes, member: str) -> int:
    """Offset of ``member``'s central directory record."""
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        (name_len,) = struct.unpack_from("<H", data, pos + 28)
        if data[pos + 46 : pos + 46 + name_len] == member.encode():
            return pos
        pos = data.find(b"PK\x01\x02", pos + 4)
    raise AssertionError(f"{member} not found")


def _patched(saved, tmp_path, member: str, offset: int, fmt: str, value: int):
    data = bytearray(saved[0].read_bytes())
    struct.pack_into(fmt, data, _central_header(bytes(data), member) + offset, value)
    path = tmp_path / "patched.rnnviz"
    path.write_bytes(bytes(data))
    return path


def test_zip_bomb_declared_size_is_refused_before_reading(saved, tmp_path):
    # uncompressed size field (offset 24) claims ~4 GiB
    path = _patched(saved, tmp_path, "inputs.npy", 24, "<I", 0xFFFF_FFF0)
    refused(path, "inputs.npy declares 4.0 GiB uncompressed, more than the 2.0 GiB allowed")


def test_member_larger_than_declared_is_cut_off_and_refused(saved, tmp_path):
    # declares 200 bytes: zipfile stops there and the CRC check fails
    path = _patched(saved, tmp_path, "inputs.npy", 24, "<I", 200)
    refused(path, "inputs.npy is damaged")


def test_encrypted_or_unknown_compression_refused(saved, tmp_path):
    refused(_patched(saved, tmp_path, "targets.npy", 8, "<H", 0x1), "targets.npy is encrypted")
    refused(
        _patched(saved, tmp_path, "targets.npy", 10, "<H", 99), "unsupported compression method"
    )


def test_too_many_members(saved, tmp_path):
    extra = {f"junk/{k}.npy": b"" for k in range(1001)}
    refused(rewritten(saved, tmp_path, put=extra), "members, more than the 1000 allowed")


def test_total_declared_size_is_bounded(saved, monkeypatch):
    monkeypatch.setattr(limits, "MAX_TOTAL_BYTES", 1000)
    refused(saved[0], "archive declares", "uncompressed, more than the 1000 bytes allowed")


def test_oversized_session_json_refused(saved, tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_JSON_BYTES", 100)
    refused(saved[0], "session.json declares", "more than the 100 bytes allowed")


def test_inputs_that_do_not_match_the_network(saved, tmp_path):
    path = rewritten(
        saved,
        tmp_path,
        put={"inputs.npy": npy_bytes(np.zeros((200, 2)))},
        meta=lambda m: m["sequence"].update(channel_names=["a", "b"]),
    )
    refused(path, "takes 1 input channels but the sequence has 2")


@pytest.mark.parametrize(
    "member", ["../evil.npy", "/etc/evil.npy", "weights/../../evil.npy", "C:\\evil.npy"]
)
def test_path_traversal_member_refused(saved, tmp_path, member):
    path = rewritten(saved, tmp_path, put={member: npy_bytes(np.zeros(2))})
    refused(path, "unsafe member name")


def cfg(meta):
    """The first model's network configuration in a session.json."""
    return meta["models"][0]["config"]


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda m: cfg(m).update(hidden_size=-3), "hidden_size must be between 1 and"),
        (lambda m: cfg(m).update(cell="transformer"), "cell must be one of"),
        (lambda m: cfg(m).update(colour="red"), "unknown network setting(s): colour"),
        (lambda m: cfg(m).update(readout=["x"]), "'readout' must be a single value"),
        (lambda m: cfg(m).update(bias="false"), "bias must be true or false"),
        (lambda m: m["models"][0].update(config=[1]), "models[0].config must be a JSON object"),
        (lambda m: m.update(models=[]), "models must be a list of 1 to 4 models"),
        (lambda m: m["models"].append(dict(m["models"][0])), "model names must differ"),
        (lambda m: m["view"].update(model=7), "view.model must be a whole number from 0 to 3"),
        (lambda m: m["task"].update(loss="hinge"), "loss must be one of"),
        (lambda m: m["task"].update(where=3), "loss and where must be strings"),
        (lambda m: m["view"].update(phase="sideways"), "view.phase must be one of"),
        (lambda m: m["view"].update(step=-1), "view.step must be a whole number >= 0"),
        (lambda m: m["view"].update(layer=0.5), "view.layer must be a whole number"),
        (lambda m: m["view"].update(units="abc"), "view.units must be a list"),
        (lambda m: m["view"].update(reveal="yes"), "view.reveal must be true or false"),
        (lambda m: m["sequence"].update(labels=[1, 2]), "sequence.labels must be a list"),
        (lambda m: m["sequence"].update(labels=["a"]), "labels must have 200 entries"),
        (lambda m: m["sequence"].update(channel_names=["a", "b"]), "1 channels need 1 names"),
        (lambda m: m["sequence"].update(has_mask="no"), "has_mask must be true or false"),
        (lambda m: m["sequence"].update(text=5), "sequence.text must be a string"),
        (lambda m: m["sequence"].pop("text"), "sequence is missing 'text'"),
        (lambda m: cfg(m).update({"a\nb": 1}), "unknown network setting(s): a b"),
        (lambda m: m.update(surprise=1), "unknown key(s) 'surprise'"),
        (lambda m: m.pop("view"), "is missing 'view'"),
        (lambda m: m["models"][0].update(weights=["../x"]), "bad weight name '../x'"),
        (lambda m: m["models"][0].update(weights=["a", "a"]), "lists a name twice"),
    ],
)
def test_bad_session_json_values(saved, tmp_path, edit, fragment):
    refused(rewritten(saved, tmp_path, meta=edit), fragment)


def test_json_nan_literals_refused(saved, tmp_path):
    text = saved[1]["session.json"].replace(b'"recurrent_scale": null', b'"recurrent_scale": NaN')
    assert text != saved[1]["session.json"]
    refused(rewritten(saved, tmp_path, put={"session.json": text}), "NaN is not a valid JSON")


@pytest.fixture
def saved_weights(tmp_path):
    path = tmp_path / "weights.rnnviz"
    save_session(path, trained_document(), ViewState())
    return path, members(path)


def test_weights_that_do_not_fit_the_config(saved_weights, tmp_path):
    wrong = {"models/0/weights/weight_hh_l1.npy": npy_bytes(np.zeros((96, 31)))}
    refused(rewritten(saved_weights, tmp_path, put=wrong), "weights do not fit", "weight_hh_l1")

    def forget_bias(meta):
        meta["models"][0]["weights"].remove("bias_hh_l0")

    path = rewritten(saved_weights, tmp_path, meta=forget_bias,
                     drop=["models/0/weights/bias_hh_l0.npy"])
    refused(path, "weights do not fit", "bias_hh_l0")
    path = rewritten(saved_weights, tmp_path, drop=["models/0/weights/bias_hh_l0.npy"])
    refused(path, "weights/bias_hh_l0.npy is missing")
    inf = {"models/0/weights/weight_ih_l0.npy": npy_bytes(np.full((96, 16), np.inf))}
    refused(rewritten(saved_weights, tmp_path, put=inf), "weight_ih_l0.npy holds NaN or Inf")
    ints = {"models/0/weights/weight_ih_l0.npy": npy_bytes(np.zeros((96, 16), dtype=np.int32))}
    refused(rewritten(saved_weights, tmp_path, put=ints), "floating-point")


# ------------------------------------------------------------------------------------ fuzzing

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def loads_or_refuses(path) -> None:
    try:
        doc, view = load_session(path)
    except FileFormatError as exc:
        assert str(exc).startswith(f"{path.name}: ") and "\n" not in str(exc)
    else:
        assert isinstance(doc, Document) and isinstance(view, ViewState)


@FUZZ
@given(data=st.binary(max_size=4096))
def test_fuzz_random_bytes(tmp_path, data):
    path = tmp_path / "fuzz.rnnviz"
    path.write_bytes(data)
    loads_or_refuses(path)


@FUZZ
@given(
    edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=8)
)
def test_fuzz_damaged_valid_file(saved, tmp_path, edits):
    data = bytearray(saved[0].read_bytes())
    for where, byte in edits:
        data[int(where * len(data))] = byte
    path = tmp_path / "damaged.rnnviz"
    path.write_bytes(bytes(data))
    loads_or_refuses(path)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=10,
)


@FUZZ
@given(
    section=st.sampled_from(["config", "model", "task", "sequence", "view", None]),
    key=st.text(max_size=8)
    | st.sampled_from(
        ["cell", "hidden_size", "loss", "labels", "channel_names", "units", "step", "weights"]
        + ["format", "version", "has_mask", "vocabulary", "phase", "output_size"]
    ),
    value=JSON_VALUES,
)
def test_fuzz_session_json_values(saved, tmp_path, section, key, value):
    def edit(meta):
        if section is None:
            target = meta
        elif section in ("config", "model"):
            target = meta["models"][0] if section == "model" else meta["models"][0]["config"]
        else:
            target = meta[section]
        target[key] = value

    loads_or_refuses(rewritten(saved, tmp_path, meta=edit))


V1_SESSIONS = sorted((Path(__file__).parent / "v1_sessions").glob("*.rnnviz"))
# settings the demos changed after these files were written: demo -> the settings they had then
V1_DEMO_CHANGES = {"adding": {"forget_bias": None}}


@pytest.mark.parametrize("path", V1_SESSIONS, ids=[p.stem for p in V1_SESSIONS])
def test_every_version_1_sample_opens_unchanged_in_meaning(path):
    """The samples as version 1 wrote them: one model, the demo of the same name."""
    with zipfile.ZipFile(path) as archive:
        assert json.loads(archive.read("session.json"))["version"] == 1
    doc, view = load_session(path)
    demo = load_demo(path.stem)
    since = V1_DEMO_CHANGES.get(path.stem)
    if since:  # the file keeps what the demo was when it was written
        first = demo.models[0]
        demo = demo.with_models((first.with_config(first.config.replace(**since)),))
    assert len(doc.models) == 1 and view.model == 0
    assert doc.models[0].config == demo.models[0].config and doc.task == demo.task
    np.testing.assert_array_equal(doc.sequence.inputs, demo.sequence.inputs)
    np.testing.assert_array_equal(compute(doc).models[0].trace.hidden,
                                  compute(demo).models[0].trace.hidden)


def test_several_models_round_trip_with_names_weights_and_the_selected_model(tmp_path):
    doc = trained_document()
    doc = doc.add_model(Model("my GRU", doc.models[0].config.replace(cell="gru", seed=4)))
    doc = doc.add_model(Model("plain", doc.models[0].config.replace(cell="rnn_tanh")))
    save_session(tmp_path / "three.rnnviz", doc, ViewState(model=2))
    loaded, view = load_session(tmp_path / "three.rnnviz")
    assert view.model == 2
    assert [m.name for m in loaded.models] == [m.name for m in doc.models]
    for a, b in zip(loaded.models, doc.models, strict=True):
        assert a.config == b.config and (a.weights is None) == (b.weights is None)
    x = doc.sequence.inputs
    for a, b in zip(loaded.models, doc.models, strict=True):
        np.testing.assert_array_equal(a.network().forward(x).hidden, b.network().forward(x).hidden)
