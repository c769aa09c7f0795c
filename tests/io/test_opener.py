"""Opening any kind of file into the document: sessions, sequences, weights."""

import numpy as np
import pytest

from rnnviz.engine import Network
from rnnviz.io.errors import FileFormatError
from rnnviz.io.opener import file_kind, open_file
from rnnviz.io.session_file import save_session
from rnnviz.io.weights import save_weights
from rnnviz.session import ViewState, compute
from rnnviz.session.demos import load_demo


def test_sequence_file_replaces_inputs_and_resizes_the_network(tmp_path):
    path = tmp_path / "seq.csv"
    path.write_text("a,b,target\n1,2,0.5\n3,4,0.25\n5,6,0\n")
    opened = open_file(path, load_demo("sine"), target_column="target")
    doc = opened.document
    assert opened.kind == "sequence"
    np.testing.assert_array_equal(doc.sequence.inputs, [[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(doc.sequence.targets[:, 0], [0.5, 0.25, 0])
    assert doc.models[0].config.input_size == 2 and doc.task.loss == "mse"
    assert compute(doc).models[0].trace.output.shape == (3, 1)


def test_weights_file_brings_its_network(tmp_path):
    demo = load_demo("sine")
    net = Network(cell="gru", input_size=1, hidden_size=6, num_layers=2, output_size=1, seed=3)
    path = tmp_path / "trained.npz"
    save_weights(path, net.state_dict(), "gru")
    opened = open_file(path, demo)
    assert opened.kind == "weights" and "GRU weights, 2 layers of 6 units" in opened.message
    res = compute(opened.document)
    expected = net.forward(demo.sequence.inputs)
    np.testing.assert_allclose(res.models[0].trace.hidden, expected.hidden, atol=1e-14)
    assert res.models[0].loss is not None  # the readout fits the demo's target


def test_weights_for_another_input_size_are_refused(tmp_path):
    net = Network(cell="lstm", input_size=3, hidden_size=4)
    path = tmp_path / "w.npz"
    save_weights(path, net.state_dict(), "lstm")
    with pytest.raises(FileFormatError, match="take 3 input channels but the sequence has 1"):
        open_file(path, load_demo("sine"))


def test_session_file_opens_with_its_view(tmp_path):
    path = tmp_path / "s.rnnviz"
    save_session(path, load_demo("text"), ViewState(step=7))
    opened = open_file(path, load_demo("sine"))
    assert opened.kind == "session" and opened.view.step == 7
    assert opened.document.sequence.text == load_demo("text").sequence.text


def test_unknown_and_missing_files_are_refused(tmp_path):
    with pytest.raises(FileFormatError, match="unknown kind of file"):
        file_kind(tmp_path / "x.docx")
    with pytest.raises(FileFormatError, match="nope.csv: no such file"):
        open_file(tmp_path / "nope.csv", load_demo("sine"))


def test_a_file_of_another_kind_than_expected_is_refused(tmp_path):
    seq = tmp_path / "seq.csv"
    seq.write_text("1\n2\n")
    with pytest.raises(FileFormatError, match="seq.csv: not a weights file \\(it reads as a "
                                              "sequence\\)"):
        open_file(seq, load_demo("sine"), expect="weights")
    npz = tmp_path / "w.npz"
    np.savez(npz, foo=np.ones(3))
    with pytest.raises(FileFormatError, match="not a weights file"):
        open_file(npz, load_demo("sine"), expect="weights")


def test_npz_given_as_a_sequence_names_its_arrays(tmp_path):
    path = tmp_path / "unrelated.npz"
    np.savez(path, alpha=np.zeros((5, 2)), beta=np.ones((5, 1)))
    with pytest.raises(FileFormatError) as info:
        open_file(path, load_demo("sine"), expect="sequence")
    assert str(info.value).startswith("unrelated.npz: holds 'alpha', 'beta'; expected 'inputs'")
    single = tmp_path / "single.npz"
    np.savez(single, alpha=np.zeros((5, 1)))
    opened = open_file(single, load_demo("sine"), expect="sequence")
    assert opened.message == (
        "Imported 5 steps × 1 channels from single.npz (inputs from its only array 'alpha')"
    )


def test_npz_with_a_hundred_thousand_members_is_refused_before_parsing(tmp_path):
    import zipfile

    path = tmp_path / "many.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for k in range(100_000):
            archive.writestr(f"{k}.npy", b"")
    with pytest.raises(FileFormatError, match=r"100000 members, more than the 1000 allowed$"):
        file_kind(path)
