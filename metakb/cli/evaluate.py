"""``metakb evaluate warmstart``: leave-one-dataset-out evaluation of the warm starters."""

from __future__ import annotations

import argparse
import sys

from metakb.cli._common import add_command_group, add_db_argument, open_from_args, print_json
from metakb.warmstart.evaluate import METHODS

__all__ = ["register"]


def _folds(text: str) -> str | int:
    if text in ("auto", "loo", "aslib"):
        return text
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"folds must be auto, loo, aslib or an int >= 2, got {text!r}") from None
    if value < 2:
        raise argparse.ArgumentTypeError(f"folds must be auto, loo, aslib or an int >= 2, got {text!r}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``metakb evaluate`` and its ``warmstart`` sub-command."""
    _, commands = add_command_group(subparsers, "evaluate", help="measure warm starting on the knowledge base",
                                    dest="evaluate_command", metavar="WHAT")
    ws = commands.add_parser(
        "warmstart", help="leave-one-dataset-out regret of kNN / Siamese recommendations vs baselines",
        description="For every dataset of SPACE, fit each warm starter on the other datasets only, "
                    "recommend k configurations and report the normalised regret of the best one "
                    "(0 = best configuration in the matrix, 1 = worst), with 95%% CIs, the baselines "
                    "random-k, default and single-best-k, paired Wilcoxon tests and the fraction "
                    "of the SBS-VBS gap closed (PAR10 for ASlib runtime scenarios).")
    ws.add_argument("--method", nargs="+", default=["knn", "knn-best", "cf"], metavar="METHOD",
                    help="warm starters to evaluate: " + ", ".join(METHODS) + ", the distance variants "
                         "knn-l2 and knn-cosine, and cf-probeP (cf after P probes); default: knn knn-best cf")
    ws.add_argument("--space", default="sklearn-cash", help="search space or ASlib scenario (default: sklearn-cash)")
    ws.add_argument("--metric", default=None,
                    help="metric (default: the scenario's measure for ASlib, else the space's: balanced_accuracy or r2)")
    ws.add_argument("-k", "--k", type=int, nargs="+", default=[1, 3, 5, 10, 25], dest="ks",
                    help="numbers of recommended configurations (default: 1 3 5 10 25)")
    ws.add_argument("--folds", type=_folds, default="auto",
                    help="auto (ASlib cv folds for a scenario, else loo), loo, aslib or K (default: auto)")
    ws.add_argument("--siamese-folds", type=_folds, default=None, metavar="FOLDS",
                    help="folds of the Siamese network only, e.g. 10: ten networks instead of one per "
                         "held-out dataset (default: as --folds)")
    ws.add_argument("--neighbors", type=int, default=5, metavar="N", help="nearest datasets used (default: 5)")
    ws.add_argument("--epochs", type=int, default=200, help="Siamese training epochs per fold (default: 200)")
    ws.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    ws.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    add_db_argument(ws)
    ws.add_argument("--keep-near-duplicates", action="store_true",
                    help="keep a held-out dataset's near-duplicates (`metakb kb dedupe`) on its training side "
                         "(default: they are left out, a copy would leak the answer)")
    ws.add_argument("--regret-reference", choices=("all", "untuned"), default="all",
                    help="what scales each held-out regret: the best and worst configuration of the whole row "
                         "(all, default) or of the configurations that are not tuned candidates (untuned: the "
                         "matrix before `build --candidates bohb`; a regret below 0 beats all of them)")
    ws.add_argument("--json", action="store_true", help="print JSON")
    ws.set_defaults(handler=_warmstart)


def _warmstart(args: argparse.Namespace) -> int:
    from metakb.warmstart import format_evaluation
    from metakb.workflows.warmstart import evaluate_knowledge_base

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    with open_from_args(args, readonly=True) as kb:
        evaluation = evaluate_knowledge_base(
            kb, args.space, methods=args.method, metric=args.metric, ks=args.ks, folds=args.folds,
            n_neighbors=args.neighbors, siamese_params={"epochs": args.epochs},
            siamese_folds=args.siamese_folds, seed=args.seed,
            progress=None if args.quiet else progress, drop_near_duplicates=not args.keep_near_duplicates,
            regret_reference=args.regret_reference)
    if args.json:
        print_json(evaluation.to_dict())
    else:
        print(format_evaluation(evaluation))
        dropped = evaluation.settings.get("near_duplicates_dropped") or {}
        if dropped:
            pairs = sorted({" ~ ".join(sorted((d, o))) for d, others in dropped.items() for o in others})
            print(f"near-duplicates kept off each other's training side: {', '.join(pairs)}")
    return 0
