"""Benchmark: regression meta-features (``extract(task="regression")``) against pymfe, same groups.

pymfe 0.4 has no regression mode, so it gets the target cut into ``int(n^(1/3))``
equal-frequency bins as its class (the binning of our ``y_ent``/``attr_y_mi``; a continuous
target as pymfe's class would make its class-based precomputations run over thousands of
"classes"). Both extract the groups ``general``, ``statistical`` and ``info-theory`` from the
same rows (each PMLB regression dataset is first cut to a seeded uniform subsample of at most
``--max-rows`` rows), each with its default summaries (ours: seven, pymfe's: mean and sd).

Times are CPU seconds of this process (``time.process_time``; one BLAS thread), the median of
``--repeat`` runs per tool and dataset, each tool's runs back to back (``--interleave``: the
two tools' runs alternate, so that every run starts with caches the other tool has just
used), after one untimed warm-up run of each on the first dataset. A pymfe run is stopped
after ``--timeout`` wall seconds and then charged what it had used (a lower bound, marked
``>=``; its later repeats are skipped).

Printed: one line per dataset (both medians and their ratio), then the median and range of
the per-dataset ratios, the totals, and the largest difference between the values both tools
compute under the same name and definition (every target-free feature of the three groups but
``attr_conc``, whose 12-attribute subset is drawn differently), and between ``y_ent`` /
``attr_y_mi`` and pymfe's ``class_ent`` / ``mut_inf`` of the binned target (pymfe adds 1e-8
to every cell probability, so these differ by up to about 1e-4).

Usage:
    python benchmarks/meta_features_regression.py [--data DIR] [--limit N] [--max-rows 2000]
        [--repeat 3] [--timeout 120] [--interleave]
"""

from __future__ import annotations

import os
import sys

if os.environ.get("OMP_NUM_THREADS") != "1":  # one BLAS thread, set before numpy loads
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    os.execve(sys.executable, [sys.executable, *sys.argv], env)

import argparse  # noqa: E402
import math  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
GROUPS = ["general", "statistical", "info-theory"]
#: ours -> pymfe's name for the binned target's features (pymfe smooths their probabilities)
TARGET_NAMES = {"y_ent": "class_ent", "attr_y_mi.mean": "mut_inf.mean", "attr_y_mi.sd": "mut_inf.sd"}
#: shared names left out of the comparison: the attribute subset (of 12) is drawn differently
NOT_COMPARED = ("attr_conc",)


class _Late(Exception):
    """The alarm: pymfe ran past its limit."""


def _alarm(*_: object) -> None:
    raise _Late()


def _load(data: Path, name: str, max_rows: int) -> tuple[np.ndarray, np.ndarray]:
    frame = pd.read_csv(data / "datasets" / name / f"{name}.tsv.gz", sep="\t")
    X = frame.drop(columns="target").to_numpy(dtype=float)
    y = frame["target"].to_numpy(dtype=float)
    if len(y) > max_rows:
        rows = np.sort(np.random.default_rng(0).choice(len(y), max_rows, replace=False))
        X, y = X[rows], y[rows]
    return X, y


def _ours(X: np.ndarray, y: np.ndarray, max_rows: int) -> tuple[float, dict[str, float]]:
    import meta_features

    t0 = time.process_time()
    values = meta_features.extract(X, y, task="regression", groups=GROUPS, max_rows=max_rows)
    return time.process_time() - t0, dict(values)


def _pymfe(X: np.ndarray, codes: np.ndarray, timeout: int) -> tuple[float, dict[str, Any] | None]:
    """CPU seconds of one pymfe fit + extract and its values (None when stopped)."""
    from pymfe.mfe import MFE

    t0 = time.process_time()
    signal.alarm(timeout)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mfe = MFE(groups=GROUPS, random_state=0, suppress_warnings=True)
            mfe.fit(X, codes, cat_cols=[], transform_cat=None, transform_num=False, suppress_warnings=True)
            names, values = mfe.extract(suppress_warnings=True)
    except _Late:
        return time.process_time() - t0, None
    finally:
        signal.alarm(0)
    return time.process_time() - t0, dict(zip(names, values, strict=True))


