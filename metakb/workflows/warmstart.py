"""Workflow ``warmstart``: warm starters over a knowledge base: read its matrices, train, store
and load models (``metakb recommend``, ``metakb warmstart``, ``metakb evaluate warmstart``).

The warm starters themselves take pandas frames and know nothing of the store; these
functions are the bridge the CLI (``metakb recommend``, ``metakb warmstart``) uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from metakb.errors import ConfigError, DataError, NotFoundError
from metakb.warmstart import BaseWarmStarter, SiameseWarmStarter

__all__ = ["knowledge_base_frames", "default_embedding_name", "train_siamese", "load_warm_starter",
           "scenario_settings", "default_metric", "default_configurations"]


def scenario_settings(kb: Any, space: str | int) -> dict[str, Any] | None:
    """The import settings of an ASlib scenario stored as ``space``, or None for other spaces."""
    from metakb.data.aslib_import import aslib_settings
    from metakb.errors import NotFoundError

    try:
        return aslib_settings(kb, str(kb.get_space(space)["name"]))
    except NotFoundError:
        return None


def default_metric(kb: Any, space: str | int, metric: str | None = None) -> str:
    """``metric`` if given; else an ASlib scenario's measure, else ``balanced_accuracy``."""
    if metric:
        return metric
    settings = scenario_settings(kb, space)
    return str(settings["measure"]) if settings else "balanced_accuracy"


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
