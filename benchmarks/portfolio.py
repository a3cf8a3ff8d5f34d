"""Leave-one-dataset-out evaluation of greedy portfolios against three baselines.

For every dataset of a performance matrix: build each portfolio (greedy, top-N by average
rank, random-N, the simple per-dataset-best portfolio) on the other datasets, and measure on
the held-out dataset the normalised regret of the portfolio's best member,
``(best - score) / (best - worst)`` over that dataset's row of the matrix (0 = the best
configuration of the matrix on that dataset, 1 = the worst), for N = 1..32. Every builder is
anytime, so the prefixes of one size-32 portfolio give every N.

Reported: mean regret per method and N (table and curve), paired one-sided Wilcoxon
signed-rank p-values of greedy against each baseline at N = 8 and N = 32, and the fraction
of the gap between a default configuration and the per-dataset oracle that greedy closes at
N = 32, ``1 - regret(greedy, 32) / regret(default)``, for every model default (configurations
labelled ``default:*``) and for the best single default (chosen on the training datasets of
each fold).

Sources:
    --db PATH       a metakb knowledge base (default db/metakb-default.sqlite), read from a
                    copy in a temporary folder (the file may be being written);
    --aslib DIR     an ASlib scenario (algorithm_runs.arff; PAR10 for failed runs), a real
                    performance matrix where the "default" is the single best solver of the
                    training instances;
    --lcbench       the YAHPO LCBench surrogate (34 OpenML tasks): a matrix without measurement
                    noise (the surrogate is deterministic) of ``--lcbench-configs`` configurations
                    drawn from its space with ``--lcbench-seed`` plus its default, scored by
                    validation balanced accuracy at the last epoch (52).

Usage:
    nice -n 15 .venv/bin/python benchmarks/portfolio.py --db db/metakb-default.sqlite \
        --png docs/img/portfolio_curve.png --json /tmp/portfolio.json
    nice -n 15 .venv/bin/python benchmarks/portfolio.py --aslib ../shared/data/aslib/SAT11-HAND
    nice -n 15 .venv/bin/python benchmarks/portfolio.py --lcbench --lcbench-configs 128
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import wilcoxon

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from metakb.warmstart.evaluate import candidates_found_only_on  # noqa: E402
from portfolios import (  # noqa: E402
    greedy_portfolio,
    per_dataset_best_portfolio,
    random_portfolio,
    to_loss_matrix,
    top_average_rank_portfolio,
)

METHODS = ("greedy", "top-average-rank", "random", "per-dataset-best")


def load_kb_matrix(db: Path, space: str, metric: str
                   ) -> tuple[pd.DataFrame, dict[int, str], dict[str, set[str]], dict[int, set[str]]]:
    """The KB's performance matrix (read from a temporary copy), its default labels, every
    dataset's stored near-duplicates (left out of the training side when it is held out) and
    the tuned candidates' origins (hidden from the dataset whose search found them)."""
    from metakb.store import KnowledgeBase, snapshot_kb
    from metakb.workflows.candidates import candidate_origins
    from metakb.workflows.duplicates import near_duplicate_map

    with tempfile.TemporaryDirectory() as tmp, KnowledgeBase(snapshot_kb(db, Path(tmp) / db.name)) as kb:
        matrix = kb.performance_matrix(space, metric=metric)
        configs = kb.configurations(space)
        duplicates = near_duplicate_map(kb)
        origins = candidate_origins(kb, space)
    labels = {int(i): str(label) for i, label in configs["label"].items()
              if isinstance(label, str) and label.startswith("default:")}
    return matrix, labels, duplicates, origins


