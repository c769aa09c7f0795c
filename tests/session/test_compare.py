"""Comparisons: matched parameter counts, building and editing the models, and the per-model
summaries the comparison view draws (each equal to its own engine run)."""

import numpy as np
import pytest

from rnnviz.engine import Network, NetworkConfig
from rnnviz.engine.analysis import influence, memory_horizon
from rnnviz.engine.cells import CELL_TYPES, GATE_COUNT
from rnnviz.io.session_file import load_session, save_session
from rnnviz.session import MAX_MODELS, Session, SessionError, ViewState, compute
from rnnviz.session import compare as cmp
from rnnviz.session.demos import load_demo


def count_by_formula(cell: str, inputs: int, hidden: int, layers: int, bias: bool,
                     outputs: int | None) -> int:
    """Parameters of a PyTorch nn.RNN/LSTM/GRU (+ nn.Linear readout), counted by hand."""
    g = GATE_COUNT[cell]
    total = 0
    for layer in range(layers):
        fan_in = inputs if layer == 0 else hidden
        total += g * hidden * (fan_in + hidden) + (2 * g * hidden if bias else 0)
    if outputs is not None:
        total += outputs * hidden + outputs
    return total


def nearest_by_search(cell, inputs, layers, bias, outputs, target, upper=2000) -> int:
    """The hidden size whose count is nearest ``target`` by trying them all (ties: smaller)."""
    best = None
    for h in range(1, upper + 1):
        gap = abs(count_by_formula(cell, inputs, h, layers, bias, outputs) - target)
        if best is None or gap < best[0]:
            best = (gap, h)
    return best[1]


@pytest.mark.parametrize("base_cell", CELL_TYPES)
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("outputs", [None, 1, 3])
@pytest.mark.parametrize("bias", [True, False])
def test_matched_sizes_are_the_nearest_parameter_counts(base_cell, layers, outputs, bias):
    base = NetworkConfig(cell=base_cell, input_size=2, hidden_size=48, num_layers=layers,
                         bias=bias, output_size=outputs)
    target = count_by_formula(base_cell, 2, 48, layers, bias, outputs)
    for cell in CELL_TYPES:
        h = cmp.matched_hidden_size(base, cell, target)
        assert h == nearest_by_search(cell, 2, layers, bias, outputs, target), cell
        if cell == base_cell:
            assert h == 48


def test_matched_comparison_shows_counts_that_match():
    doc = load_demo("adding")  # LSTM 32, 2 inputs, readout to 1
    new = cmp.compare_cells(doc, matched=True)
    assert [m.config.cell for m in new.models] == ["rnn_tanh", "lstm", "gru"]
    sizes = [m.config.hidden_size for m in new.models]
    counts = [m.parameter_count for m in new.models]
    assert counts == [count_by_formula(m.config.cell, 2, m.config.hidden_size, 1, True, 1)
                      for m in new.models]
    assert sizes[1] == 32 and counts[1] == 4641
    assert sizes == [nearest_by_search(c, 2, 1, True, 1, 4641) for c in ("rnn_tanh", "lstm",
                                                                          "gru")]
    assert [m.name for m in new.models] == [f"RNN {sizes[0]}", "LSTM 32", f"GRU {sizes[2]}"]
    assert max(counts) - min(counts) < 0.03 * counts[1]


def test_same_size_comparison_keeps_the_base_model_and_its_settings():
    doc = load_demo("adding")
    base = doc.models[0]
    new = cmp.compare_cells(doc)
    assert [m.name for m in new.models] == ["RNN 32", "LSTM 32", "GRU 32"]
    assert new.models[1] is base
    for m in new.models:
        cfg = m.config
        assert (cfg.hidden_size, cfg.num_layers, cfg.seed, cfg.init, cfg.output_size,
                cfg.readout) == (32, 1, 0, "default", 1, "identity")
    assert new.sequence is doc.sequence and new.task == doc.task
    vanishing = load_demo("vanishing")  # an orthogonal RNN at scale 0.8: all three keep it
    new = cmp.compare_cells(vanishing, cells=("lstm", "gru"))
    assert [m.config.cell for m in new.models] == ["lstm", "gru"]
    assert {(m.config.init, m.config.recurrent_scale) for m in new.models} == {
        ("orthogonal", 0.8)}


