"""Run exports (NPZ + JSON) and CSV tables: what a researcher loads back must be what was shown."""

import csv
import json

import numpy as np
import pytest

from rnnviz import __version__
from rnnviz.engine import Network, NetworkConfig
from rnnviz.io.run_export import (
    ExportError,
    series_csv,
    table_csv,
    write_csv,
    write_run_npz,
)
from rnnviz.session import Sequence, Task, compute
from rnnviz.session.demos import document_for, load_demo


def _lstm_results(layers=2):
    rng = np.random.default_rng(4)
    seq = Sequence(
        rng.standard_normal((9, 2)),
        targets=rng.standard_normal((9, 1)),
        target_mask=np.arange(9) % 2 == 0,
        channel_names=("a", "b"),
    )
    config = NetworkConfig(cell="lstm", input_size=2, hidden_size=3, num_layers=layers, seed=5)
    return compute(document_for(seq, config, Task("mse", "all"))).models[0]


def _load(path):
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def test_every_array_round_trips_under_its_documented_key(tmp_path):
    r = _lstm_results()
    trace, grads, loss = r.trace, r.grads, r.loss
    written = write_run_npz(tmp_path / "run.npz", r)
    assert written == [tmp_path / "run.npz", tmp_path / "run.json"]
    data = _load(tmp_path / "run.npz")

    expected = {
        "inputs": r.sequence.inputs,
        "targets": r.sequence.targets,
        "target_mask": r.sequence.target_mask,
        "channel_names": np.array(["a", "b"]),
        "states/hidden": trace.hidden,
        "states/cell": trace.cell,
        "states/h0": trace.h0,
        "states/c0": trace.c0,
        "logits": trace.logits,
        "outputs": trace.output,
        "loss/total": np.float64(loss.total),
        "loss/per_step": loss.per_step,
        "loss/mask": loss.mask,
        "grads/hidden": grads.hidden,
        "grads/cell": grads.cell,
        "grads/input": grads.input,
        "grads/logits": grads.d_logits,
        "grads/h0": grads.h0,
        "grads/c0": grads.c0,
        "grads/hidden_norm": grads.hidden_norm,
        "grads/cell_norm": grads.cell_norm,
        "grads/input_norm": grads.input_norm,
    }
    for gate in ("i", "f", "g", "o"):
        expected[f"gates/{gate}"] = trace.gates[gate]
    for name, value in r.model.network().state_dict().items():
        expected[f"weights/{name}"] = value
    for name, value in grads.params.items():
        expected[f"grads/params/{name}"] = value
    assert "weights/weight_hh_l1" in expected and "weights/readout.weight" in expected
    assert set(data) == set(expected) | {"config"}
    for key, value in expected.items():
        assert data[key].shape == np.shape(value), key
        np.testing.assert_array_equal(data[key], value, err_msg=key)
    assert json.loads(str(data["config"])) == r.config.to_dict()
    assert np.isnan(data["loss/per_step"][1])  # masked step, as in the results


def test_json_sidecar_describes_the_npz(tmp_path):
    r = _lstm_results()
    write_run_npz(tmp_path / "run.npz", r)
    meta = json.loads((tmp_path / "run.json").read_text("utf-8"))
    data = _load(tmp_path / "run.npz")
    assert meta["keys"] == list(data)
    assert meta["config"] == r.config.to_dict()
    assert meta["task"] == {"loss": "mse", "where": "all"}
    assert meta["rnnviz_version"] == __version__
    assert meta["nonfinite_step"] is None
    assert meta["loss_total"] == pytest.approx(r.loss.total)
    assert meta["shapes"] == {"steps": 9, "inputs": 2, "hidden": 3, "layers": 2, "outputs": 1}
    for key, value in data.items():
        assert meta["arrays"][key]["shape"] == list(value.shape)
        assert meta["arrays"][key]["dtype"] == str(value.dtype)
        assert meta["arrays"][key]["description"]


def test_exported_weights_rebuild_the_same_network(tmp_path):
    r = _lstm_results()
    write_run_npz(tmp_path / "run.npz", r)
    data = _load(tmp_path / "run.npz")
    meta = json.loads((tmp_path / "run.json").read_text("utf-8"))
    net = Network.from_config(NetworkConfig.from_dict(meta["config"]))
    net.load_state_dict(
        {k.removeprefix("weights/"): v for k, v in data.items() if k.startswith("weights/")}
    )
    trace = net.forward(data["inputs"])
    np.testing.assert_allclose(trace.hidden, data["states/hidden"], rtol=0, atol=1e-12)


def test_gru_without_loss_has_its_gates_and_no_cell_or_loss_keys(tmp_path):
    rng = np.random.default_rng(0)
    seq = Sequence(rng.standard_normal((5, 1)))
    config = NetworkConfig(cell="gru", input_size=1, hidden_size=2)
    r = compute(document_for(seq, config, Task("none", "all"))).models[0]
    write_run_npz(tmp_path / "g.npz", r)
    data = _load(tmp_path / "g.npz")
    for gate in ("r", "z", "n"):
        np.testing.assert_array_equal(data[f"gates/{gate}"], r.trace.gates[gate])
    assert not [k for k in data if k.startswith("loss/") or k.endswith("cell")]
    assert "targets" not in data and "outputs" not in data
    meta = json.loads((tmp_path / "g.json").read_text("utf-8"))
    assert meta["loss_total"] is None


