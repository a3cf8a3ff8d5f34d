"""Near-duplicate datasets in a knowledge base (issue #24 item 3): pairs stored at registration,
``metakb kb dedupe`` for a knowledge base registered before, ``db info``/``db check``, and the
leave-one-dataset-out harness leaving a held-out dataset's copy out of its training side."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metakb.cli import main
from metakb.data import load_pmlb_task, load_table
from metakb.store import KnowledgeBase
from metakb.warmstart import KNNWarmStarter
from metakb.warmstart.evaluate import evaluate_warm_starting
from metakb.workflows.build import register_table
from metakb.workflows.duplicates import dedupe_knowledge_base, near_duplicate_map
from metakb.workflows.warmstart import evaluate_knowledge_base

_spec = importlib.util.spec_from_file_location("dup_helpers", Path(__file__).parent / "data" / "test_duplicates.py")
assert _spec is not None and _spec.loader is not None
_helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_helpers)
planted_copy = _helpers.planted_copy

OTHERS = ["analcatdata_aids", "analcatdata_happiness"]
#: stand-in meta-features (the copy's equal crx's, as real ones would be)
FEATURES = {"crx": [1.0, 0.0], "crx_planted": [1.0, 0.0], "analcatdata_aids": [0.0, 1.0],
            "analcatdata_happiness": [0.1, 0.9]}


@pytest.fixture(scope="module")
def kb_path(pmlb_dir, tmp_path_factory) -> Path:
    """crx, a planted copy of it (a CSV file) and two other datasets, registered one by one."""
    folder = tmp_path_factory.mktemp("dups")
    copy = planted_copy(load_pmlb_task(pmlb_dir / "crx"))
    frame = copy.X.copy()
    frame[copy.target] = copy.y
    csv = folder / "crx_planted.csv"
    frame.to_csv(csv, index=False)
    path = folder / "kb.sqlite"
    with KnowledgeBase(path) as kb:
        for table in [load_pmlb_task(pmlb_dir / "crx"), load_table(csv, copy.target),
                      *(load_pmlb_task(pmlb_dir / n) for n in OTHERS)]:
            dataset = register_table(kb, table, origin="test", meta_features=False)
            kb.set_meta_features(dataset, dict(zip(["f1", "f2"], FEATURES[table.name], strict=True)),
                                 groups="general", extractor_version="test", origin="test")
    return path


def test_registration_stores_signatures_and_the_pair(kb_path):
    with KnowledgeBase(kb_path, readonly=True) as kb:
        assert len(kb.dataset_signatures()) == 4
        pairs = kb.near_duplicates()
        assert [(p["dataset"], p["other"], p["kind"]) for p in pairs] == [("crx", "crx_planted", "same-content")]
        assert kb.info()["near_duplicate_pairs"] == 1
        assert near_duplicate_map(kb) == {"crx": {"crx_planted"}, "crx_planted": {"crx"}}


def test_db_info_counts_and_db_check_lists_the_pairs(kb_path, capsys):
    assert main(["db", "info", "--db", str(kb_path)]) == 0
    assert "near-duplicate dataset pairs: 1" in capsys.readouterr().out
    assert main(["db", "check", "--db", str(kb_path)]) == 0  # information, not a problem
    out = capsys.readouterr().out
    assert "ok: no problems found" in out
    assert "note: near-duplicate datasets crx ~ crx_planted (same-content" in out
    assert main(["db", "check", "--db", str(kb_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["near_duplicates"][0]["other"] == "crx_planted"


def test_dedupe_computes_what_an_older_knowledge_base_lacks(kb_path, pmlb_dir, tmp_path, capsys):
    path = tmp_path / "older.sqlite"
    path.write_bytes(kb_path.read_bytes())
    with KnowledgeBase(path) as kb:  # as if registered before signatures existed
        with kb.transaction():
            kb.connection.execute("DELETE FROM near_duplicates")
            kb.connection.execute("DELETE FROM dataset_signatures")
        moved = kb.add_dataset("gone", "hash-of-a-moved-file", source="file", origin="test",
                               source_id=str(tmp_path / "gone.csv"), target="y")
        report = dedupe_knowledge_base(kb, pmlb_dir=pmlb_dir)
        assert sorted(report.computed) == sorted(["crx", "crx_planted", *OTHERS])
        assert set(report.skipped) == {"gone"} and "gone.csv" in report.skipped["gone"]
        assert (report.added, report.removed) == (1, 0)
        assert [(p["dataset"], p["other"]) for p in report.pairs] == [("crx", "crx_planted")]
        again = dedupe_knowledge_base(kb, pmlb_dir=pmlb_dir)
        assert (again.computed, again.kept, again.added, again.removed) == ([], 4, 0, 0)
        assert moved not in kb.dataset_signatures()
    assert main(["kb", "dedupe", "--db", str(path), "--no-progress"]) == 0  # the build folder is not known:
    out = capsys.readouterr().out                                           # nothing to recompute
    assert "crx ~ crx_planted  same-content" in out and "4 already stored" in out


def _scores(kb: KnowledgeBase) -> None:
    """A toy space of 4 configurations with scores for every dataset: the planted copy has
    crx's scores, so a copy on the training side would give crx regret 0."""
    space = kb.add_space("toy", "1", '{"hyperparameters": []}', origin="test")
    configs = kb.add_configurations(space, [{"c": i} for i in range(4)], origin="test")
    rows = {"crx": [0.9, 0.1, 0.2, 0.3], "crx_planted": [0.9, 0.1, 0.2, 0.3],
            "analcatdata_aids": [0.1, 0.9, 0.5, 0.4], "analcatdata_happiness": [0.2, 0.8, 0.6, 0.5]}
    records = []
    for name, values in rows.items():
        dataset = int(kb.get_dataset(name)["id"])
        records += [{"dataset_id": dataset, "configuration_id": c, "budget": 1.0, "protocol": "cv:3", "seed": 0,
                     "metric": "balanced_accuracy", "value": v, "status": "ok", "origin": "test"}
                    for c, v in zip(configs, values, strict=True)]
    kb.add_evaluations(records)