def test_a_comparison_of_trained_weights_keeps_them():
    doc = load_demo("adding")
    net = Network.from_config(doc.models[0].config.replace(seed=7))
    trained = doc.with_weights(0, doc.models[0].config, net.state_dict())
    new = cmp.compare_cells(trained, matched=True)
    assert new.models[1].weights is trained.models[0].weights
    assert new.models[0].weights is None and new.models[2].weights is None


def test_comparisons_refuse_what_cannot_be():
    doc = load_demo("adding")
    with pytest.raises(SessionError, match="at most 4"):
        cmp.compare_cells(doc, cells=("rnn_tanh", "rnn_relu", "lstm", "gru", "lstm"))
    with pytest.raises(SessionError, match="only once"):
        cmp.compare_cells(doc, cells=("lstm", "lstm"))
    with pytest.raises(SessionError, match="no model 3"):
        cmp.compare_cells(doc, base=3)


def test_add_duplicate_rename_remove():
    doc = load_demo("adding")
    cfg = cmp.new_config(doc, 0, cell="gru", hidden_size=20, num_layers=2, init="orthogonal",
                         recurrent_scale=0.9, seed=3)
    doc2 = cmp.add_model(doc, cfg)
    added = doc2.models[1]
    assert added.name == "GRU 20×2" and added.weights is None
    assert (added.config.input_size, added.config.output_size) == (2, 1)
    assert (added.config.init, added.config.recurrent_scale, added.config.seed) == (
        "orthogonal", 0.9, 3)
    doc3 = cmp.duplicate_model(doc2, 1)
    assert doc3.models[2].name == "GRU 20×2 copy" and doc3.models[2].config == added.config
    doc4 = cmp.duplicate_model(doc3, 1)
    assert doc4.models[3].name == "GRU 20×2 copy (2)"
    with pytest.raises(SessionError, match=f"at most {MAX_MODELS}"):
        cmp.duplicate_model(doc4, 0)
    with pytest.raises(SessionError, match=f"at most {MAX_MODELS}"):
        cmp.add_model(doc4, cfg)
    renamed = cmp.rename_model(doc4, 0, "  my   LSTM ")
    assert renamed.models[0].name == "my LSTM"
    with pytest.raises(SessionError, match="already called 'GRU 20×2'"):
        cmp.rename_model(doc4, 0, "GRU 20×2")
    with pytest.raises(SessionError, match="1 to 60 characters"):
        cmp.rename_model(doc4, 0, "   ")
    smaller = cmp.remove_model(renamed, 1)
    assert [m.name for m in smaller.models] == ["my LSTM", "GRU 20×2 copy", "GRU 20×2 copy (2)"]
    with pytest.raises(SessionError, match="last model"):
        cmp.remove_model(doc, 0)
    with pytest.raises(SessionError, match="hidden_size must be between"):
        cmp.new_config(doc, 0, hidden_size=0)
    assert cmp.new_config(doc, 0, cell="gru").forget_bias is None


def test_duplicates_share_weights_and_results():
    doc = load_demo("adding")
    net = Network.from_config(doc.models[0].config.replace(seed=5))
    doc = doc.with_weights(0, doc.models[0].config, net.state_dict())
    dup = cmp.duplicate_model(doc, 0)
    assert dup.models[1].weights is dup.models[0].weights
    results = compute(dup)
    np.testing.assert_array_equal(results.models[1].trace.hidden, results.models[0].trace.hidden)


def test_file_names_of_models_are_safe_and_unique():
    doc = load_demo("adding")
    doc = cmp.add_model(doc, doc.models[0].config, name="a b")
    doc = cmp.add_model(doc, doc.models[0].config, name="a/b")
    doc = cmp.add_model(doc, doc.models[0].config, name="ÄÖ")
    assert cmp.model_file_names(doc) == ("LSTM_32", "a_b", "a_b-2", "model4")


def test_the_selected_model_follows_its_name_across_edits():
    doc = cmp.compare_cells(load_demo("adding"))
    session = Session(doc, ViewState(model=2))
    session.set_document(cmp.remove_model(doc, 0))
    assert session.view.model == 1 and session.model.name == "GRU 32"
    session.set_document(doc)  # undo
    assert session.view.model == 2 and session.model.name == "GRU 32"
    session.set_document(cmp.remove_model(doc, 2))  # the selected one goes: its place stays
    assert session.view.model == 1


def _own_run(doc, model):
    net = Network.from_config(model.config)
    seq = doc.sequence
    total, trace, grads = net.loss_and_grads(seq.inputs, seq.targets, doc.task.loss,
                                             doc.task.where, mask=seq.target_mask)
    loss = net.loss(trace, seq.targets, doc.task.loss, doc.task.where, seq.target_mask)
    assert loss.total == pytest.approx(total, rel=1e-12)
    return net, loss, trace, grads


