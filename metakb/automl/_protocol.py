"""How the search selects configurations, chosen from the size of the training table."""

from __future__ import annotations

__all__ = ["selection_protocol", "CV_ROWS", "HOLDOUT_ROWS"]

# Up to CV_ROWS rows: 5-fold CV on every row; up to HOLDOUT_ROWS: 3-fold CV on at most CV_ROWS
# rows; beyond: one 20 % holdout of at most HOLDOUT_ROWS rows.
CV_ROWS = 5000
HOLDOUT_ROWS = 20000


def selection_protocol(n_rows: int, min_class_count: int | None = None) -> str:
    """The evaluation protocol of a search on a table of ``n_rows`` rows.

    A single 33 % holdout over-fits small tables: its few test rows (about 34 on a 100-row table,
    a handful of them from a rare class) make a lucky configuration look best, and the refitted
    model then disappoints on new data. Cross-validation averages over every row and is cheap
    where rows are few; a holdout is used only where its test part alone is large. FLAML switches
    the same way (CV below a data-size threshold, holdout above).

    The rule (fixed before any held-out run):

    * ``n_rows <= 5000``: ``cv:5`` (every row is a test row once);
    * ``5000 < n_rows <= 20000``: ``cv:3:max_rows=5000`` (a stratified 5000-row subsample);
    * ``n_rows > 20000``: ``holdout:0.2:max_rows=20000`` (4000 test rows).

    When the rarest class has fewer rows than folds the split is not stratified (the protocol
    falls back to plain k-fold); ``min_class_count`` below 5 on a table of at most 5000 rows
    lowers the folds to 3 (or 2) so that the rare class still appears in most test folds.

    A regression (:class:`~metakb.automl.AutoMLRegressor`) has no classes: it passes no
    ``min_class_count`` and gets the same three row thresholds; its splits and subsamples are
    plain shuffled, seeded ``KFold`` / random ones (:func:`metakb.evaluation.split_indices`
    tells a float target from class labels).
    """
    if n_rows <= CV_ROWS:
        folds = 5
        if min_class_count is not None and min_class_count < 5:
            folds = max(2, min(3, min_class_count))
        return f"cv:{folds}"
    if n_rows <= HOLDOUT_ROWS:
        return f"cv:3:max_rows={CV_ROWS}"
    return f"holdout:0.2:max_rows={HOLDOUT_ROWS}"
