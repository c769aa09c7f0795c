"""Reading trained PyTorch-style weights, inferring the network, and saving them back."""

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnviz.engine import Network
from rnnviz.io.errors import FileFormatError
from rnnviz.io.weights import (
    CELL_MARKER,
    LoadedWeights,
    find_rnn_prefixes,
    infer_weights,
    load_weights,
    read_weight_arrays,
    save_weights,
    weight_prefixes,
)

GATES = {"rnn": 1, "rnn_tanh": 1, "rnn_relu": 1, "gru": 3, "lstm": 4}


def torch_state_dict(cell, input_size, hidden, layers, bias=True, prefix="", seed=0):
    """Arrays named and shaped exactly as torch.nn.{RNN,GRU,LSTM}(...).state_dict() (float32)."""
    rng = np.random.default_rng(seed)
    rows = GATES[cell] * hidden
    arrays = {}
    for layer in range(layers):
        cols = input_size if layer == 0 else hidden
        arrays[f"{prefix}weight_ih_l{layer}"] = rng.uniform(-0.6, 0.6, (rows, cols))
        arrays[f"{prefix}weight_hh_l{layer}"] = rng.uniform(-0.6, 0.6, (rows, hidden))
        if bias:
            arrays[f"{prefix}bias_ih_l{layer}"] = rng.uniform(-0.6, 0.6, rows)
            arrays[f"{prefix}bias_hh_l{layer}"] = rng.uniform(-0.6, 0.6, rows)
    return {k: v.astype(np.float32) for k, v in arrays.items()}


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def reference_forward(arrays, cell, x, layers, prefix=""):
    """PyTorch's documented equations, step by step: top-layer hidden states (T, H)."""
    seq = x
    for layer in range(layers):
        w_ih = arrays[f"{prefix}weight_ih_l{layer}"].astype(np.float64)
        w_hh = arrays[f"{prefix}weight_hh_l{layer}"].astype(np.float64)
        rows = w_hh.shape[0]
        b_ih = arrays.get(f"{prefix}bias_ih_l{layer}", np.zeros(rows)).astype(np.float64)
        b_hh = arrays.get(f"{prefix}bias_hh_l{layer}", np.zeros(rows)).astype(np.float64)
        hidden = w_hh.shape[1]
        h, c = np.zeros(hidden), np.zeros(hidden)
        out = []
        for x_t in seq:
            gi, gh = w_ih @ x_t + b_ih, w_hh @ h + b_hh
            if cell == "rnn_tanh":
                h = np.tanh(gi + gh)
            elif cell == "rnn_relu":
                h = np.maximum(gi + gh, 0.0)
            elif cell == "lstm":
                i, f, g, o = np.split(gi + gh, 4)
                c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
                h = sigmoid(o) * np.tanh(c)
            else:
                r = sigmoid(gi[:hidden] + gh[:hidden])
                z = sigmoid(gi[hidden : 2 * hidden] + gh[hidden : 2 * hidden])
                n = np.tanh(gi[2 * hidden :] + r * gh[2 * hidden :])
                h = (1.0 - z) * n + z * h
            out.append(h)
        seq = np.array(out)
    return seq


def save_npz(path, arrays):
    np.savez(path, **arrays)
    return path


def engine_forward(lw: LoadedWeights, x):
    net = Network.from_config(lw.config)
    net.load_state_dict(lw.state_dict)
    return net.forward(x)


CASES = [
    ("rnn_tanh", 3, 5, 1, True),
    ("rnn_tanh", 2, 4, 2, False),
    ("lstm", 3, 6, 1, True),
    ("lstm", 1, 4, 2, True),
    ("lstm", 2, 3, 2, False),
    ("gru", 2, 5, 2, True),
    ("gru", 4, 3, 1, False),
]


