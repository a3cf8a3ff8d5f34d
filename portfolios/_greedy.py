"""Greedy submodular portfolio construction.

The portfolio objective ``f(P) = mean_d min_{c in P} loss[d, c]`` is, with its sign flipped, a
monotone submodular set function (a facility-location function), so the greedy algorithm that
adds the configuration with the largest decrease of ``f`` at each step is within ``1 - 1/e`` of
the best portfolio of its size (Nemhauser, Wolsey and Fisher 1978). Auto-sklearn 2.0 and
Auto-PyTorch Tabular build their portfolios this way on a matrix of configurations evaluated on
meta-training datasets.

References:
    Feurer, Eggensperger, Falkner, Lindauer and Hutter. "Auto-Sklearn 2.0: Hands-free AutoML
    via Meta-Learning." JMLR 23 (2022), §4.1 and Algorithm 1.
    Zimmer, Lindauer and Hutter. "Auto-PyTorch Tabular: Multi-Fidelity MetaLearning for
    Efficient and Robust AutoDL." IEEE TPAMI 43 (2021), §4.2.
"""

from __future__ import annotations

import numbers
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from metakb.errors import ConfigError
from metakb.params import Interval, validate_params
from portfolios._matrix import LossMatrix, to_loss_matrix
from portfolios._portfolio import (
    OPTION_CONSTRAINTS,
    SEED_CONSTRAINT,
    VALIDATION_CONSTRAINT,
    Portfolio,
    check_options,
    check_size,
    parameter_constraints,
    portfolio_curve,
)

__all__ = ["greedy_order", "greedy_portfolio", "GreedyPortfolio", "split_datasets"]

_TIE = 1e-12


def greedy_order(loss: np.ndarray, size: int) -> tuple[list[int], list[float]]:
    """Greedily pick ``size`` columns of ``loss`` minimising the mean running minimum.

    Ties (objectives within 1e-12) are broken by the lower mean loss of the candidate on its
    own, then by the lower column index, so the result never depends on chance. Once every
    dataset has its best configuration in the portfolio no candidate improves the objective,
    and the rule still fills the portfolio with the configurations of lowest mean loss.

    Args:
        loss: ``(n_datasets, n_configurations)`` losses (no NaN).
        size: how many columns to pick.

    Returns:
        The picked column indices in order and the objective after each pick.
    """
    check_size(size, loss.shape[1])
    best = np.full(loss.shape[0], np.inf)
    mean_loss = loss.mean(axis=0)
    available = np.ones(loss.shape[1], dtype=bool)
    picked: list[int] = []
    objective: list[float] = []
    for _ in range(size):
        scores = np.minimum(best[:, None], loss).mean(axis=0)
        scores[~available] = np.inf
        ties = np.flatnonzero(scores <= scores.min() + _TIE)
        choice = int(ties[np.argmin(mean_loss[ties])])  # argmin returns the first: lowest index
        picked.append(choice)
        objective.append(float(scores[choice]))
        available[choice] = False
        best = np.minimum(best, loss[:, choice])
    return picked, objective


def split_datasets(datasets: Sequence[Hashable], validation: float | Sequence[Hashable] | None,
                   seed: int | None) -> tuple[list[Hashable], list[Hashable]]:
    """Split dataset labels into training and validation rows.

    Args:
        datasets: every row label.
        validation: None (no validation rows), a fraction in (0, 1) of the rows drawn with
            ``seed``, or the validation labels themselves.
        seed: seed of the draw.
    """
    datasets = list(datasets)
    if validation is None:
        return datasets, []
    if isinstance(validation, (float, np.floating)):
        if not 0.0 < validation < 1.0:
            raise ConfigError(f"validation fraction must be in (0, 1), got {validation}")
        n_val = int(round(validation * len(datasets)))
        if n_val < 1 or n_val >= len(datasets):
            raise ConfigError(f"validation fraction {validation} of {len(datasets)} datasets leaves "
                              "an empty training or validation split")
        order = np.random.default_rng(seed).permutation(len(datasets))
        val = sorted(order[:n_val])
        val_set = set(val)
        return ([d for i, d in enumerate(datasets) if i not in val_set],
                [datasets[i] for i in val])
    val_labels = list(validation)
    unknown = [d for d in val_labels if d not in set(datasets)]
    if unknown:
        raise ConfigError(f"validation datasets {unknown[:5]} are not rows of the matrix")
    train = [d for d in datasets if d not in set(val_labels)]
    if not train or not val_labels:
        raise ConfigError("the validation split leaves no training or no validation dataset")
    return train, val_labels


@parameter_constraints({**OPTION_CONSTRAINTS, "validation": VALIDATION_CONSTRAINT, "select_size": ["boolean"],
                        "seed": SEED_CONSTRAINT})
