"""A knowledge-base prior repeats each configuration once per source dataset: BOHB merges the
repeats into weighted kernels (same density, a fraction of the cost) and stores them compactly."""

from __future__ import annotations

import json

import ConfigSpace as CS
import numpy as np

from metakb.optimizers import BOHB, restore
from metakb.optimizers._kde import ProductKDE


def _space() -> CS.ConfigurationSpace:
    cs = CS.ConfigurationSpace(seed=0)
    cs.add([CS.UniformFloatHyperparameter("x", 0.0, 1.0),
            CS.UniformIntegerHyperparameter("n", 1, 9),
            CS.CategoricalHyperparameter("c", ["a", "b", "c"])])
    return cs


def _repeated_prior(n_configs: int = 12, n_datasets: int = 30, seed: int = 0):
    rng = np.random.default_rng(seed)
    configs = [{"x": float(rng.random()), "n": int(rng.integers(1, 10)),
                "c": str(rng.choice(["a", "b", "c"]))} for _ in range(n_configs)]
    prior = []
    for _ in range(n_datasets):
        losses = rng.permutation(n_configs) / (n_configs - 1)
        prior += [(c, float(q), 1.0 / n_configs) for c, q in zip(configs, losses, strict=True)]
    return configs, prior


def test_merged_prior_density_equals_the_unmerged_one() -> None:
    configs, prior = _repeated_prior()
    opt = BOHB(_space(), 1 / 9, 1.0, prior_observations=prior, seed=0)
    good, bad = opt.prior_kdes_
    assert good.data_.shape[0] <= len(configs) and bad.data_.shape[0] <= len(configs)
    # the same densities fitted on every repeated row, without merging
    data = opt.codec_.encode_many([c for c, _, _ in prior])
    losses = np.array([q for _, q, _ in prior])
    order = np.argsort(losses, kind="stable")
    n_good = int(np.ceil(opt.top_n_percent * len(order) / 100))
    vt = opt.codec_.vartypes
    ref_good = ProductKDE(vt, opt.min_bandwidth).fit(data[order[:n_good]])
    ref_bad = ProductKDE(vt, opt.min_bandwidth).fit(data[order[n_good:]])
    probe = opt.codec_.encode_many([dict(c) for c in _repeated_prior(seed=1)[0]])
    np.testing.assert_allclose(good.pdf(probe), ref_good.pdf(probe), rtol=1e-9)
    np.testing.assert_allclose(bad.pdf(probe), ref_bad.pdf(probe), rtol=1e-9)
    np.testing.assert_allclose(good.bw_, ref_good.bw_, rtol=1e-12)


def test_state_stores_each_prior_configuration_once_and_restores_it() -> None:
    configs, prior = _repeated_prior()
    opt = BOHB(_space(), 1 / 9, 1.0, prior_observations=prior, seed=3)
    stored = opt.state().to_dict()["settings"]["prior_observations"]
    assert len(stored["configs"]) == len(configs) and len(stored["points"]) == len(prior)
    again = restore(json.loads(json.dumps(opt.state().to_dict())))
    assert again.prior_observations == opt.prior_observations
    trial = again.suggest()
    assert trial.config == opt.suggest().config


def test_a_state_written_before_the_compact_form_still_restores() -> None:
    _, prior = _repeated_prior(n_configs=4, n_datasets=3)
    opt = BOHB(_space(), 1 / 9, 1.0, prior_observations=prior, seed=0)
    state = opt.state().to_dict()
    state["settings"]["prior_observations"] = [list(p) for p in prior]  # the old layout
    assert restore(state).prior_observations == opt.prior_observations