@pytest.mark.parametrize(("cell", "inputs", "hidden", "layers", "bias"), CASES)
def test_torch_state_dict_infers_config_and_reproduces_forward(
    tmp_path, cell, inputs, hidden, layers, bias
):
    arrays = torch_state_dict(
        "rnn" if cell.startswith("rnn") else cell, inputs, hidden, layers, bias
    )
    lw = load_weights(save_npz(tmp_path / "model.npz", arrays))

    cfg = lw.config
    assert (cfg.cell, cfg.input_size, cfg.hidden_size, cfg.num_layers, cfg.bias) == (
        cell,
        inputs,
        hidden,
        layers,
        bias,
    )
    assert cfg.output_size is None
    assert cfg.dtype == "float64"
    assert lw.prefix == ""
    assert set(lw.state_dict) == set(arrays)
    for key, value in arrays.items():
        assert lw.state_dict[key].dtype == np.float64
        np.testing.assert_array_equal(lw.state_dict[key], value.astype(np.float64))

    x = np.random.default_rng(1).normal(size=(7, inputs))
    trace = engine_forward(lw, x)
    np.testing.assert_allclose(
        trace.hidden[-1], reference_forward(arrays, cell, x, layers), rtol=1e-10, atol=1e-12
    )


def test_prefixed_rnn_with_linear_readout(tmp_path):
    arrays = {"embed.weight": np.ones((10, 4), np.float32)}  # an Embedding before the RNN
    arrays.update(torch_state_dict("lstm", 4, 6, 2, prefix="encoder.rnn."))
    rng = np.random.default_rng(3)
    arrays["fc.weight"] = rng.normal(size=(3, 6)).astype(np.float32)
    arrays["fc.bias"] = rng.normal(size=3).astype(np.float32)
    lw = load_weights(save_npz(tmp_path / "ckpt.npz", arrays))

    assert lw.prefix == "encoder.rnn."
    assert lw.config.cell == "lstm"
    assert lw.config.output_size == 3
    assert lw.config.readout == "identity"
    np.testing.assert_array_equal(lw.state_dict["readout.weight"], arrays["fc.weight"])
    np.testing.assert_array_equal(lw.state_dict["readout.bias"], arrays["fc.bias"])
    assert "weight_ih_l0" in lw.state_dict and "encoder.rnn.weight_ih_l0" not in lw.state_dict
    assert any("fc.weight" in note for note in lw.notes)
    assert any("embed.weight" in note for note in lw.notes)  # told what was ignored

    x = np.random.default_rng(4).normal(size=(5, 4))
    top = reference_forward(arrays, "lstm", x, 2, prefix="encoder.rnn.")
    expected = top @ arrays["fc.weight"].T.astype(np.float64) + arrays["fc.bias"]
    np.testing.assert_allclose(engine_forward(lw, x).output, expected, rtol=1e-10, atol=1e-12)


def test_readout_after_the_rnn_wins_over_one_before():
    arrays = {"pre.weight": np.ones((5, 5)), "pre.bias": np.ones(5)}
    arrays.update(torch_state_dict("gru", 5, 5, 1, prefix="rnn."))
    arrays["post.weight"] = np.full((2, 5), 0.5)
    arrays["post.bias"] = np.zeros(2)
    lw = infer_weights(arrays)
    np.testing.assert_array_equal(lw.state_dict["readout.weight"], arrays["post.weight"])


def test_linear_readout_found_in_safetensors_sorted_order(tmp_path):
    arrays = torch_state_dict("gru", 3, 4, 1, prefix="rnn.")
    arrays["emb.weight"] = np.ones((4, 4), np.float32)  # same (O, H) shape, but no bias
    arrays["head.weight"] = np.full((2, 4), 0.25, np.float32)
    arrays["head.bias"] = np.array([1.0, -1.0], np.float32)
    path = tmp_path / "m.safetensors"
    safetensors.numpy.save_file(arrays, path)
    lw = load_weights(path)
    assert lw.config.output_size == 2
    np.testing.assert_array_equal(lw.state_dict["readout.bias"], [1.0, -1.0])