def greedy_portfolio(
    performance: pd.DataFrame | LossMatrix,
    size: int,
    *,
    higher_is_better: bool | None = None,
    missing: str = "worst",
    normalize: bool = True,
    validation: float | Sequence[Hashable] | None = None,
    select_size: bool = False,
    seed: int | None = 0,
) -> Portfolio:
    """Build a greedy portfolio from a performance matrix.

    Args:
        performance: datasets × configurations scores (or an already prepared loss matrix).
        size: the number of configurations ``N``.
        higher_is_better: the direction of the scores (default: ``performance.attrs``).
        missing: the policy for missing cells: ``"worst"``, ``"skip"`` or ``"refuse"``.
        normalize: normalise losses per dataset to [0, 1] before building.
        validation: hold out datasets (a fraction drawn with ``seed``, or their labels); the
            curve on them is recorded in ``validation_objective``.
        select_size: with validation datasets, keep only the prefix with the lowest validation
            objective (the smallest such prefix), as Auto-sklearn 2.0 selects its portfolio's
            hyperparameters on held-out datasets.
        seed: seed of the validation draw.

    Returns:
        The portfolio: members in order of addition and the objective after each step.

    Raises:
        ConfigError: a bad size (below 1 or above the number of configurations) or option.
        DataError: see :func:`portfolios.to_loss_matrix`.
    """
    check_options(greedy_portfolio, higher_is_better=higher_is_better, missing=missing, normalize=normalize,
                  validation=validation, select_size=select_size, seed=seed)
    matrix = performance if isinstance(performance, LossMatrix) else to_loss_matrix(
        performance, higher_is_better=higher_is_better, missing=missing, normalize=normalize)
    if select_size and validation is None:
        raise ConfigError("select_size=True needs validation datasets; pass validation=")
    train, val = split_datasets(matrix.datasets, validation, seed)
    train_m = matrix.rows(train)
    picked, objective = greedy_order(train_m.loss, size)
    val_curve: list[float] = []
    if val:
        val_curve = portfolio_curve(matrix.rows(val).loss, picked).tolist()
        if select_size:
            keep = int(np.argmin(val_curve)) + 1
            picked, objective, val_curve = picked[:keep], objective[:keep], val_curve[:keep]
    settings = {"size": size, "missing": missing, "normalize": normalize,
                "select_size": select_size, "seed": seed,
                "validation": validation if not isinstance(validation, Sequence) else "labels"}
    return Portfolio(members=[matrix.configurations[i] for i in picked], objective=objective,
                     method="greedy", train_datasets=train, validation_datasets=val,
                     validation_objective=val_curve, settings=settings)


class GreedyPortfolio:
    """Greedy portfolio construction as an estimator (``fit`` on a performance matrix).

    Args:
        size: the number of configurations ``N``.
        missing: ``"worst"``, ``"skip"`` or ``"refuse"`` (see :func:`to_loss_matrix`).
        normalize: normalise losses per dataset.
        validation: validation datasets (fraction or labels), or None.
        select_size: truncate to the prefix best on the validation datasets.
        seed: seed of the validation draw.

    Attributes:
        portfolio_: the :class:`Portfolio` built by :meth:`fit`.
        members_: its configurations in order.
        objective_: the training objective after each addition.

    Example:
        >>> perf = pd.DataFrame([[0.9, 0.5], [0.5, 0.9]], columns=["a", "b"])
        >>> GreedyPortfolio(size=2).fit(perf, higher_is_better=True).members_
        ['a', 'b']
    """

    _parameter_constraints: dict[str, list[Any]] = {
        "size": [Interval(numbers.Integral, 1, None, closed="left")],
        "missing": OPTION_CONSTRAINTS["missing"],
        "normalize": OPTION_CONSTRAINTS["normalize"],
        "validation": VALIDATION_CONSTRAINT,
        "select_size": ["boolean"],
        "seed": SEED_CONSTRAINT,
    }

    def __init__(self, size: int = 32, *, missing: str = "worst", normalize: bool = True,
                 validation: float | Sequence[Hashable] | None = None, select_size: bool = False,
                 seed: int | None = 0) -> None:
        self.size = size
        self.missing = missing
        self.normalize = normalize
        self.validation = validation
        self.select_size = select_size
        self.seed = seed

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters (scikit-learn convention)."""
        return {name: getattr(self, name) for name in self._parameter_constraints}

    def set_params(self, **params: Any) -> GreedyPortfolio:
        """Change constructor parameters (scikit-learn convention); return ``self``.

        Raises:
            ConfigError: a name is not a constructor parameter.
        """
        for name, value in params.items():
            if name not in self._parameter_constraints:
                raise ConfigError(f"GreedyPortfolio has no parameter {name!r}; expected one of "
                                  f"{sorted(self._parameter_constraints)}")
            setattr(self, name, value)
        return self

    def fit(self, performance: pd.DataFrame, higher_is_better: bool | None = None) -> GreedyPortfolio:
        """Build the portfolio from ``performance`` (datasets × configurations).

        Raises:
            ConfigError: a parameter outside its ``_parameter_constraints``, in scikit-learn's
                wording, or a size larger than the number of configurations.
        """
        validate_params(self)
        self.portfolio_ = greedy_portfolio(
            performance, self.size, higher_is_better=higher_is_better, missing=self.missing,
            normalize=self.normalize, validation=self.validation, select_size=self.select_size,
            seed=self.seed)
        self.members_ = list(self.portfolio_.members)
        self.objective_ = list(self.portfolio_.objective)
        return self
