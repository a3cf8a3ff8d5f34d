"""Features for prediction: the training columns, coerced the way the training table was."""

from __future__ import annotations

import numpy as np
import pandas as pd

from metakb.data import coerce_column, read_frame
from metakb.errors import DataError

__all__ = ["coerce_features", "read_frame"]  # read_frame: re-exported for metakb predict


def coerce_features(frame: pd.DataFrame, columns: list[str], categorical: np.ndarray, *,
                    target: str | None = None) -> pd.DataFrame:
    """``frame``'s training columns in training order, numeric as float, categorical as text.

    The target column, when present, is dropped; any other column the model was not trained on,
    or a training column that is missing, is refused with one line (a silently reordered or
    dropped column would give wrong predictions without an error).

    Raises:
        DataError: a missing or extra column, or text in a column that was numeric in training.
    """
    names = [str(c) for c in frame.columns]
    given = [c for c in names if c != target]
    missing = [c for c in columns if c not in given]
    if missing:
        raise DataError(f"the data lacks training column(s) {missing[:10]}" + (" ..." if len(missing) > 10 else ""))
    extra = [c for c in given if c not in set(columns)]
    if extra:
        raise DataError(f"the data has column(s) {extra[:10]} the model was not trained on"
                        + (" ..." if len(extra) > 10 else "") + "; remove them")
    if len(set(names)) != len(names):
        raise DataError("the data has duplicate column names")
    frame = frame.copy()
    frame.columns = names
    out = {}
    for column, is_categorical in zip(columns, categorical, strict=True):
        values, as_text = coerce_column(frame[column].reset_index(drop=True), column, bool(is_categorical))
        if as_text and not is_categorical:
            raise DataError(f"column {column!r} was numeric in training but holds text such as "
                            f"{values.dropna().iloc[0]!r}")
        out[column] = values
    return pd.DataFrame(out, columns=columns)
