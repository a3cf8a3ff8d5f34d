"""BOHB: Hyperband whose new configurations come from a TPE-style model (Falkner et al. 2018).

The algorithm follows HpBandSter 0.7.4 (``hpbandster.optimizers.bohb`` and its config
generator); see ``docs/optimizers.md`` for the description, the defaults and the few deliberate
differences. Warm starting is generic: ``initial_configs`` are evaluated first on the largest
budget, and ``prior_observations`` (``(config, loss, weight)`` triples, e.g. from similar
datasets of the knowledge base) seed the good and bad densities as ``prior_strength``
pseudo-observations whose share shrinks as the task's own observations arrive.

References:
    Falkner, Klein, Hutter. BOHB: Robust and Efficient Hyperparameter Optimization at Scale.
    ICML 2018.
    Li et al. Hyperband: A Novel Bandit-Based Approach to Hyperparameter Optimization. JMLR 2018.
    Bergstra, Bardenet, Bengio, Kegl. Algorithms for Hyper-Parameter Optimization. NIPS 2011.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from metakb._convert import same_budget
from metakb.errors import ConfigError
from metakb.optimizers._base import (
    BaseOptimizer,
    OptimizerState,
    Result,
    Trial,
    configspace_from_json,
    configspace_to_json,
)
from metakb.optimizers._hyperband import (
    BRACKET_RULES,
    SuccessiveHalving,
    bracket_sizes,
    hyperband_budgets,
)
from metakb.optimizers._kde import ProductKDE, impute_inactive
from metakb.optimizers._space import SpaceCodec
from metakb.params import SEED, Interval, Predicate, StrOptions

__all__ = ["BOHB"]

_INITIAL = -1  # bracket id of the warm-start configurations


def _items(value: Any) -> list[Any] | None:
    """The items of a sequence to inspect; None for what is no collection (a str, a mapping, a
    number). A one-shot iterator passes unread (its items are converted as they come)."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        return None
    return list(value) if isinstance(value, Sequence) else []


def _is_config_list(value: Any) -> bool:
    items = _items(value)
    return items is not None and all(isinstance(c, Mapping) for c in items)


