"""Warm-start helpers: rank-quantile priors and similarity weights, by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from metakb.errors import ConfigError
from metakb.optimizers.warmstart import prior_from_scores, similarity_weights


def test_prior_from_scores_rank_quantiles_and_weights() -> None:
    scores = pd.DataFrame({1: [0.9, 0.5], 2: [0.7, np.nan], 3: [0.8, 0.6]}, index=["a", "b"])
    configs = {1: {"x": 1}, 2: {"x": 2}, 3: {"x": 3}}
    prior = prior_from_scores(scores, configs, weights={"a": 1.0, "b": 0.5})
    as_dict = {(c["x"], round(w, 6)): q for c, q, w in prior}
    # Dataset a: 0.9 > 0.8 > 0.7 -> quantiles 0, 0.5, 1; weight 1/3 each.
    assert as_dict[(1, round(1 / 3, 6))] == 0.0
    assert as_dict[(3, round(1 / 3, 6))] == 0.5
    assert as_dict[(2, round(1 / 3, 6))] == 1.0
    # Dataset b: only configs 1 and 3 (NaN skipped): 0.6 best -> 3 gets 0, 1 gets 1.
    assert as_dict[(3, 0.25)] == 0.0 and as_dict[(1, 0.25)] == 1.0
    lower = prior_from_scores(scores.loc[["a"]], configs, higher_is_better=False)
    assert {c["x"]: q for c, q, _ in lower} == {1: 1.0, 2: 0.0, 3: 0.5}


def test_prior_from_scores_rejects_unknown_configuration() -> None:
    with pytest.raises(ConfigError, match="configuration id 7"):
        prior_from_scores(pd.DataFrame({7: [0.1, 0.2], 8: [0.3, 0.4]}), {8: {}})


def test_similarity_weights() -> None:
    w = similarity_weights({"a": 0.0, "b": 1.0, "c": 2.0})  # median scale 1
    assert w == {"a": 1.0, "b": math.exp(-1), "c": math.exp(-4)}
    assert similarity_weights({"a": 0.0}) == {"a": 1.0}
    with pytest.raises(ConfigError, match="distances"):
        similarity_weights({"a": -1.0})