def test_text_run_keeps_labels_and_vocabulary_as_plain_strings(tmp_path):
    r = compute(load_demo("text")).models[0]
    write_run_npz(tmp_path / "text.npz", r)
    data = _load(tmp_path / "text.npz")  # allow_pickle=False: no object arrays
    assert list(data["labels"]) == list(r.sequence.labels)
    assert list(data["vocabulary"]) == list(r.sequence.vocabulary)
    np.testing.assert_array_equal(data["grads/logits"], r.grads.d_logits)


def test_diverged_run_writes_strict_json(tmp_path):
    seq = Sequence(np.ones((60, 1)), targets=np.zeros((60, 1)))
    base = document_for(
        seq, NetworkConfig(cell="rnn_relu", input_size=1, hidden_size=1), Task("mse", "all")
    )
    # h_t = relu(x_t + 1e10 h_{t-1}) overflows to inf after about 31 steps.
    weights = {
        "weight_ih_l0": [[1.0]],
        "weight_hh_l0": [[1e10]],
        "bias_ih_l0": [0.0],
        "bias_hh_l0": [0.0],
        "readout.weight": [[1.0]],
        "readout.bias": [0.0],
    }
    doc = base.with_weights(0, base.models[0].config, {k: np.array(v) for k, v in weights.items()})
    r = compute(doc).models[0]
    assert r.nonfinite_step is not None
    write_run_npz(tmp_path / "bad.npz", r)
    text = (tmp_path / "bad.json").read_text("utf-8")

    def refuse(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    meta = json.loads(text, parse_constant=refuse)
    assert meta["nonfinite_step"] == r.nonfinite_step
    assert meta["loss_total"] is None
    assert meta["weights"] == "loaded"
    data = _load(tmp_path / "bad.npz")
    np.testing.assert_array_equal(data["states/hidden"], r.trace.hidden)


def test_wrong_suffix_and_missing_folder_are_refused(tmp_path):
    r = _lstm_results(layers=1)
    with pytest.raises(ExportError, match=r"run\.csv: a run export must be an \.npz file"):
        write_run_npz(tmp_path / "run.csv", r)
    with pytest.raises(ExportError, match="cannot write"):
        write_run_npz(tmp_path / "missing" / "run.npz", r)
    assert list(tmp_path.iterdir()) == []


def _read_csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_table_csv_writes_units_as_rows_and_steps_as_columns(tmp_path):
    values = np.array([[0.1, -2.5, 1 / 3], [np.nan, 4.0, 1e-300]])
    table_csv(tmp_path / "h.csv", values)
    rows = _read_csv(tmp_path / "h.csv")
    assert rows[0] == ["unit", "t=0", "t=1", "t=2"]
    assert [r[0] for r in rows[1:]] == ["0", "1"]
    back = np.array([[float(v) for v in r[1:]] for r in rows[1:]])
    np.testing.assert_array_equal(back, values)  # full precision, NaN kept


def test_table_csv_names_rows_and_columns(tmp_path):
    table_csv(
        tmp_path / "g.csv",
        np.eye(2),
        row_label="gate",
        row_names=["i", "f"],
        column_names=["'a'", "'b,c'"],
    )
    rows = _read_csv(tmp_path / "g.csv")
    assert rows == [["gate", "'a'", "'b,c'"], ["i", "1.0", "0.0"], ["f", "0.0", "1.0"]]


def test_series_csv_has_one_row_per_step(tmp_path):
    series_csv(tmp_path / "n.csv", {"||dL/dh||": np.array([3.0, 2.0]), "loss": [0.5, np.nan]})
    assert _read_csv(tmp_path / "n.csv") == [
        ["t", "||dL/dh||", "loss"],
        ["0", "3.0", "0.5"],
        ["1", "2.0", "nan"],
    ]


def test_csv_shape_errors_name_the_problem(tmp_path):
    with pytest.raises(ExportError, match="row 2 has 1 values, expected 2"):
        write_csv(tmp_path / "x.csv", ["a", "b"], [[1, 2], [3]])
    with pytest.raises(ExportError, match=r"must be 2-D \(rows, columns\)"):
        table_csv(tmp_path / "x.csv", np.zeros(3))
    with pytest.raises(ExportError, match="3 column names for 2 columns"):
        table_csv(tmp_path / "x.csv", np.zeros((1, 2)), column_names=["a", "b", "c"])
    with pytest.raises(ExportError, match="series 'b' has 1 values, expected 2"):
        series_csv(tmp_path / "x.csv", {"a": [1, 2], "b": [1]})
    assert not (tmp_path / "x.csv").exists()
