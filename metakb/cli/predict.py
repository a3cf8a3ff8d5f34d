"""``metakb predict MODEL DATA [--proba] --out PRED.csv``: predictions of a saved model.

A classifier's file gives the predicted label (and with ``--proba`` one probability column per
class), a regressor's the predicted number (``--proba`` is refused: it has no classes).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from metakb.errors import ConfigError

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``predict`` command."""
    p = subparsers.add_parser(
        "predict", help="predict with a model written by `metakb fit`",
        description="Read a model file (skops, trusted types only; a file from a newer metakb "
                    "or with another type is refused), predict every row of DATA and write a "
                    "CSV: the predicted label (a regression model: the predicted number), and "
                    "with --proba one column per class.")
    p.add_argument("model", metavar="MODEL", nargs="?", help="model file written by `metakb fit`")
    p.add_argument("data", metavar="DATA", nargs="?",
                   help="CSV/TSV/ARFF/Parquet file with the training columns (the target column may be present)")
    p.add_argument("--proba", action="store_true",
                   help="also write one probability column per class (classification models only)")
    p.add_argument("--out", metavar="PRED.csv", help="the CSV to write")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    import pandas as pd

    from metakb.automl import load_model
    from metakb.data import read_frame

    if not args.model or not args.data:
        raise ConfigError("MODEL and DATA are required: metakb predict MODEL DATA --out PRED.csv")
    if not args.out:
        raise ConfigError("--out PRED.csv is required")
    out = Path(args.out)
    if out.is_dir() or not out.parent.exists():
        raise ConfigError(f"--out {out}: expected a file name in an existing folder")
    model = load_model(args.model)
    if model.classes_ is None:  # a regression model
        if args.proba:
            raise ConfigError(f"--proba: {args.model} is a regression model; it predicts numbers and "
                              "has no class probabilities (drop --proba)")
        # predict checks the columns before anything is written
        result = pd.DataFrame({"prediction": model.predict(read_frame(args.data))})
    else:
        proba = model.predict_proba(read_frame(args.data))
        result = pd.DataFrame({"prediction": model.classes_[proba.argmax(axis=1)]})
        if args.proba:
            for j, label in enumerate(model.classes_):
                result[f"proba_{label}"] = proba[:, j]
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=out.name + ".", suffix=".partial")
    os.close(fd)
    try:
        result.to_csv(tmp, index=False)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    print(f"wrote {len(result)} predictions to {out}")
    return 0
