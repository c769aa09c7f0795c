"""The session: documents as values, one results notification per computation, view clamping."""

import numpy as np
import pytest

from rnnviz.engine import Network, NetworkConfig
from rnnviz.session import Document, Sequence, Session, SessionError, Task, compute


def _doc(steps=20, cell="lstm", hidden=8, loss="mse"):
    t = np.arange(steps)
    seq = Sequence(np.sin(t / 3.0)[:, None], targets=np.cos(t / 3.0)[:, None])
    cfg = NetworkConfig(cell=cell, input_size=1, hidden_size=hidden, output_size=1)
    return Document.single(seq, cfg, Task(loss=loss))


def test_compute_matches_the_engine_directly():
    doc = _doc()
    res = compute(doc)
    net = Network(cell="lstm", input_size=1, hidden_size=8, output_size=1)
    loss, trace, grads = net.loss_and_grads(doc.sequence.inputs, doc.sequence.targets)
    np.testing.assert_array_equal(res.models[0].trace.hidden, trace.hidden)
    np.testing.assert_array_equal(res.models[0].grads.hidden, grads.hidden)
    assert res.models[0].loss.total == loss
    assert res.nonfinite_step is None


def test_without_a_loss_gradients_are_of_the_last_state():
    doc = Document.single(Sequence(np.ones((10, 2))), NetworkConfig(cell="gru", input_size=2,
                                                             hidden_size=4))
    res = compute(doc)
    assert doc.task.loss == "none" and res.models[0].loss is None
    np.testing.assert_allclose(res.models[0].grads.hidden[0, -1], 1.0)
    assert res.models[0].grads.hidden_norm[0, 0] > 0


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
    session.set_document(original.with_config(0, original.models[0].config.replace(hidden_size=4)))
    assert session.dirty and flags == [True]
    session.mark_saved("x.rnnviz")
    assert not session.dirty and flags == [True, False]
    session.set_document(original)  # undo back past the save point: dirty again
    assert session.dirty


def test_config_changes_keep_or_reset_loaded_weights():
    doc = _doc()
    trained = {k: v * 0.5 for k, v in doc.models[0].network().state_dict().items()}
    loaded = doc.with_weights(0, doc.models[0].config, trained)
    kept = loaded.with_config(0, loaded.models[0].config.replace(readout="tanh"))
    np.testing.assert_array_equal(kept.models[0].weights["weight_hh_l0"], trained["weight_hh_l0"])
    # a recurrent scale rescales the network's W_hh, never the loaded weights themselves
    scaled = loaded.with_config(0, loaded.models[0].config.replace(recurrent_scale=2.0))
    np.testing.assert_array_equal(scaled.models[0].weights["weight_hh_l0"], trained["weight_hh_l0"])
    block = scaled.models[0].network().state_dict()["weight_hh_l0"][:8]
    assert np.max(np.abs(np.linalg.eigvals(block))) == pytest.approx(2.0)
    zero = scaled.with_config(0, scaled.models[0].config.replace(recurrent_scale=0.0))
    assert not np.any(zero.models[0].network().state_dict()["weight_hh_l0"])
    back = zero.with_config(0, zero.models[0].config.replace(recurrent_scale=None))
    np.testing.assert_array_equal(back.models[0].network().state_dict()["weight_hh_l0"],
                                  trained["weight_hh_l0"])
    resized = loaded.with_config(0, loaded.models[0].config.replace(hidden_size=5))
    assert resized.models[0].weights is None


def test_new_sequence_resizes_the_network():
    doc = _doc()
    seq = Sequence(np.zeros((7, 3)), targets=np.zeros((7, 2)))
    new = doc.with_sequence(seq)
    assert (new.models[0].config.input_size, new.models[0].config.output_size) == (3, 2)
    assert compute(new).models[0].trace.output.shape == (7, 2)


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
    cfg = doc.models[0].config.replace(recurrent_scale=30.0)
    res = compute(doc.with_config(0, cfg))
    assert res.nonfinite_step is not None and res.nonfinite_step < 400


def test_compute_resumes_from_previous_results_only_for_the_same_network():
    doc = _doc(steps=50)
    first = compute(doc)
    x = np.array(doc.sequence.inputs)
    x[30, 0] = 2.0
    edited = doc.with_sequence(doc.sequence.with_inputs(x))
    resumed = compute(edited, previous=first)
    fresh, again = compute(edited).models[0], resumed.models[0]
    np.testing.assert_allclose(again.trace.hidden, fresh.trace.hidden, atol=1e-14)
    np.testing.assert_allclose(again.grads.hidden, fresh.grads.hidden, atol=1e-14)
    np.testing.assert_array_equal(again.trace.hidden[:, :30], first.models[0].trace.hidden[:, :30])
    other = edited.with_config(0, edited.models[0].config.replace(seed=9))
    np.testing.assert_array_equal(compute(other, previous=first).models[0].trace.hidden,
                                  compute(other).models[0].trace.hidden)
    # a target-only edit reuses the whole forward pass
    retarget = doc.with_sequence(Sequence(doc.sequence.inputs, targets=np.zeros((50, 1))))
    assert compute(retarget, previous=first).models[0].trace is first.models[0].trace


def test_documents_with_the_same_network_share_it():
    doc = _doc()
    seq = Sequence(np.zeros((20, 1)), targets=np.zeros((20, 1)))
    net = doc.models[0].network()
    assert doc.with_sequence(seq).models[0].network() is net
    assert doc.with_config(0, doc.models[0].config.replace(seed=5)).models[0].network() is not net
    trained = doc.with_weights(0, doc.models[0].config, doc.models[0].network().state_dict())
    assert trained.models[0].network() is not doc.models[0].network()
    np.testing.assert_array_equal(trained.models[0].network().state_dict()["weight_hh_l0"],
                                  doc.models[0].network().state_dict()["weight_hh_l0"])


def test_a_run_too_large_for_memory_is_refused_before_it_starts():
    from rnnviz.session import check_memory, memory_needed

    doc = _doc(steps=10)
    huge = doc.with_sequence(Sequence(np.zeros((1_000_000, 1)), targets=np.zeros((1_000_000, 1))))
    huge = huge.with_config(0, huge.models[0].config.replace(hidden_size=4096, num_layers=16))
    assert memory_needed(huge) > 2**40
    with pytest.raises(SessionError, match=r"needs about \d+\.\d GiB; the limit here is"):
        compute(huge)
    check_memory(doc)  # a small run passes
    needed = memory_needed(doc)
    with pytest.raises(SessionError, match="the limit here is"):
        check_memory(doc, budget=needed - 1)  # e.g. a container's smaller limit
    check_memory(doc, budget=needed)
