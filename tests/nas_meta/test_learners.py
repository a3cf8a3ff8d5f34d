"""A few meta-steps of every method on toy 3-way 1-shot tasks (CPU, seconds)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch

from nas_meta._errors import ConfigError
from nas_meta.episodes import EpisodeSampler
from nas_meta.learners import FOMAML, METHODS, MetaNAS, ProtoNet, Reptile, load_learner, mean_ci95

TINY = {
    "reptile": {"channels": 8, "inner_steps": 3, "inner_lr": 0.3, "eval_steps": 5},
    "fomaml": {"channels": 8, "inner_steps": 3, "inner_lr": 0.3, "eval_steps": 5, "meta_lr": 3e-3},
    "metanas": {"channels": 4, "layers": 2, "nodes": 1, "inner_steps": 2, "inner_lr": 0.3, "eval_steps": 3,
                "finetune_steps": 2, "arch_warmup": 0.0},
}


def _samplers(images):
    train = EpisodeSampler(images[:8], ways=3, shots=1, queries=3, seed=0)
    test = EpisodeSampler(images[8:], ways=3, shots=1, queries=3, seed=1)
    return train, test


@pytest.mark.parametrize("method", ["reptile", "fomaml", pytest.param("metanas", marks=pytest.mark.slow)])
def test_adaptation_beats_the_unadapted_model(toy_images, method):
    train, test = _samplers(toy_images)
    n = 6 if method == "metanas" else 12  # the supernet is slow on a CPU
    learner = METHODS[method](**TINY[method]).fit(train, steps=2, meta_batch=2, show_progress=False)
    adapted = learner.evaluate(test, episodes=n, batch=n, show_progress=False)
    steps = learner.eval_steps
    learner.eval_steps = 0
    if isinstance(learner, MetaNAS):
        learner.finetune_steps = 0
    unadapted = learner.evaluate(test, episodes=n, batch=n, show_progress=False)
    learner.eval_steps = steps
    # A zero head predicts class 0 for everything: exactly 1/3 of the queries.
    assert unadapted["accuracy"] == pytest.approx(1 / 3)
    assert adapted["accuracy"] > 0.6
    assert learner.steps_done_ == 2
    if method == "metanas":
        assert 0.0 <= adapted["parameter_free_share"] <= 1.0
        assert 0.0 <= adapted["supernet_accuracy"] <= 1.0
        assert learner.genotype().nodes == 1


def test_metanas_adapts_weights_and_architecture(toy_images):
    """The fast version of the test above: one meta-step, a few episodes."""
    train, test = _samplers(toy_images)
    learner = MetaNAS(**{**TINY["metanas"], "inner_steps": 1}).fit(train, steps=1, meta_batch=1, show_progress=False)
    before = learner.model_.alpha_normal.detach().clone()
    adapted = learner.evaluate(test, episodes=4, batch=4, show_progress=False)
    learner.eval_steps, learner.finetune_steps = 0, 0
    unadapted = learner.evaluate(test, episodes=4, batch=4, show_progress=False)
    assert unadapted["accuracy"] == pytest.approx(1 / 3)
    assert adapted["accuracy"] > 0.5
    assert 0.0 <= adapted["parameter_free_share"] <= 1.0
    assert torch.equal(before, learner.model_.alpha_normal)  # evaluation never changes the meta-model


def test_protonet_learns_toy_classes(toy_images):
    train, test = _samplers(toy_images)
    learner = ProtoNet(channels=8, lr=3e-3).fit(train, steps=40, show_progress=False)
    assert learner.evaluate(test, episodes=12, batch=12, show_progress=False)["accuracy"] > 0.6


@pytest.mark.parametrize("head_init", ["zero", "proto"])
def test_feature_scale_learners_adapt_and_round_trip(toy_images, tmp_path, head_init):
    """With normalised features (``feature_scale``) the gradient learners still learn toy tasks
    (zero and prototype heads), and the setting survives a checkpoint."""
    train, test = _samplers(toy_images)
    learner = FOMAML(**TINY["fomaml"], head_init=head_init, feature_scale=3.0).fit(
        train, steps=3, meta_batch=2, show_progress=False)
    adapted = learner.evaluate(test, episodes=12, batch=12, show_progress=False)
    assert adapted["accuracy"] > 0.6
    assert learner.model_.feature_scale == 3.0
    learner.save(tmp_path)
    loaded = load_learner(tmp_path)
    assert loaded.get_params()["feature_scale"] == 3.0 and loaded.model_.feature_scale == 3.0
    a = learner.evaluate(EpisodeSampler(toy_images[8:], 3, 1, 3, seed=5), 6, show_progress=False)
    b = loaded.evaluate(EpisodeSampler(toy_images[8:], 3, 1, 3, seed=5), 6, show_progress=False)
    assert a["accuracy"] == pytest.approx(b["accuracy"])
    metanas = MetaNAS(**{**TINY["metanas"], "inner_steps": 1}, head_init=head_init, feature_scale=3.0)
    assert metanas.fit(train, steps=1, show_progress=False).model_.feature_scale == 3.0
    with pytest.raises(ConfigError, match="feature_scale"):
        Reptile(feature_scale=-1.0)


def test_save_and_load_round_trip(toy_images, tmp_path):
    train, test = _samplers(toy_images)
    learner = Reptile(channels=4, eval_steps=2).fit(train, steps=1, show_progress=False)
    learner.save(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["method"] == "reptile"
    loaded = load_learner(tmp_path / "checkpoint.pt")
    assert loaded.get_params() == learner.get_params()
    a = learner.evaluate(EpisodeSampler(toy_images[8:], 3, 1, 3, seed=5), 4, show_progress=False)
    b = loaded.evaluate(EpisodeSampler(toy_images[8:], 3, 1, 3, seed=5), 4, show_progress=False)
    assert a["accuracy"] == pytest.approx(b["accuracy"])


class _NotATensor:
    """An object a tensors-only checkpoint must never unpickle."""


def test_loading_refuses_foreign_and_mismatched_checkpoints(toy_images, tmp_path):
    train, _ = _samplers(toy_images)
    Reptile(channels=4, eval_steps=2).fit(train, steps=1, show_progress=False).save(tmp_path)
    good = (tmp_path / "checkpoint.pt").read_bytes()
    torch.save({"0.weight": _NotATensor()}, tmp_path / "checkpoint.pt")  # a pickled object, not tensors
    with pytest.raises(ConfigError, match="not a state dict of tensors") as info:
        load_learner(tmp_path)
    assert "\n" not in str(info.value)
    (tmp_path / "checkpoint.pt").write_bytes(b"not a torch file")
    with pytest.raises(ConfigError, match="not a state dict of tensors"):
        load_learner(tmp_path)
    (tmp_path / "checkpoint.pt").write_bytes(good)
    config = json.loads((tmp_path / "config.json").read_text())
    config["params"]["channels"] = 8  # another network than the weights'
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError, match="does not match the reptile network") as info:
        load_learner(tmp_path)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("method", ["reptile", "fomaml", "protonet"])
def test_a_second_fit_starts_afresh(toy_images, method):
    """As scikit-learn's: fit twice from the same seed and data gives the same weights as once
    (the second call does not continue from the first's weights or optimiser state)."""
    params = TINY.get(method, {"channels": 8})
    once = METHODS[method](**params).fit(EpisodeSampler(toy_images[:8], 3, 1, 3, seed=0), steps=2, show_progress=False)
    twice = METHODS[method](**params)
    twice.fit(EpisodeSampler(toy_images[:8], 3, 1, 3, seed=0), steps=2, show_progress=False)
    twice.fit(EpisodeSampler(toy_images[:8], 3, 1, 3, seed=0), steps=2, show_progress=False)
    assert twice.steps_done_ == 2 and len(twice.history_) == len(once.history_)
    for (name, a), (_, b) in zip(once.model_.state_dict().items(), twice.model_.state_dict().items(), strict=True):
        torch.testing.assert_close(a, b, msg=name)


def test_time_budget_stops_training_with_a_warning(toy_images):
    train, _ = _samplers(toy_images)
    with pytest.warns(RuntimeWarning, match="time budget"):
        learner = FOMAML(channels=4, inner_steps=1).fit(train, steps=1000, time_budget=1e-9, show_progress=False)
    assert learner.steps_done_ <= 1
    with pytest.raises(ConfigError):
        FOMAML(channels=4).fit(train, steps=10, time_budget=0.0)


def test_metanas_discrete_finish_trains_the_discretised_cells(toy_images):
    train, _ = _samplers(toy_images)
    # Two inner steps: the head starts at zero, so the first step moves only the head.
    # the cells of the meta-learned alpha (finish_adapt_arch=False): see the next test for the default
    learner = MetaNAS(**{**TINY["metanas"], "inner_steps": 2, "discrete_finish": 0.5, "finish_adapt_arch": False})
    learner.fit(train, steps=1, meta_batch=1, show_progress=False)  # frac 0: the soft supernet
    alpha = learner.model_.alpha_normal.detach().clone()
    weights = {k: v.detach().clone() for k, v in learner.model_.named_parameters() if not k.startswith("alpha")}
    episodes = train.sample(1)
    learner._meta_step(episodes, 0.75)  # in the finishing phase
    assert torch.equal(alpha, learner.model_.alpha_normal)  # the architecture is frozen
    moved = [k for k, v in learner.model_.named_parameters() if k in weights and not torch.equal(v, weights[k])]
    assert moved  # the weights of the chosen operations still learn
    # Operations the discretised cell drops get no gradient: in the normal cell (cells.0) only
    # the chosen operation of each edge may move (module j of an edge is PRIMITIVES[j + 1]).
    hard = learner.model_.hard_op_weights()[0]
    for name in moved:
        if name.startswith("cells.0.edges."):
            edge, op = (int(part) for part in name.split(".")[3:6:2])
            assert hard[edge, op + 1] == 1, name
    assert any(name.startswith("cells.0.edges.") for name in moved) or hard[:, 4:].sum() == 0


@pytest.mark.parametrize("head_init", ["zero", "proto"])
def test_metanas_finishing_phase_trains_the_cells_a_test_task_answers_with(toy_images, head_init):
    """Default finishing phase: per task the soft supernet adapts weights and alpha first (as at
    test time), then the discretised cells of the adapted alpha adapt and give the first-order
    gradient; the meta-learned alpha stays frozen."""
    from torch.func import grad, vjp

    from nas_meta._functional import AdaptConfig, adapt, prototype_head, task_loss

    train, _ = _samplers(toy_images)
    learner = MetaNAS(**{**TINY["metanas"], "meta_algorithm": "fomaml", "discrete_finish": 0.5,
                         "head_init": head_init, "inner_lr_arch": 3.0, "cuda_graphs": False})
    learner.fit(train, steps=1, meta_batch=1, show_progress=False)
    model, episodes = learner.model_, train.sample(1)
    sx, sy, qx, qy = (episodes.support_x[0], episodes.support_y[0], episodes.query_x[0], episodes.query_y[0])
    params = learner._params()
    model.temperature = 1.0
    pre = learner._adapt_cfg(learner.inner_steps, arch=True)
    hard = replace(learner._adapt_cfg(learner.inner_steps, arch=False), hard=True, arch_reg=0.0)
    # by hand: stage 1 soft (weights and alpha), stage 2 the discretised cells of the adapted alpha
    p1, h1 = adapt(model, params, sx, sy, 3, pre)
    assert not torch.equal(p1["alpha_normal"], params["alpha_normal"])  # alpha moved for this task
    if head_init == "proto":  # restarted under the discretised network, gradient pulled back through it
        head, pull_back = vjp(lambda q: prototype_head(model, q, sx, sy, 3, hard=True), p1)
    else:  # carried over from stage 1
        head, pull_back = h1, None
    p2, h2 = adapt(model, p1, sx, sy, 3, hard, head=head)
    expected, g_head = grad(lambda p_, h_: task_loss(model, p_, h_, qx, qy, AdaptConfig(hard=True)),
                            argnums=(0, 1))(p2, h2)
    if pull_back is not None:
        (through,) = pull_back(g_head)
        expected = {k: v + through[k] for k, v in expected.items()}
    grads, _ = learner._fomaml_grads(episodes, hard, pre=pre)
    for name, value in expected.items():
        torch.testing.assert_close(grads[name], value, rtol=1e-4, atol=1e-6, msg=name)
    alpha = learner.model_.alpha_normal.detach().clone()
    learner._meta_step(episodes, 0.75)  # in the finishing phase
    assert torch.equal(alpha, learner.model_.alpha_normal)


def test_validation_both_sides(toy_images, tmp_path):
    train, test = _samplers(toy_images)
    with pytest.raises(ConfigError):
        MetaNAS(meta_algorithm="adam")
    with pytest.raises(ConfigError):
        MetaNAS(arch_warmup=0.9, arch_stop=0.5)
    with pytest.raises(ConfigError):
        MetaNAS(discrete_finish=1.0)
    with pytest.raises(ConfigError):
        Reptile().evaluate(test, 10)
    with pytest.raises(ConfigError):
        Reptile(channels=4).fit(train, steps=0)
    with pytest.raises(ConfigError):
        load_learner(tmp_path)
    assert MetaNAS(meta_algorithm="fomaml").meta_algorithm == "fomaml"


def test_mean_ci95_by_hand():
    mean, half = mean_ci95([0.0, 1.0, 0.0, 1.0])
    assert mean == 0.5
    assert half == pytest.approx(1.96 * (1 / 3) ** 0.5 / 2)


@pytest.mark.gpu
@pytest.mark.parametrize("method", ["reptile", "metanas"])
def test_learners_on_cuda(toy_images, method):
    if not torch.cuda.is_available():
        pytest.skip("CUDA not available")
    train = EpisodeSampler(toy_images[:8], 3, 1, 3, device="cuda", seed=0)
    test = EpisodeSampler(toy_images[8:], 3, 1, 3, device="cuda", seed=1)
    learner = METHODS[method](**TINY[method], device="cuda").fit(train, steps=3, meta_batch=4, show_progress=False)
    assert learner.evaluate(test, episodes=20, show_progress=False)["accuracy"] > 0.6


class _FakeClock:
    """``time.perf_counter`` advancing one second per call: pauses at a known meta-step."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


# Adam state; Adam + step-size schedule; the prototype head and augmented images (more draws)
@pytest.mark.parametrize("method", ["fomaml", "protonet", "fomaml-proto-augment"])
def test_paused_and_resumed_run_equals_one_run(toy_images, tmp_path, monkeypatch, method):
    import nas_meta.learners as learners

    make = {"fomaml": lambda: FOMAML(channels=4, inner_steps=1, meta_lr=1e-2),
            "protonet": lambda: ProtoNet(channels=4, lr=1e-2, lr_halve_every=2),
            "fomaml-proto-augment": lambda: FOMAML(channels=4, inner_steps=1, meta_lr=1e-2, head_init="proto")}[method]
    augment = 0.5 if method.endswith("augment") else 0.0
    monkeypatch.setattr(learners.time, "perf_counter", _FakeClock())
    whole = make().fit(EpisodeSampler(toy_images[:8], 3, 1, 3, seed=0, augment=augment), steps=6, show_progress=False)

    sampler = EpisodeSampler(toy_images[:8], 3, 1, 3, seed=0, augment=augment)
    part = make().fit(sampler, steps=6, show_progress=False, stop_after=3.5)  # steps at t = 1, 2, 3
    assert part.paused_ and part.steps_done_ == 3
    part.save(tmp_path)
    assert (tmp_path / "optimizer.pt").is_file()
    resumed = load_learner(tmp_path)
    assert resumed.paused_ and resumed.steps_done_ == 3
    rest = EpisodeSampler(toy_images[:8], 3, 1, 3, seed=123, augment=augment)
    rest.set_state(json.loads(json.dumps(sampler.get_state())))  # through JSON, as meta_train saves it
    resumed.fit(rest, steps=6, show_progress=False, resume=True)
    assert not resumed.paused_ and resumed.steps_done_ == 6
    for (name, a), b in zip(whole.model_.state_dict().items(), resumed.model_.state_dict().values(), strict=True):
        assert torch.allclose(a, b, atol=1e-6), name
    with pytest.raises(ConfigError, match="resume=True"):
        make().fit(sampler, steps=6, resume=True)
    with pytest.raises(ConfigError, match="stop_after"):
        make().fit(sampler, steps=6, stop_after=0.0)
    with pytest.raises(ConfigError, match="sampler state"):
        rest.set_state({"bit_generator": "nope"})


def test_resumed_schedules_count_the_time_already_spent(toy_images, monkeypatch):
    import nas_meta.learners as learners

    monkeypatch.setattr(learners.time, "perf_counter", _FakeClock())
    fracs: list[float] = []
    learner = Reptile(channels=4, inner_steps=1)
    original = learner._meta_step
    monkeypatch.setattr(learner, "_meta_step", lambda episodes, frac: (fracs.append(frac), original(episodes, frac))[1])
    sampler = EpisodeSampler(toy_images[:8], 3, 1, 3, seed=0)
    learner.fit(sampler, steps=100, time_budget=10.0, show_progress=False, stop_after=3.5)
    paused_at = learner.train_seconds_
    with pytest.warns(RuntimeWarning, match="time budget"):
        learner.fit(sampler, steps=100, time_budget=10.0, show_progress=False, resume=True)
    assert fracs[:3] == pytest.approx([0.1, 0.2, 0.3])
    assert fracs[3] == pytest.approx((paused_at + 1.0) / 10.0)  # continues, does not restart at 0
    assert all(b > a for a, b in zip(fracs[:-1], fracs[1:], strict=True)) and fracs[-1] < 1.0