def load_aslib_matrix(folder: Path) -> pd.DataFrame:
    """Instances × algorithms PAR10 runtimes of an ASlib scenario (lower is better)."""
    import arff

    with open(folder / "algorithm_runs.arff", encoding="utf-8") as fh:
        data = arff.load(fh)
    frame = pd.DataFrame(data["data"], columns=[a[0] for a in data["attributes"]])
    cutoff = _aslib_cutoff(folder / "description.txt")
    measure = [c for c in frame.columns if c not in ("instance_id", "repetition", "algorithm",
                                                    "runstatus")][0]
    frame["score"] = np.where(frame["runstatus"] == "ok", frame[measure].astype(float), 10 * cutoff)
    matrix = frame.pivot_table(index="instance_id", columns="algorithm", values="score", aggfunc="mean")
    informative = matrix.max(axis=1) > matrix.min(axis=1)  # every solver equal: no signal
    matrix = matrix[informative]
    matrix.attrs.update(metric="par10", higher_is_better=False)
    return matrix


def load_lcbench_matrix(data_dir: Path | None, n_configs: int, seed: int,
                        metric: str = "val_balanced_accuracy") -> tuple[pd.DataFrame, dict[int, str]]:
    """Tasks × configurations of the LCBench surrogate at epoch 52 and the default's label.

    Column 0 is the space's default configuration (``default:lcbench``), columns 1..n the
    configurations drawn from the space with ``seed``. The surrogate returns the same value
    for the same query, so the matrix has no evaluation noise: the comparison of portfolio
    methods on it is free of the winner's curse of a noisy matrix.
    """
    from metakb.surrogates import LCBench

    bench = LCBench(data_dir)
    space = bench.configspace(seed=seed)
    configs = [dict(space.get_default_configuration())]
    configs += [dict(c) for c in space.sample_configuration(n_configs)]
    rows = {task: bench.evaluate(configs, task, 52, output=metric) for task in bench.task_ids}
    matrix = pd.DataFrame.from_dict(rows, orient="index", columns=range(len(configs)))
    matrix.attrs.update(metric=metric, higher_is_better=True)
    return matrix, {0: "default:lcbench"}


def _aslib_cutoff(description: Path) -> float:
    for line in description.read_text(encoding="utf-8").splitlines():
        if line.startswith("algorithm_cutoff_time"):
            return float(line.split(":", 1)[1])
    raise ValueError(f"no algorithm_cutoff_time in {description}")


def build(method: str, train: pd.DataFrame, size: int, seed: int) -> list[int]:
    """Column positions (in ``train``) of a method's portfolio, in order."""
    common = dict(missing="worst", normalize=True)
    if method == "greedy":
        p = greedy_portfolio(train, size, **common)
    elif method == "top-average-rank":
        p = top_average_rank_portfolio(train, size, **common)
    elif method == "per-dataset-best":
        p = per_dataset_best_portfolio(train, size, **common)
    else:
        p = random_portfolio(train, size, seed=seed, **common)
    position = {c: i for i, c in enumerate(train.columns)}
    return [position[c] for c in p.members]


