"""``metakb recommend DATA --target COL``: the configurations to try first on a new dataset."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from metakb.cli._common import add_db_argument, add_task_arguments, open_from_args, print_json

if TYPE_CHECKING:
    from metakb.workflows.recommend import RecommendationReport

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``recommend`` command."""
    from metakb.warmstart import WARM_STARTERS

    p = subparsers.add_parser("recommend", help="recommend configurations for a new dataset (kNN warm start)",
                              description="Compute the dataset's meta-features, find its nearest datasets in the "
                              "knowledge base and print their best configurations with provenance.")
    p.add_argument("data", metavar="DATA", help="CSV/TSV/ARFF/Parquet file (optionally .gz)")
    p.add_argument("--target", required=True, metavar="COL", help="the target column (classes or a quantity)")
    p.add_argument("-k", type=int, default=5, help="how many configurations (default: 5)")
    p.add_argument("--method", default="knn", choices=WARM_STARTERS.names(),
                   help="warm starter (default: knn, the distance-weighted mean score over the nearest "
                        "datasets, best in the leave-one-dataset-out benchmark)")
    p.add_argument("--neighbors", type=int, default=None, metavar="N",
                   help="nearest datasets used by the neighbour methods (default: the method's own)")
    p.add_argument("--probes", type=int, default=0, metavar="P",
                   help="with --method cf: evaluate the first P portfolio members on DATA first (stored "
                        "in the knowledge base) and rank the rest from their scores")
    p.add_argument("--categorical", default=None, metavar="COL,...",
                   help="columns to treat as categorical (a PMLB metadata.yaml beside DATA is read too)")
    add_task_arguments(p)
    p.add_argument("--metric", default=None,
                   help="metric to rank by (default: the task's, balanced_accuracy or r2)")
    p.add_argument("--include-self", action="store_true",
                   help="keep the dataset itself as a neighbour if the knowledge base holds it")
    add_db_argument(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from metakb.workflows.recommend import recommend

    categorical = [c.strip() for c in args.categorical.split(",") if c.strip()] if args.categorical else None
    with open_from_args(args, readonly=not args.probes) as kb:  # probes are evaluated and stored
        report = recommend(args.data, kb, target=args.target, k=args.k, method=args.method,
                           n_neighbors=args.neighbors, space=args.space, metric=args.metric, task=args.task,
                           include_self=args.include_self, probes=args.probes, categorical=categorical)
    if args.json:
        print_json(report.to_dict())
    else:
        print_report(report)
    return 0


def print_report(report: RecommendationReport) -> None:
    """Recommendations for people: one block per configuration with its provenance."""
    print(f"{len(report.recommendations)} configurations for {report.dataset!r} "
          f"({report.method}, space {report.space}, metric {report.metric})")
    if report.excluded_self:
        print(f"note: the knowledge base holds this dataset as {report.excluded_self!r}; it was left out "
              "(use --include-self to keep it)")
    if "warning" in report.notes:
        print(f"warning: {report.notes['warning']}")
    if "far" in report.notes:
        print(f"note: {report.notes['far']}")
    for rec in report.recommendations:
        label = f" [{rec.label}]" if rec.label else ""
        print(f"\n#{rec.rank}  configuration {rec.configuration_id}{label}")
        print(f"    {json.dumps(rec.config, sort_keys=True)}")
        if rec.predicted_score is not None:
            never = "" if rec.evaluated else " (never evaluated on any dataset)"
            # Every warm starter predicts a normalised score, not the metric itself (a kNN's 0.95 is
            # "near the best of its neighbours", not an R² or accuracy of 0.95).
            print(f"    predicted normalised score: {rec.predicted_score:.4f} "
                  f"(1 = a similar dataset's best configuration, 0 = its worst){never}")
        for source in rec.sources[:3]:
            scaled = source.get("scaled_distance")  # in typical neighbour distances (docs/cli.md)
            far = f"distance {scaled:.2f}x typical" if scaled is not None else f"distance {source['distance']:.3f}"
            print(f"    from {source['dataset']} (neighbour {source['neighbour']}, {far}): "
                  f"score {source['score']:.4f}, rank {source['rank']} there")