def test_float32_arrays_become_float64_with_a_note():
    lw = infer_weights(torch_state_dict("gru", 2, 3, 1))
    assert all(v.dtype == np.float64 for v in lw.state_dict.values())
    assert any("float32" in note for note in lw.notes)


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (["weight_ih_l0", "weight_hh_l0"], [""]),
        (["encoder.rnn.weight_ih_l0", "encoder.rnn.bias_hh_l0", "fc.weight"], ["encoder.rnn."]),
        (
            ["b.lstm.weight_ih_l0", "a.gru.weight_hh_l0", "a.gru.weight_ih_l0"],
            ["a.gru.", "b.lstm."],
        ),
        (["fc.weight", "fc.bias", "myweight_ih_l0"], []),
    ],
)
def test_find_rnn_prefixes(keys, expected):
    assert find_rnn_prefixes(dict.fromkeys(keys, np.zeros(1))) == expected


def test_plain_rnn_nonlinearity_is_chosen_by_argument():
    arrays = torch_state_dict("rnn", 2, 3, 1)
    assert infer_weights(arrays).config.cell == "rnn_tanh"
    assert infer_weights(arrays, nonlinearity="relu").config.cell == "rnn_relu"
    with pytest.raises(ValueError, match="nonlinearity"):
        infer_weights(arrays, nonlinearity="sigmoid")


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
@pytest.mark.parametrize("cell", ["rnn_relu", "rnn_tanh", "lstm", "gru"])
def test_save_and_load_round_trip(tmp_path, suffix, cell):
    net = Network(cell=cell, input_size=3, hidden_size=4, num_layers=2, output_size=2, seed=7)
    path = tmp_path / f"weights{suffix}"
    save_weights(path, net.state_dict(), cell)

    lw = load_weights(path)
    assert lw.config.cell == cell  # rnn_relu survives thanks to the marker
    assert (lw.config.input_size, lw.config.hidden_size, lw.config.num_layers) == (3, 4, 2)
    assert lw.config.output_size == 2
    assert lw.state_dict.keys() == net.state_dict().keys()
    for key, value in net.state_dict().items():
        np.testing.assert_array_equal(lw.state_dict[key], value)
    x = np.random.default_rng(0).normal(size=(6, 3))
    np.testing.assert_array_equal(engine_forward(lw, x).output, net.forward(x).output)


def test_saved_npz_holds_torch_names_and_the_marker(tmp_path):
    arrays = torch_state_dict("gru", 2, 3, 1)
    save_weights(tmp_path / "w.npz", arrays, "gru")
    with np.load(tmp_path / "w.npz", allow_pickle=False) as data:
        assert set(data.files) == set(arrays) | {CELL_MARKER}
        assert str(data[CELL_MARKER]) == "gru"
        np.testing.assert_array_equal(data["weight_hh_l0"], arrays["weight_hh_l0"])