def lodo(matrix: pd.DataFrame, max_size: int, repeats: int, defaults: dict[int, str],
         duplicates: dict[str, set[str]] | None = None, found_on: dict[int, set[str]] | None = None,
         reference: list | None = None) -> dict:
    """Held-out regrets: ``{method: array (n_datasets, max_size)}`` and default regrets.

    The training side of a held-out dataset leaves out the dataset and its near-duplicates
    (``duplicates``: name -> names, as stored by ``metakb kb dedupe``): a copy of the test
    data among the training datasets would make every method look better than it is.
    ``reference`` (columns) scales the held-out regrets by the best and worst of those columns
    instead of the whole row (see :func:`reference_loss`); the training side's choices (the
    best default, the single best) are made on the whole-row losses either way."""
    loss = to_loss_matrix(matrix, missing="worst", normalize=True).loss  # row-wise: held-out safe
    measured = loss if reference is None else reference_loss(matrix, reference)
    n = len(matrix)
    size = min(max_size, matrix.shape[1])
    regrets = {m: np.zeros((n, size)) for m in METHODS}
    column = {c: i for i, c in enumerate(matrix.columns)}
    default_cols = {label: column[c] for c, label in defaults.items() if c in column}
    default_regret = {label: np.zeros(n) for label in default_cols}
    best_default = np.zeros(n)
    sbs = np.zeros(n)
    for h in range(n):
        copies = (duplicates or {}).get(str(matrix.index[h]), set())
        out = [h, *(i for i, name in enumerate(matrix.index) if name in copies)]
        held = {str(matrix.index[i]) for i in out}
        own = set(candidates_found_only_on(found_on or {}, held))
        hidden = [c for c in matrix.columns if int(c) in own]
        train = matrix.drop(index=matrix.index[out], columns=hidden)
        train_loss = np.delete(loss, out, axis=0)
        for method in METHODS:
            seeds = range(repeats) if method == "random" else [0]
            curves = [_padded(np.minimum.accumulate(measured[h, [column[train.columns[i]]
                                                              for i in build(method, train, size, s)]]), size)
                      for s in seeds]
            regrets[method][h] = np.mean(curves, axis=0)
        for label, col in default_cols.items():
            default_regret[label][h] = measured[h, col]
        if default_cols:  # the default of lowest mean loss on the training datasets
            chosen = min(default_cols.values(), key=lambda c: (train_loss[:, c].mean(), c))
            best_default[h] = measured[h, chosen]
        offered = np.array([c not in hidden for c in matrix.columns])
        sbs[h] = measured[h, int(np.argmin(np.where(offered, train_loss.mean(axis=0), np.inf)))]
    return {"regrets": regrets, "defaults": default_regret, "best_default": best_default,
            "single_best": sbs, "size": size}


def reference_loss(matrix: pd.DataFrame, reference: list) -> np.ndarray:
    """Losses scaled per row by the best (0) and worst (1) of the ``reference`` columns.

    A knowledge base grown by tuned candidates is measured with the yardstick of the matrix it
    grew from (``reference`` = its old columns): a configuration better than every old one gets
    a negative loss, so a portfolio that now beats the old oracle shows it (gap closed above
    100%). A missing cell counts as the row's worst, as in ``to_loss_matrix``."""
    raw = to_loss_matrix(matrix, missing="worst", normalize=False).loss
    ref = raw[:, [i for i, c in enumerate(matrix.columns) if c in set(reference)]]
    best, worst = ref.min(axis=1, keepdims=True), ref.max(axis=1, keepdims=True)
    span = np.where(worst > best, worst - best, 1.0)
    return np.where(worst > best, (raw - best) / span, 0.0)


def _padded(curve: np.ndarray, size: int) -> np.ndarray:
    """A regret curve of a portfolio shorter than ``size`` (fewer configurations offered),
    held at its last value."""
    return curve if len(curve) >= size else np.concatenate([curve, np.full(size - len(curve), curve[-1])])


def paired_p(greedy: np.ndarray, other: np.ndarray) -> float:
    """One-sided Wilcoxon signed-rank p-value of 'greedy regret < other regret'."""
    if np.allclose(greedy, other):
        return 1.0
    return float(wilcoxon(greedy, other, alternative="less", zero_method="wilcox").pvalue)


def summarise(result: dict, checkpoints: tuple[int, ...]) -> dict:
    regrets, size = result["regrets"], result["size"]
    mean = {m: regrets[m].mean(axis=0).tolist() for m in METHODS}
    tests, records = {}, {}
    for n in checkpoints:
        if n <= size:
            g = regrets["greedy"][:, n - 1]
            tests[n] = {m: paired_p(g, regrets[m][:, n - 1]) for m in METHODS if m != "greedy"}
            records[n] = {m: [int((g < regrets[m][:, n - 1] - 1e-12).sum()),
                              int((np.abs(g - regrets[m][:, n - 1]) <= 1e-12).sum()),
                              int((g > regrets[m][:, n - 1] + 1e-12).sum())]
                          for m in METHODS if m != "greedy"}
    final = regrets["greedy"][:, size - 1].mean()
    gap = {label: _closed(final, r.mean()) for label, r in result["defaults"].items()}
    references = {"single best on training datasets": _closed(final, result["single_best"].mean())}
    if result["defaults"]:
        references["best single default (chosen on training datasets)"] = _closed(
            final, result["best_default"].mean())
    reference = result["best_default"] if result["defaults"] else result["single_best"]
    by_size = {n: {m: _closed(regrets[m][:, n - 1].mean(), reference.mean()) for m in METHODS}
               for n in sorted({*checkpoints, size}) if n <= size}
    return {"mean_regret": mean, "wilcoxon_p": tests, "wins_ties_losses": records,
            "gap_closed_per_default": gap,
            "gap_closed": references, "gap_closed_by_size": by_size, "default_regret": {k: float(v.mean()) for k, v in result["defaults"].items()},
            "best_default_regret": float(result["best_default"].mean()),
            "single_best_regret": float(result["single_best"].mean()), "size": size}


