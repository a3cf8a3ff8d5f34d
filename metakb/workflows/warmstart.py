"""Workflow ``warmstart``: warm starters over a knowledge base: read its matrices, train, store
and load models (``metakb recommend``, ``metakb warmstart``, ``metakb evaluate warmstart``).

The warm starters themselves take pandas frames and know nothing of the store; these
functions are the bridge the CLI (``metakb recommend``, ``metakb warmstart``) uses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from metakb.errors import ConfigError, DataError, NotFoundError
from metakb.warmstart import BaseWarmStarter, SiameseWarmStarter
from metakb.warmstart.evaluate import (
    DEFAULT_KS,
    WarmStartEvaluation,
    evaluate_warm_starting,
    method_factories,
)

__all__ = ["evaluate_knowledge_base", "knowledge_base_frames", "default_embedding_name", "train_siamese", "load_warm_starter",
           "scenario_settings", "default_metric", "default_configurations"]

#: Values of ``regret_reference`` (``metakb evaluate warmstart --regret-reference``).
REGRET_REFERENCES = ("all", "untuned")


def scenario_settings(kb: Any, space: str | int) -> dict[str, Any] | None:
    """The import settings of an ASlib scenario stored as ``space``, or None for other spaces."""
    from metakb.data.aslib_import import aslib_settings
    from metakb.errors import NotFoundError

    try:
        return aslib_settings(kb, str(kb.get_space(space)["name"]))
    except NotFoundError:
        return None


def default_metric(kb: Any, space: str | int, metric: str | None = None) -> str:
    """``metric`` if given; else an ASlib scenario's measure, else the default metric of the
    space's task type (``r2`` for ``sklearn-cash-regression``), else ``balanced_accuracy``."""
    if metric:
        return metric
    settings = scenario_settings(kb, space)
    if settings:
        return str(settings["measure"])
    from metakb.spaces import SPACES
    from metakb.workflows.task import space_metric

    name = space if isinstance(space, str) else str(kb.get_space(space)["name"])
    return space_metric(name) if name in SPACES else "balanced_accuracy"


def default_configurations(kb: Any, space: str | int) -> list[int]:
    """Ids of the space's default configurations (label ``default`` or ``default:...``)."""
    configs = kb.configurations(space)
    labels = configs["label"].fillna("")
    return [int(i) for i, label in labels.items() if label == "default" or label.startswith("default:")]


