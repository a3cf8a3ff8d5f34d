"""Portfolios of configurations built from a performance matrix (datasets × configurations).

This package knows nothing of the knowledge base: a pandas frame of scores in, a
:class:`Portfolio` out. The caller reads the matrix (``KnowledgeBase.performance_matrix``) and
stores the result (``KnowledgeBase.save_portfolio``). See ``docs/portfolios.md``.
"""

from metakb.registry import Registry
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
    "PORTFOLIO_METHODS",
]

#: ``--method`` name -> construction ``f(matrix, size, *, missing, normalize, ...)``; one line each.
#: Options a method does not take (``seed``, ``validation``, ``select_size``) are not passed to it.
PORTFOLIO_METHODS: Registry = Registry("portfolio method")
PORTFOLIO_METHODS.register("greedy", greedy_portfolio)
PORTFOLIO_METHODS.register("per-dataset-best", per_dataset_best_portfolio)
PORTFOLIO_METHODS.register("top-average-rank", top_average_rank_portfolio)
PORTFOLIO_METHODS.register("random", random_portfolio)