def test_the_lodo_harness_of_a_knowledge_base_drops_the_copy(kb_path, tmp_path):
    path = tmp_path / "scored.sqlite"
    path.write_bytes(kb_path.read_bytes())
    with KnowledgeBase(path) as kb:
        _scores(kb)
        kept = evaluate_knowledge_base(kb, "toy", methods=("knn",), ks=(1,), knn_params={"n_neighbors": 1})
        leaky = evaluate_knowledge_base(kb, "toy", methods=("knn",), ks=(1,), knn_params={"n_neighbors": 1},
                                        drop_near_duplicates=False)
    assert kept.settings["near_duplicates_dropped"] == {"crx": ["crx_planted"], "crx_planted": ["crx"]}
    assert leaky.settings["near_duplicates_dropped"] == {}
    regret = {(r.method, r.dataset): r.regret for r in kept.regrets.itertuples()}
    leaked = {(r.method, r.dataset): r.regret for r in leaky.regrets.itertuples()}
    assert leaked[("knn", "crx")] == 0.0  # its copy was its nearest neighbour
    assert regret[("knn", "crx")] > 0.5  # without it, the neighbours prefer configuration 2


class _Recording(KNNWarmStarter):
    """A kNN warm starter that records the datasets of each fit, per held-out dataset."""

    seen: dict[str, list[str]] = {}

    def fit(self, meta_features, performance, **kwargs):  # type: ignore[no-untyped-def]
        self._trained_on = sorted(meta_features.index)
        return super().fit(meta_features, performance, **kwargs)

    def recommend(self, query, n_configs=5, **kwargs):  # type: ignore[no-untyped-def]
        _Recording.seen[str(query.name)] = self._trained_on
        return super().recommend(query, n_configs, **kwargs)


@pytest.mark.parametrize("folds", ["loo", 3])
def test_evaluate_warm_starting_excludes_the_pair_from_training(folds):
    names = ["a", "a_copy", "b", "c", "d", "e", "f", "g"]
    rng = np.random.default_rng(0)
    performance = pd.DataFrame(rng.random((8, 4)), index=names, columns=[1, 2, 3, 4])
    performance.loc["a_copy"] = performance.loc["a"]
    meta = pd.DataFrame(rng.random((8, 2)), index=names, columns=["f1", "f2"])
    pairs = {"a": {"a_copy"}, "a_copy": {"a"}}
    _Recording.seen = {}
    result = evaluate_warm_starting(meta, performance, {"rec": lambda: _Recording(n_neighbors=1)}, ks=(1,),
                                    folds=folds, near_duplicates=pairs)
    seen = dict(_Recording.seen)
    assert "a_copy" not in seen["a"] and "a" not in seen["a_copy"]
    assert result.settings["near_duplicates_dropped"] == {"a": ["a_copy"], "a_copy": ["a"]}
    if folds == "loo":
        assert seen["b"] == ["a", "a_copy", "c", "d", "e", "f", "g"]  # only a held-out dataset's own pair
    _Recording.seen = {}
    evaluate_warm_starting(meta, performance, {"rec": lambda: _Recording(n_neighbors=1)}, ks=(1,), folds="loo")
    assert "a_copy" in _Recording.seen["a"]  # without pairs, the copy trains
