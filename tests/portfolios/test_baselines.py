"""Baseline portfolios against hand-computed orders."""

from __future__ import annotations

import pandas as pd
import pytest

from metakb.errors import ConfigError
from portfolios import per_dataset_best_portfolio, random_portfolio, top_average_rank_portfolio

HAND = pd.DataFrame(
    [[0.0, 0.9, 0.4, 0.3],
     [0.9, 0.0, 0.4, 0.3],
     [0.9, 0.9, 0.0, 0.5]],
    index=["d0", "d1", "d2"], columns=["c0", "c1", "c2", "c3"])


def test_per_dataset_best_orders_incumbents_then_fills():
    # incumbents c0 (d0), c1 (d1), c2 (d2), one win each; mean loss c2 0.267 < c0 = c1 0.6
    p = per_dataset_best_portfolio(HAND, 4, higher_is_better=False, normalize=False)
    assert p.members == ["c2", "c0", "c1", "c3"]
    assert p.settings["n_incumbents"] == 3
    assert p.objective == pytest.approx([0.8 / 3, 0.4 / 3, 0.0, 0.0])
    assert per_dataset_best_portfolio(HAND, 2, higher_is_better=False).members == ["c2", "c0"]


def test_top_average_rank_hand_order():
    # ranks: d0 c0 1, c3 2, c2 3, c1 4; d1 c1 1, c3 2, c2 3, c0 4; d2 c2 1, c3 2, c0/c1 3.5
    # means: c0 2.833, c1 2.833, c2 2.333, c3 2.0
    p = top_average_rank_portfolio(HAND, 4, higher_is_better=False)
    assert p.members == ["c3", "c2", "c0", "c1"]
    assert p.method == "top-average-rank"


def test_random_is_seeded_and_distinct():
    a = random_portfolio(HAND, 3, seed=7, higher_is_better=False)
    b = random_portfolio(HAND, 3, seed=7, higher_is_better=False)
    assert a.members == b.members and len(set(a.members)) == 3
    assert {tuple(random_portfolio(HAND, 3, seed=s, higher_is_better=False).members)
            for s in range(20)} != {tuple(a.members)}


@pytest.mark.parametrize("builder", [per_dataset_best_portfolio, top_average_rank_portfolio,
                                     random_portfolio])
def test_baselines_check_size(builder):
    with pytest.raises(ConfigError, match="larger than the number of configurations"):
        builder(HAND, 5, higher_is_better=False)
    assert len(builder(HAND, 1, higher_is_better=False)) == 1
