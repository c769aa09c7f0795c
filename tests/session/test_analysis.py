"""What the analysis views are given: each value against an outside computation (NumPy's
eigenvalues, SVD, a rerun of the network, finite differences through the engine's own step),
what the cache recomputes and what it does not, costs, failures and jobs."""

from __future__ import annotations

import numpy as np
import pytest

from rnnviz.engine import EngineError, NetworkConfig
from rnnviz.engine import analysis as an
from rnnviz.jobs import Cancelled, JobContext, run_job
from rnnviz.session import Document, Sequence, Task, compute
from rnnviz.session import analysis as sa
from rnnviz.session.demos import load_demo

CELLS = ("rnn_tanh", "lstm", "gru")


def results_for(cell="lstm", hidden=6, layers=1, steps=30, inputs=2, outputs=2, seed=0,
                weights=None, x=None):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((steps, inputs)) if x is None else x
    seq = Sequence(inputs=x)
    cfg = NetworkConfig(cell=cell, input_size=x.shape[1], hidden_size=hidden,
                        num_layers=layers, output_size=outputs, seed=seed)
    doc = Document.single(seq, cfg, Task("none", "all"), weights=weights)
    return compute(doc).model(0)


def bistable(steps=60, seed=0):
    """Two tanh units with W_hh = diag(3, 3) and no bias: each unit has two stable states
    ±a (a = tanh(3a)), so four stable fixed points under x* = 0, four saddles and an
    unstable origin. Inputs are strong pulses that visit every corner."""
    rng = np.random.default_rng(seed)
    x = np.zeros((steps, 2))
    x[::6] = rng.choice([-4.0, 4.0], size=(len(x[::6]), 2))
    cfg = NetworkConfig(cell="rnn_tanh", input_size=2, hidden_size=2, output_size=1)
    weights = {"weight_ih_l0": np.eye(2), "weight_hh_l0": np.diag([3.0, 3.0]),
               "bias_ih_l0": np.zeros(2), "bias_hh_l0": np.zeros(2),
               "readout.weight": np.array([[1.0, -1.0]]), "readout.bias": np.zeros(1)}
    doc = Document.single(Sequence(inputs=x), cfg, Task("none", "all"), weights=weights)
    return compute(doc).model(0)


# ---- requests and the cache ----------------------------------------------------------------
def test_requests_fill_defaults_and_refuse_unknown_names():
    r = results_for()
    req = sa.request(r, "perturbation", k=3)
    assert req.param("eps") == 0.01 and req.param("of") == "hidden"
    assert sa.request(r, "state_space").param("space") == "h0"
    with pytest.raises(EngineError, match="unknown analysis 'nope'"):
        sa.request(r, "nope")
    with pytest.raises(EngineError, match="influence takes no parameter 't'"):
        sa.request(r, "influence", t=3)
    with pytest.raises(EngineError, match="x\\* must be one of"):
        sa.request(r, "fixed_points", x_star="sometimes")


def test_requests_are_equal_for_the_same_results_and_parameters_only():
    a, b = results_for(seed=0), results_for(seed=0)
    assert sa.request(a, "distance", t=4) == sa.request(a, "distance", t=4)
    assert len({sa.request(a, "distance", t=4), sa.request(a, "distance", t=4)}) == 1
    assert sa.request(a, "distance", t=4) != sa.request(a, "distance", t=5)
    assert sa.request(a, "distance", t=4) != sa.request(b, "distance", t=4)  # other results


def test_the_cache_computes_each_value_once():
    r = results_for()
    cache = sa.Analyses()
    first = cache.get(sa.request(r, "influence"))
    assert cache.computed == 1
    assert cache.get(sa.request(r, "influence")) is first
    assert cache.computed == 1
    cache.get(sa.request(r, "distance", t=3))
    cache.get(sa.request(r, "distance", t=3))
    assert cache.computed == 2


def test_the_spectrum_belongs_to_the_network_and_survives_input_edits():
    doc = load_demo("sine")
    one = compute(doc).model(0)
    seq = doc.sequence.with_inputs(doc.sequence.inputs + 0.1)
    two = compute(doc.with_sequence(seq)).model(0)
    assert one is not two and one.model.network() is two.model.network()
    assert sa.request(one, "spectrum") == sa.request(two, "spectrum")
    assert sa.request(one, "singular", t=3) != sa.request(two, "singular", t=3)
    cache = sa.Analyses()
    assert cache.get(sa.request(one, "spectrum")) is cache.get(sa.request(two, "spectrum"))
    assert cache.computed == 1


