"""Plain-text tables of a warm-start evaluation (for ``metakb evaluate warmstart`` and the
benchmark script); the numbers come from :class:`~metakb.warmstart.evaluate.WarmStartEvaluation`."""

from __future__ import annotations

import pandas as pd

from metakb.warmstart.evaluate import WarmStartEvaluation

__all__ = ["regret_table", "comparison_table", "gap_table", "format_evaluation"]


def regret_table(evaluation: WarmStartEvaluation) -> pd.DataFrame:
    """Rows: methods and baselines; columns: k; cells: ``mean ± ci95`` normalised regret."""
    summary = evaluation.summary()
    summary["cell"] = [f"{m:.3f} ± {c:.3f}" for m, c in zip(summary["mean"], summary["ci95"], strict=True)]
    table = summary.pivot(index="method", columns="k", values="cell")
    order = list(dict.fromkeys(summary["method"]))
    table = table.reindex(order)
    table.columns = [f"k={k}" for k in table.columns]
    return table


def comparison_table(evaluation: WarmStartEvaluation) -> pd.DataFrame:
    """Paired Wilcoxon tests, one row per (method, other, k)."""
    frame = evaluation.comparisons()
    if frame.empty:
        return frame
    frame["wins/ties/losses"] = [f"{w}/{t}/{lo}" for w, t, lo in zip(frame["wins"], frame["ties"], frame["losses"], strict=True)]
    return frame[["method", "against", "k", "n", "mean_diff", "p_value", "wins/ties/losses"]]


def gap_table(evaluation: WarmStartEvaluation) -> pd.DataFrame:
    """Fraction of the SBS-VBS gap closed at k = 1 (means over held-out datasets)."""
    return evaluation.gap_closed()


def format_evaluation(evaluation: WarmStartEvaluation) -> str:
    """The three tables as text, with a header line of the settings."""
    s = evaluation.settings
    lines = [f"space {s.get('space')}  metric {s.get('metric')}  datasets {s['n_datasets']}  "
             f"configurations {s['n_configurations']}  folds {s['folds']} ({s['n_folds']})",
             *([f"left out: {len(s['left_out_datasets'])} dataset(s) with fewer than "
                f"{s['min_row_coverage']:.0%} of the configurations scored: "
                f"{', '.join(s['left_out_datasets'][:10])}"
                f"{' ...' if len(s['left_out_datasets']) > 10 else ''}"]
               if s.get("left_out_datasets") else []),
             "", "mean normalised regret of the best of k recommended (± 95% CI; 0 = best in the matrix)",
             regret_table(evaluation).to_string(), "",
             "paired Wilcoxon signed-rank tests (two-sided; mean_diff < 0: method better)",
             comparison_table(evaluation).to_string(index=False, float_format=lambda v: f"{v:.4g}"), "",
             "fraction of the SBS-VBS gap closed by the k=1 choice",
             gap_table(evaluation).to_string(index=False, float_format=lambda v: f"{v:.4g}")]
    return "\n".join(lines)
