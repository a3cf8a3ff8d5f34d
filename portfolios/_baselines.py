"""Baseline portfolios to compare the greedy construction with.

* ``per_dataset_best_portfolio``: Auto-PyTorch Tabular's simple portfolio, the incumbent (best
  configuration) of each training dataset.
* ``top_average_rank_portfolio``: the ``N`` configurations of best average rank across datasets
  (what one gets by ranking a leaderboard, ignoring complementarity).
* ``random_portfolio``: ``N`` configurations drawn uniformly without replacement.

All take the same inputs as :func:`portfolios.greedy_portfolio` and return a
:class:`~portfolios.Portfolio` whose ``objective`` is the same training curve, so they can be
compared step by step.

References:
    Zimmer, Lindauer and Hutter. "Auto-PyTorch Tabular: Multi-Fidelity MetaLearning for
    Efficient and Robust AutoDL." IEEE TPAMI 43 (2021), §4.2 ("simple portfolio").
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from portfolios._matrix import LossMatrix, to_loss_matrix
from portfolios._portfolio import (
    OPTION_CONSTRAINTS,
    SEED_CONSTRAINT,
    Portfolio,
    check_options,
    check_size,
    parameter_constraints,
    portfolio_curve,
)

__all__ = ["per_dataset_best_portfolio", "top_average_rank_portfolio", "random_portfolio"]


def _prepare(performance: pd.DataFrame | LossMatrix, higher_is_better: bool | None, missing: str,
             normalize: bool) -> LossMatrix:
    if isinstance(performance, LossMatrix):
        return performance
    return to_loss_matrix(performance, higher_is_better=higher_is_better, missing=missing,
                          normalize=normalize)


def _result(matrix: LossMatrix, picked: list[int], method: str, settings: dict) -> Portfolio:
    return Portfolio(members=[matrix.configurations[i] for i in picked],
                     objective=portfolio_curve(matrix.loss, picked).tolist(), method=method,
                     train_datasets=list(matrix.datasets), settings=settings)


@parameter_constraints(OPTION_CONSTRAINTS)
def per_dataset_best_portfolio(performance: pd.DataFrame | LossMatrix, size: int, *,
                               higher_is_better: bool | None = None, missing: str = "worst",
                               normalize: bool = True) -> Portfolio:
    """The incumbents of the training datasets, most often best first.

    Each dataset's incumbent is its configuration of lowest loss (the lowest column index on a
    tie). Incumbents are ordered by how many datasets they win, then by mean loss, then by
    column index. With fewer distinct incumbents than ``size`` the rest is filled with the
    configurations of lowest mean loss; with more, the list is cut at ``size``.
    """
    check_options(per_dataset_best_portfolio, higher_is_better=higher_is_better, missing=missing, normalize=normalize)
    matrix = _prepare(performance, higher_is_better, missing, normalize)
    size = check_size(size, matrix.loss.shape[1])
    winners = np.argmin(matrix.loss, axis=1)
    wins = np.bincount(winners, minlength=matrix.loss.shape[1])
    mean_loss = matrix.loss.mean(axis=0)
    index = np.arange(matrix.loss.shape[1])
    # lexsort sorts by the last key first: wins (descending), then mean loss, then index.
    order = np.lexsort((index, mean_loss, -wins))
    incumbents = [int(i) for i in order if wins[i] > 0]
    fill = [int(i) for i in np.lexsort((index, mean_loss)) if wins[i] == 0]
    picked = (incumbents + fill)[:size]
    return _result(matrix, picked, "per-dataset-best",
                   {"size": size, "missing": missing, "normalize": normalize,
                    "n_incumbents": len(incumbents)})


@parameter_constraints(OPTION_CONSTRAINTS)
def top_average_rank_portfolio(performance: pd.DataFrame | LossMatrix, size: int, *,
                               higher_is_better: bool | None = None, missing: str = "worst",
                               normalize: bool = True) -> Portfolio:
    """The ``size`` configurations of best (lowest) average rank over the datasets.

    Ranks are computed per dataset with ties sharing their average rank; equal average ranks
    are broken by the lower column index.
    """
    check_options(top_average_rank_portfolio, higher_is_better=higher_is_better, missing=missing, normalize=normalize)
    matrix = _prepare(performance, higher_is_better, missing, normalize)
    size = check_size(size, matrix.loss.shape[1])
    ranks = rankdata(matrix.loss, axis=1, method="average").mean(axis=0)
    picked = [int(i) for i in np.argsort(ranks, kind="stable")[:size]]
    return _result(matrix, picked, "top-average-rank",
                   {"size": size, "missing": missing, "normalize": normalize})


@parameter_constraints({"seed": SEED_CONSTRAINT, **OPTION_CONSTRAINTS})
def random_portfolio(performance: pd.DataFrame | LossMatrix, size: int, *, seed: int | None = 0,
                     higher_is_better: bool | None = None, missing: str = "worst",
                     normalize: bool = True) -> Portfolio:
    """``size`` configurations drawn uniformly without replacement with ``seed``."""
    check_options(random_portfolio, seed=seed, higher_is_better=higher_is_better, missing=missing, normalize=normalize)
    matrix = _prepare(performance, higher_is_better, missing, normalize)
    size = check_size(size, matrix.loss.shape[1])
    rng = np.random.default_rng(seed)
    picked = [int(i) for i in rng.choice(matrix.loss.shape[1], size=size, replace=False)]
    return _result(matrix, picked, "random",
                   {"size": size, "seed": seed, "missing": missing, "normalize": normalize})
