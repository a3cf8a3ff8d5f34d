"""The main job: recommend configurations for a new dataset from its nearest past datasets.

Meta-features of the new dataset are computed, its nearest datasets in the knowledge base are
found (kNN on scaled meta-features, or a learned Siamese embedding), and their best
configurations are returned, each with the neighbours it came from, their distance and its
score there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from metakb.data import Table, load_table
from metakb.errors import ConfigError
from metakb.store import KnowledgeBase

__all__ = ["RecommendedConfiguration", "RecommendationReport", "recommend", "query_meta_features"]


@dataclass
class RecommendedConfiguration:
    """One recommended configuration with its provenance."""

    rank: int
    configuration_id: int
    config: dict[str, Any]
    label: str | None
    sources: list[dict[str, Any]]
    predicted_score: float | None = None
    evaluated: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON output."""
        out: dict[str, Any] = {"rank": self.rank, "configuration_id": self.configuration_id, "label": self.label,
               "config": self.config, "sources": self.sources}
        if self.predicted_score is not None:
            out["predicted_score"] = self.predicted_score
        if not self.evaluated:
            out["evaluated"] = False
        return out


@dataclass
class RecommendationReport:
    """Recommendations for one dataset and how they were found."""

    dataset: str
    method: str
    space: str
    metric: str
    recommendations: list[RecommendedConfiguration]
    excluded_self: str | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON output."""
        return {"dataset": self.dataset, "method": self.method, "space": self.space, "metric": self.metric,
                "excluded_self": self.excluded_self, "notes": self.notes,
                "recommendations": [r.to_dict() for r in self.recommendations]}


def query_meta_features(table: Table, *, seed: int = 0) -> tuple[dict[str, float], str]:
    """The meta-features of a new dataset (the knowledge base's suite) and the extractor version."""
    import meta_features
    from metakb.data import task_of_target

    result = meta_features.extract(table.numeric_matrix(), table.y, categorical=table.categorical, seed=seed,
                                   task=task_of_target(table.y))
    return dict(result), meta_features.EXTRACTOR_VERSION


def recommend(
    data: Table | str | Path,
    kb: KnowledgeBase,
    *,
    target: str | None = None,
    k: int = 5,
    method: str = "knn",
    n_neighbors: int | None = None,
    space: str | None = None,
    metric: str | None = None,
    task: str | None = None,
    include_self: bool = False,
    probes: int = 0,
    categorical: list[str] | None = None,
    exclude_datasets: tuple[str, ...] | list[str] = (),
) -> RecommendationReport:
    """Recommend ``k`` configurations of ``space`` for a dataset.

    Args:
        data: a loaded :class:`~metakb.data.Table` or a file path (then ``target`` is required).
        kb: the knowledge base to learn from.
        k: how many configurations.
        method: a registered warm starter (:data:`metakb.warmstart.WARM_STARTERS`): ``knn``
            (the default, the winner of the leave-one-dataset-out benchmark: distance-weighted
            mean normalised score over the nearest datasets), ``knn-best`` (auto-sklearn 1.0's
            best of each neighbour), ``rf-model``/``pairwise-model`` (a learned performance
            model), ``cf`` (collaborative filtering) or ``siamese`` (a stored embedding).
        n_neighbors: nearest datasets used by the neighbour methods (None: the method's default).
        probes: with ``cf``, evaluate the first ``probes`` portfolio members on the dataset
            first (really, stored in ``kb``) and infer its latent vector from their scores.
        exclude_datasets: further knowledge-base dataset names not to use as neighbours
            (leave-one-dataset-out benchmarks).
        space: the search space (None: the CASH space of the dataset's task type).
        metric: the metric to rank by (None: the task's, balanced accuracy or R²).
        task: ``classification`` or ``regression`` (None: detected from the target,
            :mod:`metakb.workflows.task`).
        categorical: columns to treat as categorical when ``data`` is a file (a PMLB file's
            ``metadata.yaml`` beside it is read as well).
        include_self: keep the dataset itself as a neighbour when the knowledge base holds it
            (by content); by default it is left out so that recommendations come from others.

    Raises:
        ConfigError: ``k`` or ``n_neighbors`` < 1, an unknown method, or a metric of the other task.
        DataError: the file cannot be used (or its target not for the task).
        SpaceError: the space is of the other task type.
        NotFoundError: the space is not in the knowledge base.

    Example:
        >>> from metakb import open_kb, recommend                       # doctest: +SKIP
        >>> report = recommend("data.csv", open_kb(), target="class", k=5)
        >>> report.recommendations[0].config, report.recommendations[0].sources[0]
    """
    if k < 1:
        raise ConfigError(f"The 'k' parameter of recommend must be an int in the range [1, inf). Got {k} instead.")
    if n_neighbors is not None and n_neighbors < 1:
        raise ConfigError(f"The 'n_neighbors' parameter of recommend must be an int in the range [1, inf). "
                          f"Got {n_neighbors} instead.")
    if probes < 0 or (probes and method != "cf"):
        raise ConfigError(f"The 'probes' parameter of recommend must be 0, or an int >= 1 with "
                          f"method 'cf'. Got {probes} with method {method!r} instead.")
    if not isinstance(data, Table):
        if not target:
            raise ConfigError("a target column is needed to load a data file (--target COL)")
        data = load_table(data, target, categorical=categorical)
    from metakb.workflows.candidates import own_candidates
    from metakb.workflows.task import resolve_task
    from metakb.workflows.warmstart import load_warm_starter

    setup = resolve_task(data, task=task, space=space, metric=metric)
    table: Table = setup.table
    space, metric = setup.space, setup.metric
    kb.get_space(space)
    params: dict[str, Any] = {} if n_neighbors is None else {"n_neighbors": n_neighbors}
    starter = load_warm_starter(kb, method, space, metric, **params)
    query, version = query_meta_features(table)
    excluded = None
    known = kb.find_dataset(table.content_hash())
    if known is not None and not include_self:
        excluded = known["name"]
    left_out = [*([excluded] if excluded else []), *exclude_datasets]
    hidden = own_candidates(kb, space, left_out)  # tuned only on a left-out dataset: learned from it
    probe_scores: dict[int, float | None] = {}
    if probes:
        probe_scores, recs = _recommend_with_probes(starter, kb, table, query, space, metric, probes, k, hidden)
    else:
        recs = starter.recommend(query, n_configs=k, exclude=hidden, exclude_datasets=left_out)
    configurations = kb.configurations(space)
    out = []
    for rec in recs:
        row = configurations.loc[rec.configuration_id]
        out.append(RecommendedConfiguration(rank=rec.rank, configuration_id=int(rec.configuration_id),
                                            config=row["config"],
                                            label=row["label"] if isinstance(row["label"], str) else None,
                                            sources=[s.to_dict() for s in rec.sources],
                                            predicted_score=rec.predicted_score,
                                            evaluated=rec.evaluated))
    stored_versions = set(kb.meta_feature_versions().values())
    notes: dict[str, Any] = {"extractor_version": version}
    far = _far_from_every_known_dataset(starter, query, left_out)
    if far:
        notes["far"] = far
    if probes:
        notes["probes"] = {str(c): s for c, s in probe_scores.items()}
    if stored_versions and stored_versions != {version}:
        notes["warning"] = (f"the knowledge base's meta-features come from extractor version(s) "
                            f"{sorted(stored_versions)}, this one is {version}; refresh them with "
                            "`metakb build --meta-features-only`")
    return RecommendationReport(dataset=table.name, method=method, space=space, metric=metric,
                                recommendations=out, excluded_self=excluded, notes=notes)


#: A query farther from its nearest known dataset than this share of the known datasets are from
#: theirs is reported as unlike the knowledge base (the quantile, not a fixed multiple of the
#: typical distance: a matrix of many near-identical synthetic datasets, as PMLB's regression
#: one, has a small typical distance and a long tail).
FAR_QUANTILE = 0.95


def _far_from_every_known_dataset(starter: Any, query: Mapping[str, float], excluded: list[str]) -> str | None:
    """A note when the dataset is farther from every known dataset than 95% of the known
    datasets are from their own nearest (its recommendations then come from unlike datasets)."""
    nearest = starter.nearest_known_distances() if hasattr(starter, "nearest_known_distances") else None
    near = starter.neighbours(query, excluded)[:1] if hasattr(starter, "neighbours") else []
    if nearest is None or not near or len(nearest) < 20:
        return None
    name, distance = near[0]
    limit = float(np.quantile(nearest, FAR_QUANTILE))
    if distance <= limit:
        return None
    typical = float(np.median(nearest))
    return (f"this dataset is unlike the knowledge base's: its nearest, {name}, is {distance / typical:.1f}x the "
            f"typical neighbour distance, farther than {FAR_QUANTILE:.0%} of the known datasets are from their own "
            "nearest; the recommendations are a generic starting point rather than a tailored one")


def _recommend_with_probes(starter: Any, kb: KnowledgeBase, table: Table, query: dict[str, float],
                           space: str, metric: str, n_probes: int, k: int, hidden: list[int]
                           ) -> tuple[dict[int, float | None], list[Any]]:
    """Evaluate the first portfolio members on ``table`` (stored in ``kb``), then recommend;
    ``hidden`` configurations are neither probed nor recommended.

    The probes run with the knowledge base's own protocol, so their scores are comparable with
    the matrix the model was fitted on.
    """
    from metakb.warmstart import recommend_with_probes
    from metakb.workflows.run import run_configuration

    configurations = kb.configurations(space)
    protocol = kb.performance_matrix(space, metric=metric).attrs.get("protocol") or "cv:3:max_rows=1500"

    def evaluate(configuration_id: int) -> float | None:
        config = configurations.loc[configuration_id]["config"]
        result = run_configuration(table, dict(config), kb=kb, space=space, protocol=protocol)
        return result.result.value if result.result.status == "ok" else None

    return recommend_with_probes(starter, query, evaluate, n_probes=n_probes, n_configs=k, exclude=hidden)
