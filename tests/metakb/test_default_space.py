"""``importance`` and ``portfolio build`` default to the knowledge base's only space, and
importance copes with hyperparameters that no stored configuration sets (#23 item 8)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from metakb.cli import main
from metakb.errors import ConfigError
from metakb.store import KnowledgeBase
from metakb.workflows.importance import resolve_space


def _kb(path: Path) -> Path:
    from metakb.spaces import get_search_space, space_to_json, validate_configuration

    spec = get_search_space("sklearn-cash")
    cs = spec.build()
    cs.seed(0)
    # two models of sklearn-cash, no SVC among them: svc:gamma is set by no configuration
    sampled = [dict(c) for c in cs.sample_configuration(200)]
    configs = [c for c in sampled if c["classifier"] in ("k_neighbors", "logistic_regression")][:6]
    assert not any("svc:gamma" in c for c in configs)
    with KnowledgeBase(path) as kb:
        space_id = kb.add_space(spec.name, spec.version, space_to_json(cs), origin="test")
        ids = [kb.add_configuration(space_id, validate_configuration(cs, c), origin="test") for c in configs]
        for d in range(4):
            dataset = kb.add_dataset(f"d{d}", f"h{d}", source="file", origin="test", n_rows=10,
                                     n_features=2, n_classes=2, target="y")
            kb.add_evaluations([{"dataset_id": dataset, "configuration_id": c, "budget": 1.0,
                                 "protocol": "cv:3", "seed": 0, "metric": "balanced_accuracy",
                                 "value": 0.5 + 0.05 * i + 0.01 * d, "status": "ok", "origin": "test"}
                                for i, c in enumerate(ids)])
    return path


def test_the_only_space_is_the_default_and_said(tmp_path: Path, capsys) -> None:
    db = _kb(tmp_path / "kb.sqlite")
    with KnowledgeBase(db, readonly=True) as kb:
        assert resolve_space(kb, None) == ("sklearn-cash", True)
        assert resolve_space(kb, "other") == ("other", False)
    assert main(["importance", "--method", "fanova", "--trees", "4", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("space sklearn-cash (the only one in the knowledge base)")
    assert main(["importance", "--method", "fanova", "--trees", "4", "--db", str(db), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["space"] == "sklearn-cash"
    assert main(["portfolio", "build", "--size", "2", "--db", str(db)]) == 0
    assert "space sklearn-cash (the only one" in capsys.readouterr().out


def test_several_spaces_need_a_name(tmp_path: Path) -> None:
    with KnowledgeBase(tmp_path / "kb.sqlite") as kb:
        kb.add_space("a", "1", '{"hyperparameters": []}', origin="t")
        kb.add_space("b", "1", '{"hyperparameters": []}', origin="t")
        with pytest.raises(ConfigError, match=r"2 spaces \['a', 'b'\]; choose one with --space"):
            resolve_space(kb, None)
