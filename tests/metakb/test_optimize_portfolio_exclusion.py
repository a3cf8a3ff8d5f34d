"""A portfolio warm start never carries an excluded dataset's best configurations (leave-one-dataset-out)."""

from __future__ import annotations

import io

import numpy as np
from ConfigSpace import ConfigurationSpace, Float

from metakb.evaluation import Protocol
from metakb.store import KnowledgeBase
from metakb.workflows.optimize import _warm_start_lists
from metakb.workflows.portfolio import build_portfolio

# d2 alone likes c2 (0.99); without d2 the greedy order starts c0, c1.
SCORES = np.array([[0.90, 0.60, 0.10],
                   [0.80, 0.95, 0.10],
                   [0.10, 0.10, 0.99]])


def _kb() -> KnowledgeBase:
    space = ConfigurationSpace(name="toy")
    space.add([Float("x", (0.0, 1.0))])
    buffer = io.StringIO()
    space.to_json(buffer)
    kb = KnowledgeBase(":memory:")
    space_id = kb.add_space("toy", "1", buffer.getvalue(), origin="test")
    configs = kb.add_configurations(space_id, [{"x": i / 4} for i in range(3)], origin="test")
    records = []
    for d in range(3):
        did = kb.add_dataset(f"d{d}", f"hash{d}", source="test", origin="test")
        for c, cid in enumerate(configs):
            records.append({"dataset_id": did, "configuration_id": cid, "budget": 1.0, "protocol": "holdout",
                            "seed": 0, "metric": "balanced_accuracy", "higher_is_better": True,
                            "value": SCORES[d, c], "status": "ok", "origin": "test"})
    kb.add_evaluations(records)
    return kb


def test_stored_portfolio_is_used_when_nothing_it_was_built_on_is_excluded():
    kb = _kb()
    build_portfolio(kb, space="toy", size=3, name="p")
    stored = [m["config"] for m in kb.get_portfolio("p")["members"]]
    initial, _ = _warm_start_lists(kb, None, "portfolio", "toy", Protocol.parse("holdout:0.33"), 2, "p",
                                   excluded=["unrelated"])
    assert initial == stored[:2]
    assert {"x": 0.5} in initial  # d2's favourite is in the portfolio built on all three


def test_portfolio_is_rebuilt_without_the_excluded_dataset():
    kb = _kb()
    build_portfolio(kb, space="toy", size=3, name="p")
    initial, prior = _warm_start_lists(kb, None, "portfolio", "toy", Protocol.parse("holdout:0.33"), 2, "p",
                                       excluded=["d2"])
    assert initial == [{"x": 0.0}, {"x": 0.25}]
    assert len(prior) == 6  # the KDE prior holds only d0's and d1's evaluations