def test_saved_safetensors_keeps_the_cell_in_metadata(tmp_path):
    from safetensors import safe_open

    save_weights(tmp_path / "w.safetensors", torch_state_dict("rnn", 2, 3, 1), "rnn_relu")
    with safe_open(str(tmp_path / "w.safetensors"), framework="numpy") as handle:
        assert handle.metadata() == {CELL_MARKER: "rnn_relu"}
        assert set(handle.keys()) == {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"}


def test_save_refuses_unknown_extension_and_cell(tmp_path):
    arrays = torch_state_dict("gru", 2, 3, 1)
    with pytest.raises(FileFormatError, match=r"w\.pt: weights can be saved as \.npz or"):
        save_weights(tmp_path / "w.pt", arrays, "gru")
    with pytest.raises(ValueError, match="cell must be one of"):
        save_weights(tmp_path / "w.npz", arrays, "transformer")
    with pytest.raises(FileFormatError, match="gate block"):
        save_weights(tmp_path / "w.npz", arrays, "lstm")  # the shapes say GRU
    assert list(tmp_path.iterdir()) == []


def test_refused_save_leaves_the_existing_file(tmp_path):
    path = tmp_path / "w.npz"
    save_weights(path, torch_state_dict("gru", 2, 3, 1, seed=1), "gru")
    first = path.read_bytes()
    with pytest.raises(ValueError):
        save_weights(path, {"weight_ih_l0": np.zeros((3, 2), int)}, "gru")
    assert path.read_bytes() == first


# --------------------------------------------------------------------------- refusals


def _with(arrays, **changes):
    out = dict(arrays)
    for key, value in changes.items():
        if value is None:
            del out[key]
        else:
            out[key] = value
    return out


BASE = torch_state_dict("lstm", 3, 4, 2)


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"fc.weight": np.ones((2, 2))}, r"no RNN weights found .*keys: fc\.weight"),
        (
            {**torch_state_dict("gru", 2, 3, 1, prefix="a."), **torch_state_dict("rnn", 2, 3, 1)},
            r"several RNNs found, choose a prefix: '', 'a\.'",
        ),
        (
            _with(BASE, weight_ih_l1=None, weight_hh_l1=None, weight_ih_l2=BASE["weight_ih_l1"]),
            r"missing 'weight_ih_l1' \(layer 1 of 3\)",
        ),
        (_with(BASE, weight_hh_l0=None), r"missing 'weight_hh_l0' \(layer 0 of 2\)"),
        (
            _with(BASE, weight_ih_l1=np.zeros((16, 3), np.float32)),
            r"'weight_ih_l1' has shape \(16, 3\), expected \(16, 4\) .*'weight_hh_l0' \(16, 4\)",
        ),
        (
            _with(BASE, bias_hh_l1=np.zeros(12, np.float32)),
            r"'bias_hh_l1' has shape \(12,\), expected \(16,\)",
        ),
        (_with(BASE, bias_ih_l1=None), r"missing 'bias_ih_l1' \(the other layers have biases\)"),
        (
            _with(BASE, weight_hh_l0=np.zeros((8, 4)), weight_hh_l1=np.zeros((8, 4))),
            r"'weight_hh_l0' has shape \(8, 4\): 8 rows is 2 x the hidden size 4",
        ),
        (
            _with(BASE, weight_hh_l0=np.zeros(16)),
            r"'weight_hh_l0' has shape \(16,\), expected \(G\*H, H\)",
        ),
        (
            _with(BASE, weight_ih_l0_reverse=BASE["weight_ih_l0"]),
            r"'weight_ih_l0_reverse' \(16, 3\) belongs to a bidirectional RNN, which is not supp",
        ),
        (
            _with(BASE, weight_hr_l0=np.zeros((2, 4), np.float32)),
            r"'weight_hr_l0' \(2, 4\) belongs to an LSTM with proj_size, which is not supported",
        ),
        (
            _with(BASE, bias_ih_l0=np.array([np.nan] + [0.0] * 15)),
            r"'bias_ih_l0' has 1 non-finite value\(s\)",
        ),
        (
            _with(BASE, weight_hh_l1=np.full((16, 4), np.inf)),
            r"'weight_hh_l1' has 64 non-finite value\(s\)",
        ),
        (
            _with(BASE, weight_ih_l0=np.ones((16, 3), np.int64)),
            r"'weight_ih_l0' has dtype int64, expected floating point",
        ),
        (
            _with(BASE, **{CELL_MARKER: np.array("gru")}),
            r"'rnnviz\.cell' says 'gru' but .* 4 gate block\(s\), as in an LSTM",
        ),
        (
            _with(BASE, **{CELL_MARKER: np.array("mamba")}),
            r"'rnnviz\.cell' names an unknown cell 'mamba'; expected one of rnn_tanh, ",
        ),
        (
            _with(BASE, **{"readout.weight": np.ones((2, 5))}),
            r"'readout.weight' has shape \(2, 5\), expected \(outputs, 4\)",
        ),
        (
            _with(BASE, **{"readout.weight": np.ones((2, 4)), "readout.bias": np.ones(3)}),
            r"'readout.bias' has shape \(3,\), expected \(2,\)",
        ),
        (
            _with(BASE, **{"fc.weight": np.full((2, 4), np.nan), "fc.bias": np.ones(2)}),
            r"'fc.weight' has 8 non-finite",
        ),
        (
            _with(BASE, weight_ih_l0=np.zeros((16, 70000), np.float32)),
            r"input_size must be between 1 and",
        ),
    ],
)
def test_bad_weights_are_refused_with_a_clear_message(tmp_path, arrays, message):
    path = save_npz(tmp_path / "bad.npz", arrays)
    with pytest.raises(FileFormatError, match=r"^bad\.npz: " + message) as info:
        load_weights(path)
    assert "\n" not in str(info.value)