def test_x_star_at_the_cursor_is_keyed_by_the_input_not_the_step():
    x = np.zeros((20, 2))
    x[5] = [1.0, 0.0]
    r = results_for(x=x)
    reqs = [sa.request(r, "fixed_points", x_star="cursor",
                       value=tuple(sa.x_star_for(r, "cursor", t))) for t in (2, 3, 5)]
    assert reqs[0] == reqs[1] != reqs[2]
    np.testing.assert_array_equal(sa.x_star_for(r, "mean", 0), x.mean(axis=0))
    np.testing.assert_array_equal(sa.x_star_for(r, "zero", 0), np.zeros(2))


def test_values_go_with_their_results():
    import gc

    cache = sa.Analyses()
    r = results_for()
    cache.get(sa.request(r, "influence"))
    assert len(cache._cache) == 1
    del r
    gc.collect()
    assert len(cache._cache) == 0


# ---- the values against outside computations ------------------------------------------------
@pytest.mark.parametrize("cell", CELLS)
def test_influence_map_is_the_engines_influence_and_its_horizon(cell):
    r = results_for(cell, layers=2)
    value = sa.influence_map(r)
    net = r.model.network()
    np.testing.assert_array_equal(value.matrix, an.influence(net, r.trace))
    theirs = an.memory_horizon(value.matrix)
    np.testing.assert_array_equal(value.horizon.per_step, theirs.per_step)
    assert (value.horizon.value, value.horizon.censored) == (theirs.value, theirs.censored)
    t = 11
    np.testing.assert_array_equal(value.row(t), value.matrix[t, :t + 1])
    np.testing.assert_array_equal(value.column(t), value.matrix[t:, t])
    shade = value.shading(t)
    assert shade[t + 1:].max() == 0 and shade.max() == pytest.approx(1.0)
    ratio = value.matrix[t, :t + 1] / value.matrix[t, :t + 1].max()
    np.testing.assert_allclose(shade[:t + 1], np.clip(1 + np.log10(ratio) / 2, 0, 1))


def test_influence_on_the_output_needs_a_readout():
    r = results_for(outputs=None)
    value = sa.evaluate(sa.request(r, "influence", of="output"))
    assert isinstance(value, sa.Failure)
    assert "needs a readout" in value.message


