"""Documents with several models: per-model results, reuse, shared edits, view selection."""

import numpy as np
import pytest

from rnnviz.engine import Network, NetworkConfig
from rnnviz.session import (
    MAX_MODELS,
    Document,
    Model,
    Sequence,
    Session,
    SessionError,
    Task,
    ViewState,
    compute,
)
from rnnviz.session.demos import load_demo
from rnnviz.tasks.generators import generate


def _three() -> Document:
    doc = load_demo("adding")
    base = doc.models[0].config
    models = tuple(Model(name, base.replace(cell=cell)) for name, cell in
                   (("RNN", "rnn_tanh"), ("LSTM", "lstm"), ("GRU", "gru")))
    return doc.with_models(models)


def test_each_model_gets_the_results_of_its_own_engine_run():
    doc = _three()
    results = compute(doc)
    assert [r.model.name for r in results.models] == ["RNN", "LSTM", "GRU"]
    seq = doc.sequence
    for r, model in zip(results.models, doc.models, strict=True):
        net = Network.from_config(model.config)
        loss = net.loss(net.forward(seq.inputs), seq.targets, "mse", "last", seq.target_mask)
        trace = net.forward(seq.inputs)
        grads = net.backward(trace, d_output=loss.grad)
        np.testing.assert_array_equal(r.trace.hidden, trace.hidden)
        np.testing.assert_array_equal(r.grads.hidden, grads.hidden)
        assert r.loss.total == loss.total
        assert r.config.cell == model.config.cell


def test_an_unchanged_model_keeps_its_results_and_a_changed_one_is_recomputed():
    doc = _three()
    first = compute(doc)
    changed = doc.with_config(1, doc.models[1].config.replace(seed=5))
    second = compute(changed, previous=first)
    assert second.models[0] is first.models[0] and second.models[2] is first.models[2]
    assert second.models[1] is not first.models[1]
    np.testing.assert_array_equal(second.models[1].trace.hidden,
                                  compute(changed).models[1].trace.hidden)
    renamed = doc.with_model(2, doc.models[2].renamed("my GRU"))
    third = compute(renamed, previous=first)
    assert third.models[2].trace is first.models[2].trace
    assert third.models[2].model.name == "my GRU"


def test_a_new_sequence_reaches_every_model_and_resizes_them():
    doc = _three()
    seq = Sequence(np.zeros((12, 3)), targets=np.zeros((12, 2)))
    new = doc.with_sequence(seq)
    assert all((m.config.input_size, m.config.output_size) == (3, 2) for m in new.models)
    assert [r.trace.output.shape for r in compute(new).models] == [(12, 2)] * 3


def test_swapping_in_a_text_gives_every_model_a_softmax_readout_and_back():
    from rnnviz.session.demos import sequence_from_generated, sequence_from_text
    from rnnviz.tasks.text import encode_text

    doc = _three()
    text = doc.with_sequence_and_task(sequence_from_text(encode_text("hello there")),
                                      Task("ce", "all"))
    assert {m.config.readout for m in text.models} == {"softmax"}
    assert {m.config.output_size for m in text.models} == {len(text.sequence.vocabulary)}
    back = text.with_sequence_and_task(sequence_from_generated(generate("sine", 50)),
                                       Task("mse", "all"))
    assert {m.config.readout for m in back.models} == {"identity"}
    assert {m.config.output_size for m in back.models} == {1}


def test_model_list_edits_are_validated():
    doc = load_demo("sine")
    cfg = doc.models[0].config
    with pytest.raises(SessionError, match="model names must differ"):
        doc.add_model(Model(doc.models[0].name, cfg.replace(cell="gru")))
    full = doc
    for k in range(MAX_MODELS - 1):
        full = full.add_model(Model(f"m{k}", cfg.replace(seed=k + 1)))
    with pytest.raises(SessionError, match=f"at most {MAX_MODELS} models"):
        full.add_model(Model("one more", cfg))
    with pytest.raises(SessionError, match="the last model cannot be removed"):
        doc.remove_model(0)
    assert [m.name for m in full.remove_model(1).models] == [doc.models[0].name, "m1", "m2"]
    with pytest.raises(SessionError, match="a model name needs"):
        Model("  ", cfg)
    with pytest.raises(SessionError, match="takes 5 input channels"):
        doc.with_models((Model("x", cfg.replace(input_size=5)),))
    added = doc.add_model(Model("wide", NetworkConfig(cell="gru", input_size=9, hidden_size=3)))
    assert added.models[1].config.input_size == doc.sequence.channels  # sizes follow the sequence


def test_parameter_counts_are_the_state_dicts_sizes():
    for cell in ("rnn_tanh", "lstm", "gru"):
        cfg = NetworkConfig(cell=cell, input_size=3, hidden_size=7, num_layers=2, output_size=2)
        expected = sum(v.size for v in Network.from_config(cfg).state_dict().values())
        assert Model("m", cfg).parameter_count == expected


def test_the_view_selects_a_model_and_is_clamped_to_the_models_there_are():
    doc = _three()
    small = doc.with_config(2, doc.models[2].config.replace(hidden_size=2))
    session = Session(small, ViewState(model=2, units=(0, 1, 5)))
    assert session.view.model == 2 and session.view.units == (0, 1)
    assert session.model.name == "GRU"
    session.results  # noqa: B018 (computes)
    assert session.model_results.model.name == "GRU"
    session.set_document(small.remove_model(2))
    assert session.view.model == 1
    session.set_view(model=9)
    assert session.view.model == 1


def test_install_takes_a_document_with_results_computed_elsewhere_without_recomputing():
    session = Session(load_demo("sine"))
    first = session.results
    trained = session.document.with_weights(
        0, session.model.config,
        {k: v * 0.5 for k, v in session.model.network().state_dict().items()})
    results = compute(trained, previous=first)
    seen = []
    session.results_changed.connect(seen.append)
    session.install(trained, results)
    assert session.document is trained and session.results is results and seen == [results]
    with pytest.raises(ValueError, match="another document"):
        session.install(load_demo("sine"), results)