def _closed(final: float, reference: float) -> float | None:
    return None if reference <= 0 else float(1.0 - final / reference)


def markdown(summary: dict, checkpoints: tuple[int, ...]) -> str:
    size = summary["size"]
    rows = ["| N | " + " | ".join(METHODS) + " |", "|---|" + "---|" * len(METHODS)]
    for n in sorted({1, 2, 4, *checkpoints, size} & set(range(1, size + 1))):
        cells = [f"{summary['mean_regret'][m][n - 1]:.4f}" for m in METHODS]
        rows.append(f"| {n} | " + " | ".join(cells) + " |")
    scale = ("the reference configurations'" if summary.get("reference") else "the matrix's")
    lines = [f"Mean normalised regret on the held-out dataset (0 = {scale} best configuration on it, "
             "1 = its worst):", "", *rows, "",
             "Paired one-sided Wilcoxon signed-rank p-values (greedy regret < baseline regret):", "",
             "| N | " + " | ".join(m for m in METHODS if m != "greedy") + " |",
             "|---|" + "---|" * (len(METHODS) - 1)]
    for n, ps in summary["wilcoxon_p"].items():
        wtl = summary["wins_ties_losses"][n]
        lines.append(f"| {n} | " + " | ".join(f"{ps[m]:.2g} ({'/'.join(map(str, wtl[m]))})"
                                              for m in METHODS if m != "greedy") + " |")
    lines += ["", "(in brackets: held-out datasets where greedy is better / tied / worse)"]
    lines += ["", f"Gap between a default and the per-dataset oracle closed by greedy at N = {size}:", "",
              "| reference | its mean regret | gap closed |", "|---|---|---|"]
    refs = [("single best on training datasets", summary["single_best_regret"])]
    if summary["default_regret"]:
        refs.append(("best single default (chosen on training datasets)", summary["best_default_regret"]))
    for label, value in refs:
        closed = summary["gap_closed"][label]
        lines.append(f"| {label} | {value:.4f} | {'n/a' if closed is None else f'{closed:.1%}'} |")
    for label, value in sorted(summary["default_regret"].items()):
        closed = summary["gap_closed_per_default"][label]
        lines.append(f"| {label} | {value:.4f} | {'n/a' if closed is None else f'{closed:.1%}'} |")
    reference = refs[-1][0]
    lines += ["", f"Gap closed by each method, relative to the {reference}:", "",
              "| N | " + " | ".join(METHODS) + " |", "|---|" + "---|" * len(METHODS)]
    for n, closed in summary["gap_closed_by_size"].items():
        lines.append(f"| {n} | " + " | ".join("n/a" if closed[m] is None else f"{closed[m]:.1%}"
                                              for m in METHODS) + " |")
    return "\n".join(lines)


