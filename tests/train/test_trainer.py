"""The trainer: it learns, it is reproducible bit for bit (same seed; resumed = uninterrupted;
together = alone), it stops on NaN/Inf keeping the last finite weights, it keeps a bounded set of
evenly spaced snapshots, and as a job it pauses and cancels within one update."""

from __future__ import annotations

import numpy as np
import pytest

from rnnviz.engine import Network, NetworkConfig
from rnnviz.engine.optim import clip_grad_norm
from rnnviz.jobs import Cancelled, JobContext, run_job
from rnnviz.tasks import make_task
from rnnviz.train import (
    DONE,
    PAUSED,
    FitTask,
    Trainer,
    TrainError,
    TrainJob,
    TrainModel,
    TrainSettings,
    record_from_state,
)


def cfg(cell="lstm", hidden=8, inputs=2, outputs=1, seed=0, **kw) -> NetworkConfig:
    return NetworkConfig(cell=cell, input_size=inputs, hidden_size=hidden, output_size=outputs,
                         seed=seed, **kw)


def small_adding(length=10):
    return make_task("adding", length, test_size=64)


def same_weights(a, b) -> bool:
    return set(a) == set(b) and all(np.array_equal(a[k], b[k]) for k in a)


def test_a_small_task_is_learned_well_below_its_baseline():
    task = small_adding(10)
    trainer = Trainer(task, [TrainModel("GRU", cfg("gru", 16))],
                      TrainSettings(learning_rate=1e-2, batch_size=32, updates=400,
                                    eval_every=50))
    first = trainer.record(0).history.test_loss[0]
    trainer.run(400)
    h = trainer.record(0).history
    assert first > 0.5 * task.baseline
    assert h.test_loss[-1] < 0.2 * task.baseline
    assert h.success[-1] > 0.8
    assert list(h.eval_update) == list(range(0, 401, 50))


def test_an_update_is_forward_backward_clip_and_the_optimiser_step():
    task = small_adding()
    settings = TrainSettings(learning_rate=1e-2, batch_size=4, clip_norm=0.5, updates=1)
    trainer = Trainer(task, [TrainModel("m", cfg())], settings)
    rng = np.random.default_rng(settings.seed)
    batch = task.sample(rng, 4)
    net = Network.from_config(cfg())
    from rnnviz.engine.optim import Adam

    opt = Adam(net.state_dict(), lr=1e-2)
    loss, _, grads = net.loss_and_grads(batch.inputs, batch.targets, "mse", "last",
                                        mask=batch.mask)
    clipped, norm = clip_grad_norm(grads.params, 0.5)
    expected = opt.step(clipped)
    trainer.step()
    h = trainer.record(0).history
    assert h.loss[0] == loss and h.grad_norm[0] == norm
    assert same_weights(trainer.weights(0), expected)


def test_the_same_seed_gives_the_same_weights_bit_for_bit_and_another_seed_others():
    task = small_adding()

    def run(seed):
        t = Trainer(task, [TrainModel("m", cfg())], TrainSettings(updates=30, eval_every=10,
                                                                  seed=seed))
        t.run(30)
        return t.weights(0), t.record(0)

    w1, r1 = run(3)
    w2, r2 = run(3)
    w3, _ = run(4)
    assert same_weights(w1, w2)
    assert r1.history.equals(r2.history)
    assert not same_weights(w1, w3)


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop"])
def test_a_resumed_run_equals_an_uninterrupted_one_bit_for_bit(optimizer):
    task = small_adding()
    settings = TrainSettings(optimizer=optimizer, learning_rate=1e-2, batch_size=8,
                             updates=50, eval_every=7, max_snapshots=3)
    whole = Trainer(task, [TrainModel("m", cfg())], settings)
    whole.run(50)

    first = Trainer(task, [TrainModel("m", cfg())], settings)
    first.run(23)
    # through the saved form: JSON-ready meta and arrays, read back
    meta, arrays = first.record(0).to_state()
    import json

    record = record_from_state(json.loads(json.dumps(meta)), arrays)
    again = Trainer(task, [TrainModel("m", cfg(), first.weights(0), record)], settings)
    assert again.continued and again.update == 23
    again.run(50)
    assert same_weights(again.weights(0), whole.weights(0))
    a, b = again.record(0), whole.record(0)
    assert a.history.equals(b.history)
    assert a.rng_state == b.rng_state
    sa, sb = a.optimizer, b.optimizer
    assert sa["steps"] == sb["steps"] == 50
    for name in sb["buffers"]:
        assert same_weights(sa["buffers"][name], sb["buffers"][name])


def test_models_trained_together_get_the_weights_each_gets_alone():
    task = small_adding()
    settings = TrainSettings(updates=20, eval_every=5)
    configs = {"RNN": cfg("rnn_tanh"), "LSTM": cfg("lstm"), "GRU": cfg("gru", 6)}
    together = Trainer(task, [TrainModel(n, c) for n, c in configs.items()], settings)
    together.run(20)
    for k, (name, c) in enumerate(configs.items()):
        alone = Trainer(task, [TrainModel(name, c)], settings)
        alone.run(20)
        assert same_weights(together.weights(k), alone.weights(0))
        assert together.record(k).history.equals(alone.record(0).history)