def _differences(ours: dict[str, float], theirs: dict[str, Any]) -> tuple[list[tuple[float, float, str]],
                                                                        list[tuple[float, float, str]]]:
    """``(|ours - pymfe|, relative difference, name)`` of the shared and the binned-target features."""
    def gap(a: float, b: Any) -> tuple[float, float] | None:
        if b is None or not isinstance(b, (int, float)) or math.isnan(b) or math.isnan(a):
            return None  # undefined in one of them: nothing to compare
        d = abs(a - float(b))
        return d, d / max(abs(float(b)), 1e-300) if d else 0.0

    shared = []
    for name, value in ours.items():
        if name in theirs and name.split(".")[0] not in NOT_COMPARED:
            g = gap(value, theirs[name])
            if g is not None:
                shared.append((*g, name))
    target = [(*g, f"{a}~{b}") for a, b in TARGET_NAMES.items()
              if a in ours and b in theirs and (g := gap(ours[a], theirs[b])) is not None]
    return shared, target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "pmlb"))
    parser.add_argument("--limit", type=int, default=0, help="first N datasets by name (0: all)")
    parser.add_argument("--max-rows", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per tool and dataset (median)")
    parser.add_argument("--timeout", type=int, default=120, help="wall seconds of one pymfe run")
    parser.add_argument("--interleave", action="store_true",
                        help="alternate the tools' runs instead of timing each tool's repeats back to back")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")

    import pymfe

    from meta_features._info_theory import discretise

    data = Path(args.data)
    index = pd.read_csv(data / "index.csv")
    names = sorted(index.loc[index["task"] == "regression", "name"])
    if args.limit:
        names = names[: args.limit]
    signal.signal(signal.SIGALRM, _alarm)
    print(f"pymfe {pymfe.__version__}; groups {' + '.join(GROUPS)}; max_rows {args.max_rows}; "
          f"median of {args.repeat} runs per tool ({'interleaved' if args.interleave else 'back to back'})",
          flush=True)
    ratios: list[float] = []
    ours_total = theirs_total = 0.0
    late = 0
    shared_abs: tuple[float, str] = (0.0, "")
    shared_rel: tuple[float, str] = (0.0, "")
    target_abs: tuple[float, str] = (0.0, "")
    compared = 0
    for i, name in enumerate(names):
        X, y = _load(data, name, args.max_rows)
        codes = discretise(y[:, None], np.zeros(1, bool))[:, 0]
        if i == 0:  # warm-up: first-call costs (imports, caches) of both tools, untimed
            _ours(X, y, args.max_rows)
            _pymfe(X, codes, args.timeout)
        ours_times, theirs_times = [], []
        ours_values: dict[str, float] = {}
        theirs_values: dict[str, Any] | None = None
        stopped = False
        # back to back: the repeats of one tool, then those of the other; interleaved: one
        # run of each in turn (every run then starts after the other tool's)
        order = ["ours", "pymfe"] * args.repeat if args.interleave else \
            ["ours"] * args.repeat + ["pymfe"] * args.repeat
        for tool in order:
            if tool == "ours":
                seconds, ours_values = _ours(X, y, args.max_rows)
                ours_times.append(seconds)
            elif not stopped:
                seconds, got = _pymfe(X, codes, args.timeout)
                theirs_times.append(seconds)
                stopped = got is None
                theirs_values = got if got is not None else theirs_values
        mine, theirs = statistics.median(ours_times), statistics.median(theirs_times)
        late += stopped
        ours_total += mine
        theirs_total += theirs
        ratio = theirs / max(mine, 1e-9)
        ratios.append(ratio)
        if theirs_values is not None:
            shared, target = _differences(ours_values, theirs_values)
            compared += len(shared)
            shared_abs = max([shared_abs, *((d, f"{n} ({name})") for d, _, n in shared)])
            shared_rel = max([shared_rel, *((r, f"{n} ({name})") for _, r, n in shared)])
            target_abs = max([target_abs, *((d, f"{n} ({name})") for d, _, n in target)])
        print(f"{name:40s} rows={len(y):5d} attrs={X.shape[1]:4d} ours={mine * 1e3:8.2f}ms "
              f"pymfe={'>=' if stopped else ''}{theirs * 1e3:8.2f}ms ratio={ratio:6.1f}", flush=True)
    print(f"datasets={len(names)} median ratio={statistics.median(ratios):.1f}x "
          f"(min {min(ratios):.1f}x, max {max(ratios):.1f}x); totals: ours={ours_total:.3f}s "
          f"pymfe={'>=' if late else ''}{theirs_total:.3f}s ratio={theirs_total / max(ours_total, 1e-9):.1f}x "
          f"(pymfe stopped: {late})")
    print(f"shared values compared: {compared}; max |ours - pymfe| {shared_abs[0]:.3g} at {shared_abs[1]}, "
          f"max relative {shared_rel[0]:.3g} at {shared_rel[1]}; binned target (pymfe's 1e-8 smoothing): "
          f"max |ours - pymfe| {target_abs[0]:.3g} at {target_abs[1]}")


if __name__ == "__main__":
    main()
