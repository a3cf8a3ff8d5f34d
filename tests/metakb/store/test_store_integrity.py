"""What the store keeps apart and refuses: protocols never mixed in a matrix, the metric's own
direction, no silently dropped evaluations, read-only URIs of odd paths, no stale
meta-features, and a locked file as one StoreError line instead of a raw sqlite3 error."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from metakb.errors import ConfigError, StoreError
from metakb.store import KnowledgeBase


def _count(kb: KnowledgeBase, table: str) -> int:
    return int(kb.connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


# ---------------------------------------------------------------------- 1. protocols never mixed
def test_performance_matrix_without_protocol_uses_the_main_protocol_only(store, h):
    space, d = h.add_space(store), h.add_dataset(store)
    c1, c2 = store.add_configurations(space, [{"a": 1}, {"a": 2}], origin="t")
    store.add_evaluations([
        h.evaluation(d, c1, protocol="cv:3", value=0.9),
        h.evaluation(d, c2, protocol="cv:3", value=0.8),
        h.evaluation(d, c1, protocol="holdout:0.33", value=0.5),
    ])
    matrix = store.performance_matrix(space)
    assert matrix.loc["d", c1] == pytest.approx(0.9)  # not 0.7, the mean of two protocols
    assert matrix.loc["d", c2] == pytest.approx(0.8)
    assert matrix.attrs == {"metric": "balanced_accuracy", "higher_is_better": True, "protocol": "cv:3"}
    asked = store.performance_matrix(space, protocol="holdout:0.33")
    assert asked.loc["d", c1] == pytest.approx(0.5) and asked.attrs["protocol"] == "holdout:0.33"


def test_performance_matrix_protocol_tie_is_broken_by_name(store, h):
    space, d = h.add_space(store), h.add_dataset(store)
    c = store.add_configuration(space, {"a": 1}, origin="t")
    store.add_evaluations([h.evaluation(d, c, protocol="holdout:0.33", value=0.5),
                           h.evaluation(d, c, protocol="cv:3", value=0.9)])
    matrix = store.performance_matrix(space)
    assert matrix.attrs["protocol"] == "cv:3" and matrix.loc["d", c] == pytest.approx(0.9)


def test_performance_matrix_single_protocol_still_works_without_asking(store, h):
    space, d = h.add_space(store), h.add_dataset(store)
    c = store.add_configuration(space, {"a": 1}, origin="t")
    store.add_evaluations([h.evaluation(d, c, protocol="cv:3", value=0.9)])
    matrix = store.performance_matrix(space)
    assert matrix.loc["d", c] == pytest.approx(0.9) and matrix.attrs["protocol"] == "cv:3"
    assert store.performance_matrix(space, budget=0.5).attrs["protocol"] is None  # empty


# ---------------------------------------------------------------------- 2. direction from the metric
def test_higher_is_better_defaults_from_the_metric(store, h):
    space, d = h.add_space(store), h.add_dataset(store)
    c1, c2, c3 = store.add_configurations(space, [{"a": 1}, {"a": 2}, {"a": 3}], origin="t")
    loss = h.evaluation(d, c1, metric="log_loss", value=0.3, scores={"log_loss": 0.3})
    unknown = h.evaluation(d, c2, metric="my_score", value=0.3, scores={})
    given_none = h.evaluation(d, c3, metric="runtime", value=3.0, scores={}, higher_is_better=None)
    del loss["higher_is_better"], unknown["higher_is_better"]
    store.add_evaluations([loss, unknown, given_none])
    stored = store.evaluations().set_index("metric")["higher_is_better"]
    assert stored.to_dict() == {"log_loss": 0, "my_score": 1, "runtime": 0}
    assert store.performance_matrix(space, metric="log_loss").attrs["higher_is_better"] is False


# ---------------------------------------------------------------------- 3. no silent drops
@pytest.mark.parametrize("field", ["seed", "protocol", "metric", "origin", "dataset_id", "budget"])
def test_evaluation_with_a_none_required_field_is_refused_and_nothing_written(store, h, field):
    space, d = h.add_space(store), h.add_dataset(store)
    c1, c2 = store.add_configurations(space, [{"a": 1}, {"a": 2}], origin="t")
    with pytest.raises(ConfigError, match=rf"evaluation record 1 has {field}=None"):
        bad = h.evaluation(d, c2)
        bad[field] = None
        store.add_evaluations([h.evaluation(d, c1), bad])
    assert _count(store, "evaluations") == 0


def test_evaluation_with_a_non_integer_seed_is_refused(store, h):
    space, d = h.add_space(store), h.add_dataset(store)
    c = store.add_configuration(space, {"a": 1}, origin="t")
    with pytest.raises(ConfigError, match=r"evaluation record 0 seed must be an integer, got 'x'"):
        store.add_evaluations([h.evaluation(d, c, seed="x")])
    assert store.add_evaluations([h.evaluation(d, c, seed=2.0)]) == 1  # a whole float is fine


def test_configuration_without_origin_is_a_clear_error(store, h):
    space = h.add_space(store)
    with pytest.raises(ConfigError, match="configuration origin must be a non-empty string, got None"):
        store.add_configurations(space, [{"a": 1}], origin=None)  # type: ignore[arg-type]
    assert _count(store, "configurations") == 0
    with pytest.raises(ConfigError, match="architecture origin"):
        store.add_architecture({"normal": []}, search_space="darts", origin=None)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- 4. read-only URI
def test_readonly_open_of_a_path_with_uri_characters(tmp_path: Path):
    folder = tmp_path / "odd dir"
    folder.mkdir()
    path = folder / "a b#c?d%20e.sqlite"
    with KnowledgeBase(path) as kb:
        kb.add_dataset("x", "hash-x", source="file", origin="test")
    before = _main_files(folder)
    with KnowledgeBase(path, readonly=True) as kb:
        assert kb.get_dataset("x")["name"] == "x"
        with pytest.raises(StoreError, match="readonly"):
            kb.add_dataset("y", "hash-y", source="file", origin="test")
    assert _main_files(folder) == before == [path.name]  # no stray 'a b' file was created


def _main_files(folder: Path) -> list[str]:
    """The files of ``folder`` without SQLite's WAL companions (-wal, -shm)."""
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(("-wal", "-shm")))