@pytest.mark.parametrize("cell", CELLS)
def test_distance_curve_against_explicit_jacobian_products(cell):
    r = results_for(cell, hidden=4, steps=12)
    net = r.model.network()
    t = 9
    curve = sa.distance_curve(r, t)
    jac = an.state_jacobians(net, r.trace)
    product = np.eye(jac.shape[1])
    expected = [1.0]
    for k in range(t, -1, -1):  # ds_t/ds_{k-1} = J[t] ... J[k]
        product = product @ jac[k]
        expected.append(np.linalg.norm(product, 2))
    np.testing.assert_allclose(curve.norm, expected, rtol=1e-10)
    hh = np.asarray(net.state_dict()["weight_hh_l0"])
    h = net.config.hidden_size
    radii = [np.max(np.abs(np.linalg.eigvals(hh[g * h:(g + 1) * h])))
             for g in range(hh.shape[0] // h)]
    assert curve.radius == pytest.approx(max(radii), rel=1e-12)
    np.testing.assert_allclose(curve.reference, max(radii) ** curve.distance, rtol=1e-10)
    if cell == "lstm":
        f = r.trace.gates["f"][0]
        by_hand = [np.max(np.prod(f[t - d + 1:t + 1], axis=0)) for d in range(1, t + 2)]
        np.testing.assert_allclose(curve.forget[0, 1:], by_hand, rtol=1e-12)
        assert curve.forget[0, 0] == 1.0
    else:
        assert curve.forget is None
    names = {"rnn_tanh": ["hh"], "lstm": list("ifgo"), "gru": list("rzn")}[cell]
    assert curve.radius_of == ("W_hh" if cell == "rnn_tanh"
                               else f"W_h{names[int(np.argmax(radii))]}")


@pytest.mark.parametrize("cell", CELLS)
def test_spectrum_is_numpys_eigenvalues_of_each_block(cell):
    r = results_for(cell, hidden=5, layers=2)
    spec = sa.spectrum(r)
    sd = r.model.network().state_dict()
    h = 5
    for layer in spec.layers:
        w = np.asarray(sd[f"weight_hh_l{layer.layer}"])
        for g, block in enumerate(layer.blocks):
            theirs = np.linalg.eigvals(w[g * h:(g + 1) * h])
            np.testing.assert_allclose(np.sort_complex(block.eigenvalues),
                                       np.sort_complex(theirs), atol=1e-12)
    assert spec.radius == max(b.radius for layer in spec.layers for b in layer.blocks)


def test_step_spectrum_is_the_svd_of_the_state_jacobian():
    r = results_for("gru", hidden=4, layers=2)
    jac = an.state_jacobians(r.model.network(), r.trace)
    value = sa.step_spectrum(r, 7)
    np.testing.assert_allclose(value.singular_values, np.linalg.svd(jac[7], compute_uv=False),
                               rtol=1e-12)


@pytest.mark.parametrize("cell", CELLS)
def test_perturbation_actual_is_a_rerun(cell):
    r = results_for(cell, layers=2)
    k, channel, eps = 7, 1, 0.3
    value = sa.perturb(r, k, channel, eps)
    x = np.array(r.sequence.inputs, copy=True)
    x[k, channel] += eps
    rerun = r.model.network().forward(x)
    actual = rerun.hidden[-1, k:] - r.trace.hidden[-1, k:]
    np.testing.assert_allclose(value.result.actual, actual, atol=1e-15)
    np.testing.assert_allclose(value.actual_norm, np.linalg.norm(actual, axis=1), atol=1e-15)
    # first order: halving eps halves the prediction exactly, and it matches a tiny rerun
    tiny = sa.perturb(r, k, channel, 1e-7)
    np.testing.assert_allclose(tiny.result.predicted, tiny.result.actual, atol=1e-12)
    np.testing.assert_allclose(value.predicted_norm, np.linalg.norm(
        value.result.predicted, axis=1))
    np.testing.assert_allclose(value.error_norm, np.linalg.norm(
        value.result.actual - value.result.predicted, axis=1))


@pytest.mark.parametrize(("cell", "layers", "space", "width"),
                         [("rnn_tanh", 1, "h0", 6), ("lstm", 1, "hc0", 12),
                          ("gru", 2, "all", 12), ("lstm", 2, "h1", 6)])
def test_state_space_projection_is_the_pca_of_the_trajectory(cell, layers, space, width):
    r = results_for(cell, hidden=6, layers=layers, steps=40)
    value = sa.state_space(r, space)
    states = an.state_trajectory(r.model.network(), r.trace)[:, value.index]
    assert states.shape[1] == width
    centred = states - states.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    theirs = centred @ vt[:3].T
    signs = np.sign(np.sum(theirs * value.projected, axis=0))  # components are up to sign
    np.testing.assert_allclose(value.projected, theirs * signs, atol=1e-10)
    if space in ("h0", "hc0", "all", "h1") and (space != "h0" or layers == 1):
        w = np.asarray(r.model.network().state_dict()["readout.weight"])
        unit = w / np.linalg.norm(w, axis=1, keepdims=True)
        h_idx, _ = an.split_state(r.config, np.arange(an.state_size(r.config)))
        full = np.zeros((w.shape[0], an.state_size(r.config)))
        full[:, h_idx[-1]] = unit
        np.testing.assert_allclose(value.readout, full[:, value.index] @ vt[:3].T * signs,
                                   atol=1e-10)


def test_lower_layers_have_no_readout_direction_and_wide_readouts_none():
    r = results_for("gru", layers=2)
    assert sa.state_space(r, "h0").readout is None
    assert sa.state_space(results_for(outputs=20), "h0").readout is None
    assert [k for k, _ in sa.state_spaces(r.config)] == ["h0", "h1", "all"]
    assert [k for k, _ in sa.state_spaces(results_for("rnn_tanh").config)] == ["h0"]


def test_fixed_points_of_the_bistable_network_and_their_marks():
    r = bistable()
    found = sa.find_fixed_points(r, np.zeros(2), starts=256, noise=0.6, seed=0)
    a = float(np.tanh(3 * 0.9950))  # the positive root of a = tanh(3a), to 1e-4
    stable = [p for p in found.found.points if p.kind == "stable" and not p.slow]
    assert len(stable) == 4
    np.testing.assert_allclose(np.sort(np.abs(np.array([p.state for p in stable])), axis=None),
                               np.full(8, a), atol=1e-3)
    assert found.found.count("saddle") == 4 and found.found.count("unstable") == 1
    for p in found.found.points:
        residual = np.tanh(3 * p.state) - p.state
        assert 0.5 * residual @ residual < 1e-12
    space = sa.state_space(r)
    marks = sa.fixed_point_marks(space, found, length=0.1)
    np.testing.assert_allclose(marks.coords, space.pca.project(found.found.states()))
    assert marks.kinds == tuple(p.kind for p in found.found.points)
    # a saddle has one unstable direction, the origin two; each segment is centred on its point
    points = found.found.points
    assert np.bincount(marks.owners, minlength=len(points)).tolist() == [
        p.unstable for p in points]
    np.testing.assert_allclose(marks.lines.mean(axis=1), marks.coords[marks.owners], atol=1e-12)


def test_fixed_points_are_deterministic_by_seed():
    r = bistable()
    one = sa.find_fixed_points(r, np.zeros(2), starts=16, noise=0.3, seed=4)
    two = sa.find_fixed_points(r, np.zeros(2), starts=16, noise=0.3, seed=4)
    np.testing.assert_array_equal(one.found.states(), two.found.states())


def test_describing_a_point_and_a_horizon():
    r = bistable()
    found = sa.find_fixed_points(r, np.zeros(2), starts=256, noise=0.6)
    origin = next(p for p in found.found.points if p.kind == "unstable")
    text = sa.describe_point(origin)
    assert text.startswith("unstable fixed point: q = ")
    assert "2 outside the unit circle; λ = 3, 3" in text
    horizon = an.MemoryHorizon(12.25, np.array([12.0]), 0.01, 0)
    assert sa.describe_horizon(horizon) == "12.2 steps"
    assert sa.describe_horizon(an.MemoryHorizon(float("inf"), np.array([np.inf]), 0.01, 1)) \
        == "longer than the sequence"
    assert sa.describe_horizon(None) == "—"


# ---- failures, costs and jobs -----------------------------------------------------------------
def test_a_run_with_nan_gives_a_one_line_failure():
    doc = load_demo("exploding")
    cfg = doc.models[0].config.replace(cell="rnn_relu", recurrent_scale=1e4)
    r = compute(doc.with_config(0, cfg)).model(0)
    assert r.trace.nonfinite_step is not None
    cache = sa.Analyses()
    for kind in ("influence", "distance", "singular", "perturbation", "state_space"):
        value = cache.get(sa.request(r, kind))
        assert isinstance(value, sa.Failure), kind
        assert "NaN" in value.message and "\n" not in value.message


def test_costs_keep_the_gui_thread_to_what_takes_a_few_milliseconds():
    cache = sa.Analyses()
    tiny = results_for("lstm", hidden=8, steps=40, outputs=1)
    small = results_for("lstm", hidden=64, steps=200, outputs=2)
    big = results_for("lstm", hidden=128, steps=1000, outputs=2)
    for kind in ("influence", "distance", "singular", "perturbation", "state_space"):
        assert cache.live(sa.request(tiny, kind)), kind
    # T=200, H=64: the influence (about 18 ms) and the perturbation from an early step run
    # as jobs; the step Jacobian, the spectrum and the PCA stay live
    assert not cache.live(sa.request(small, "influence"))
    assert not cache.live(sa.request(small, "perturbation", k=10))
    assert cache.live(sa.request(small, "singular", t=100))
    assert cache.live(sa.request(small, "spectrum"))
    assert cache.live(sa.request(small, "state_space"))
    assert not cache.live(sa.request(big, "influence"))
    assert cache.cost(sa.request(big, "influence")) > 100 * sa.LIVE_BUDGET
    assert not cache.live(sa.request(small, "fixed_points"))  # always a job


def test_jobs_return_the_value_report_progress_and_cancel():
    r = results_for("lstm", hidden=8, steps=60)
    req = sa.request(r, "influence")
    seen = []
    value = run_job(sa.Analyses.job(req), on_progress=lambda f, m: seen.append(f))
    np.testing.assert_array_equal(value.matrix, sa.influence_map(r).matrix)
    assert seen[-1] == 1.0 and len(seen) > 2
    ctx = JobContext()
    ctx.cancel()
    with pytest.raises(Cancelled):
        run_job(sa.Analyses.job(req), context=ctx)
