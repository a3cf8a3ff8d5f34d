"""Turning user input (arrays or data frames) into one validated numeric representation.

Every group works on :class:`Prepared`: a float matrix with NaN for missing values in which
categorical columns hold integer codes 0..k-1, a boolean mask of the categorical columns, and
the class labels coded 0..c-1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from metakb.errors import DataError

__all__ = ["Prepared", "prepare"]


@dataclass(frozen=True)
class Prepared:
    """A dataset ready for extraction.

    Attributes:
        X: ``(n, d)`` float array; NaN marks a missing value; categorical columns hold codes.
        y: ``(n,)`` int array of class codes ``0..c-1`` (in sorted order of the labels).
        categorical: ``(d,)`` bool mask of the categorical columns.
        classes: The original class labels, ``classes[y]`` gives them back.
        target: For a regression, the ``(n,)`` float target (then ``y`` is all zeros and
            ``classes`` is empty: no class-based feature is computed); None for a classification.
    """

    X: np.ndarray
    y: np.ndarray
    categorical: np.ndarray
    classes: np.ndarray
    target: np.ndarray | None = None

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    @property
    def d(self) -> int:
        return int(self.X.shape[1])


def prepare(X: Any, y: Any, categorical: Sequence[bool] | Sequence[int] | np.ndarray | None,
            task: str = "classification") -> Prepared:
    """Validate ``X`` and ``y`` and code them (see :class:`Prepared`).

    Args:
        X: ``(n, d)`` numeric array (NaN for missing, categorical columns integer-coded) or a
            pandas DataFrame (``category``, ``object``, ``string`` and ``bool`` columns are
            categorical and get coded here).
        y: ``n`` class labels of any hashable type; none may be missing.
        categorical: A boolean mask or a list of column indices of the categorical columns;
            ``None`` infers them from a DataFrame's dtypes and means "none" for an array. When
            given for a DataFrame it overrides the dtypes.
        task: ``classification`` (``y`` are labels) or ``regression`` (``y`` must be finite
            numbers with at least two distinct values).

    Raises:
        DataError: On empty data, mismatched lengths, non-numeric array values, infinite
            values or missing labels.
    """
    if isinstance(X, pd.DataFrame):
        matrix, inferred = _from_frame(X)
    else:
        matrix, inferred = _from_array(X), np.zeros(np.shape(X)[1] if np.ndim(X) == 2 else 0, bool)
    n, d = matrix.shape
    if n == 0 or d == 0:
        raise DataError(f"X must have at least one row and one column; got shape {matrix.shape}")
    if np.isinf(matrix).any():
        raise DataError("X must not contain infinite values; got +/-inf (use NaN for missing)")
    mask = inferred if categorical is None else _mask(categorical, d)
    if categorical is not None and not isinstance(X, pd.DataFrame):
        matrix = _recode_categorical(matrix, mask)
    elif categorical is not None:
        matrix = _recode_categorical(matrix, mask & ~inferred)
    if task == "regression":
        target = _regression_target(y, n)
        return Prepared(X=matrix, y=np.zeros(n, dtype=np.intp), categorical=mask,
                        classes=np.empty(0), target=target)
    codes, classes = _code_labels(y, n)
    return Prepared(X=matrix, y=codes, categorical=mask, classes=classes)


def _regression_target(y: Any, n: int) -> np.ndarray:
    """``y`` as finite, non-constant floats, one per row; else one DataError line."""
    values = np.asarray(y.to_numpy() if isinstance(y, pd.Series) else y).ravel()
    if len(values) != n:
        raise DataError(f"y must have one value per row of X ({n}); got {len(values)}")
    try:
        target = values.astype(float)
    except (TypeError, ValueError) as exc:
        raise DataError("y must be numeric for a regression (task='regression'); got non-numeric values") from exc
    if np.isnan(target).any():
        raise DataError(f"y must not have missing values; got {int(np.isnan(target).sum())} missing")
    if np.isinf(target).any():
        raise DataError("y must not contain infinite values for a regression; got +/-inf")
    if np.ptp(target) == 0:
        raise DataError("y is constant; a regression target needs at least two distinct values")
    return target


def _from_array(X: Any) -> np.ndarray:
    array = np.asarray(X)
    if array.ndim != 2:
        raise DataError(f"X must be 2-dimensional (n_samples, n_features); got {array.ndim} dimensions")
    try:
        return np.array(array, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError("X must be numeric (code categorical columns as integers, or pass a "
                        "DataFrame with category columns)") from exc


def _from_frame(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    columns, mask = [], []
    for name in frame.columns:
        col = frame[name]
        is_cat = (isinstance(col.dtype, pd.CategoricalDtype) or col.dtype == object
                  or pd.api.types.is_string_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype))
        if is_cat:
            codes = pd.Categorical(col).codes.astype(float)
            codes[codes < 0] = np.nan
            columns.append(codes)
        else:
            try:
                columns.append(pd.to_numeric(col).to_numpy(dtype=float, na_value=np.nan))
            except (TypeError, ValueError) as exc:
                raise DataError(f"column {name!r} of X is neither numeric nor categorical") from exc
        mask.append(is_cat)
    matrix = np.column_stack(columns) if columns else np.empty((len(frame), 0))
    return matrix, np.asarray(mask, dtype=bool)


def _mask(categorical: Any, d: int) -> np.ndarray:
    values = np.asarray(categorical)
    if values.dtype == bool:
        if values.shape != (d,):
            raise DataError(f"categorical mask must have one entry per column ({d}); got {values.shape[0]}")
        return values.copy()
    if values.size == 0:
        return np.zeros(d, dtype=bool)
    if not np.issubdtype(values.dtype, np.integer) or values.min() < -d or values.max() >= d:
        raise DataError(f"categorical must be a bool mask or column indices in [0, {d}); got {categorical!r}")
    mask = np.zeros(d, dtype=bool)
    mask[values] = True
    return mask


def _recode_categorical(matrix: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Map each categorical column's distinct values to codes 0..k-1 (NaN stays NaN)."""
    out = matrix.copy()
    for j in np.flatnonzero(mask):
        col = out[:, j]
        ok = ~np.isnan(col)
        _, inverse = np.unique(col[ok], return_inverse=True)
        col[ok] = inverse
    return out


def _code_labels(y: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    labels = pd.Series(np.asarray(y).ravel() if not isinstance(y, pd.Series) else y.to_numpy())
    if len(labels) != n:
        raise DataError(f"y must have one label per row of X ({n}); got {len(labels)}")
    missing = int(labels.isna().sum())
    if missing:
        raise DataError(f"y must not have missing labels; got {missing} missing")
    try:
        classes, codes = np.unique(labels.to_numpy(), return_inverse=True)
    except TypeError:  # mixed label types: compare as strings
        classes, codes = np.unique(labels.astype(str).to_numpy(), return_inverse=True)
    return codes.astype(np.intp), classes