@pytest.mark.parametrize("demo", ["adding", "text"])
def test_summaries_equal_each_models_own_engine_run(demo):
    doc = cmp.compare_cells(load_demo(demo))
    results = compute(doc)
    for r, model in zip(results.models, doc.models, strict=True):
        net, loss, trace, grads = _own_run(doc, model)
        s = cmp.summarise(r)
        assert s is cmp.summarise(r)  # computed once
        assert s.loss == pytest.approx(loss.total, rel=1e-12)
        np.testing.assert_allclose(s.loss_per_step, loss.per_step, rtol=1e-12)
        np.testing.assert_allclose(s.grad_norm, np.linalg.norm(grads.hidden[-1], axis=-1),
                                   rtol=1e-10, atol=1e-300)
        expected_gates = {"rnn_tanh": [], "lstm": ["i", "f", "o"], "gru": ["r", "z"]}
        assert list(s.gates) == expected_gates[model.config.cell]
        for name, mean in s.gates.items():
            np.testing.assert_allclose(mean, trace.gates[name][-1].mean(axis=1), rtol=1e-12)
        if doc.task.loss == "ce":
            target = doc.sequence.targets[:, 0].astype(int)
            expected = trace.output[np.arange(len(target)), target]
            mask = doc.sequence.target_mask
            expected = np.where(mask, expected, np.nan) if mask is not None else expected
            assert mask is not None and not mask.all()  # the last character has no next one
            np.testing.assert_allclose(s.output[:, 0], expected, rtol=1e-12)
        else:
            np.testing.assert_allclose(s.output, trace.output, rtol=1e-12)
        inf = cmp.summarise_influence(r)
        m = influence(net, trace, of="hidden")
        np.testing.assert_allclose(inf.profile, m[-1] / m[-1, -1], rtol=1e-9, atol=1e-300)
        h = memory_horizon(m, cmp.HORIZON_THRESHOLD)
        assert inf.horizon.value == h.value
        np.testing.assert_array_equal(inf.horizon.per_step, h.per_step)
        assert cmp.influence_cost(r) == 0.0 and cmp.cached_influence(r) is inf


def test_influence_is_shared_by_a_renamed_model_and_refused_beyond_its_limit(monkeypatch):
    doc = cmp.compare_cells(load_demo("adding"))
    first = compute(doc)
    assert all(cmp.influence_cost(r) > 0 for r in first.models)
    done = cmp.summarise_all_influence(first.models)
    renamed = compute(cmp.rename_model(doc, 0, "plain RNN"), previous=first)
    assert cmp.cached_influence(renamed.models[0]) is done[0]
    monkeypatch.setattr(cmp, "MAX_INFLUENCE_STEPS", 50)
    fresh = compute(cmp.compare_cells(load_demo("vanishing")))
    assert cmp.influence_available(fresh.models[0]) == "influence is left out beyond 50 steps"
    assert cmp.summarise_all_influence(fresh.models) == (None, None, None)
    with pytest.raises(SessionError, match="beyond 50 steps"):
        cmp.summarise_influence(fresh.models[0])


def test_a_saved_comparison_reopens_identical(tmp_path):
    doc = cmp.compare_cells(load_demo("adding"), matched=True)
    net = Network.from_config(doc.models[2].config.replace(seed=11))
    doc = doc.with_weights(2, doc.models[2].config, net.state_dict())
    doc = cmp.rename_model(doc, 0, "plain tanh RNN")
    path = tmp_path / "cmp.rnnviz"
    save_session(path, doc, ViewState(model=2, step=40))
    again, view = load_session(path)
    assert view.model == 2 and view.step == 40
    assert [m.name for m in again.models] == ["plain tanh RNN", "LSTM 32", doc.models[2].name]
    assert [m.config for m in again.models] == [m.config for m in doc.models]
    assert again.models[0].weights is None and again.models[1].weights is None
    assert set(again.models[2].weights) == set(doc.models[2].weights)
    for key, value in doc.models[2].weights.items():
        np.testing.assert_array_equal(again.models[2].weights[key], value)
    for a, b in zip(compute(again).models, compute(doc).models, strict=True):
        np.testing.assert_array_equal(a.trace.hidden, b.trace.hidden)
        assert a.loss.total == b.loss.total
