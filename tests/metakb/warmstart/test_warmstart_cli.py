"""``metakb evaluate warmstart``, ``metakb warmstart train-siamese`` and ``metakb import aslib``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from metakb.cli import main
from metakb.store import KnowledgeBase


def _space_json(name: str, n: int) -> str:
    from ConfigSpace import CategoricalHyperparameter, ConfigurationSpace

    from metakb.spaces import space_to_json

    space = ConfigurationSpace(name=name)
    space.add(CategoricalHyperparameter("choice", [f"c{i}" for i in range(n)]))
    return space_to_json(space)


@pytest.fixture()
def toy_db(tmp_path: Path) -> Path:
    """A file KB: 14 datasets whose scores follow two meta-features, 8 configurations (one default)."""
    rng = np.random.default_rng(0)
    path = tmp_path / "toy.sqlite"
    with KnowledgeBase(path) as kb:
        space = kb.add_space("toy", "1", _space_json("toy", 8), origin="test")
        labels = ["default:c0"] + [None] * 7
        configs = kb.add_configurations(space, [{"choice": f"c{i}"} for i in range(8)], origin="test", labels=labels)
        weights = rng.normal(size=(2, 8))
        records = []
        for d in range(14):
            features = rng.normal(size=2)
            ds = kb.add_dataset(f"ds{d}", f"hash{d}", source="test", origin="test")
            kb.set_meta_features(ds, {"a": features[0], "b": features[1]}, groups="general",
                                 extractor_version="t", origin="test")
            scores = 1 / (1 + np.exp(-(features @ weights)))
            records += [{"dataset_id": ds, "configuration_id": c, "budget": 1.0, "protocol": "holdout", "seed": 0,
                         "metric": "balanced_accuracy", "value": float(s), "status": "ok", "origin": "test"}
                        for c, s in zip(configs, scores, strict=True)]
        kb.add_evaluations(records)
    return path


def test_evaluate_warmstart_json(toy_db, capsys):
    code = main(["evaluate", "warmstart", "--space", "toy", "--method", "knn", "siamese", "-k", "1", "3",
                 "--epochs", "5", "--siamese-folds", "2", "--quiet", "--json", "--db", str(toy_db)])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    methods = {row["method"] for row in result["summary"]}
    assert methods == {"knn", "siamese", "random", "single-best", "default", "portfolio"}
    assert result["settings"]["n_datasets"] == 14 and result["settings"]["folds"] == "loo"
    assert result["settings"]["method_folds"] == {"siamese": 2}
    assert {row["against"] for row in result["comparisons"]} == {"random", "single-best", "default", "portfolio", "knn"}


def test_evaluate_warmstart_table_and_bad_arguments(toy_db, capsys):
    assert main(["evaluate", "warmstart", "--space", "toy", "--method", "knn-l2", "--folds", "3",
                 "--quiet", "--db", str(toy_db)]) == 0
    out = capsys.readouterr().out
    assert "knn-l2" in out and "single-best" in out and "k=25" not in out  # 25 > 8 configurations
    with pytest.raises(SystemExit):
        main(["evaluate", "warmstart", "--folds", "1", "--db", str(toy_db)])
    assert main(["evaluate", "warmstart", "--space", "nope", "--db", str(toy_db)]) == 2


def test_train_siamese_stores_a_json_model(toy_db, capsys):
    pytest.importorskip("torch")
    assert main(["warmstart", "train-siamese", "--space", "toy", "--epochs", "5", "--json", "--db", str(toy_db)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["name"] == "siamese:toy:balanced_accuracy" and result["pairs"] == 14 * 13 // 2
    with KnowledgeBase(toy_db) as kb:
        from metakb.warmstart import load_warm_starter

        row = kb.get_embedding(result["name"])
        assert row["kind"] == "siamese" and row["settings"]["space"] == "toy"
        model = load_warm_starter(kb, "siamese", "toy", n_neighbors=2)
        recs = model.recommend(kb.meta_features("ds0"), n_configs=3, exclude_datasets=["ds0"])
        assert len(recs) == 3 and recs[0].sources[0].dataset != "ds0"


_RUNS = """@RELATION runs
@ATTRIBUTE instance_id STRING
@ATTRIBUTE repetition NUMERIC
@ATTRIBUTE algorithm STRING
@ATTRIBUTE runtime NUMERIC
@ATTRIBUTE runstatus {ok, timeout, memout, not_applicable, crash, other}
@DATA
i1,1,A,1,ok
i1,1,B,9,timeout
i2,1,A,3,ok
i2,1,B,2,ok
"""
_FEATURES = """@RELATION features
@ATTRIBUTE instance_id STRING
@ATTRIBUTE repetition NUMERIC
@ATTRIBUTE f NUMERIC
@DATA
i1,1,1.0
i2,1,2.0
"""


def test_import_aslib_console_script(tmp_path, metakb_script):
    scenario = tmp_path / "TINY"
    scenario.mkdir()
    (scenario / "description.txt").write_text(
        "scenario_id: TINY\nperformance_measures: [runtime]\nperformance_type: [runtime]\n"
        "maximize: [false]\nalgorithm_cutoff_time: 9\n")
    (scenario / "algorithm_runs.arff").write_text(_RUNS)
    (scenario / "feature_values.arff").write_text(_FEATURES)
    exe = str(metakb_script)
    db = tmp_path / "aslib.sqlite"
    out = subprocess.run([exe, "import", "aslib", str(tmp_path), "--db", str(db), "--json"],
                         capture_output=True, text=True, check=True)
    summary = json.loads(out.stdout)
    assert summary == [{**summary[0], "scenario": "TINY", "instances": 2, "algorithms": 2, "evaluations_added": 4}]
    bad = subprocess.run([exe, "import", "aslib", str(scenario / "missing"), "--db", str(db)],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "not an ASlib scenario" in bad.stderr
