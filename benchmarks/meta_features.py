"""Benchmark: meta_features against pymfe on the PMLB classification datasets, in one run.

Both tools extract all five groups (pymfe: its default groups general, statistical,
info-theory, model-based, landmarking) from the same data: each dataset is first cut to a
stratified random subsample of at most ``--max-rows`` rows (meta_features' own subsampling,
seed 0), so both see identical rows. Both run in this one process (imports done once, not
timed), with one BLAS thread (set the environment before numpy loads: this script re-executes
itself with OMP/OPENBLAS/MKL_NUM_THREADS=1) and a wall-clock limit per tool and dataset
(``--timeout``; a tool that runs past it is stopped and charged the CPU time it had used,
marked as a lower bound, so pymfe's total is an underestimate). Times are CPU seconds of
the process (``time.process_time``): the machine is shared, and wall time would mostly
measure the other jobs. ``--repeat-metakb K`` times meta_features K times per dataset and
keeps the median (pymfe, which takes most of the run, is timed once). Prints per-dataset
seconds, the totals and the ratio; ``--markdown FILE`` writes the table into that file's
``## Meta-features (issue 3)`` section.

Usage:
    python benchmarks/meta_features.py [--data DIR] [--limit N] [--repeat-metakb K]
        [--markdown docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
# This file shares its name with the package it measures: import the package, not this file.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(REPO))
SECTION = "## Meta-features (issue 3)"

class _Late(Exception):
    """Raised by the alarm when a tool runs past its limit."""


def _alarm(*_: object) -> None:
    raise _Late()


def _time(tool: str, X: np.ndarray, y: np.ndarray, max_rows: int, limit: int) -> tuple[float, str]:
    """CPU seconds one tool takes on (X, y); past the wall-clock ``limit``, those spent so far.

    CPU time of this process (both tools are single-threaded here), not wall time: the
    machine is shared, and waiting for a core says nothing about either tool.
    """
    from pymfe.mfe import MFE

    import meta_features

    signal.signal(signal.SIGALRM, _alarm)
    start = time.process_time()
    signal.alarm(limit)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if tool == "metakb":
                meta_features.extract(X, y, summary=["mean", "sd"], max_rows=max_rows)
            else:
                mfe = MFE(random_state=0, suppress_warnings=True)
                mfe.fit(X, y, cat_cols=[], transform_cat=None, suppress_warnings=True)
                mfe.extract(suppress_warnings=True)
        return time.process_time() - start, ""
    except _Late:  # the CPU time spent until the limit: a lower bound of the tool's time
        return time.process_time() - start, "timeout (lower bound)"
    except Exception as exc:  # noqa: BLE001 - a peer's failure is reported, not fatal
        return float("nan"), f"error: {type(exc).__name__}"
    finally:
        signal.alarm(0)


def _median_time(tool: str, X: np.ndarray, y: np.ndarray, max_rows: int, limit: int,
                 repeat: int) -> tuple[float, str]:
    """The median CPU seconds of ``repeat`` timings (notes of any run kept, e.g. a timeout)."""
    runs = [_time(tool, X, y, max_rows, limit) for _ in range(repeat)]
    notes = sorted({note for _, note in runs if note})
    return float(np.median([seconds for seconds, _ in runs])), "; ".join(notes)


def _load(path: Path, max_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """The dataset cut to meta_features' own stratified subsample (seed 0) of max_rows rows."""
    from meta_features._data import prepare
    from meta_features._extract import _subsample

    frame = pd.read_csv(path, sep="\t")
    X = frame.drop(columns="target").to_numpy(dtype=float)
    sub, _ = _subsample(prepare(X, frame["target"].to_numpy(), None), max_rows, 0)
    return sub.X, sub.classes[sub.y]


def main(argv: list[str] | None = None) -> int:
    if os.environ.get("OPENBLAS_NUM_THREADS") != "1":  # must be set before numpy loads
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
        args = sys.argv[1:] if argv is None else argv
        os.execve(sys.executable, [sys.executable, __file__, *args], env)
    default_data = os.environ.get("METAKB_SHARED_DATA") or str(REPO.parent / "shared" / "data")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=default_data, help="shared data folder (with pmlb/)")
    parser.add_argument("--limit", type=int, default=None, help="only the N smallest datasets")
    parser.add_argument("--max-rows", type=int, default=10_000)
    parser.add_argument("--timeout", type=int, default=60,
                        help="wall-clock seconds per tool and dataset before it is stopped")
    parser.add_argument("--repeat-metakb", type=int, default=1, metavar="K",
                        help="time meta_features K times per dataset and keep the median")
    parser.add_argument("--start", type=int, default=0,
                        help="skip the N smallest datasets (to split a run over processes)")
    parser.add_argument("--table-from", nargs="+", default=None, metavar="LOG",
                        help="measure nothing: build the table from the printed lines of earlier "
                             "runs (a dataset's first line wins)")
    parser.add_argument("--markdown", default=None, help="write the table into this file")
    args = parser.parse_args(argv)
    if args.repeat_metakb < 1:
        parser.error(f"--repeat-metakb must be an int >= 1; got {args.repeat_metakb}")
    if args.table_from:
        rows = _rows_from_logs([Path(p) for p in args.table_from])
        table, summary = _summarise(rows)
        print(json.dumps(summary, indent=2))
        if args.markdown:
            _write_markdown(Path(args.markdown), table, summary, argv)
        return 0
    pmlb = Path(args.data) / "pmlb"
    index = pd.read_csv(pmlb / "index.csv")
    index = index[index["task"] == "classification"].sort_values(["n_instances", "name"])
    index = index.iloc[args.start:]
    if args.limit:
        index = index.head(args.limit)
    rows = []
    for name in index["name"]:
        path = pmlb / "datasets" / name / f"{name}.tsv.gz"
        X, y = _load(path, args.max_rows)
        ours, note_a = _median_time("metakb", X, y, args.max_rows, args.timeout,
                                    args.repeat_metakb)
        theirs, note_b = _time("pymfe", X, y, args.max_rows, args.timeout)
        rows.append({"dataset": name, "metakb_s": ours, "pymfe_s": theirs,
                     "ratio": theirs / ours if ours > 0 else float("nan"),
                     "note": "; ".join(x for x in (note_a and f"metakb {note_a}",
                                                   note_b and f"pymfe {note_b}") if x)})
        print(f"{name:55s} {ours:8.3f} {theirs:8.3f} {rows[-1]['ratio']:7.1f} {rows[-1]['note']}",
              flush=True)
        if args.markdown:  # after every dataset, so that an interrupted run leaves its table
            _write_markdown(Path(args.markdown), *_summarise(rows), argv)
    table, summary = _summarise(rows)
    print(json.dumps(summary, indent=2))
    return 0