def _is_real(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _is_triples(value: Any) -> bool:
    items = _items(value)
    return items is not None and all(
        isinstance(t, Sequence) and len(t) == 3 and isinstance(t[0], Mapping)
        and all(_is_real(x) for x in t[1:]) for t in items)


def _is_prior(value: Any) -> bool:
    """A sequence of triples (every budget), or a mapping budget -> sequence of triples."""
    if isinstance(value, Mapping):
        return all(_is_real(b) and b > 0 and _is_triples(v) for b, v in value.items())
    return _is_triples(value)


Triple = tuple[dict[str, Any], float, float]


class BOHB(BaseOptimizer):
    """Bayesian optimisation and Hyperband, with optional warm start.

    Args:
        configspace: the ConfigSpace 1.x search space.
        min_budget: the smallest budget a configuration is evaluated on.
        max_budget: the full budget.
        eta: the successive-halving rate (keep the best ``1 / eta`` each stage).
        min_points_in_model: observations on a budget before its model is fitted; None means
            ``d + 1`` (d = number of hyperparameters), also the smallest value accepted.
        top_n_percent: the percentage of observations in the "good" density.
        num_samples: candidates drawn from the good density per model-based suggestion.
        random_fraction: the share of configurations drawn uniformly at random.
        bandwidth_factor: widening of the continuous bandwidths when drawing candidates.
        min_bandwidth: the smallest bandwidth of any density.
        bracket_rule: ``"hpbandster"`` or ``"paper"`` (Hyperband's own bracket sizes).
        initial_configs: configurations evaluated first, on ``max_budget``, in order.
        prior_observations: ``(config, loss, weight)`` triples from other tasks; losses must be
            comparable across them (for example per-task rank quantiles in [0, 1]). A sequence
            is the prior of every budget. A mapping ``budget -> triples`` gives each budget its
            own prior (e.g. other tasks' evaluations at 1/9 of the rows for the 1/9 model): its
            keys must be budgets of the run (:func:`hyperband_budgets`, compared with a 1e-9
            relative tolerance); a budget without a key uses the prior of the nearest larger
            budget that has one, else of the largest one below it.
        prior_strength: how many of the task's own observations the prior counts as; None means
            ``min_points_in_model``.

    The model of a budget (HpBandSter: the largest budget with enough observations) is mixed
    with that budget's prior; before any budget has a model, suggestions come from the prior of
    ``max_budget`` alone.
        seed: seed of the optimizer's own random generator.

    References:
        Falkner, Klein, Hutter. BOHB: Robust and Efficient Hyperparameter Optimization at
        Scale. ICML 2018.
    """

    _parameter_constraints: dict[str, list[Any]] = {
        "min_budget": [Interval(numbers.Real, 0, None, closed="neither")],
        "max_budget": [Interval(numbers.Real, 0, None, closed="neither")],
        "eta": [Interval(numbers.Real, 1, None, closed="neither")],
        "min_points_in_model": [None, Interval(numbers.Integral, 1, None, closed="left")],
        "top_n_percent": [Interval(numbers.Real, 0, 100, closed="neither")],
        "num_samples": [Interval(numbers.Integral, 1, None, closed="left")],
        "random_fraction": [Interval(numbers.Real, 0, 1, closed="both")],
        "bandwidth_factor": [Interval(numbers.Real, 0, None, closed="neither")],
        "min_bandwidth": [Interval(numbers.Real, 0, None, closed="neither")],
        "bracket_rule": [StrOptions(BRACKET_RULES)],
        "initial_configs": [None, Predicate(_is_config_list, "a sequence of configuration dicts")],
        "prior_observations": [None, Predicate(_is_prior, "a sequence of (configuration dict, loss, weight) "
                                                          "triples, or a mapping budget > 0 -> such a sequence")],
        "prior_strength": [None, Interval(numbers.Real, 0, None, closed="neither")],
        "seed": [*SEED],
    }  # and the search space (BaseOptimizer._space_constraints)

    def __init__(self, configspace: Any, min_budget: float, max_budget: float, *,
                 eta: float = 3, min_points_in_model: int | None = None,
                 top_n_percent: int = 15, num_samples: int = 64,
                 random_fraction: float = 1 / 3, bandwidth_factor: float = 3,
                 min_bandwidth: float = 1e-3, bracket_rule: str = "hpbandster",
                 initial_configs: Sequence[Mapping[str, Any]] | None = None,
                 prior_observations: (Sequence[tuple[Mapping[str, Any], float, float]]
                                      | Mapping[float, Sequence[tuple[Mapping[str, Any], float, float]]]
                                      | None) = None,
                 prior_strength: float | None = None, seed: int | None = None) -> None:
        super().__init__(seed)
        self.configspace = configspace
        self.min_budget, self.max_budget, self.eta = min_budget, max_budget, eta
        self.min_points_in_model = min_points_in_model
        self.top_n_percent, self.num_samples = top_n_percent, num_samples
        self.random_fraction, self.bandwidth_factor = random_fraction, bandwidth_factor
        self.min_bandwidth, self.bracket_rule = min_bandwidth, bracket_rule
        self.initial_configs: Any = initial_configs
        self.prior_observations: Any = prior_observations
        self.prior_strength = prior_strength
        self._validate_params()  # the declared tables first: a wrong type is a ConfigError, not a TypeError
        self.initial_configs = [dict(c) for c in initial_configs or []]
        self.budgets_ = hyperband_budgets(min_budget, max_budget, eta)
        self.prior_observations = _normalise_prior(prior_observations, self.budgets_)
        self._validate()
        self.codec_ = SpaceCodec(configspace)
        d = self.codec_.n_dims
        self.min_points_ = max(min_points_in_model or 0, d + 1)
        self.s_max_ = len(self.budgets_) - 1
        self.prior_strength_ = float(self.min_points_ if prior_strength is None else prior_strength)
        self._initial_queue = list(self.initial_configs)
        self._brackets: list[SuccessiveHalving] = []
        self._n_brackets = 0
        self._where: dict[int, tuple[int, int, int]] = {}  # trial -> (bracket, slot, stage)
        self._obs: dict[float, tuple[list[np.ndarray], list[float]]] = {}
        self._models: dict[float, tuple[ProductKDE, ProductKDE]] = {}
        self._stale: set[float] = set()
        #: budget -> the (good, bad) prior densities its model is mixed with (every budget of
        #: the run, each pointing at its own prior or the one it falls back to; empty: no prior)
        self.budget_prior_kdes_ = self._fit_priors()
        #: the prior densities of ``max_budget`` (None: no prior)
        self.prior_kdes_ = self.prior_for(self.budgets_[-1])

    # ------------------------------------------------------------------ validation
    def _validate(self) -> None:
        """What the table cannot say: the initial configurations belong to the space, the prior's
        weights are finite (the budgets' order is :func:`hyperband_budgets`' check)."""
        for config in self.initial_configs:
            _check_config(self.configspace, config)
        if any(w < 0 or not math.isfinite(w) for _, _, w in _all_triples(self.prior_observations)):
            raise ConfigError("prior_observations weights must be finite and >= 0")

    # ------------------------------------------------------------------ suggest
    def _new_trial(self) -> tuple[dict[str, Any], float, dict[str, Any]]:
        if self._initial_queue:
            config = self._initial_queue.pop(0)
            self._where[self._next_id] = (_INITIAL, -1, 0)
            return config, float(self.budgets_[-1]), {"origin": "initial", "bracket": _INITIAL}
        info: dict[str, Any] = {}

        def sampler(budget: float) -> dict[str, Any]:
            config, model_info = self._sample_config()
            info.update(model_info)
            return config

        for bracket in self._brackets:
            job = bracket.next_job(sampler)
            if job is not None:
                return self._job_to_trial(bracket, job, info)
        bracket = self._open_bracket()
        job = bracket.next_job(sampler)
        assert job is not None  # a new bracket always has a stage-0 job
        return self._job_to_trial(bracket, job, info)

    def _job_to_trial(self, bracket: SuccessiveHalving, job: tuple[int, int, float, dict],
                      info: dict[str, Any]) -> tuple[dict[str, Any], float, dict[str, Any]]:
        slot, stage, budget, config = job
        self._where[self._next_id] = (bracket.bracket_id, slot, stage)
        return dict(config), budget, {"bracket": bracket.bracket_id, "stage": stage, **info}

    def _open_bracket(self) -> SuccessiveHalving:
        s = self.s_max_ - (self._n_brackets % (self.s_max_ + 1))
        sizes = bracket_sizes(s, self.s_max_, self.eta, self.bracket_rule)
        bracket = SuccessiveHalving(self._n_brackets, list(self.budgets_[-s - 1:]), sizes)
        self._n_brackets += 1
        self._brackets.append(bracket)
        return bracket

    def _sample_config(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """HpBandSter's ``get_config``: random with probability ``random_fraction``, else the
        best of ``num_samples`` candidates by ``l(x) / g(x)``."""
        model = self._current_model()
        if model is None or self._rng.random() < self.random_fraction:
            return self.codec_.sample(self._rng), {"model_based_pick": False}
        (good, bad), alpha = model
        prior = self.prior_for(self._modelled_budget())
        candidates = self._draw_candidates(good, prior, alpha)
        l_x = self._mix(good, prior, alpha, candidates, 0)
        g_x = self._mix(bad, prior, alpha, candidates, 1)
        score = np.maximum(l_x, 1e-32) / np.maximum(g_x, 1e-32)
        for i in np.argsort(-score, kind="stable"):
            try:
                return self.codec_.decode(candidates[i]), {"model_based_pick": True}
            except ConfigError:  # a forbidden combination: take the next best candidate
                continue
        return self.codec_.sample(self._rng), {"model_based_pick": False,
                                                "reason": "all candidates forbidden"}

    def _draw_candidates(self, good: ProductKDE | None, prior: tuple[ProductKDE, ProductKDE] | None,
                         alpha: float) -> np.ndarray:
        n = int(self.num_samples)
        n_prior = 0 if prior is None else int(self._rng.binomial(n, alpha))
        parts = []
        if n_prior and prior is not None:
            parts.append(prior[0].sample(self._rng, n_prior, self.bandwidth_factor))
        if n - n_prior and good is not None:
            parts.append(good.sample(self._rng, n - n_prior, self.bandwidth_factor))
        return np.vstack(parts)

    @staticmethod
    def _mix(own: ProductKDE | None, prior: tuple[ProductKDE, ProductKDE] | None, alpha: float,
             x: np.ndarray, which: int) -> np.ndarray:
        value = np.zeros(x.shape[0])
        if own is not None and alpha < 1:
            value += (1 - alpha) * own.pdf(x)
        if prior is not None and alpha > 0:
            value += alpha * prior[which].pdf(x)
        return value

    def _current_model(self) -> tuple[tuple[ProductKDE | None, ProductKDE | None], float] | None:
        """The good/bad densities of the largest budget with a model, and the share of that
        budget's prior (:meth:`_modelled_budget`)."""
        budget = self._largest_model_budget()
        if budget is None:
            if self.prior_for(self.budgets_[-1]) is None:
                return None
            return (None, None), 1.0
        if budget in self._stale or budget not in self._models:
            self._models[budget] = self._fit_budget(budget)
            self._stale.discard(budget)
        if self.prior_for(budget) is None:
            return self._models[budget], 0.0
        n_own = len(self._obs[budget][1])
        return self._models[budget], self.prior_strength_ / (self.prior_strength_ + n_own)

    def _modelled_budget(self) -> float:
        """The budget whose prior the suggestions use: the largest budget with a model, or
        ``max_budget`` before any has one."""
        budget = self._largest_model_budget()
        return float(self.budgets_[-1]) if budget is None else float(budget)

    def prior_for(self, budget: float) -> tuple[ProductKDE, ProductKDE] | None:
        """The (good, bad) prior densities the model of ``budget`` is mixed with (None: no prior)."""
        for key, kdes in self.budget_prior_kdes_.items():
            if same_budget(key, budget):
                return kdes
        return None

    # ------------------------------------------------------------------ models
    def _split_sizes(self, n: int) -> tuple[int, int]:
        n_good = max(self.min_points_, (self.top_n_percent * n) // 100)
        n_bad = max(self.min_points_, ((100 - self.top_n_percent) * n) // 100)
        return int(n_good), int(n_bad)

    def _model_ready(self, budget: float) -> bool:
        """HpBandSter's conditions: enough points, and more rows than columns on each side."""
        n = len(self._obs.get(budget, ([], []))[1])
        if n < self.min_points_:
            return False
        n_good, n_bad = self._split_sizes(n)
        d = self.codec_.n_dims
        return min(n_good, n) > d and min(n_bad, max(n - n_good, 0)) > d

    def _largest_model_budget(self) -> float | None:
        ready = [b for b in self._obs if self._model_ready(b)]
        return max(ready) if ready else None

    def _fit_budget(self, budget: float) -> tuple[ProductKDE, ProductKDE]:
        vectors, losses = self._obs[budget]
        data, order = np.vstack(vectors), np.argsort(np.asarray(losses), kind="stable")
        n_good, n_bad = self._split_sizes(len(losses))
        vt = self.codec_.vartypes
        good = impute_inactive(data[order[:n_good]], vt, self._rng)
        bad = impute_inactive(data[order[n_good:n_good + n_bad]], vt, self._rng)
        return (ProductKDE(vt, self.min_bandwidth).fit(good),
                ProductKDE(vt, self.min_bandwidth).fit(bad))

    def _fit_priors(self) -> dict[float, tuple[ProductKDE, ProductKDE]]:
        """Every budget's prior densities: its own, or the one it falls back to (class doc)."""
        prior = self.prior_observations
        if not prior:
            return {}
        if isinstance(prior, dict):
            own = {b: self._fit_prior(v) for b, v in sorted(prior.items())}
            out: dict[float, tuple[ProductKDE, ProductKDE]] = {}
            for budget in self.budgets_:
                larger = [b for b in own if b >= budget or same_budget(b, budget)]
                out[float(budget)] = own[min(larger)] if larger else own[max(own)]
            return out
        kdes = self._fit_prior(prior)
        return {float(b): kdes for b in self.budgets_}

    def _fit_prior(self, prior: list[Triple]) -> tuple[ProductKDE, ProductKDE]:
        """Weighted good and bad densities of prior observations (top_n_percent split)."""
        configs, losses, weights = zip(*prior, strict=True)
        data = self.codec_.encode_many(list(configs))
        order = np.argsort(np.asarray(losses), kind="stable")
        n_good = max(1, int(math.ceil(self.top_n_percent * len(order) / 100)))
        if n_good >= len(order):
            raise ConfigError(f"prior_observations need at least 2 points to split into good "
                              f"and bad; got {len(order)}")
        w = np.asarray(weights)
        vt = self.codec_.vartypes
        kdes = []
        for idx in (order[:n_good], order[n_good:]):
            if w[idx].sum() <= 0:
                raise ConfigError("prior_observations weights of the good or bad split sum to 0")
            rows, merged, n_eff = _merge_identical_rows(data[idx], w[idx])
            kdes.append(ProductKDE(vt, self.min_bandwidth)
                        .fit(impute_inactive(rows, vt, self._rng), merged, n_effective=n_eff))
        return kdes[0], kdes[1]

    # ------------------------------------------------------------------ observe
    def _tell(self, trial: Trial, loss: float) -> None:
        bracket_id, slot, stage = self._where.pop(trial.trial_id)
        if bracket_id != _INITIAL:
            bracket = next(b for b in self._brackets if b.bracket_id == bracket_id)
            bracket.record(slot, stage, loss)
            if bracket.finished:
                self._brackets.remove(bracket)
        self._add_observation(trial.config, trial.budget, loss)

    def _add_observation(self, config: Mapping[str, Any], budget: float, loss: float) -> None:
        # As HpBandSter: once a larger budget has a model, smaller budgets are not recorded.
        largest = self._largest_model_budget()
        if largest is not None and largest > budget:
            return
        vectors, losses = self._obs.setdefault(budget, ([], []))
        vectors.append(self.codec_.encode(config))
        losses.append(loss if math.isfinite(loss) else math.inf)
        self._stale.add(budget)

    # ------------------------------------------------------------------ state
    def _settings(self) -> dict[str, Any]:
        return {
            "configspace": configspace_to_json(self.configspace),
            "min_budget": self.min_budget, "max_budget": self.max_budget, "eta": self.eta,
            "min_points_in_model": self.min_points_in_model,
            "top_n_percent": self.top_n_percent, "num_samples": self.num_samples,
            "random_fraction": self.random_fraction, "bandwidth_factor": self.bandwidth_factor,
            "min_bandwidth": self.min_bandwidth, "bracket_rule": self.bracket_rule,
            "initial_configs": self.initial_configs,
            "prior_observations": _compact_prior_setting(self.prior_observations),
            "prior_strength": self.prior_strength, "seed": self.seed,
        }

    def _extra_state(self) -> dict[str, Any]:
        return {
            "initial_queue": self._initial_queue,
            "n_brackets": self._n_brackets,
            "brackets": [b.to_dict() for b in self._brackets],
            "where": [[t, *w] for t, w in sorted(self._where.items())],
        }

    def _replay(self, result: Result) -> None:
        self._add_observation(result.config, result.budget, result.loss)

    def _load_extra_state(self, extra: Mapping[str, Any]) -> None:
        self._initial_queue = [dict(c) for c in extra["initial_queue"]]
        self._n_brackets = int(extra["n_brackets"])
        self._brackets = [SuccessiveHalving.from_dict(b) for b in extra["brackets"]]
        self._where = {int(t): (int(b), int(s), int(k)) for t, b, s, k in extra["where"]}

    @classmethod
    def from_state(cls, state: OptimizerState) -> BOHB:
        """Rebuild a BOHB run from :meth:`state` (see :func:`metakb.optimizers.restore`)."""
        settings = dict(state.settings)
        space = configspace_from_json(settings.pop("configspace"))
        settings["prior_observations"] = _expand_prior_setting(settings["prior_observations"])
        opt = cls(space, **settings)
        opt._load_state(state)
        return opt


def _normalise_prior(prior: Any, budgets: Iterable[float]) -> list[Triple] | dict[float, list[Triple]]:
    """The prior as plain triples: a list (every budget) or a dict keyed by the run's budgets.

    Raises:
        ConfigError: a mapping key that is not one of ``budgets``, or a mapping with no triples.
    """
    if not isinstance(prior, Mapping):
        return _triples(prior or [])
    out: dict[float, list[Triple]] = {}
    for key, triples in prior.items():
        match = [float(b) for b in budgets if same_budget(b, float(key))]
        if not match:
            raise ConfigError(f"The 'prior_observations' parameter of BOHB must be keyed by budgets of the run "
                              f"{[float(b) for b in budgets]}. Got key {key!r} instead.")
        if match[0] in out:
            raise ConfigError(f"The 'prior_observations' parameter of BOHB has two keys for budget {match[0]}")
        items = _triples(triples)
        if items:  # a budget without observations falls back to another budget's prior
            out[match[0]] = items
    return out


def _triples(items: Iterable[Any]) -> list[Triple]:
    return [(dict(c), float(loss), float(w)) for c, loss, w in items]


def _all_triples(prior: list[Triple] | dict[float, list[Triple]]) -> list[Triple]:
    return [t for v in prior.values() for t in v] if isinstance(prior, dict) else prior


def _compact_prior_setting(prior: list[Triple] | dict[float, list[Triple]]) -> dict[str, Any]:
    """The prior for the saved state: :func:`_compact_prior` per budget for a mapping."""
    if isinstance(prior, dict):
        return {"by_budget": [[b, _compact_prior(v)] for b, v in sorted(prior.items())]}
    return _compact_prior(prior)


def _expand_prior_setting(stored: Any) -> list[Triple] | dict[float, list[Triple]]:
    """Inverse of :func:`_compact_prior_setting`."""
    if isinstance(stored, Mapping) and "by_budget" in stored:
        return {float(b): _expand_prior(v) for b, v in stored["by_budget"]}
    return _expand_prior(stored)


def _check_config(space: Any, config: Mapping[str, Any]) -> None:
    import ConfigSpace as CS

    try:
        CS.Configuration(space, values=dict(config))
    except (ValueError, KeyError, TypeError) as e:
        raise ConfigError(f"initial configuration {dict(config)} is not valid in the space: "
                          f"{e}") from e


def _merge_identical_rows(rows: np.ndarray, weights: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray, float]:
    """Distinct encoded rows, their summed weights and the effective size before merging.

    A knowledge-base prior repeats each configuration once per source dataset (16,891
    observations of 128 configurations on the shipped knowledge base); one weighted kernel per
    distinct row gives the same density at a hundredth of the cost, as long as the bandwidths
    keep the effective sample size of the unmerged rows.
    """
    positive = weights / weights.sum()
    n_eff = float(1.0 / np.sum(positive**2))
    keys = np.where(np.isnan(rows), -1.0, rows)  # encoded values are >= 0; -1 marks inactive
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    merged = np.bincount(inverse.ravel(), weights=weights, minlength=len(first))
    return rows[first], merged, n_eff


def _compact_prior(prior: Sequence[tuple[Mapping[str, Any], float, float]]) -> dict[str, Any]:
    """The prior observations as distinct configurations plus ``[index, loss, weight]`` rows.

    The state is written after every evaluation; a prior of every knowledge-base evaluation
    repeats each configuration once per source dataset, which made the state 5 MB.
    """
    index: dict[str, int] = {}
    configs: list[dict[str, Any]] = []
    points: list[list[float]] = []
    for config, loss, weight in prior:
        key = json.dumps(config, sort_keys=True)
        if key not in index:
            index[key] = len(configs)
            configs.append(dict(config))
        points.append([index[key], loss, weight])
    return {"configs": configs, "points": points}


def _expand_prior(stored: Any) -> list[tuple[dict[str, Any], float, float]]:
    """Inverse of :func:`_compact_prior`; also reads the list of triples older states hold."""
    if isinstance(stored, Mapping):
        configs = stored["configs"]
        return [(dict(configs[int(i)]), float(loss), float(w)) for i, loss, w in stored["points"]]
    return [(dict(c), float(loss), float(w)) for c, loss, w in stored]
