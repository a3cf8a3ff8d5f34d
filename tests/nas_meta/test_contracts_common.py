"""Common contract tests (#19 item 5) of the few-shot learners, over every member of
``nas_meta.learners.METHODS`` (read when the tests are collected: a new learner is tested here
without a new line). The contracts are those of ``tests/metakb/test_contracts_common.py``:

(a) ``get_params`` / ``set_params`` / ``sklearn.base.clone`` round trip;
(b) the same seed gives the same weights: built, and after a meta-step on the same episodes;
(c) ``save`` / ``load_learner`` give back the same weights, settings and progress;
(d) every parameter of the ``_parameter_constraints`` table refuses a foreign type and a value
    beyond each bound, with scikit-learn's wording (a learner checks in its constructor, as
    Reptile always did: it derives state there), and the table names every parameter;
(e) ``evaluate`` and ``save`` before ``fit`` are a clear error.

One supernet meta-step of MetaNAS takes seconds of CPU, so its meta-step comparisons (b, c)
run under ``-m slow``; its built weights are compared in the default run.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import torch
from sklearn.base import clone

from nas_meta._errors import ConfigError
from nas_meta.episodes import EpisodeSampler
from nas_meta.learners import METHODS, _Choice, _Range, _satisfies, load_learner

SKLEARN_WORDING = r"The '.+' parameter of \w+ must be .+\. Got .+ instead\."

#: Settings that keep a learner small (members not named use their defaults).
_TINY: dict[str, dict[str, Any]] = {
    "reptile": {"channels": 4, "inner_steps": 1, "eval_steps": 1},
    "fomaml": {"channels": 4, "inner_steps": 1, "eval_steps": 1},
    "metanas": {"channels": 2, "layers": 2, "nodes": 1, "inner_steps": 1, "eval_steps": 1,
                "finetune_steps": 1, "arch_warmup": 0.0},
    "protonet": {"channels": 4},
}
_SLOW = {"metanas"}  # a meta-step of the supernet takes seconds of CPU


class _Foreign:
    def __repr__(self) -> str:
        return "<foreign object>"


def _make(method: str, **params: Any) -> Any:
    return METHODS[method](**{**_TINY.get(method, {}), **params})


def _methods(slow_step: bool = False) -> list[Any]:
    """Every learner; with ``slow_step``, the ones whose meta-step is slow are marked slow."""
    return [pytest.param(m, marks=[pytest.mark.slow] if slow_step and m in _SLOW else []) for m in METHODS]


def _sampler(images: Any) -> EpisodeSampler:
    return EpisodeSampler(images[:6], ways=2, shots=1, queries=1, seed=0)


def _weights(learner: Any) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in learner.model_.state_dict().items()}


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("method", _methods())
def test_parameters_round_trip(method):
    learner = _make(method)
    params = learner.get_params()
    copy = clone(learner)
    assert type(copy) is type(learner) and copy is not learner and copy.get_params() == params
    assert learner.set_params(seed=3) is learner and learner.seed == 3
    with pytest.raises(ConfigError, match="no parameter 'nope'"):
        learner.set_params(nope=1)
    with pytest.raises(ConfigError, match="The 'seed' parameter of"):
        learner.set_params(seed=-1)  # checked as the constructor checks


@pytest.mark.parametrize("method", _methods())
def test_seed_gives_the_same_initial_weights(method):
    one, two, other = _make(method, seed=5), _make(method, seed=5), _make(method, seed=6)
    for learner in (one, two, other):
        learner._ensure_model()  # the weights fit() starts from
    assert _same(_weights(one), _weights(two))
    assert not _same(_weights(one), _weights(other))


@pytest.mark.parametrize("method", _methods(slow_step=True))
def test_seed_gives_the_same_meta_step(method, toy_images):
    one = _make(method, seed=5).fit(_sampler(toy_images), steps=1, show_progress=False)
    two = _make(method, seed=5).fit(_sampler(toy_images), steps=1, show_progress=False)
    assert _same(_weights(one), _weights(two))
    assert one.history_[0]["loss"] == two.history_[0]["loss"]


@pytest.mark.parametrize("method", _methods(slow_step=True))
def test_save_and_load_round_trip(method, toy_images, tmp_path):
    learner = _make(method, seed=2).fit(_sampler(toy_images), steps=1, show_progress=False)
    learner.save(tmp_path)
    back = load_learner(tmp_path)
    assert type(back) is type(learner) and back.get_params() == learner.get_params()
    assert _same(_weights(back), _weights(learner))
    assert (back.steps_done_, back.history_) == (learner.steps_done_, learner.history_)


def _bad_values(constraints: list[Any]) -> list[tuple[str, Any]]:
    """Foreign types and values beyond each bound. An unknown string of a set of strings is left
    out: ``head_init`` and ``tau_schedule`` keep their own message for it ("head_init must be one
    of [...]"), which tests and callers match."""
    found: list[tuple[str, Any]] = [("type", _Foreign())]
    if not any(isinstance(c, _Choice) for c in constraints):
        found.insert(0, ("type", "not-a-valid-value-%%"))
    for c in constraints:
        if isinstance(c, _Range):
            if c.low is not None:
                found.append(("range", c.low - 1))
            if c.high is not None:
                found.append(("range", c.high + 1))
    return [(kind, v) for kind, v in found if not any(_satisfies(c, v) for c in constraints)]


def _bad_cases() -> list[Any]:
    return [pytest.param(method, param, value, id=f"{method}-{param}-{kind}-{value!r}")
            for method, cls in METHODS.items()
            for param, constraints in cls._parameter_constraints.items()
            for kind, value in _bad_values(constraints)]


@pytest.mark.parametrize(("method", "param", "value"), _bad_cases())
def test_refuses_bad_parameters(method, param, value):
    with pytest.raises(ConfigError) as err:
        _make(method, **{param: value})
    message = str(err.value)
    assert re.fullmatch(SKLEARN_WORDING, message), message
    assert message.startswith(f"The {param!r} parameter of {METHODS[method].__name__} must be"), message


@pytest.mark.parametrize("method", _methods())
def test_table_names_every_parameter(method):
    table = METHODS[method]._parameter_constraints
    assert set(table) == set(_make(method).get_params())
    kinds = {kind for constraints in table.values() for kind, _ in _bad_values(constraints)}
    assert kinds == {"type", "range"}


@pytest.mark.parametrize("method", _methods())
def test_unfitted_error(method, toy_images, tmp_path):
    learner = _make(method)
    with pytest.raises(ConfigError, match="must be fitted"):
        learner.evaluate(_sampler(toy_images), episodes=2, show_progress=False)
    with pytest.raises(ConfigError, match="must be fitted"):
        learner.save(tmp_path)