def test_prefix_chooses_among_several():
    arrays = {**torch_state_dict("gru", 2, 3, 1, prefix="a."), **torch_state_dict("rnn", 5, 6, 2)}
    assert infer_weights(arrays, prefix="a.").config.cell == "gru"
    assert infer_weights(arrays, prefix="a").config.input_size == 2  # trailing dot optional
    assert infer_weights(arrays, prefix="").config.num_layers == 2
    with pytest.raises(
        FileFormatError, match=r"no RNN weights under the prefix 'b'; found '', 'a\.'"
    ):
        infer_weights(arrays, prefix="b")


def test_linear_without_bias_is_not_a_readout_but_readout_weight_is():
    arrays = _with(BASE, **{"fc.weight": np.ones((2, 4))})
    assert infer_weights(arrays).config.output_size is None
    lw = infer_weights(_with(BASE, **{"readout.weight": np.ones((2, 4))}))
    assert lw.config.output_size == 2
    np.testing.assert_array_equal(lw.state_dict["readout.bias"], [0.0, 0.0])
    assert any("no bias" in note for note in lw.notes)


# --------------------------------------------------------------------------- reading files


def test_unknown_extension_missing_and_empty_files(tmp_path):
    with pytest.raises(FileFormatError, match=r"^w\.h5: unsupported weights file type '\.h5'"):
        read_weight_arrays(tmp_path / "w.h5")
    with pytest.raises(FileFormatError, match=r"^gone\.npz: cannot read file"):
        read_weight_arrays(tmp_path / "gone.npz")
    (tmp_path / "empty.safetensors").write_bytes(b"")
    with pytest.raises(FileFormatError, match=r"^empty\.safetensors: file is empty"):
        read_weight_arrays(tmp_path / "empty.safetensors")


