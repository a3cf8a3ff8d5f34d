"""``metakb run DATA --target COL --config JSON``: evaluate one configuration and print its score."""

from __future__ import annotations

import argparse

from metakb.cli._common import add_db_argument, add_task_arguments, open_from_args, print_json

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``run`` command."""
    p = subparsers.add_parser("run", help="evaluate one configuration on a dataset and print its score")
    p.add_argument("data", metavar="DATA", help="CSV/TSV/ARFF/Parquet file (optionally .gz)")
    p.add_argument("--target", required=True, metavar="COL", help="the target column (classes or a quantity)")
    p.add_argument("--config", required=True, metavar="JSON",
                   help="the configuration as a JSON object, or @FILE.json; hyperparameters left out "
                        "take the space's defaults (listed by `metakb space show NAME`)")
    add_task_arguments(p)
    p.add_argument("--protocol", default="cv:3:max_rows=1500", help="evaluation protocol (default: cv:3:max_rows=1500)")
    p.add_argument("--budget", type=float, default=1.0, help="fraction of the training rows (default: 1.0)")
    p.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    p.add_argument("--timeout", type=float, default=300.0, metavar="S", help="seconds (default: 300)")
    p.add_argument("--memory-mb", type=int, default=4096, metavar="MB", help="memory cap (default: 4096)")
    p.add_argument("--no-store", action="store_true", help="do not store the result in the knowledge base")
    add_db_argument(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from metakb.data import load_table
    from metakb.workflows.run import parse_config, run_configuration

    config = parse_config(args.config)
    table = load_table(args.data, args.target)
    kwargs = dict(space=args.space, task=args.task, protocol=args.protocol, budget=args.budget, seed=args.seed,
                  timeout=args.timeout, memory_mb=args.memory_mb)
    if args.no_store:
        outcome = run_configuration(table, config, **kwargs)
    else:
        with open_from_args(args) as kb:
            outcome = run_configuration(table, config, kb=kb, **kwargs)
    if args.json:
        print_json(outcome.to_dict())
    else:
        result = outcome.result
        if outcome.defaults_used:
            print("defaults used: " + ", ".join(f"{k}={outcome.config[k]!r}" for k in outcome.defaults_used))
        if result.status == "ok":
            extra = ", ".join(f"{k} {v:.4f}" for k, v in sorted(result.scores.items()) if k != outcome.metric)
            print(f"{outcome.dataset}: {outcome.metric} {result.value:.4f} ({extra}; {result.fit_seconds:.2f} s, "
                  f"{outcome.protocol})")
        else:
            print(f"{outcome.dataset}: {result.status}: {result.error}")
        if outcome.storage == "new":
            print(f"stored as configuration {outcome.configuration_id}")
        elif outcome.storage == "already stored":
            print(f"not stored: configuration {outcome.configuration_id} was already evaluated on "
                  f"{outcome.dataset!r} with this protocol, budget and seed; the knowledge base keeps "
                  "the first evaluation (change --seed to add a repeat)")
    return 0 if outcome.result.status == "ok" else 1