def knowledge_base_frames(kb: Any, space: str | int, metric: str | None = None, *,
                          groups: Iterable[str] | None = None, budget: float = 1.0,
                          protocol: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(meta_features, performance)`` of the datasets evaluated in ``space``.

    Both frames are indexed by dataset name and hold the same datasets (those with meta-features
    and at least one score); ``performance.attrs`` keeps ``metric`` and ``higher_is_better``.
    For an imported ASlib runtime scenario, failed runs are filled with their PAR10 penalty
    (10 × cutoff) instead of NaN, as algorithm selection scores them.

    Raises:
        DataError: no dataset has both meta-features and scores in this space.
    """
    metric = default_metric(kb, space, metric)
    performance = kb.performance_matrix(space, metric=metric, budget=budget, protocol=protocol)
    meta_features = kb.meta_feature_matrix(groups=groups)
    if performance.empty or meta_features.empty:
        raise DataError(f"space {space!r} has no scores for metric {metric!r} with meta-features in the "
                        f"knowledge base {kb.path} ({len(performance)} datasets scored, "
                        f"{len(meta_features)} with meta-features)")
    attrs = dict(performance.attrs)
    performance = performance.loc[performance.notna().any(axis=1)]
    if performance.empty:
        raise DataError(f"space {space!r} has no ok evaluation with metric {metric!r} in {kb.path}")
    settings = scenario_settings(kb, space)
    if settings and settings["performance_type"] == "runtime" and settings.get("cutoff_time"):
        performance = performance.fillna(settings["par_factor"] * settings["cutoff_time"])
        attrs["par"] = settings["par_factor"]
    common = [d for d in performance.index if d in meta_features.index]
    if not common:
        raise DataError(f"no dataset of space {space!r} has meta-features in {kb.path}")
    performance = performance.loc[common]
    performance.attrs.update(attrs)
    meta_features = meta_features.loc[common].dropna(axis=1, how="all")
    return meta_features, performance


def default_embedding_name(space: str | int, metric: str) -> str:
    """The name a Siamese model of ``space`` and ``metric`` is stored under."""
    return f"siamese:{space}:{metric}"


def train_siamese(kb: Any, space: str | int, metric: str | None = None, *, name: str | None = None,
                  origin: str = "metakb warmstart train-siamese", **params: Any) -> SiameseWarmStarter:
    """Train a Siamese embedding on every dataset of ``space`` and store it in the KB (JSON).

    Retraining replaces the stored model of the same name.
    """
    metric = default_metric(kb, space, metric)
    meta_features, performance = knowledge_base_frames(kb, space, metric)
    model = SiameseWarmStarter(**params).fit(meta_features, performance)
    state, settings = model.get_state()
    settings = {**settings, "space": str(space), "metric": metric}
    kb.save_embedding(name or default_embedding_name(space, metric), "siamese", state, settings, origin=origin)
    return model


def load_warm_starter(kb: Any, method: str, space: str | int, metric: str | None = None, *,
                      name: str | None = None, **params: Any) -> BaseWarmStarter:
    """A warm starter ready to recommend from the KB's datasets of ``space``.

    Every registered method (:data:`metakb.warmstart.WARM_STARTERS`) but ``siamese`` is fitted
    on the spot from the knowledge base's matrix. ``siamese`` rebuilds the stored network
    (``metakb warmstart train-siamese`` trains it) and embeds the KB's datasets with it;
    ``n_neighbors`` in ``params`` overrides the stored value.

    Raises:
        ConfigError: unknown method, or a parameter the method does not take.
        NotFoundError: no Siamese model is stored under ``name``.
    """
    from metakb.warmstart import WARM_STARTERS

    cls = WARM_STARTERS.lookup(method)  # an unknown name: one line naming the choices
    metric = default_metric(kb, space, metric)
    meta_features, performance = knowledge_base_frames(kb, space, metric)
    if method != "siamese":
        accepted = set(cls().get_params())
        unknown = sorted(set(params) - accepted)
        if unknown:
            raise ConfigError(f"warm-start method {method!r} does not take {unknown}; "
                              f"its parameters are {sorted(accepted)}")
        return cls(**params).fit(meta_features, performance)
    stored = name or default_embedding_name(space, metric)
    try:
        row = kb.get_embedding(stored)
    except NotFoundError as exc:  # say how to train it
        named = f" --name {name}" if name else ""
        raise NotFoundError(f"no Siamese model {stored!r} is stored for space {space!r}; train it with "
                            f"`metakb warmstart train-siamese --space {space} --metric {metric}{named}`") from exc
    model = SiameseWarmStarter.from_state(row["state"], row["settings"])
    if "n_neighbors" in params:
        model.set_params(n_neighbors=params.pop("n_neighbors"))
    if params:
        raise ConfigError(f"a stored Siamese model only takes n_neighbors at load time, got {sorted(params)}")
    return model.attach(meta_features, performance)


def evaluate_knowledge_base(
    kb: Any,
    space: str | int,
    *,
    methods: Sequence[str] = ("knn", "siamese"),
    metric: str | None = None,
    ks: Sequence[int] = DEFAULT_KS,
    folds: str | int | Mapping[str, int] = "auto",
    n_neighbors: int = 5,
    knn_params: Mapping[str, Any] | None = None,
    siamese_params: Mapping[str, Any] | None = None,
    siamese_folds: str | int | None = None,
    method_folds: Mapping[str, str | int] | None = None,
    model_params: Mapping[str, Mapping[str, Any]] | None = None,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    drop_near_duplicates: bool = True,
    hide_own_candidates: bool = True,
    regret_reference: str = "all",
) -> WarmStartEvaluation:
    """:func:`evaluate_warm_starting` on a knowledge base's space (``metakb evaluate warmstart``).

    Args:
        kb: an open knowledge base.
        space: the search space (or ASlib scenario) whose performance matrix is evaluated.
        methods: warm starters by name: ``knn`` (aggregating), ``knn-best`` (auto-sklearn's
            round-robin), ``siamese``, ``rf-model``, ``pairwise-model``, ``cf``, ``rf-selector``;
            ``knn-l2``, ``knn-cosine``, ``knn-best-l2``, ... select another distance;
            ``cf-probeP`` (e.g. ``cf-probe3``) is the probe arm: P portfolio members evaluated first.
        metric: default: the scenario's measure for ASlib, else ``balanced_accuracy``.
        folds: ``auto`` (an ASlib scenario's own cv folds, else leave-one-dataset-out), ``loo``,
            K, or a mapping dataset -> fold.
        n_neighbors: neighbours of the round-robin neighbour rules (``knn-best``, ``siamese``);
            the aggregating ``knn`` keeps its own default (10) unless ``knn_params`` sets it.
        knn_params, siamese_params: further constructor parameters.
        method_folds: a fold scheme of their own for some methods (see
            :func:`evaluate_warm_starting`), e.g. ``{"rf-model": 10}``.
        model_params: method name -> further constructor parameters of that method.
        siamese_folds: a fold scheme of the Siamese network's own (``loo`` or K; default: the
            same as ``folds``), to train K networks instead of one per held-out dataset.
        seed: seeds the Siamese networks and a random K-fold split.
        drop_near_duplicates: leave a held-out dataset's near-duplicates (the knowledge base's
            ``near_duplicates`` pairs, :mod:`metakb.workflows.duplicates`) out of its training
            side; a knowledge base never deduplicated (``metakb kb dedupe``) has no pairs.
        hide_own_candidates: a tuned candidate (``metakb build --candidates bohb``) found only
            by the search on a held-out dataset (or its near-duplicates) is not offered to
            that dataset's recommendations (see ``found_on`` in
            :func:`~metakb.warmstart.evaluate.evaluate_warm_starting`).
        regret_reference: ``"all"`` scales each held-out regret by the best and worst
            configuration of its whole row; ``"untuned"`` by the configurations that are not
            tuned candidates only (the matrix before ``--candidates bohb``), so that a knowledge
            base grown by tuned candidates is measured with the yardstick of the one it grew
            from (a regret below 0: better than every configuration it had).
    """
    from metakb.workflows.candidates import candidate_origins
    from metakb.workflows.duplicates import near_duplicate_map

    if regret_reference not in REGRET_REFERENCES:
        raise ConfigError(f"regret_reference must be one of {REGRET_REFERENCES}, got {regret_reference!r}")
    metric = default_metric(kb, space, metric)
    meta_features, performance = knowledge_base_frames(kb, space, metric)
    origins = candidate_origins(kb, space)
    reference = None if regret_reference == "all" else [int(c) for c in performance.columns if int(c) not in origins]
    settings = scenario_settings(kb, space)
    if isinstance(folds, str) and folds in ("auto", "aslib"):
        if settings and settings.get("folds"):
            instance_of = kb.datasets(source="aslib").set_index("name")["source_id"]
            folds = {d: settings["folds"][instance_of[d]] for d in performance.index
                     if instance_of.get(d) in settings["folds"]}
        elif folds == "aslib":
            raise ConfigError(f"space {space!r} is not an imported ASlib scenario with cv folds")
        else:
            folds = "loo"
    factories, probes = method_factories(methods, n_neighbors=n_neighbors, knn_params=knn_params,
                                         siamese_params=siamese_params, model_params=model_params, seed=seed)
    own_folds: dict[str, Any] = dict(method_folds or {})
    if siamese_folds is not None and "siamese" in factories:
        own_folds["siamese"] = siamese_folds
    evaluation = evaluate_warm_starting(meta_features, performance, factories, ks=ks, folds=folds,
                                        defaults=default_configurations(kb, space), seed=seed,
                                        method_folds=own_folds or None, probes=probes, progress=progress,
                                        near_duplicates=near_duplicate_map(kb) if drop_near_duplicates else None,
                                        found_on=origins if hide_own_candidates else None,
                                        reference=reference)
    evaluation.settings.update(space=str(space), metric=metric, n_neighbors=n_neighbors,
                               aslib=bool(settings), par=performance.attrs.get("par"),
                               n_meta_features=int(meta_features.shape[1]))
    return evaluation
