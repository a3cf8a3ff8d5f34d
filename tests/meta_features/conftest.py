"""Fixtures of the meta-feature tests: loading PMLB datasets from the shared data folder."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="session")
def load_pmlb(pmlb_dir) -> Callable[[str], tuple[np.ndarray, np.ndarray]]:
    """``load_pmlb(name) -> (X, y)``: all columns numeric, the label is ``target``."""

    def load(name: str) -> tuple[np.ndarray, np.ndarray]:
        frame = pd.read_csv(pmlb_dir / name / f"{name}.tsv.gz", sep="\t")
        return frame.drop(columns="target").to_numpy(dtype=float), frame["target"].to_numpy()

    return load
