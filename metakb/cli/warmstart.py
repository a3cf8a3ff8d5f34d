"""``metakb warmstart train-siamese``: (re)train the Siamese task embedding of a space."""

from __future__ import annotations

import argparse

from metakb.cli._common import add_command_group, add_db_argument, open_from_args, print_json

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``metakb warmstart`` and its sub-commands."""
    _, commands = add_command_group(subparsers, "warmstart",
                                    help="train the models behind `metakb recommend --method siamese`",
                                    dest="warmstart_command")
    train = commands.add_parser(
        "train-siamese", help="train the Siamese task embedding on every dataset of a space and store it",
        description="Train a network mapping meta-features to an embedding whose distances predict "
                    "1 - Spearman correlation of two datasets' configuration scores (Kim et al. 2017), "
                    "on every dataset of SPACE, and store its weights in the knowledge base as JSON "
                    "(replacing a model of the same name). `metakb recommend --method siamese` uses it.")
    train.add_argument("--space", default="sklearn-cash", help="search space or ASlib scenario (default: sklearn-cash)")
    train.add_argument("--metric", default=None,
                       help="metric (default: the scenario's measure for ASlib, else the space's: balanced_accuracy or r2)")
    train.add_argument("--name", default=None, help="stored model name (default: siamese:SPACE:METRIC)")
    train.add_argument("--epochs", type=int, default=200, help="training epochs (default: 200)")
    train.add_argument("--embedding-dim", type=int, default=8, help="embedding size (default: 8)")
    train.add_argument("--seed", type=int, default=0, help="seed of initialisation and pair sampling (default: 0)")
    add_db_argument(train)
    train.add_argument("--json", action="store_true", help="print JSON")
    train.set_defaults(handler=_train)


def _train(args: argparse.Namespace) -> int:
    import time

    from metakb.workflows.warmstart import default_embedding_name, default_metric, train_siamese

    with open_from_args(args) as kb:
        metric = default_metric(kb, args.space, args.metric)
        name = args.name or default_embedding_name(args.space, metric)
        start = time.perf_counter()
        model = train_siamese(kb, args.space, metric, name=name, epochs=args.epochs,
                              embedding_dim=args.embedding_dim, seed=args.seed)
        seconds = time.perf_counter() - start
    result = {"name": name, "space": args.space, "metric": metric, "datasets": len(model.datasets_),
              "meta_features": len(model.preprocessor_.columns_), "pairs": model.n_pairs_,
              "epochs": args.epochs, "first_loss": model.loss_history_[0], "final_loss": model.loss_history_[-1],
              "seconds": round(seconds, 1)}
    if args.json:
        print_json(result)
    else:
        print(f"stored Siamese model {name!r}: {result['datasets']} datasets, {result['pairs']} pairs, "
              f"{result['meta_features']} meta-features; loss {result['first_loss']:.4f} -> "
              f"{result['final_loss']:.4f} in {seconds:.1f} s")
    return 0