# ---------------------------------------------------------------------- 5. stale meta-features
def test_set_meta_features_replaces_the_groups_it_writes(store, h):
    d, other = h.add_dataset(store, "d"), h.add_dataset(store, "other")
    store.set_meta_features(d, {"nr_inst": 1.0, "old": 2.0, "skew": 3.0},
                            groups={"nr_inst": "general", "old": "general", "skew": "statistical"},
                            extractor_version="1", origin="t")
    store.set_meta_features(d, {"q": 9.0}, groups="openml", extractor_version="openml-qualities", origin="t")
    store.set_meta_features(other, {"old": 5.0}, groups="general", extractor_version="1", origin="t")
    store.set_meta_features(d, {"nr_inst": 1.5}, groups={"nr_inst": "general"}, extractor_version="2", origin="t")
    assert store.meta_features(d) == {"nr_inst": 1.5, "skew": 3.0, "q": 9.0}  # 'old' is gone
    assert store.meta_features(other) == {"old": 5.0}  # other datasets untouched
    assert "old" not in store.meta_feature_matrix(datasets=[d]).columns


# ---------------------------------------------------------------------- 6. locked file
def test_locked_file_is_a_store_error_naming_the_file(tmp_path: Path):
    path = tmp_path / "kb.sqlite"
    with KnowledgeBase(path) as kb:
        kb.add_dataset("x", "hash-x", source="file", origin="test")
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with KnowledgeBase(path) as kb:
            kb.connection.execute("PRAGMA busy_timeout = 50")
            with pytest.raises(StoreError, match=rf"{path.name}: database is locked"):
                kb.add_dataset("y", "hash-y", source="file", origin="test")
            assert kb.connection.in_transaction is False
            assert kb.get_dataset("x")["name"] == "x"  # still usable for reading
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    with KnowledgeBase(path) as kb:
        assert _count(kb, "datasets") == 1


@pytest.mark.parametrize("method", ["info", "check"])
def test_direct_reads_of_info_and_check_are_store_errors(tmp_path: Path, method: str):
    """``info`` and ``check`` read the connection directly: SQLite's refusal (here a locked
    file, simulated: WAL readers are hard to lock for real) is one StoreError line too."""
    path = tmp_path / "kb.sqlite"
    with KnowledgeBase(path) as kb:
        real = kb._conn

        class Locked:
            def execute(self, *args, **kwargs):
                raise sqlite3.OperationalError("database is locked")

            def __getattr__(self, name):
                return getattr(real, name)

        kb._conn = Locked()  # type: ignore[assignment]
        try:
            with pytest.raises(StoreError, match=rf"cannot read knowledge base .*{path.name}: database is locked"):
                getattr(kb, method)()
        finally:
            kb._conn = real