def _rows_from_logs(paths: list[Path]) -> list[dict]:
    """Rows from the lines this script prints (``name metakb_s pymfe_s ratio [note]``)."""
    rows: dict[str, dict] = {}
    for path in paths:
        for line in path.read_text().splitlines():
            parts = line.split(None, 4)
            if len(parts) < 4 or parts[0] in rows:
                continue
            try:
                ours, theirs = float(parts[1]), float(parts[2])
            except ValueError:
                continue
            rows[parts[0]] = {"dataset": parts[0], "metakb_s": ours, "pymfe_s": theirs,
                              "ratio": theirs / ours if ours > 0 else float("nan"),
                              "note": parts[4].strip() if len(parts) > 4 else ""}
    return list(rows.values())


def _summarise(rows: list[dict]) -> tuple[pd.DataFrame, dict]:
    table = pd.DataFrame(rows)
    ok = table.dropna(subset=["metakb_s", "pymfe_s"])
    total_a, total_b = ok["metakb_s"].sum(), ok["pymfe_s"].sum()
    summary = {
        "datasets": len(table), "compared": len(ok), "metakb_total_s": total_a,
        "pymfe_total_s": total_b, "ratio_total": total_b / total_a,
        "ratio_median": statistics.median(ok["ratio"]), "metakb_max_s": ok["metakb_s"].max(),
        "metakb_slowest": str(ok.loc[ok["metakb_s"].idxmax(), "dataset"]) if len(ok) else "",
        "metakb_over_5s": int((ok["metakb_s"] > 5).sum()),
        "pymfe_timeouts": int(table["note"].str.contains("pymfe timeout").sum()),
    }
    return table, summary


def _write_markdown(path: Path, table: pd.DataFrame, summary: dict, argv: list[str] | None) -> None:
    args = argv if argv is not None else sys.argv[1:]
    command = "python benchmarks/meta_features.py " + " ".join(args)
    repeat = args[args.index("--repeat-metakb") + 1] if "--repeat-metakb" in args else "1"
    lines = [
        SECTION, "",
        f"Command: `{command.strip()}`; date: {dt.date.today().isoformat()}; machine: "
        f"{os.cpu_count()} shared cores (load average {os.getloadavg()[1]:.1f} over the last 5 "
        "minutes when the table was written), CPU seconds of the process "
        "(`time.process_time`), one BLAS thread per tool, both tools in one process (imports "
        "not timed), a wall-clock limit per tool, a tool past it charged the CPU time used so far (a lower bound), identical rows (stratified subsample of at most "
        f"`--max-rows`). All five groups; pymfe 0.4.4 default groups. metakb: median of {repeat} "
        "timing(s) per dataset; pymfe: one.", "",
        f"- datasets: {summary['datasets']} (compared: {summary['compared']})",
        f"- total CPU seconds: metakb {summary['metakb_total_s']:.1f}, pymfe "
        f"{summary['pymfe_total_s']:.1f}; **ratio {summary['ratio_total']:.1f}x** "
        f"(median per dataset {summary['ratio_median']:.1f}x)",
        f"- slowest metakb dataset: {summary['metakb_max_s']:.2f} s "
        f"({summary['metakb_slowest']}); over 5 s: "
        f"{summary['metakb_over_5s']}; pymfe runs stopped at the wall-clock limit (their CPU "
        "time so far counted, a lower bound): "
        f"{summary['pymfe_timeouts']}", "",
        "| dataset | metakb CPU s | pymfe CPU s | ratio | note |", "|---|---:|---:|---:|---|",
    ]
    for r in table.itertuples():
        lines.append(f"| {r.dataset} | {r.metakb_s:.3f} | {r.pymfe_s:.3f} | {r.ratio:.1f} | {r.note} |")
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    start = text.find(SECTION)
    if start >= 0:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + "\n".join(lines) + "\n" + (text[end + 1:] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n"
    path.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