def test_garbage_and_truncated_files(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"this is not a zip archive at all")
    with pytest.raises(FileFormatError, match=r"^junk\.npz: not a NumPy \.npz archive"):
        read_weight_arrays(tmp_path / "junk.npz")

    full = tmp_path / "full.npz"
    np.savez(full, **BASE)
    (tmp_path / "cut.npz").write_bytes(full.read_bytes()[: len(full.read_bytes()) // 2])
    with pytest.raises(FileFormatError, match=r"^cut\.npz: "):
        read_weight_arrays(tmp_path / "cut.npz")

    data = safetensors.numpy.save(BASE)
    (tmp_path / "cut.safetensors").write_bytes(data[:-10])
    with pytest.raises(FileFormatError, match=r"^cut\.safetensors: not a readable \.safetensors"):
        read_weight_arrays(tmp_path / "cut.safetensors")


def test_object_arrays_are_never_unpickled(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, weight_ih_l0=np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(FileFormatError, match=r"'weight_ih_l0' holds Python objects"):
        read_weight_arrays(path)


def test_npy_data_in_an_npz_file_is_refused(tmp_path):
    buffer = io.BytesIO()
    np.save(buffer, np.zeros(3))
    (tmp_path / "single.npz").write_bytes(buffer.getvalue())
    with pytest.raises(FileFormatError, match=r"one unnamed array"):
        read_weight_arrays(tmp_path / "single.npz")


def test_pt_without_torch_explains_how_to_convert(tmp_path, monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "torch" else real_find_spec(name, *a),
    )
    (tmp_path / "model.pt").write_bytes(b"PK\x03\x04 pretend checkpoint")
    with pytest.raises(FileFormatError) as info:
        load_weights(tmp_path / "model.pt")
    message = str(info.value)
    assert message.startswith("model.pt: torch is not installed: in PyTorch run numpy.savez(")
    assert "model.state_dict().items()" in message and "\n" not in message


def test_safetensors_loads_like_npz(tmp_path):
    path = tmp_path / "w.safetensors"
    safetensors.numpy.save_file(BASE, path)
    arrays = read_weight_arrays(path)
    assert set(arrays) == set(BASE)
    lw = load_weights(path)
    assert (lw.config.cell, lw.config.num_layers, lw.config.hidden_size) == ("lstm", 2, 4)


# --------------------------------------------------------------------------- fuzzing


def _valid_npz_bytes():
    buffer = io.BytesIO()
    np.savez(buffer, **torch_state_dict("gru", 2, 3, 1))
    return buffer.getvalue()


VALID = {".npz": _valid_npz_bytes(), ".safetensors": safetensors.numpy.save(BASE)}


def _load_or_refuse(path):
    try:
        lw = load_weights(path)
    except FileFormatError as exc:
        assert str(exc).startswith(path.name + ": ")
        assert "\n" not in str(exc)
        return
    # Whatever loads must be usable as it is.
    Network.from_config(lw.config).load_state_dict(lw.state_dict)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=600), suffix=st.sampled_from([".npz", ".safetensors"]))
def test_random_bytes_load_or_raise_file_format_error(tmp_path, data, suffix):
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    _load_or_refuse(path)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    suffix=st.sampled_from([".npz", ".safetensors"]),
    edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=6),
    cut=st.floats(0.05, 1.0),
)
def test_damaged_valid_files_load_or_raise_file_format_error(tmp_path, suffix, edits, cut):
    data = bytearray(VALID[suffix])
    for where, byte in edits:
        data[int(where * len(data))] = byte
    path = tmp_path / f"damaged{suffix}"
    path.write_bytes(bytes(data[: max(1, int(cut * len(data)))]))
    _load_or_refuse(path)


def test_zip_with_a_non_npy_member_is_refused(tmp_path):
    path = tmp_path / "odd.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("weight_ih_l0.npy", b"not an npy header")
    with pytest.raises(
        FileFormatError, match=r"^odd\.npz: array 'weight_ih_l0' is not valid \.npy data"
    ):
        read_weight_arrays(path)


# --------------------------------------------------------------------------- PyTorch


GOLDEN = Path(__file__).resolve().parents[1] / "engine" / "golden"


@pytest.mark.parametrize("fixture", ["lstm_L2_bias", "gru_L1_nobias", "rnn_relu_L2_bias"])
@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_weights_written_by_torch_load_and_save_back_in_torch_layout(tmp_path, fixture, suffix):
    """The golden fixtures hold state dicts exactly as torch wrote them (names, order, shapes);
    loading one reproduces torch's hidden states, and saving writes torch's names and shapes,
    which is what ``module.load_state_dict(strict=True)`` needs."""
    with np.load(GOLDEN / f"{fixture}.npz", allow_pickle=False) as data:
        names = [str(n) for n in data["param_names"]]
        torch_sd = {n: data[n] for n in names}
        x, h_torch = data["x"], data["trace.hidden"]
        cell = str(data["cell"])
    path = tmp_path / f"torch_written{suffix}"
    if suffix == ".npz":
        np.savez(path, **torch_sd)
    else:
        safetensors.numpy.save_file(torch_sd, str(path))
    lw = load_weights(path, nonlinearity="relu" if cell == "rnn_relu" else "tanh")
    assert lw.config.cell == cell
    net = Network.from_config(lw.config)
    net.load_state_dict(lw.state_dict)
    with np.load(GOLDEN / f"{fixture}.npz", allow_pickle=False) as data:
        h0 = data["h0"]
        c0 = data["c0"] if "c0" in data.files else None
    np.testing.assert_allclose(net.forward(x, h0, c0).hidden, h_torch, atol=1e-12)
    saved = tmp_path / f"saved{suffix}"
    save_weights(saved, lw.state_dict, cell)
    back = read_weight_arrays(saved)
    assert {k: v.shape for k, v in back.items() if k != CELL_MARKER} == {
        k: v.shape for k, v in torch_sd.items()
    }
    for name in names:
        np.testing.assert_array_equal(back[name], torch_sd[name])


