"""Portfolios of configurations built from a performance matrix (datasets × configurations).

This package knows nothing of the knowledge base: a pandas frame of scores in, a
:class:`Portfolio` out. The caller reads the matrix (``KnowledgeBase.performance_matrix``) and
stores the result (``KnowledgeBase.save_portfolio``). See ``docs/portfolios.md``.
"""

from portfolios._baselines import (
    per_dataset_best_portfolio,
    random_portfolio,
    top_average_rank_portfolio,
)
from portfolios._export import EXPORT_FORMATS, export_portfolio, load_smac_initial_design
from portfolios._greedy import GreedyPortfolio, greedy_order, greedy_portfolio, split_datasets
from portfolios._matrix import MISSING_POLICIES, LossMatrix, to_loss_matrix
from portfolios._portfolio import Portfolio, check_size, portfolio_curve

__all__ = [
    "Portfolio",
    "LossMatrix",
    "MISSING_POLICIES",
    "EXPORT_FORMATS",
    "to_loss_matrix",
    "portfolio_curve",
    "check_size",
    "greedy_order",
    "greedy_portfolio",
    "GreedyPortfolio",
    "split_datasets",
    "per_dataset_best_portfolio",
    "top_average_rank_portfolio",
    "random_portfolio",
    "export_portfolio",
    "load_smac_initial_design",
]
