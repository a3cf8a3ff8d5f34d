"""Recommendation distances in units of the typical neighbour distance (issue #23 item 17)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metakb.warmstart import AggregatingKNNWarmStarter, KNNWarmStarter


@pytest.mark.parametrize("cls", [KNNWarmStarter, AggregatingKNNWarmStarter])
def test_typical_distance_is_the_median_nearest_neighbour_distance(cls):
    # four datasets on a line (one meta-feature, no scaling): nearest distances 1, 1, 2, 2 -> 1.5
    meta = pd.DataFrame({"f": [0.0, 1.0, 3.0, 5.0]}, index=["a", "b", "c", "d"])
    perf = pd.DataFrame(np.arange(8, dtype=float).reshape(4, 2), index=meta.index, columns=[1, 2])
    ws = cls(n_neighbors=2, metric="l1", scaler="none", log_transform=False).fit(meta, perf)
    assert ws.typical_distance() == pytest.approx(1.5)
    recs = ws.recommend({"f": 4.5}, n_configs=1)
    source = recs[0].sources[0]  # the nearest neighbour first, for either rule
    assert source.dataset == "d" and source.distance == pytest.approx(0.5)
    assert source.scaled_distance == pytest.approx(0.5 / 1.5)
    assert source.to_dict()["scaled_distance"] == pytest.approx(0.5 / 1.5)
