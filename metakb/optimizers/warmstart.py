"""Turn knowledge-base evaluations into BOHB's warm-start inputs (generic; no store access).

``prior_from_scores`` converts a dataset × configuration score frame (the shape of
``KnowledgeBase.performance_matrix``) into ``prior_observations`` for :class:`BOHB`: within each
source dataset, a configuration's loss is its rank quantile (0 = best, 1 = worst), which makes
losses comparable across datasets, and its weight is the dataset's similarity weight divided by
the number of configurations evaluated there (so every source dataset counts as much as its
weight, however many evaluations it has).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from metakb.errors import ConfigError

__all__ = ["prior_from_scores", "similarity_weights"]


def similarity_weights(distances: Mapping[str, float], bandwidth: float | None = None
                       ) -> dict[str, float]:
    """Gaussian similarity weights ``exp(-(d / bandwidth) ** 2)`` of source datasets.

    Args:
        distances: dataset -> distance to the new dataset (e.g. in meta-feature space).
        bandwidth: the distance scale; None uses the median distance (or 1 if all are 0).
    """
    if not distances:
        return {}
    values = np.array([float(d) for d in distances.values()])
    if np.any(values < 0) or not np.all(np.isfinite(values)):
        raise ConfigError(f"distances must be finite and >= 0; got {dict(distances)}")
    scale = float(np.median(values)) if bandwidth is None else float(bandwidth)
    scale = scale if scale > 0 else 1.0
    return {k: float(np.exp(-((float(d) / scale) ** 2))) for k, d in distances.items()}


def prior_from_scores(scores: pd.DataFrame, configs: Mapping[Any, Mapping[str, Any]], *,
                      higher_is_better: bool = True,
                      weights: Mapping[Any, float] | None = None,
                      ) -> list[tuple[dict[str, Any], float, float]]:
    """``(config, rank-quantile loss, weight)`` triples from a dataset × configuration frame.

    Args:
        scores: index = source datasets, columns = configuration ids, NaN = not evaluated
            (or failed; a failed cell is left out, not ranked).
        configs: configuration id -> configuration dict.
        higher_is_better: the direction of the scores.
        weights: dataset -> similarity weight (default 1 for every dataset).

    Raises:
        ConfigError: a configuration id of the frame has no configuration.
    """
    out: list[tuple[dict[str, Any], float, float]] = []
    for dataset, row in scores.iterrows():
        row = row.dropna()
        if len(row) < 2:
            continue
        w = 1.0 if weights is None else float(weights.get(dataset, 0.0))
        if w <= 0:
            continue
        ranks = (-row if higher_is_better else row).rank(method="average").to_numpy()
        quantiles = (ranks - 1) / (len(row) - 1)
        for config_id, q in zip(row.index, quantiles, strict=True):
            if config_id not in configs:
                raise ConfigError(f"configuration id {config_id!r} of the score frame has no "
                                  "configuration in `configs`")
            out.append((dict(configs[config_id]), float(q), w / len(row)))
    return out
