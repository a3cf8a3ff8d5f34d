"""MetaNAS's softmax temperature: annealed within each task (soft pruning) or over meta-training,
and kept with a checkpoint so that a loaded learner answers as the trained one did."""

from __future__ import annotations

import json

import pytest
import torch
from torch.func import grad

from nas_meta._errors import ConfigError
from nas_meta._functional import AdaptConfig, adapt, step_temperature, task_loss, zero_head
from nas_meta.episodes import EpisodeSampler
from nas_meta.learners import MetaNAS, load_learner

TINY = {"channels": 4, "layers": 2, "nodes": 1, "inner_steps": 3, "inner_lr": 0.3, "eval_steps": 3,
        "finetune_steps": 2, "arch_warmup": 0.0, "inner_lr_arch": 3.0, "cuda_graphs": False}


def _samplers(images):
    return (EpisodeSampler(images[:8], ways=3, shots=1, queries=3, seed=0),
            EpisodeSampler(images[8:], ways=3, shots=1, queries=3, seed=1))


def test_step_temperature_is_linear_from_first_to_last_step():
    assert [step_temperature(1.0, 0.1, i, 4) for i in range(4)] == pytest.approx([1.0, 0.7, 0.4, 0.1])
    assert step_temperature(0.5, None, 3, 4) == 0.5  # no end: constant
    assert step_temperature(1.0, 0.1, 0, 1) == 1.0  # a single step runs at the first temperature


def test_annealed_adaptation_equals_steps_at_their_own_temperature(toy_images):
    """``adapt`` with ``temperature_end`` is the hand-written loop, one temperature per step,
    and it differs from the constant-temperature adaptation (the schedule is used)."""
    train, _ = _samplers(toy_images)
    learner = MetaNAS(**TINY).fit(train, steps=1, show_progress=False)
    model, ep = learner.model_, train.sample(1)
    x, y = ep.support_x[0], ep.support_y[0]
    cfg = AdaptConfig(steps=3, lr=0.3, lr_arch=3.0, arch_reg=0.1)
    params, head = learner._params(), zero_head(model, 3, x)
    for t in (1.0, 0.55, 0.1):
        g_p, g_h = grad(lambda p, h, t=t: task_loss(model, p, h, x, y, cfg, t), argnums=(0, 1))(params, head)
        params = {k: v - (cfg.lr_arch if k.startswith("alpha") else cfg.lr) * g_p[k] for k, v in params.items()}
        head = {k: v - cfg.lr * g_h[k] for k, v in head.items()}
    annealed, annealed_head = adapt(model, learner._params(), x, y, 3, cfg, temperature=1.0, temperature_end=0.1)
    for name, value in params.items():
        torch.testing.assert_close(annealed[name], value, rtol=1e-5, atol=1e-6, msg=name)
    torch.testing.assert_close(annealed_head["weight"], head["weight"])
    constant, _ = adapt(model, learner._params(), x, y, 3, cfg, temperature=1.0)
    assert not torch.allclose(constant["alpha_normal"], annealed["alpha_normal"])


def test_task_schedule_temperatures_in_training_and_at_test():
    learner = MetaNAS(tau_start=1.0, tau_end=0.05, tau_schedule="task", arch_warmup=0.2)
    assert learner._training_temperatures(0.1) == (1.0, 1.0)  # warm-up: the uniform mixture
    assert learner._training_temperatures(0.5) == (1.0, 0.05)
    assert learner._training_temperatures(0.99) == (1.0, 0.05)
    assert learner._temperatures() == (1.0, 0.05)  # at test: annealed in every task too
    meta = MetaNAS(tau_start=1.0, tau_end=0.2)
    assert meta._training_temperatures(0.5) == pytest.approx((0.6, 0.6))