# --------------------------------------------------------------------------- hostile, lazy


def test_layer_index_of_thousands_of_digits_is_a_one_line_refusal(tmp_path):
    arrays = dict(BASE)
    arrays["weight_ih_l" + "7" * 5000] = np.zeros((16, 3), np.float32)
    path = save_npz(tmp_path / "digits.npz", arrays)
    with pytest.raises(FileFormatError) as info:
        load_weights(path)
    message = str(info.value)
    assert message.startswith("digits.npz: 'weight_ih_l7777")
    assert "has layer index 77777777... (5000 digits); rnnviz reads networks of at most 16" in (
        message
    )
    assert "\n" not in message and len(message) < 300


def test_layer_beyond_the_engine_limit_is_refused_by_name(tmp_path):
    arrays = _with(BASE, weight_ih_l16=BASE["weight_ih_l1"])
    with pytest.raises(FileFormatError, match=r"'weight_ih_l16' has layer index 16; .* at most 16"):
        infer_weights(arrays)


def test_keys_with_line_breaks_stay_on_one_line(tmp_path):
    arrays = {
        "enc\nINJECTED.weight_ih_l0": np.zeros((12, 2)),
        "enc\nINJECTED.weight_hh_l0": np.zeros((12, 5)),
    }
    path = save_npz(tmp_path / "nl.npz", arrays)
    with pytest.raises(FileFormatError) as info:
        load_weights(path)
    assert str(info.value) == (
        "nl.npz: 'enc\\nINJECTED.weight_hh_l0' has shape (12, 5), expected (G*H, H) with "
        "G = 1, 3 or 4"
    )


def _with_junk_member(path, arrays):
    """An .npz holding ``arrays`` and a member 'junk' whose compressed data is garbage: any
    reader that decompresses it fails."""
    save_npz(path, arrays)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("junk.npy", np.random.default_rng(0).bytes(100_000))
    data = bytearray(path.read_bytes())
    start = data.find(b"junk.npy") + len("junk.npy")  # the local header's name, then data
    data[start : start + 2000] = b"\xff" * 2000  # a deflate stream no decoder accepts
    path.write_bytes(bytes(data))
    return path


def test_arrays_the_network_does_not_use_are_never_decompressed(tmp_path):
    path = _with_junk_member(tmp_path / "junk.npz", BASE)
    with pytest.raises(FileFormatError, match=r"array 'junk'"):
        read_weight_arrays(path)  # reading everything meets the garbage
    lw = load_weights(path)
    assert (lw.config.cell, lw.config.num_layers) == ("lstm", 2)
    assert "ignored 1 other array(s): junk" in lw.notes


def test_weight_prefixes_reads_names_only(tmp_path):
    arrays = {**torch_state_dict("gru", 2, 3, 1, prefix="a."), **torch_state_dict("rnn", 5, 6, 1)}
    path = _with_junk_member(tmp_path / "two.npz", arrays)
    assert weight_prefixes(path) == ["", "a."]


def test_random_bytes_are_not_a_pytorch_file(tmp_path):
    path = tmp_path / "random.pth"
    path.write_bytes(np.random.default_rng(2).bytes(4096).replace(b"\x80", b"\x00", 1)[1:] + b"x")
    with pytest.raises(FileFormatError) as info:
        load_weights(path)
    assert str(info.value) == (
        "random.pth: not a PyTorch file (neither a zip checkpoint nor a pickle stream)"
    )