def test_divergence_stops_with_the_update_named_and_the_last_finite_weights():
    task = small_adding()
    settings = TrainSettings(optimizer="sgd", momentum=0.0, learning_rate=50.0, clip_norm=None,
                             updates=200, eval_every=1000)
    model = TrainModel("relu", cfg("rnn_relu", 8, init="orthogonal", recurrent_scale=3.0))
    trainer = Trainer(task, [model], settings)
    trainer.run(200)
    d = trainer.diverged
    assert d is not None and d.model == "relu"
    assert d.update <= 200 and trainer.update == d.update - (d.quantity != "weights")
    assert all(np.isfinite(a).all() for a in trainer.weights(0).values())
    assert "update" in d.message() and str(d.update) in d.message()
    # the kept weights are those of the last finite update, as a run stopped there gives
    again = Trainer(task, [model], settings)
    again.run(d.update - 1)
    assert same_weights(again.weights(0), trainer.weights(0))
    record = trainer.record(0)
    assert record.diverged == d and record.update == d.update - 1
    assert np.isfinite(record.history.loss).all()
    assert not trainer.step()  # a diverged run stays stopped


def test_snapshots_are_bounded_evenly_spaced_and_include_the_start():
    task = small_adding()
    settings = TrainSettings(updates=40, eval_every=2, max_snapshots=5)
    trainer = Trainer(task, [TrainModel("m", cfg())], settings)
    trainer.run(40)
    h = trainer.record(0).history
    assert 1 <= len(h.snapshots) <= 5
    assert h.snapshot_update[0] == 0
    assert np.all(np.diff(h.snapshot_update) == h.snapshot_stride)
    assert h.snapshot_stride == 2 * 2**3  # 21 offers at stride 2 → thinned three times
    # a snapshot holds the weights the model had after that update
    step = int(h.snapshot_update[-1])
    again = Trainer(task, [TrainModel("m", cfg())], settings)
    again.run(step)
    assert same_weights(h.snapshot_at(step), again.weights(0))
    assert same_weights(h.snapshot_at(0), Network.from_config(cfg()).state_dict())


def test_a_model_that_does_not_fit_the_task_is_refused_with_a_message():
    task = small_adding()
    with pytest.raises(TrainError, match="reads 3 input channel"):
        Trainer(task, [TrainModel("m", cfg(inputs=3))], TrainSettings())
    with pytest.raises(TrainError, match="needs 1"):
        Trainer(task, [TrainModel("m", cfg(outputs=2))], TrainSettings())


def test_fitting_one_sequence_drives_its_loss_down():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 2))
    y = np.cumsum(x[:, :1], axis=0) / 5
    task = FitTask(x, y, None, "mse", "all")
    trainer = Trainer(task, [TrainModel("m", cfg("gru", 8))],
                      TrainSettings(updates=150, eval_every=50, batch_size=32))
    trainer.run(150)
    h = trainer.record(0).history
    assert h.test_loss[-1] < 0.1 * h.test_loss[0]
    net = Network.from_config(cfg("gru", 8))
    net.load_state_dict(trainer.weights(0))
    out = net.forward(x).output
    assert np.mean((out - y) ** 2) == pytest.approx(h.test_loss[-1], rel=1e-12)


def test_settings_refuse_bad_values_in_one_line():
    for kwargs, text in (({"learning_rate": 0}, "learning_rate"),
                         ({"batch_size": 0}, "batch_size"), ({"optimizer": "lbfgs"}, "optimizer"),
                         ({"clip_norm": float("nan")}, "clip_norm"),
                         ({"updates": 1.5}, "updates")):
        with pytest.raises(TrainError, match=text) as info:
            TrainSettings(**kwargs)
        assert "\n" not in str(info.value)


# ---- as a job ------------------------------------------------------------------------------


def test_the_job_reports_progress_publishes_snapshots_and_finishes():
    task = small_adding()
    trainer = Trainer(task, [TrainModel("m", cfg())], TrainSettings(updates=12, eval_every=4))
    job = TrainJob(trainer, 12, publish_every=0.0)
    messages, snaps = [], []
    result = run_job(job, lambda f, m: messages.append((f, m)), snaps.append)
    assert result.status == DONE and result.update == 12
    assert messages[-1][0] == 1.0 and messages[-1][1].startswith("update 12/12")
    assert [s.update for s in snaps] == list(range(1, 12))
    assert snaps[4].records[0].history.updates == 5
    assert same_weights(result.weights[0], trainer.weights(0))


def test_pause_stops_within_one_update_and_keeps_the_state():
    task = small_adding()
    trainer = Trainer(task, [TrainModel("m", cfg())], TrainSettings(updates=100))
    job = TrainJob(trainer, 100)

    def on_progress(_f, message):
        if message.startswith("update 7/"):
            job.stop()

    result = run_job(job, on_progress)
    assert result.status == PAUSED and result.update == 7 == trainer.update
    assert result.records[0].history.updates == 7


def test_cancel_stops_within_one_update_and_delivers_nothing():
    task = small_adding()
    trainer = Trainer(task, [TrainModel("m", cfg())], TrainSettings(updates=100))

    def on_progress(_f, message):
        if message.startswith("update 3/"):
            ctx.cancel()

    ctx = JobContext(on_progress)
    with pytest.raises(Cancelled):
        run_job(TrainJob(trainer, 100), context=ctx)
    assert trainer.update == 4  # the update under way when cancelled is finished, no more
