"""Meta-feature preparation shared by the warm starters: select, impute, transform, scale.

Meta-features come from different extractors and differ by orders of magnitude (number of rows
next to a class entropy), and some are undefined for some datasets (NaN). Distances are only
meaningful after every column is on a common scale, so the warm starters:

1. keep the requested feature subset (all columns by default);
2. drop columns with no finite value, or a single value, among the training datasets (they
   carry no distance information);
3. optionally apply a signed ``log1p`` (tames heavy tails such as the number of rows);
4. impute every NaN with the training median of its column (the query too);
5. scale with statistics of the training datasets only: ``minmax`` to [0, 1] (auto-sklearn
   1.0), ``standard`` (zero mean, unit variance) or ``none``;
6. clip a query to the training range of every column (``clip=True``): a new dataset beyond the
   knowledge base's range (ten times more rows than any known one, say) is placed at the edge
   instead of far outside it. For L1 distances this changes no neighbour order (it shifts the
   distances to all known datasets by the same amount); a learned network never has to
   extrapolate to inputs of 10^6 where it saw [0, 1].

The fitted state is plain numbers, so it is stored as JSON with a Siamese model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from metakb.errors import ConfigError, DataError

__all__ = ["MetaFeaturePreprocessor", "SCALERS"]

SCALERS = ("minmax", "standard", "none")


class MetaFeaturePreprocessor:
    """Turn meta-feature frames into a dense, scaled matrix with the statistics of ``fit``.

    Args:
        features: meta-feature names to use (None: every column of the training frame).
        scaler: ``minmax``, ``standard`` or ``none``.
        log_transform: apply ``sign(x) * log1p(|x|)`` before imputing and scaling.
        clip: clip transformed values to the range seen in ``fit``.
    """

    def __init__(self, features: Sequence[str] | None = None, scaler: str = "minmax",
                 log_transform: bool = False, clip: bool = True) -> None:
        self.features = features
        self.scaler = scaler
        self.log_transform = log_transform
        self.clip = clip

    def fit(self, frame: pd.DataFrame) -> MetaFeaturePreprocessor:
        """Learn the kept columns, medians and scaling from the training datasets."""
        if self.scaler not in SCALERS:
            raise ConfigError(f"The 'scaler' parameter must be one of {list(SCALERS)}. Got {self.scaler!r} instead.")
        if self.features is not None:
            missing = [f for f in self.features if f not in frame.columns]
            if missing:
                raise ConfigError(f"meta-features {missing[:5]} are not in the knowledge base "
                                  f"({len(frame.columns)} known, e.g. {list(frame.columns[:5])})")
            frame = frame[list(self.features)]
        values = self._transform_raw(frame.to_numpy(dtype=float))
        finite = np.isfinite(values)
        keep = []
        for j in range(values.shape[1]):
            column = values[finite[:, j], j]
            if column.size and np.ptp(column) > 0:
                keep.append(j)
        if not keep:
            raise DataError(f"no usable meta-feature among {frame.shape[1]}: every column is empty or "
                            f"constant over the {frame.shape[0]} training datasets")
        values = values[:, keep]
        self.columns_ = [str(frame.columns[j]) for j in keep]
        self.medians_ = np.nanmedian(np.where(np.isfinite(values), values, np.nan), axis=0)
        values = self._impute(values)
        if self.scaler == "minmax":
            self.offset_ = values.min(axis=0)
            self.scale_ = values.max(axis=0) - self.offset_
        elif self.scaler == "standard":
            self.offset_ = values.mean(axis=0)
            self.scale_ = values.std(axis=0)
        else:
            self.offset_ = np.zeros(values.shape[1])
            self.scale_ = np.ones(values.shape[1])
        self.scale_ = np.where(self.scale_ > 0, self.scale_, 1.0)
        scaled = (values - self.offset_) / self.scale_
        self.lower_, self.upper_ = scaled.min(axis=0), scaled.max(axis=0)
        return self

    def transform(self, data: pd.DataFrame | pd.Series | Mapping[str, float]) -> np.ndarray:
        """A frame (rows = datasets) or one dataset's values -> scaled 2-D array."""
        if not hasattr(self, "columns_"):
            raise ConfigError("this MetaFeaturePreprocessor is not fitted yet; call fit(frame) first")
        if isinstance(data, pd.DataFrame):
            frame = data.reindex(columns=self.columns_)
        else:
            series = pd.Series(dict(data) if not isinstance(data, pd.Series) else data, dtype=float)
            frame = series.reindex(self.columns_).to_frame().T
        values = self._transform_raw(frame.to_numpy(dtype=float))
        scaled = (self._impute(values) - self.offset_) / self.scale_
        return np.clip(scaled, self.lower_, self.upper_) if self.clip else scaled

    def _transform_raw(self, values: np.ndarray) -> np.ndarray:
        values = np.where(np.isfinite(values), values, np.nan)
        if self.log_transform:
            values = np.sign(values) * np.log1p(np.abs(values))
        return values

    def _impute(self, values: np.ndarray) -> np.ndarray:
        medians = np.where(np.isfinite(self.medians_), self.medians_, 0.0)
        return np.where(np.isnan(values), medians, values)

    def to_dict(self) -> dict[str, Any]:
        """The fitted state as JSON-able values."""
        return {"features": None if self.features is None else list(self.features), "scaler": self.scaler,
                "log_transform": bool(self.log_transform), "clip": bool(self.clip), "columns": list(self.columns_),
                "medians": self.medians_.tolist(), "offset": self.offset_.tolist(), "scale": self.scale_.tolist(),
                "lower": self.lower_.tolist(), "upper": self.upper_.tolist()}

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> MetaFeaturePreprocessor:
        """Rebuild a fitted preprocessor from :meth:`to_dict`."""
        self = cls(state["features"], state["scaler"], bool(state["log_transform"]), bool(state.get("clip", True)))
        self.columns_ = list(state["columns"])
        self.medians_ = np.array([np.nan if v is None else v for v in state["medians"]], dtype=float)
        self.offset_ = np.asarray(state["offset"], dtype=float)
        self.scale_ = np.asarray(state["scale"], dtype=float)
        self.lower_ = np.asarray(state["lower"], dtype=float)
        self.upper_ = np.asarray(state["upper"], dtype=float)
        return self