def test_task_schedule_meta_gradient_is_taken_at_the_last_temperature(toy_images):
    """FO-MAML's meta-gradient under the task schedule, by hand: support steps at 1.0 -> 0.05,
    the query loss at 0.05."""
    train, _ = _samplers(toy_images)
    learner = MetaNAS(**{**TINY, "meta_algorithm": "fomaml", "tau_end": 0.05, "tau_schedule": "task"})
    learner.fit(train, steps=1, show_progress=False)
    model, ep = learner.model_, train.sample(1)
    sx, sy, qx, qy = ep.support_x[0], ep.support_y[0], ep.query_x[0], ep.query_y[0]
    cfg = learner._adapt_cfg(learner.inner_steps)
    p, h = adapt(model, learner._params(), sx, sy, 3, cfg, temperature=1.0, temperature_end=0.05)
    expected = grad(lambda p_: task_loss(model, p_, h, qx, qy, AdaptConfig(arch_reg=cfg.arch_reg), 0.05))(p)
    grads, _ = learner._fomaml_grads(ep, cfg, temperatures=learner._training_temperatures(0.5))
    for name, value in expected.items():
        torch.testing.assert_close(grads[name], value, rtol=1e-4, atol=1e-6, msg=name)


@pytest.mark.parametrize("algorithm", ["reptile", "fomaml"])
def test_task_schedule_learner_learns_toy_tasks(toy_images, algorithm):
    train, test = _samplers(toy_images)
    learner = MetaNAS(**{**TINY, "meta_algorithm": algorithm, "tau_end": 0.05, "tau_schedule": "task",
                         "meta_lr": 1.0 if algorithm == "reptile" else 3e-3})
    learner.fit(train, steps=2, meta_batch=2, show_progress=False)
    assert learner.model_.temperature == 0.05
    result = learner.evaluate(test, episodes=6, batch=6, show_progress=False)
    assert result["accuracy"] > 0.5 and result["supernet_accuracy"] > 0.5


@pytest.mark.parametrize("schedule", ["meta", "task"])
def test_loaded_checkpoint_answers_at_the_trained_temperature(toy_images, tmp_path, schedule):
    """A checkpoint keeps the temperature its run ended at: loaded, it evaluates exactly as the
    learner that wrote it (before, a loaded supernet answered at ``tau_start``)."""
    train, test = _samplers(toy_images)
    learner = MetaNAS(**{**TINY, "tau_end": 0.2, "tau_schedule": schedule}).fit(train, steps=2, show_progress=False)
    trained = float(learner.model_.temperature)
    assert trained == pytest.approx(0.6 if schedule == "meta" else 0.2)  # meta: the schedule at step 1 of 2
    learner.save(tmp_path)
    loaded = load_learner(tmp_path)
    assert loaded.model_.temperature == pytest.approx(trained)
    a = learner.evaluate(EpisodeSampler(toy_images[8:], 3, 1, 3, seed=5), 6, show_progress=False)
    b = loaded.evaluate(EpisodeSampler(toy_images[8:], 3, 1, 3, seed=5), 6, show_progress=False)
    assert a["accuracy"] == pytest.approx(b["accuracy"])
    assert a["supernet_accuracy"] == pytest.approx(b["supernet_accuracy"])
    # a checkpoint written before the temperature was saved: a finished run ended near tau_end
    config = json.loads((tmp_path / "config.json").read_text())
    del config["state"]
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert load_learner(tmp_path).model_.temperature == pytest.approx(0.2)


def test_task_schedule_keeps_the_test_temperature_even_during_warm_up(toy_images, tmp_path):
    """A run that ends in the architecture's warm-up (trained at ``tau_start``) still records
    and answers at ``tau_end``, the temperature every test task anneals to."""
    train, _ = _samplers(toy_images)
    learner = MetaNAS(**{**TINY, "arch_warmup": 0.9, "tau_end": 0.1, "tau_schedule": "task"})
    learner.fit(train, steps=1, show_progress=False)
    assert learner._training_temperatures(0.0) == (1.0, 1.0)
    assert learner.model_.temperature == 0.1
    learner.save(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["state"] == {"temperature": 0.1}


def test_unknown_tau_schedule_is_refused():
    with pytest.raises(ConfigError, match="tau_schedule must be one of"):
        MetaNAS(tau_schedule="epoch")
