"""``metakb importance``: which hyperparameters matter, from the knowledge base's evaluations.

Reads the performance matrix (dataset × configuration) and the configurations of a space,
optionally restricted to one model of a CASH space (``--model``) and to some datasets
(``--dataset``), runs fANOVA or tunability (:mod:`metakb.importance`) and prints a table (or
JSON); ``--plot`` writes a bar chart and, for fANOVA, ``--marginals`` the marginal curves.
"""

from __future__ import annotations

import argparse
from typing import Any

from metakb.cli._common import add_db_argument, open_from_args, print_json, print_table
from metakb.errors import DataError
from metakb.importance import IMPORTANCE_EVALUATORS
from metakb.workflows.importance import chosen_space_note, load_table, resolve_space
from metakb.workflows.warmstart import default_metric

__all__ = ["register", "load_table", "METHODS"]

METHODS = tuple(IMPORTANCE_EVALUATORS)  # the registered evaluators


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``metakb importance``."""
    parser = subparsers.add_parser(
        "importance", help="hyperparameter importance (fANOVA, tunability) from stored evaluations",
        description="Hyperparameter importance over the knowledge base's evaluations of a space.")
    parser.add_argument("--space", default=None,
                        help="search space name (default: the knowledge base's only space, else sklearn-cash)")
    parser.add_argument("--model", default=None,
                        help="only this model's configurations and hyperparameters (a value of --choice)")
    parser.add_argument("--choice", default=None,
                        help="the CASH space's model-choice hyperparameter (default: regressor in a "
                             "regression space, else classifier)")
    parser.add_argument("--dataset", action="append", default=None, metavar="NAME",
                        help="only this dataset (repeat for several; default all)")
    parser.add_argument("--method", choices=IMPORTANCE_EVALUATORS.names(), default="fanova", help="method (default fanova)")
    parser.add_argument("--metric", default=None, help="metric (default: the space's, balanced_accuracy or r2)")
    parser.add_argument("--budget", type=float, default=1.0, help="evaluation budget (default 1.0)")
    parser.add_argument("--trees", type=int, default=16, help="trees of the fANOVA forest (default 16)")
    parser.add_argument("--surrogate", choices=("forest", "table"), default="forest",
                        help="tunability: predict off-table scores with a forest, or use the table only")
    parser.add_argument("--pairs", type=int, default=5, help="pairs to show (default 5)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the forests (default 0)")
    parser.add_argument("--plot", default=None, metavar="PNG", help="write a bar chart of the importances")
    parser.add_argument("--marginals", default=None, metavar="PNG",
                        help="fANOVA: write the marginal curves of the dataset whose scores vary most")
    parser.add_argument("--json", action="store_true", help="print JSON")
    add_db_argument(parser)
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from metakb.importance import FANOVA, Tunability

    with open_from_args(args, readonly=True) as kb:
        args.space, chosen = resolve_space(kb, args.space)
        if chosen and not args.json:
            print(chosen_space_note(kb, args.space))
        args.metric = default_metric(kb, args.space, args.metric)
        configurations, performance, space, names = load_table(
            kb, args.space, model=args.model, choice=args.choice, datasets=args.dataset,
            metric=args.metric, budget=args.budget)
    if args.method == "fanova":
        evaluator: Any = FANOVA(n_trees=args.trees, seed=args.seed)
    else:
        evaluator = Tunability(surrogate=args.surrogate, seed=args.seed)
    result = evaluator.evaluate(configurations, performance, space, hyperparameters=names)
    _plots(result, args)
    if args.json:
        data = result.to_dict()
        data.update(space=args.space, model=args.model, metric=args.metric)
        print_json(data)
        return 0
    _print(result, args)
    return 0


def _plots(result: Any, args: argparse.Namespace) -> None:
    from metakb.importance.plots import plot_importances, plot_marginals

    if args.plot:
        plot_importances(result, args.plot, pairs=args.pairs if args.method == "fanova" else 0)
    if args.marginals:
        if args.method != "fanova":
            raise DataError("--marginals needs --method fanova")
        # the dataset whose scores vary most has the most telling curves
        variances: dict[str, float] = result.details.get("total_variance") or {}
        dataset = max(variances, key=lambda d: variances[d]) if variances else None
        plot_marginals(result, args.marginals, dataset=dataset, score_label=args.metric)


def _print(result: Any, args: argparse.Namespace) -> None:
    n = len(result.per_dataset)
    what = "fraction of variance" if args.method == "fanova" else f"gain in {args.metric}"
    print(f"{args.method} on {args.space}{' / ' + args.model if args.model else ''}: "
          f"{n} dataset{'s' if n != 1 else ''}, {performance_size(result)} ({what})")
    rows = [{"hyperparameter": k, "median": r["median"], "q25": r["q25"], "q75": r["q75"]}
            for k, r in result.summary().iterrows()]
    print_table(rows)
    pairs = result.pair_summary().head(args.pairs)
    if args.pairs and not pairs.empty:
        print()
        print_table([{"pair": k, "median": r["median"], "q25": r["q25"], "q75": r["q75"],
                      "n": int(r["n_datasets"])} for k, r in pairs.iterrows()])
    if args.method == "tunability":
        alg = result.algorithm
        print(f"\noptimal default (configuration {result.default_id}): {result.default}")
        print(f"algorithm tunability: median {alg.median():.4f} [q25 {alg.quantile(0.25):.4f}, "
              f"q75 {alg.quantile(0.75):.4f}]")


def performance_size(result: Any) -> str:
    n = result.details.get("n_configurations")
    return f"{n} configurations" if n else f"{len(result.hyperparameters)} hyperparameters"
