"""Benchmark: regression meta-features (``extract(task="regression")``) against pymfe, same groups.

pymfe 0.4 has no regression mode, so it gets the target cut into ``int(n^(1/3))``
equal-frequency bins as its class (the binning of our ``y_ent``/``attr_y_mi``; a continuous
target as pymfe's class would make its class-based precomputations run over thousands of
"classes"). Both extract the groups ``general``, ``statistical`` and ``info-theory`` from the
same rows: each PMLB regression dataset is first cut to a seeded uniform subsample of at most
``--max-rows`` rows. Times are CPU seconds of this process (``time.process_time``; one BLAS
thread), ours the median of ``--repeat`` runs, pymfe's one run, stopped after ``--timeout``
wall seconds (then charged what it had used: a lower bound). Prints one line per dataset,
the totals and the ratio.

Usage:
    python benchmarks/meta_features_regression.py [--data DIR] [--limit N] [--max-rows 2000]
"""

from __future__ import annotations

import os
import sys

if os.environ.get("OMP_NUM_THREADS") != "1":  # one BLAS thread, set before numpy loads
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    os.execve(sys.executable, [sys.executable, *sys.argv], env)

import argparse  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
GROUPS = ["general", "statistical", "info-theory"]


class _Late(Exception):
    """The alarm: pymfe ran past its limit."""


def _alarm(*_: object) -> None:
    raise _Late()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "pmlb"))
    parser.add_argument("--limit", type=int, default=0, help="first N datasets by name (0: all)")
    parser.add_argument("--max-rows", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=int, default=120)
    args = parser.parse_args()

    from pymfe.mfe import MFE

    import meta_features
    from meta_features._info_theory import discretise

    index = pd.read_csv(Path(args.data) / "index.csv")
    names = sorted(index.loc[index["task"] == "regression", "name"])
    if args.limit:
        names = names[: args.limit]
    signal.signal(signal.SIGALRM, _alarm)
    ours_total = theirs_total = 0.0
    late = 0
    for name in names:
        frame = pd.read_csv(Path(args.data) / "datasets" / name / f"{name}.tsv.gz", sep="\t")
        X = frame.drop(columns="target").to_numpy(dtype=float)
        y = frame["target"].to_numpy(dtype=float)
        if len(y) > args.max_rows:
            rows = np.sort(np.random.default_rng(0).choice(len(y), args.max_rows, replace=False))
            X, y = X[rows], y[rows]
        ours = []
        for _ in range(args.repeat):
            t0 = time.process_time()
            meta_features.extract(X, y, task="regression", groups=GROUPS, max_rows=args.max_rows)
            ours.append(time.process_time() - t0)
        mine = statistics.median(ours)
        codes = discretise(y[:, None], np.zeros(1, bool))[:, 0]
        t0 = time.process_time()
        mark = ""
        signal.alarm(args.timeout)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mfe = MFE(groups=GROUPS, random_state=0, suppress_warnings=True)
                mfe.fit(X, codes, cat_cols=[], transform_cat=None, transform_num=False, suppress_warnings=True)
                mfe.extract(suppress_warnings=True)
        except _Late:
            mark, late = ">=", late + 1
        finally:
            signal.alarm(0)
        theirs = time.process_time() - t0
        ours_total += mine
        theirs_total += theirs
        print(f"{name:40s} rows={len(y):5d} attrs={X.shape[1]:4d} ours={mine:8.3f}s "
              f"pymfe={mark}{theirs:8.3f}s ratio={theirs / max(mine, 1e-9):7.1f}", flush=True)
    print(f"datasets={len(names)} ours_total={ours_total:.2f}s pymfe_total={'>=' if late else ''}"
          f"{theirs_total:.2f}s speedup={theirs_total / max(ours_total, 1e-9):.1f}x (pymfe stopped: {late})")


if __name__ == "__main__":
    main()
