"""The session: documents as values, one results notification per computation, view clamping."""

import numpy as np
import pytest

from rnnviz.engine import Network, NetworkConfig
from rnnviz.session import Document, Results, Sequence, Session, SessionError, Task, compute


def _doc(steps=20, cell="lstm", hidden=8, loss="mse"):
    t = np.arange(steps)
    seq = Sequence(np.sin(t / 3.0)[:, None], targets=np.cos(t / 3.0)[:, None])
    cfg = NetworkConfig(cell=cell, input_size=1, hidden_size=hidden, output_size=1)
    return Document(seq, cfg, Task(loss=loss))


def test_compute_matches_the_engine_directly():
    doc = _doc()
    res = compute(doc)
    net = Network(cell="lstm", input_size=1, hidden_size=8, output_size=1)
    loss, trace, grads = net.loss_and_grads(doc.sequence.inputs, doc.sequence.targets)
    np.testing.assert_array_equal(res.trace.hidden, trace.hidden)
    np.testing.assert_array_equal(res.grads.hidden, grads.hidden)
    assert res.loss.total == loss
    assert res.nonfinite_step is None


def test_without_a_loss_gradients_are_of_the_last_state():
    doc = Document(Sequence(np.ones((10, 2))), NetworkConfig(cell="gru", input_size=2,
                                                             hidden_size=4))
    res = compute(doc)
    assert doc.task.loss == "none" and res.loss is None
    np.testing.assert_allclose(res.grads.hidden[0, -1], 1.0)
    assert res.grads.hidden_norm[0, 0] > 0


def test_one_results_notification_per_computation_and_stale_results_ignored():
    session = Session(_doc())
    seen = []
    session.results_changed.connect(seen.append)
    assert session.results is session.results
    assert len(seen) == 1
    old = compute(session.document)
    session.set_document(session.document.with_task(Task("mse", "last")))
    assert session.stale
    assert session.accept(old) is False and len(seen) == 1
    assert session.results.document is session.document and len(seen) == 2


def test_dirty_follows_edits_and_saves():
    session = Session(_doc())
    flags = []
    session.dirty_changed.connect(flags.append)
    original = session.document
    session.set_document(original.with_config(original.config.replace(hidden_size=4)))
    assert session.dirty and flags == [True]
    session.mark_saved("x.rnnviz")
    assert not session.dirty and flags == [True, False]
    session.set_document(original)  # undo back past the save point: dirty again
    assert session.dirty


def test_config_changes_keep_or_reset_loaded_weights():
    doc = _doc()
    trained = {k: v * 0.5 for k, v in doc.network().state_dict().items()}
    loaded = doc.with_weights(doc.config, trained)
    kept = loaded.with_config(loaded.config.replace(readout="tanh"))
    np.testing.assert_array_equal(kept.weights["weight_hh_l0"], trained["weight_hh_l0"])
    # a recurrent scale rescales the network's W_hh, never the loaded weights themselves
    scaled = loaded.with_config(loaded.config.replace(recurrent_scale=2.0))
    np.testing.assert_array_equal(scaled.weights["weight_hh_l0"], trained["weight_hh_l0"])
    block = scaled.network().state_dict()["weight_hh_l0"][:8]
    assert np.max(np.abs(np.linalg.eigvals(block))) == pytest.approx(2.0)
    zero = scaled.with_config(scaled.config.replace(recurrent_scale=0.0))
    assert not np.any(zero.network().state_dict()["weight_hh_l0"])
    back = zero.with_config(zero.config.replace(recurrent_scale=None))
    np.testing.assert_array_equal(back.network().state_dict()["weight_hh_l0"],
                                  trained["weight_hh_l0"])
    assert loaded.with_config(loaded.config.replace(hidden_size=5)).weights is None


def test_new_sequence_resizes_the_network():
    doc = _doc()
    seq = Sequence(np.zeros((7, 3)), targets=np.zeros((7, 2)))
    new = doc.with_sequence(seq)
    assert (new.config.input_size, new.config.output_size) == (3, 2)
    assert compute(new).trace.output.shape == (7, 2)


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (np.array([[1.0], [np.nan]]), "NaN or Inf \\(first at step 1\\)"),
        (np.zeros((0, 1)), "1 to 1000000 steps, got 0"),
        (np.array([["a"]]), "numeric"),
    ],
)
def test_bad_sequences_are_refused(inputs, message):
    with pytest.raises(SessionError, match=message):
        Sequence(inputs)


def test_view_is_clamped_to_the_document():
    session = Session(_doc(steps=20))
    session.set_view(step=500, layer=3, units=(1, 99))
    assert (session.view.step, session.view.layer, session.view.units) == (19, 0, (1,))
    doc = session.document
    session.set_document(doc.with_sequence(Sequence(np.zeros((5, 1)), targets=np.zeros((5, 1)))))
    assert session.view.step == 4


def test_exploding_run_reports_first_nonfinite_step():
    doc = _doc(cell="rnn_relu", hidden=16, steps=400)
    cfg = doc.config.replace(recurrent_scale=30.0)
    res = compute(doc.with_config(cfg))
    assert res.nonfinite_step is not None and res.nonfinite_step < 400
    assert isinstance(res, Results)


def test_compute_resumes_from_previous_results_only_for_the_same_network():
    doc = _doc(steps=50)
    first = compute(doc)
    x = np.array(doc.sequence.inputs)
    x[30, 0] = 2.0
    edited = doc.with_sequence(doc.sequence.with_inputs(x))
    resumed = compute(edited, previous=first)
    np.testing.assert_allclose(resumed.trace.hidden, compute(edited).trace.hidden, atol=1e-14)
    np.testing.assert_allclose(resumed.grads.hidden, compute(edited).grads.hidden, atol=1e-14)
    np.testing.assert_array_equal(resumed.trace.hidden[:, :30], first.trace.hidden[:, :30])
    other = edited.with_config(edited.config.replace(seed=9))
    np.testing.assert_array_equal(compute(other, previous=first).trace.hidden,
                                  compute(other).trace.hidden)
    # a target-only edit reuses the whole forward pass
    retarget = doc.with_sequence(Sequence(doc.sequence.inputs, targets=np.zeros((50, 1))))
    assert compute(retarget, previous=first).trace is first.trace


def test_documents_with_the_same_network_share_it():
    doc = _doc()
    seq = Sequence(np.zeros((20, 1)), targets=np.zeros((20, 1)))
    assert doc.with_sequence(seq).network() is doc.network()
    assert doc.with_config(doc.config.replace(seed=5)).network() is not doc.network()
    trained = doc.with_weights(doc.config, doc.network().state_dict())
    assert trained.network() is not doc.network()
    np.testing.assert_array_equal(trained.network().state_dict()["weight_hh_l0"],
                                  doc.network().state_dict()["weight_hh_l0"])


def test_a_run_too_large_for_memory_is_refused_before_it_starts():
    from rnnviz.session import check_memory, memory_needed

    doc = _doc(steps=10)
    huge = doc.with_sequence(Sequence(np.zeros((1_000_000, 1)), targets=np.zeros((1_000_000, 1))))
    huge = huge.with_config(huge.config.replace(hidden_size=4096, num_layers=16))
    assert memory_needed(huge) > 2**40
    with pytest.raises(SessionError, match=r"needs about \d+\.\d GiB of memory"):
        compute(huge)
    check_memory(doc)  # a small run passes
