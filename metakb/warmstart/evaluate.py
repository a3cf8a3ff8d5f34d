"""Leave-one-dataset-out evaluation of warm starters against baselines.

For every held-out dataset, each warm starter is fitted on the *other* datasets only (the
datasets of other folds: one dataset per fold for leave-one-dataset-out, less the
near-duplicates of the held-out datasets when ``near_duplicates`` is given: a copy of the
held-out dataset on the training side would leak its answers) and asked for its top
k configurations; the score of a set of k recommendations is the **normalised regret** of the
best one on the held-out dataset::

    regret = (best - best_recommended) / (best - worst)      (oriented so that larger is better)

where best and worst are over every configuration scored on that dataset (0: the best
configuration of the matrix was recommended, 1: only the worst). A recommended configuration
without a score there (it failed, or was never run) counts as the worst one. A dataset whose
configurations all score the same has regret 0.

Baselines, in the same run and on the same folds:

* ``random``: k configurations drawn uniformly without replacement, as the *exact expectation*
  of the regret over all k-subsets (no sampling noise; order statistics);
* ``single-best``: the k configurations of best mean rank over the training datasets;
* ``default``: among the given default configurations (e.g. the labels ``default:*``), the one of
  best mean rank on the training datasets; one configuration whatever k;
* ``portfolio``: the first k members of the greedy portfolio (Auto-sklearn 2.0) built on the
  training datasets only -- the strongest baseline that uses no meta-features.

A *probe* arm (``probes={"cf-probe3": 3}``) evaluates the first P portfolio members on the
held-out dataset (their scores are read from its row, as a real run would measure them), hands
those scores to the warm starter and appends its recommendations: its top k is the P probes
plus k - P recommended configurations, directly comparable with ``portfolio`` at the same k.

For algorithm selection (ASlib) the summary also reports, at k = 1, the fraction of the gap
between the single best solver (SBS, chosen on the training folds) and the virtual best solver
(VBS, the per-instance oracle) that a method closes::

    gap closed = (SBS - method) / (SBS - VBS)          (means over instances; cost oriented)

References:
    Feurer et al. (2015) (leave-one-dataset-out with normalised scores); Bischl et al. (2016),
    ASlib (PAR10, SBS and VBS, the gap closed); Wilcoxon (1945) signed-rank test for the paired
    comparison over datasets.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from metakb.errors import ConfigError, DataError
from metakb.warmstart._base import BaseWarmStarter, align_knowledge_base

__all__ = ["method_factories", "METHODS", "normalised_regret", "random_expected_regret", "mean_rank_order", "make_folds",
           "candidates_found_only_on", "evaluate_warm_starting", "WarmStartEvaluation", "DEFAULT_KS", "BASELINES"]

DEFAULT_KS = (1, 3, 5, 10, 25)
BASELINES = ("random", "single-best", "default", "portfolio")


def _oriented(row: np.ndarray, higher_is_better: bool) -> np.ndarray:
    return row if higher_is_better else -row


def normalised_regret(scores: pd.Series, chosen: Iterable[int], higher_is_better: bool = True,
                      reference: Iterable[int] | None = None) -> float:
    """Regret of the best of ``chosen`` on one dataset, scaled by its best and worst.

    Args:
        scores: one dataset's scores, indexed by configuration id (NaN: failed / not run).
        chosen: recommended configuration ids (at least one).
        higher_is_better: direction of the scores.
        reference: the configurations whose best and worst scale the regret (0 = their best,
            1 = their worst); default: every scored configuration, so the regret lies in [0, 1].
            With a smaller reference (e.g. the configurations a knowledge base had before its
            tuned candidates), a chosen configuration better than the reference's best gets a
            negative regret: the same yardstick before and after the matrix grew.

    Raises:
        DataError: no configuration is scored on this dataset (or in ``reference``), or nothing
            was chosen.
    """
    best, worst = _scale(scores, higher_is_better, reference)
    chosen = list(chosen)
    if not chosen:
        raise DataError(f"no configuration was recommended for dataset {scores.name!r}")
    if best == worst:
        return 0.0
    picked = _oriented(scores.reindex(chosen).to_numpy(dtype=float), higher_is_better)
    picked = np.where(np.isfinite(picked), picked, worst)
    return float((best - picked.max()) / (best - worst))


def random_expected_regret(scores: pd.Series, k: int, higher_is_better: bool = True,
                           reference: Iterable[int] | None = None) -> float:
    """Exact expected :func:`normalised_regret` of k configurations drawn without replacement.

    Configurations are drawn from every column of ``scores`` (a NaN one counts as the
    reference's worst); ``reference`` scales the regrets as in :func:`normalised_regret`.
    With the n regrets sorted ascending r_1 <= ... <= r_n, the best of a uniform k-subset is
    r_j with probability C(n - j, k - 1) / C(n, k).
    """
    best, worst = _scale(scores, higher_is_better, reference)
    if best == worst:
        return 0.0
    values = _oriented(scores.to_numpy(dtype=float), higher_is_better)
    regrets = np.sort((best - np.where(np.isfinite(values), values, worst)) / (best - worst))
    n = len(regrets)
    k = min(int(k), n)
    weights = np.array([math.comb(n - j, k - 1) for j in range(1, n + 1)], dtype=float) / math.comb(n, k)
    return float(weights @ regrets)


def _scale(scores: pd.Series, higher_is_better: bool, reference: Iterable[int] | None) -> tuple[float, float]:
    """The oriented best and worst score of ``reference`` (default: every column) on one dataset."""
    row = scores if reference is None else scores.reindex(list(reference))
    values = _oriented(row.to_numpy(dtype=float), higher_is_better)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        where = "" if reference is None else " among the reference configurations"
        raise DataError(f"dataset {scores.name!r} has no scored configuration{where}; cannot compute a regret")
    return float(finite.max()), float(finite.min())


def mean_rank_order(performance: pd.DataFrame, higher_is_better: bool,
                    candidates: Sequence[int] | None = None) -> list[int]:
    """Configuration ids by mean rank over datasets (best first; a NaN cell ranks last).

    Ranks are computed among ``candidates`` (all columns by default); ties by id.
    """
    frame = performance if candidates is None else performance[list(candidates)]
    ranks = frame.rank(axis=1, ascending=not higher_is_better, method="average", na_option="bottom")
    mean = ranks.mean(axis=0)
    return [int(c) for c in sorted(mean.index, key=lambda c: (mean[c], c))]


#: A dataset enters the evaluation only when at least this share of the configurations has a
#: score on it: regret is measured against the best *scored* configuration, so a dataset with
#: one evaluated cell (a single ``metakb run``) would get regret 0 for every method.
MIN_ROW_COVERAGE = 0.5


def _complete_enough(performance: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The rows with at least :data:`MIN_ROW_COVERAGE` of their cells scored, and the others' names."""
    coverage = performance.notna().mean(axis=1)
    keep = coverage >= MIN_ROW_COVERAGE
    kept = performance.loc[keep]
    kept.attrs = dict(performance.attrs)
    return kept, [str(d) for d in performance.index[~keep]]


def make_folds(datasets: Sequence[str], folds: str | int | Mapping[str, int] = "loo", seed: int = 0) -> dict[str, int]:
    """Dataset -> fold: ``"loo"`` (one fold per dataset), K (a seeded random K-fold split) or a
    given mapping (e.g. the ``cv.arff`` folds of an ASlib scenario; datasets it lacks get their
    own folds)."""
    datasets = list(datasets)
    if isinstance(folds, str):
        if folds != "loo":
            raise ConfigError(f"folds must be 'loo', an int >= 2 or a mapping dataset -> fold, got {folds!r}")
        return {d: i for i, d in enumerate(datasets)}
    if isinstance(folds, Mapping):
        out = {d: int(folds[d]) for d in datasets if d in folds}
        start = max(out.values(), default=0) + 1
        out.update({d: start + i for i, d in enumerate(d for d in datasets if d not in out)})
        return out
    if isinstance(folds, bool) or not isinstance(folds, (int, np.integer)) or folds < 2:
        raise ConfigError(f"folds must be 'loo', an int >= 2 or a mapping dataset -> fold, got {folds!r}")
    order = np.random.default_rng(seed).permutation(len(datasets))
    return {datasets[j]: int(pos % int(folds)) for pos, j in enumerate(order)}


@dataclass
class WarmStartEvaluation:
    """Per-dataset regrets of every method and baseline, with summaries and paired tests.

    Attributes:
        regrets: long frame: ``dataset``, ``method``, ``k``, ``regret``.
        selections: long frame of the k = 1 choice: ``dataset``, ``method``, ``configuration_id``.
        ks: the k values evaluated.
        settings: folds, seed, matrix shape and direction.
    """

    regrets: pd.DataFrame
    selections: pd.DataFrame
    ks: list[int]
    settings: dict[str, Any] = field(default_factory=dict)
    performance: pd.DataFrame | None = None

    @property
    def methods(self) -> list[str]:
        """Warm starters evaluated (baselines excluded), in the order given."""
        return [m for m in dict.fromkeys(self.regrets["method"]) if m not in BASELINES]

    def summary(self) -> pd.DataFrame:
        """Mean regret with its 95% CI (Student t over datasets) per method and k."""
        from scipy import stats

        rows = []
        for (method, k), group in self.regrets.groupby(["method", "k"], sort=False):
            values = group["regret"].to_numpy(dtype=float)
            n = len(values)
            half = float(stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
            rows.append({"method": method, "k": int(k), "n": n, "mean": float(values.mean()), "ci95": half,
                         "median": float(np.median(values))})
        return pd.DataFrame(rows)

    def compare(self, method: str, against: str, k: int) -> dict[str, Any]:
        """Paired two-sided Wilcoxon signed-rank test of ``method`` vs ``against`` at ``k``.

        Returns the mean difference (method - against; negative: method better), the p-value
        (1.0 when every difference is zero), and wins/ties/losses over datasets.
        """
        from scipy import stats

        table = self.regrets[self.regrets["k"] == k].pivot(index="dataset", columns="method", values="regret")
        if method not in table or against not in table:
            raise ConfigError(f"cannot compare {method!r} with {against!r} at k={k}; have {sorted(table.columns)}")
        pair = table[[method, against]].dropna()
        diff = (pair[method] - pair[against]).to_numpy()
        nonzero = diff[np.abs(diff) > 1e-12]
        p = 1.0 if nonzero.size == 0 else float(stats.wilcoxon(nonzero).pvalue)
        return {"method": method, "against": against, "k": int(k), "n": int(len(diff)),
                "mean_diff": float(diff.mean()) if len(diff) else float("nan"), "p_value": p,
                "wins": int((diff < -1e-12).sum()), "ties": int((np.abs(diff) <= 1e-12).sum()),
                "losses": int((diff > 1e-12).sum())}

    def comparisons(self) -> pd.DataFrame:
        """Every method against every baseline (and against the first method) at every k."""
        present = set(self.regrets["method"])
        rows = []
        for k in self.ks:
            for i, method in enumerate(self.methods):
                others = [b for b in BASELINES if b in present] + self.methods[:i]
                rows += [self.compare(method, other, k) for other in others]
        return pd.DataFrame(rows)

    def gap_closed(self) -> pd.DataFrame:
        """Fraction of the SBS-VBS gap closed by each method's k = 1 choice (see module doc)."""
        perf, higher = self.performance, self.settings["higher_is_better"]
        if perf is None or self.selections.empty:
            return pd.DataFrame(columns=["method", "gap_closed", "mean_score", "sbs", "vbs"])
        cost = -perf if higher else perf
        cost = cost.apply(lambda row: row.fillna(row.max()), axis=1)
        reference = self.settings.get("regret_reference")  # the oracle of the regrets' yardstick
        kept = None if reference is None else set(reference)
        vbs = (cost if kept is None else cost[[c for c in cost.columns if int(c) in kept]]).min(axis=1)
        sbs_pick = self.selections[self.selections["method"] == "single-best"].set_index("dataset")["configuration_id"]
        sbs = pd.Series({d: cost.at[d, c] for d, c in sbs_pick.items()})
        rows = []
        for method, group in self.selections.groupby("method", sort=False):
            chosen = pd.Series({d: cost.at[d, c] for d, c in zip(group["dataset"], group["configuration_id"], strict=True)})
            idx = chosen.index
            gap = float(sbs[idx].mean() - vbs[idx].mean())
            closed = float((sbs[idx].mean() - chosen.mean()) / gap) if gap > 0 else float("nan")
            sign = -1.0 if higher else 1.0
            rows.append({"method": method, "gap_closed": closed, "mean_score": sign * float(chosen.mean()),
                         "sbs": sign * float(sbs[idx].mean()), "vbs": sign * float(vbs[idx].mean())})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """Summary, comparisons, gap closed and settings as plain values (``--json``)."""
        return {"settings": self.settings, "summary": self.summary().to_dict("records"),
                "comparisons": self.comparisons().to_dict("records"),
                "gap_closed": self.gap_closed().to_dict("records")}


def evaluate_warm_starting(
    meta_features: pd.DataFrame,
    performance: pd.DataFrame,
    methods: Mapping[str, Callable[[], BaseWarmStarter]],
    *,
    ks: Sequence[int] = DEFAULT_KS,
    folds: str | int | Mapping[str, int] = "loo",
    defaults: Sequence[int] = (),
    higher_is_better: bool | None = None,
    seed: int = 0,
    method_folds: Mapping[str, str | int | Mapping[str, int]] | None = None,
    probes: Mapping[str, int] | None = None,
    progress: Callable[[str], None] | None = None,
    near_duplicates: Mapping[str, set[str]] | None = None,
    found_on: Mapping[int, set[str]] | None = None,
    reference: Sequence[int] | None = None,
    truth: pd.DataFrame | None = None,
) -> WarmStartEvaluation:
    """Evaluate warm starters and the baselines on held-out datasets.

    Args:
        meta_features: dataset × meta-feature frame.
        performance: dataset × configuration-id frame (NaN: failed / not run).
        methods: name -> a function returning a fresh, unfitted warm starter (refitted per fold).
        ks: numbers of recommended configurations; values not below the number of configurations
            are dropped.
        folds: ``"loo"`` (default), K, or a mapping dataset -> fold (see :func:`make_folds`).
        defaults: configuration ids of the default configurations (empty: no ``default`` row).
        higher_is_better: direction (default: ``performance.attrs``, else True).
        seed: for a random K-fold split.
        method_folds: a fold scheme of its own for some methods (e.g. ``{"siamese": 10}``: ten
            networks, each trained without its tenth of the datasets, instead of one per
            dataset); the others and the baselines use ``folds``. Every dataset still gets one
            held-out recommendation per method, so the paired tests stay paired.
        probes: method name -> P for probe arms (see the module doc); the warm starter's
            ``recommend`` must accept ``probes=`` (``supports_probes = True``).
        progress: called with a line of text after every fold.
        near_duplicates: dataset -> its near-duplicates (e.g. a copy with rows shuffled, see
            :mod:`metakb.data.duplicates`); they are dropped from the training side of every
            fold that holds the dataset out, for the methods and the baselines alike. The
            settings record which were dropped (``near_duplicates_dropped``).
        found_on: configuration id -> the datasets whose search found it (tuned candidates,
            ``configuration_sources``). A configuration found only on a fold's held-out
            datasets (or their near-duplicates) is not offered to that fold's methods and
            baselines: a new dataset has no search of its own to contribute it. Its cells still
            count in the held-out row's regret (the best configuration of the matrix).
        reference: configuration ids whose best and worst scale every regret (see
            :func:`normalised_regret`; default: the whole row). Measuring a grown matrix
            against its old configurations keeps one yardstick: a method that now recommends
            a configuration better than every old one gets a negative regret.
        truth: the scores that measure the held-out regrets (default: ``performance``), with
            the same datasets and configurations: e.g. the stored single-seed matrix when the
            training side averages more seeds for some cells, so that both are measured with
            one yardstick.

    Returns:
        The per-dataset regrets, with summary, comparisons and gap-closed views.
    """
    if found_on is not None and not isinstance(found_on, Mapping):
        raise ConfigError(f"found_on must be a mapping configuration id -> set of dataset names, "
                          f"got {type(found_on).__name__}")
    if near_duplicates is not None and not isinstance(near_duplicates, Mapping):
        raise ConfigError(f"near_duplicates must be a mapping dataset -> set of dataset names, "
                          f"got {type(near_duplicates).__name__}")
    meta_features, performance, higher = align_knowledge_base(meta_features, performance, higher_is_better)
    performance, left_out = _complete_enough(performance)
    meta_features = meta_features.loc[performance.index]
    if len(performance) < 2:
        raise DataError(f"leave-one-dataset-out needs at least 2 datasets with at least "
                        f"{MIN_ROW_COVERAGE:.0%} of the configurations scored, got {len(performance)} "
                        f"({len(left_out)} left out)")
    n_configs = performance.shape[1]
    ks = sorted({int(k) for k in ks if 1 <= int(k) < n_configs})  # k >= all configurations is trivially 0
    if not ks:
        raise ConfigError(f"no k in the requested ks is in [1, {n_configs - 1}] (below the number of configurations)")
    defaults = [int(d) for d in defaults if int(d) in performance.columns]
    if reference is not None:
        reference = [int(c) for c in reference]
        unknown_ref = sorted(set(reference) - {int(c) for c in performance.columns})
        if not reference or unknown_ref:
            raise ConfigError(f"reference must name configurations of the matrix, got "
                              f"{'none' if not reference else f'unknown ids {unknown_ref[:5]}'}")
    truth = _checked_truth(truth, performance)
    fold_of = make_folds(list(performance.index), folds, seed)
    present = set(performance.index)
    twins = {str(d): {str(o) for o in others if o in present and o != d}
             for d, others in (near_duplicates or {}).items() if d in present}
    twins = {d: others for d, others in twins.items() if others}
    own_folds = dict(method_folds or {})
    unknown = sorted(set(own_folds) - set(methods))
    if unknown:
        raise ConfigError(f"method_folds names methods {unknown} that are not evaluated; methods: {sorted(methods)}")
    kmax = max(ks)
    probe_of = {str(m): int(p) for m, p in (probes or {}).items()}
    unknown_probes = sorted(set(probe_of) - set(methods))
    if unknown_probes:
        raise ConfigError(f"probes names methods {unknown_probes} that are not evaluated; methods: {sorted(methods)}")
    # every method and baseline: dataset -> its recommended configurations, fitted without it
    chosen: dict[str, dict[str, list[int]]] = {}
    hidden: dict[str, list[int]] = {}  # held-out dataset -> configurations not offered to it
    for number, (test, train) in enumerate(_splits(performance.index, fold_of, twins)):
        visible = _visible(performance, test, twins, found_on, hidden)
        for name, ids in _baseline_choices(visible.loc[train], higher, kmax, defaults).items():
            chosen.setdefault(name, {}).update(dict.fromkeys(test, ids))
        for name, factory in methods.items():
            if name not in own_folds:
                chosen.setdefault(name, {}).update(
                    _recommend(factory, meta_features, visible, train, test, higher, kmax, probe_of.get(name)))
        if progress is not None:
            progress(f"fold {number + 1}/{len(set(fold_of.values()))}: {len(test)} held out, {len(train)} train")
    for name, scheme in own_folds.items():
        own = make_folds(list(performance.index), scheme, seed)
        for number, (test, train) in enumerate(_splits(performance.index, own, twins)):
            visible = _visible(performance, test, twins, found_on, {})  # the record: the main folds'
            chosen.setdefault(name, {}).update(
                _recommend(methods[name], meta_features, visible, train, test, higher, kmax, probe_of.get(name)))
            if progress is not None:
                progress(f"{name} fold {number + 1}/{len(set(own.values()))}: {len(test)} held out, {len(train)} train")
    order = [*(b for b in BASELINES if b in chosen), *methods]
    regrets: list[dict[str, Any]] = []
    selections: list[dict[str, Any]] = []
    for dataset in performance.index:
        scores = truth.loc[dataset]
        regrets += [{"dataset": dataset, "method": "random", "k": k, "regret": random_expected_regret(scores, k, higher, reference)}
                    for k in ks]
        for name in order:
            ids = chosen[name][dataset]
            regrets += [{"dataset": dataset, "method": name, "k": k,
                         "regret": normalised_regret(scores, ids[:k], higher, reference)} for k in ks]
            selections.append({"dataset": dataset, "method": name, "configuration_id": ids[0]})
    settings = {"folds": folds if not isinstance(folds, Mapping) else "given", "n_folds": len(set(fold_of.values())),
                "method_folds": {m: f if not isinstance(f, Mapping) else "given" for m, f in own_folds.items()},
                "n_datasets": int(len(performance)), "n_configurations": int(n_configs),
                "left_out_datasets": left_out, "min_row_coverage": MIN_ROW_COVERAGE,
                "higher_is_better": higher, "ks": ks, "seed": seed, "methods": list(methods),
                "defaults": defaults, "metric": performance.attrs.get("metric"), "probes": probe_of,
                "near_duplicates_dropped": {d: sorted(o) for d, o in sorted(twins.items())},
                "own_candidates_hidden": {d: sorted(c) for d, c in sorted(hidden.items()) if c},
                "regret_reference": None if reference is None else sorted(reference),
                "regrets_on": "performance" if truth is performance else "truth"}
    return WarmStartEvaluation(regrets=pd.DataFrame(regrets), selections=pd.DataFrame(selections), ks=ks,
                               settings=settings, performance=truth)


def _checked_truth(truth: pd.DataFrame | None, performance: pd.DataFrame) -> pd.DataFrame:
    """``truth`` aligned to ``performance`` (``performance`` itself when None)."""
    if truth is None:
        return performance
    if not isinstance(truth, pd.DataFrame):
        raise ConfigError(f"truth must be a dataset × configuration DataFrame, got {type(truth).__name__}")
    missing_rows = [d for d in performance.index if d not in truth.index]
    missing_cols = [c for c in performance.columns if c not in truth.columns]
    if missing_rows or missing_cols:
        raise ConfigError(f"truth must hold every dataset and configuration of performance; it lacks "
                          f"{len(missing_rows)} datasets (e.g. {missing_rows[:3]}) and {len(missing_cols)} "
                          f"configurations (e.g. {missing_cols[:3]})")
    return truth.loc[performance.index, performance.columns].apply(pd.to_numeric, errors="coerce").astype(float)


def _visible(performance: pd.DataFrame, test: list[str], twins: Mapping[str, set[str]],
             found_on: Mapping[int, set[str]] | None, hidden: dict[str, list[int]]) -> pd.DataFrame:
    """``performance`` without the configurations found only on the fold's held-out datasets
    or their near-duplicates (see ``found_on`` in :func:`evaluate_warm_starting`); records
    them per held-out dataset in ``hidden``."""
    if not found_on:
        return performance
    held_out = set(test).union(*(twins.get(d, set()) for d in test))
    own = set(candidates_found_only_on(found_on, held_out))
    for d in test:
        hidden[d] = sorted(own)
    return performance.drop(columns=[c for c in performance.columns if int(c) in own]) if own else performance


def candidates_found_only_on(found_on: Mapping[int, Iterable[str]], datasets: Iterable[str]) -> list[int]:
    """The tuned candidates (configuration id -> the datasets whose searches found it) every
    one of whose searches ran on one of ``datasets``: knowledge learned from those datasets
    only, which an evaluation holding them out (or a warm start told not to learn from them)
    must not offer."""
    names = {str(d) for d in datasets}
    return sorted(int(c) for c, found in found_on.items() if found and set(found) <= names)


def _splits(datasets: Iterable[str], fold_of: Mapping[str, int],
            near_duplicates: Mapping[str, set[str]] | None = None) -> Iterator[tuple[list[str], list[str]]]:
    """``(test, train)`` dataset names of every fold, in fold order; the near-duplicates of the
    test datasets are left out of the training side."""
    names = list(datasets)
    for fold in sorted(set(fold_of.values())):
        test = [d for d in names if fold_of[d] == fold]
        dropped = set().union(*((near_duplicates or {}).get(d, set()) for d in test))
        train = [d for d in names if fold_of[d] != fold and d not in dropped]
        if not train:
            raise DataError("a fold holds every dataset (with the held-out datasets' near-duplicates); "
                            "use more folds")
        yield test, train


def _recommend(factory: Callable[[], BaseWarmStarter], meta_features: pd.DataFrame, performance: pd.DataFrame,
               train: list[str], test: list[str], higher: bool, kmax: int,
               n_probes: int | None = None) -> dict[str, list[int]]:
    """Fit a fresh warm starter on ``train``; its top ``kmax`` for every dataset of ``test``.

    With ``n_probes``, the first ``n_probes`` members of the training greedy portfolio are
    "evaluated" on each test dataset (read from its row) and come first; the warm starter
    recommends the rest from their scores.
    """
    model = factory().fit(meta_features.loc[train], performance.loc[train], higher_is_better=higher)
    if n_probes is None:
        return {d: [r.configuration_id for r in model.recommend(meta_features.loc[d], n_configs=kmax)] for d in test}
    if not getattr(model, "supports_probes", False):
        raise ConfigError(f"{type(model).__name__} does not take probes; probe arms need e.g. the cf warm starter")
    from portfolios import greedy_portfolio

    probe_ids = [int(c) for c in greedy_portfolio(performance.loc[train], n_probes, higher_is_better=higher).members]  # type: ignore[call-overload]
    out = {}
    for d in test:
        scores = {c: float(performance.at[d, c]) for c in probe_ids}
        rest = model.recommend(meta_features.loc[d], n_configs=max(kmax - len(probe_ids), 1),  # type: ignore[call-arg]
                               exclude=probe_ids, probes=scores)
        out[d] = (probe_ids + [r.configuration_id for r in rest])[:kmax]
    return out


def _baseline_choices(train: pd.DataFrame, higher: bool, kmax: int,
                      defaults: Sequence[int]) -> dict[str, list[int]]:
    """Configurations the baselines pick from the training datasets (the same for every test
    dataset of the fold); ``default`` is one configuration, whatever k."""
    from portfolios import greedy_portfolio

    chosen = {"single-best": mean_rank_order(train, higher)[:kmax],
              "portfolio": [int(c) for c in greedy_portfolio(  # type: ignore[call-overload]
                  train, min(kmax, train.shape[1]), higher_is_better=higher).members]}
    if defaults:
        chosen["default"] = mean_rank_order(train, higher, defaults)[:1]
    return chosen


#: ``--method`` names of :func:`evaluate_knowledge_base` besides the distance variants.
METHODS = ("knn", "knn-best", "siamese", "rf-model", "pairwise-model", "cf", "rf-selector")


def method_factories(methods: Sequence[str], *, n_neighbors: int = 5, knn_params: Mapping[str, Any] | None = None,
                     siamese_params: Mapping[str, Any] | None = None,
                     model_params: Mapping[str, Mapping[str, Any]] | None = None,
                     seed: int = 0) -> tuple[dict[str, Callable[[], BaseWarmStarter]], dict[str, int]]:
    """Fresh-model factories for method names, and the probe arms among them (name -> P).

    Raises:
        ConfigError: an unknown method name.
    """
    import re

    from metakb.warmstart._aggregate import AggregatingKNNWarmStarter
    from metakb.warmstart._aslib_selector import RFSelectorWarmStarter
    from metakb.warmstart._cf import CFWarmStarter
    from metakb.warmstart._knn import METRICS, KNNWarmStarter
    from metakb.warmstart._performance_model import (
        PairwiseModelWarmStarter,
        PerformanceModelWarmStarter,
    )
    from metakb.warmstart._siamese import SiameseWarmStarter

    models: dict[str, type[BaseWarmStarter]] = {"rf-model": PerformanceModelWarmStarter,
                                                "pairwise-model": PairwiseModelWarmStarter,
                                                "cf": CFWarmStarter, "rf-selector": RFSelectorWarmStarter}
    extra = dict(model_params or {})
    factories: dict[str, Callable[[], BaseWarmStarter]] = {}
    probes: dict[str, int] = {}
    for name in methods:
        own = dict(extra.get(name, {}))
        probe = re.fullmatch(r"cf-probe(\d+)", name)
        if name.startswith("knn-best") and name.removeprefix("knn-best").lstrip("-") in ("", *METRICS):
            metric = name.removeprefix("knn-best").lstrip("-") or "l1"
            factories[name] = functools.partial(
                KNNWarmStarter, **{"n_neighbors": n_neighbors, "metric": metric, **(knn_params or {}), **own})
        elif name.startswith("knn") and name.removeprefix("knn").lstrip("-") in ("", *METRICS):
            metric = name.removeprefix("knn").lstrip("-") or "l1"
            factories[name] = functools.partial(AggregatingKNNWarmStarter,
                                                **{"metric": metric, **(knn_params or {}), **own})
        elif name == "siamese":
            factories[name] = functools.partial(
                SiameseWarmStarter, **{"n_neighbors": n_neighbors, "seed": seed, **(siamese_params or {}), **own})
        elif name in models:
            factories[name] = functools.partial(models[name], **{"seed": seed, **own})
        elif probe is not None and int(probe.group(1)) >= 1:
            factories[name] = functools.partial(CFWarmStarter, **{"seed": seed, **dict(extra.get("cf", {})), **own})
            probes[name] = int(probe.group(1))
        else:
            raise ConfigError(f"warm-start method must be one of {list(METHODS)}, a distance variant such as "
                              f"knn-l2 or knn-best-cosine, or cf-probeP (P >= 1); got {name!r}")
    return factories, probes