def plot(summary: dict, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = np.arange(1, summary["size"] + 1)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for method in METHODS:
        ax.plot(sizes, summary["mean_regret"][method], marker="o", markersize=3, label=method)
    if summary["default_regret"]:
        ax.axhline(summary["best_default_regret"], color="grey", linestyle="--",
                   label="best single default")
    else:
        ax.axhline(summary["single_best_regret"], color="grey", linestyle="--",
                   label="single best (training)")
    ax.set_xlabel("portfolio size N")
    ax.set_ylabel("mean normalised regret (held-out dataset)")
    ax.set_yscale("symlog", linthresh=0.01)
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--db", type=Path, default=REPO / "db" / "metakb-default.sqlite")
    source.add_argument("--aslib", type=Path, default=None, help="an ASlib scenario folder")
    source.add_argument("--lcbench", nargs="?", type=Path, const=Path(), default=None,
                        help="the LCBench surrogate (optionally its folder; default: the shared data)")
    parser.add_argument("--lcbench-configs", type=int, default=128)
    parser.add_argument("--lcbench-seed", type=int, default=0)
    parser.add_argument("--space", default="sklearn-cash")
    parser.add_argument("--metric", default="balanced_accuracy")
    parser.add_argument("--max-size", type=int, default=32)
    parser.add_argument("--random-repeats", type=int, default=10)
    parser.add_argument("--min-coverage", type=float, default=0.0,
                        help="drop configurations evaluated on fewer than this fraction of datasets")
    parser.add_argument("--checkpoints", type=int, nargs="+", default=[8, 32],
                        help="sizes N of the paired Wilcoxon tests (default 8 32)")
    parser.add_argument("--regret-reference", choices=("all", "untuned"), default="all",
                        help="scale held-out regrets by the whole row (all) or by the configurations that are "
                             "not tuned candidates (untuned: the old oracle of a knowledge base grown by "
                             "`build --candidates bohb`; regrets below 0 beat it)")
    parser.add_argument("--png", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    start = time.time()
    duplicates: dict[str, set[str]] = {}
    origins: dict[int, set[str]] = {}
    if args.aslib is not None:
        matrix, defaults, title = load_aslib_matrix(args.aslib), {}, f"ASlib {args.aslib.name}"
    elif args.lcbench is not None:
        folder = None if args.lcbench == Path() else args.lcbench
        matrix, defaults = load_lcbench_matrix(folder, args.lcbench_configs, args.lcbench_seed)
        title = f"LCBench surrogate: {args.lcbench_configs} configurations + default, seed {args.lcbench_seed}"
    else:
        matrix, defaults, duplicates, origins = load_kb_matrix(args.db, args.space, args.metric)
        title = f"{args.db.name}: {args.space}, {args.metric}"
    if args.min_coverage > 0:
        keep = matrix.notna().mean(axis=0) >= args.min_coverage
        matrix = matrix.loc[:, keep]
    coverage = float(matrix.notna().to_numpy().mean())
    print(f"matrix: {matrix.shape[0]} datasets x {matrix.shape[1]} configurations, "
          f"{coverage:.1%} cells present, defaults: {sorted(defaults.values())}")
    pairs = sorted({tuple(sorted((a, b))) for a, others in duplicates.items() for b in others
                    if a in matrix.index and b in matrix.index})
    if pairs:
        print(f"near-duplicates left out of each other's training side: {pairs}")
    checkpoints = tuple(args.checkpoints)
    reference = None
    if args.regret_reference == "untuned":
        reference = [c for c in matrix.columns if int(c) not in origins]
        print(f"regrets scaled by the {len(reference)} configurations that are not tuned candidates "
              f"(the old oracle); {matrix.shape[1] - len(reference)} tuned candidates")
    result = lodo(matrix, args.max_size, args.random_repeats, defaults, duplicates, origins, reference)
    summary = summarise(result, checkpoints)
    summary["reference"] = reference is not None
    print(markdown(summary, checkpoints))
    print(f"\n({time.time() - start:.1f} s)")
    if args.png:
        plot(summary, args.png, title)
    if args.json:
        args.json.write_text(json.dumps({"source": title, "shape": list(matrix.shape),
                                         "regret_reference": args.regret_reference,
                                         "coverage": coverage, **summary}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
