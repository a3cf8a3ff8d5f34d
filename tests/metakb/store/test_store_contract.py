"""The contract of KnowledgeBase, run against an in-memory and a file database (``store``)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from metakb.errors import ConfigError, MetaKBError, NotFoundError
from metakb.store import EVALUATION_STATUSES, KnowledgeBase, canonical_json, sha256_text


def _count(kb: KnowledgeBase, table: str) -> int:
    return int(kb.connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


# ---------------------------------------------------------------------- datasets
def test_dataset_round_trip_by_id_name_and_hash(store, h):
    dataset_id = store.add_dataset("iris", "abc123", source="pmlb", source_id="iris", origin="build:x",
                                   n_rows=150, n_features=4, n_classes=3, target="target")
    for key in (dataset_id, np.int64(dataset_id), "iris", "abc123"):
        row = store.get_dataset(key)
        assert row["id"] == dataset_id
        assert (row["name"], row["source"], row["source_id"], row["content_hash"]) == ("iris", "pmlb", "iris", "abc123")
        assert (row["n_rows"], row["n_features"], row["n_classes"], row["target"]) == (150, 4, 3, "target")
        assert row["task_type"] == "classification"
        assert row["origin"] == "build:x"
        assert row["created_at"].endswith("Z")
    assert store.find_dataset("abc123")["id"] == dataset_id
    assert store.find_dataset("nope") is None
    frame = store.datasets()
    assert list(frame.index) == [dataset_id]
    assert frame.loc[dataset_id, "name"] == "iris"
    assert store.datasets(source="openml").empty
    assert list(store.datasets(source="pmlb").index) == [dataset_id]


def test_dataset_identity_by_content(store, h):
    first = h.add_dataset(store, "a", "same-hash")
    again = h.add_dataset(store, "a-renamed", "same-hash")
    assert again == first
    assert _count(store, "datasets") == 1
    assert store.get_dataset(first)["name"] == "a"  # the first name is kept


def test_dataset_same_name_other_content_is_a_second_row(store, h):
    first = h.add_dataset(store, "a", "0123456789abcdef")
    second = h.add_dataset(store, "a", "fedcba9876543210")
    assert first != second
    assert store.get_dataset(second)["name"] == "a@fedcba98"
    assert _count(store, "datasets") == 2


def test_dataset_empty_name_refused(store):
    with pytest.raises(ConfigError, match="name"):
        store.add_dataset("", "h", source="file", origin="test")
    assert _count(store, "datasets") == 0


def test_unknown_dataset_is_not_found(store):
    with pytest.raises(NotFoundError, match="'missing'"):
        store.get_dataset("missing")
    with pytest.raises(KeyError):  # NotFoundError is also a KeyError
        store.get_dataset(99)


# ---------------------------------------------------------------------- meta-features
def test_meta_features_round_trip_and_replace(store, h):
    a, b = h.add_dataset(store, "a"), h.add_dataset(store, "b")
    n = store.set_meta_features(a, {"nr_inst": 10.0, "skew": float("nan"), "kurt": float("inf"), "none": None},
                                groups={"nr_inst": "general", "skew": "statistical", "kurt": "statistical",
                                        "none": "statistical"},
                                extractor_version="1", origin="test")
    assert n == 4
    values = store.meta_features("a")
    assert values["nr_inst"] == 10.0
    assert all(math.isnan(values[k]) for k in ("skew", "kurt", "none"))  # non-finite stored as NULL
    store.set_meta_features(b, {"nr_inst": 20.0}, groups="general", extractor_version="2", origin="test")
    store.set_meta_features(a, {"nr_inst": 11.0}, groups="general", extractor_version="2", origin="test")
    assert store.meta_features(a)["nr_inst"] == 11.0  # replaced, not duplicated
    assert _count(store, "meta_features") == 5
    versions = store.meta_feature_versions()
    assert set(versions[a].split(",")) == {"1", "2"} and versions[b] == "2"
    matrix = store.meta_feature_matrix(groups=["general"])
    assert list(matrix.index) == ["a", "b"] and list(matrix.columns) == ["nr_inst"]
    assert matrix.loc["b", "nr_inst"] == 20.0
    assert store.meta_feature_matrix(datasets=[b]).shape == (1, 1)
    assert store.meta_feature_matrix(groups=["landmarking"]).empty


def test_meta_features_need_a_group_and_a_dataset(store, h):
    a = h.add_dataset(store, "a")
    with pytest.raises(ConfigError, match="'x'"):
        store.set_meta_features(a, {"nr_inst": 1.0, "x": 2.0}, groups={"nr_inst": "general"},
                                extractor_version="1", origin="test")
    assert _count(store, "meta_features") == 0  # validated before anything is written
    with pytest.raises(NotFoundError):
        store.set_meta_features(a + 100, {"x": 1.0}, groups="general", extractor_version="1", origin="t")


# ---------------------------------------------------------------------- spaces and configurations
def test_space_round_trip_and_versions(store, h):
    first = store.add_space("cash", "1", '{"a": 1}', origin="test")
    assert store.add_space("cash", "1", '{"a": 1}', origin="other") == first  # same definition: one row
    second = store.add_space("cash", "2", '{"a": 2}', origin="test")
    assert store.get_space(first)["configspace"] == '{"a": 1}'
    assert store.get_space("cash")["id"] == second  # newest version by default
    assert store.get_space("cash", "1")["id"] == first
    assert store.get_space(first)["space_hash"] == sha256_text('{"a": 1}')
    with pytest.raises(ConfigError, match="different definition"):
        store.add_space("cash", "1", '{"a": 3}', origin="test")
    with pytest.raises(NotFoundError, match="cash"):  # the message lists the stored spaces
        store.get_space("unknown")
    assert _count(store, "search_spaces") == 2


def test_configurations_round_trip_with_labels(store, h):
    space = h.add_space(store)
    configs = [{"classifier": "svc", "C": 1.5}, {"classifier": "knn", "k": 3, "flag": True, "none": None}]
    ids = store.add_configurations(space, configs, origin="build:1", labels=["default:svc", None])
    assert len(set(ids)) == 2
    assert [store.get_configuration(i) for i in ids] == configs
    frame = store.configurations("toy")
    assert list(frame.index) == ids
    assert frame.loc[ids[0], "label"] == "default:svc" and pd.isna(frame.loc[ids[1], "label"])
    assert frame.loc[ids[1], "config"] == configs[1]
    assert set(frame["origin"]) == {"build:1"}
    assert store.add_configuration(space, {"classifier": "lr"}, origin="t", label="x") == max(ids) + 1
    with pytest.raises(NotFoundError):
        store.get_configuration(12345)


def test_configuration_identity_by_canonical_json(store, h):
    space = h.add_space(store)
    a = store.add_configuration(space, {"b": 2, "a": 1, "c": "x"}, origin="first")
    b = store.add_configuration(space, {"c": "x", "a": 1, "b": 2}, origin="second")
    c = store.add_configuration(space, {"a": np.int64(1), "b": np.int32(2), "c": np.str_("x")}, origin="third")
    assert a == b == c
    assert _count(store, "configurations") == 1
    row = store.connection.execute("SELECT config, config_hash, origin FROM configurations").fetchone()
    assert row[0] == '{"a":1,"b":2,"c":"x"}'
    assert row[1] == sha256_text(row[0])
    assert row[2] == "first"  # the first origin is kept
    # the same configuration in another space is another row
    other = h.add_space(store, "other")
    assert store.add_configuration(other, {"a": 1, "b": 2, "c": "x"}, origin="t") != a
    # a batch with a repeated configuration gives the same id twice
    ids = store.add_configurations(space, [{"z": 1}, {"z": 1}], origin="t")
    assert ids[0] == ids[1]


def test_configuration_labels_must_match_in_length(store, h):
    space = h.add_space(store)
    with pytest.raises(ConfigError, match="labels"):
        store.add_configurations(space, [{"a": 1}], origin="t", labels=["x", "y"])
    assert _count(store, "configurations") == 0


def test_canonical_json_is_key_order_free_and_compact():
    assert canonical_json({"b": 1, "a": [np.float64(0.5), np.bool_(True)]}) == '{"a":[0.5,true],"b":1}'
    assert canonical_json({"x": float("nan")}) == '{"x":null}'


# ---------------------------------------------------------------------- evaluations
def test_evaluation_round_trip(store, h):
    space, d = h.add_space(store), h.add_dataset(store)
    c = store.add_configuration(space, {"a": 1}, origin="t")
    run = store.create_run("build", {"n": 1}, origin="test")
    assert store.add_evaluations([h.evaluation(d, c, run_id=run)]) == 1
    frame = store.evaluations()
    assert len(frame) == 1
    row = frame.iloc[0]
    assert (row["dataset"], row["configuration_id"], row["budget"], row["protocol"]) == ("d", c, 1.0, "holdout:0.33")
    assert (row["status"], row["value"], row["run_id"], row["origin"]) == ("ok", 0.75, run, "test")
    assert json.loads(row["scores"]) == {"balanced_accuracy": 0.75, "log_loss": 0.5}
    assert row["higher_is_better"] == 1
    assert len(store.evaluations(dataset="d", space="toy", run_id=run, status="ok")) == 1
    assert store.evaluations(status="crashed").empty
    assert store.evaluated_keys(protocol="holdout:0.33", metric="balanced_accuracy") == {(d, c, 1.0, 0)}
    assert store.evaluated_keys(protocol="cv:5", metric="balanced_accuracy") == set()
    assert store.evaluated_keys(protocol="holdout:0.33", metric="balanced_accuracy", run_id="other") == set()


def test_evaluation_stored_twice_is_one_row(store, h):
    space, d = h.add_space(store), h.add_dataset(store)
    c = store.add_configuration(space, {"a": 1}, origin="t")
    assert store.add_evaluations([h.evaluation(d, c)]) == 1
    assert store.add_evaluations([h.evaluation(d, c, value=0.1), h.evaluation(d, c, seed=1)]) == 1
    assert _count(store, "evaluations") == 2
    assert store.evaluations().set_index("seed").loc[0, "value"] == 0.75  # the first result is kept


@pytest.mark.parametrize("status", EVALUATION_STATUSES)
def test_every_status_is_accepted(store, h, status):
    space, d = h.add_space(store), h.add_dataset(store)
    c = store.add_configuration(space, {"a": 1}, origin="t")
    error = None if status == "ok" else f"{status} happened"
    store.add_evaluations([h.evaluation(d, c, status=status, error=error)])
    row = store.evaluations().iloc[0]
    assert row["status"] == status
    if status != "ok":
        assert row["value"] is None or math.isnan(row["value"])  # a failed value is never stored
        assert row["error"] == error


@pytest.mark.parametrize(("override", "message"), [
    ({"status": "exploded"}, "status"),
    ({"status": "ok", "value": None}, "finite"),
    ({"status": "ok", "value": float("nan")}, "finite"),
    ({"budget": 0.0}, "budget"),
    ({"budget": 1.5}, "budget"),
])
def test_bad_evaluation_record_in_a_batch_writes_nothing(store, h, override, message):
    space, d = h.add_space(store), h.add_dataset(store)
    c1, c2, c3 = store.add_configurations(space, [{"a": 1}, {"a": 2}, {"a": 3}], origin="t")
    batch = [h.evaluation(d, c1), h.evaluation(d, c2, **override), h.evaluation(d, c3)]
    with pytest.raises(ConfigError, match=message):
        store.add_evaluations(batch)
    assert _count(store, "evaluations") == 0


def test_evaluation_missing_key_refused(store, h):
    space, d = h.add_space(store), h.add_dataset(store)
    c = store.add_configuration(space, {"a": 1}, origin="t")
    record = h.evaluation(d, c)
    del record["protocol"]
    with pytest.raises(ConfigError, match="protocol"):
        store.add_evaluations([h.evaluation(d, c, seed=5), record])
    assert _count(store, "evaluations") == 0


def test_evaluation_batch_failing_inside_the_database_writes_nothing(store, h):
    """A record that passes validation but violates a foreign key rolls back the whole batch."""
    space, d = h.add_space(store), h.add_dataset(store)
    c1, c2 = store.add_configurations(space, [{"a": 1}, {"a": 2}], origin="t")
    batch = [h.evaluation(d, c1), h.evaluation(d + 1000, c2), h.evaluation(d, c2)]
    with pytest.raises(Exception):  # noqa: B017 - the type is checked in test_integrity_error_type
        store.add_evaluations(batch)
    assert _count(store, "evaluations") == 0
    assert store.add_evaluations([h.evaluation(d, c1)]) == 1  # the connection is usable again


def test_integrity_error_is_a_metakb_error(store, h):
    """A write refused by SQLite should surface as a MetaKBError (StoreError), not raw sqlite3."""
    space, d = h.add_space(store), h.add_dataset(store)
    c = store.add_configuration(space, {"a": 1}, origin="t")
    with pytest.raises(MetaKBError):
        store.add_evaluations([h.evaluation(d + 1000, c)])


# ---------------------------------------------------------------------- performance matrix
def _matrix_fixture(store, h):
    space = h.add_space(store)
    d1, d2 = h.add_dataset(store, "d1"), h.add_dataset(store, "d2")
    c1, c2, c3 = store.add_configurations(space, [{"a": 1}, {"a": 2}, {"a": 3}], origin="t")
    records = [
        h.evaluation(d1, c1, value=0.8, seed=0, scores={"log_loss": 0.4}),
        h.evaluation(d1, c1, value=0.6, seed=1, scores={"log_loss": 0.6}),
        h.evaluation(d1, c2, status="crashed", value=None, error="boom"),
        h.evaluation(d1, c3, value=0.9, scores={}),
        h.evaluation(d2, c1, status="timeout", value=None, error="slow"),
        h.evaluation(d2, c2, value=0.5, scores={"log_loss": 0.7}),
        # d2 x c3 never evaluated; another budget and protocol are filtered out
        h.evaluation(d2, c3, value=0.1, budget=0.5),
        h.evaluation(d2, c3, value=0.2, protocol="cv:5"),
    ]
    store.add_evaluations(records)
    return space, (d1, d2), (c1, c2, c3)


def test_performance_matrix_values_nan_and_attrs(store, h):
    space, _, (c1, c2, c3) = _matrix_fixture(store, h)
    matrix = store.performance_matrix("toy", protocol="holdout:0.33")
    assert list(matrix.index) == ["d1", "d2"]
    assert list(matrix.columns) == [c1, c2, c3]
    assert matrix.loc["d1", c1] == pytest.approx(0.7)  # mean over seeds 0 and 1
    assert math.isnan(matrix.loc["d1", c2])  # crashed
    assert matrix.loc["d1", c3] == pytest.approx(0.9)
    assert math.isnan(matrix.loc["d2", c1])  # timeout
    assert matrix.loc["d2", c2] == pytest.approx(0.5)
    assert math.isnan(matrix.loc["d2", c3])  # never evaluated at this budget and protocol
    assert matrix.attrs == {"metric": "balanced_accuracy", "higher_is_better": True, "protocol": "holdout:0.33"}


def test_performance_matrix_secondary_metric_and_filters(store, h):
    space, (d1, d2), (c1, c2, c3) = _matrix_fixture(store, h)
    loss = store.performance_matrix(space, metric="log_loss", protocol="holdout:0.33")
    assert loss.attrs["higher_is_better"] is False
    assert loss.loc["d1", c1] == pytest.approx(0.5)
    assert math.isnan(loss.loc["d1", c3])  # that evaluation has no log loss
    assert loss.loc["d2", c2] == pytest.approx(0.7)
    half = store.performance_matrix(space, budget=0.5)
    assert half.shape == (1, 1) and half.loc["d2", c3] == pytest.approx(0.1)
    only_d1 = store.performance_matrix(space, protocol="holdout:0.33", datasets=[d1])
    assert list(only_d1.index) == ["d1"]
    empty = store.performance_matrix(space, protocol="cv:10")
    assert empty.empty and empty.attrs["higher_is_better"] is True


# ---------------------------------------------------------------------- runs
def test_run_round_trip(store, h):
    run = store.create_run("build", {"jobs": 2, "datasets": ["a"]}, origin="metakb build")
    row = store.get_run(run)
    assert run.startswith("build-")
    assert (row["kind"], row["status"], row["settings"], row["state"]) == ("build", "running", {"datasets": ["a"], "jobs": 2}, None)
    store.update_run(run, status="finished", state={"done": 3})
    row = store.get_run(run)
    assert (row["status"], row["state"]) == ("finished", {"done": 3})
    assert store.create_run("bohb", {}, origin="t", run_id="my-run") == "my-run"
    assert set(store.runs()["id"]) == {run, "my-run"}
    assert list(store.runs("bohb")["id"]) == ["my-run"]
    with pytest.raises(NotFoundError):
        store.get_run("nope")
    with pytest.raises(NotFoundError):
        store.update_run("nope", status="finished")


def test_run_status_is_checked_by_the_schema(store):
    run = store.create_run("build", {}, origin="t")
    with pytest.raises(Exception):  # noqa: B017 - the CHECK constraint refuses it
        store.update_run(run, status="weird")
    assert store.get_run(run)["status"] == "running"


# ---------------------------------------------------------------------- portfolios, embeddings, NAS
def test_portfolio_round_trip_and_replace(store, h):
    space = h.add_space(store)
    d1, d2 = h.add_dataset(store, "d1"), h.add_dataset(store, "d2")
    c1, c2 = store.add_configurations(space, [{"a": 1}, {"a": 2}], origin="t")
    store.save_portfolio("p", space, [(c2, 0.3), (c1, None)], datasets=[(d1, "train"), (d2, "validation")],
                         settings={"size": 2}, origin="test")
    got = store.get_portfolio("p")
    assert [m["configuration_id"] for m in got["members"]] == [c2, c1]
    assert [m["config"] for m in got["members"]] == [{"a": 2}, {"a": 1}]
    assert [m["objective"] for m in got["members"]] == [0.3, None]
    assert got["datasets"] == [{"name": "d1", "role": "train"}, {"name": "d2", "role": "validation"}]
    assert got["settings"] == {"size": 2}
    with pytest.raises(ConfigError, match="'p'"):
        store.save_portfolio("p", space, [(c1, 0.1)], datasets=[], settings={}, origin="t")
    store.save_portfolio("p", space, [(c1, 0.1)], datasets=[], settings={}, origin="t", replace=True)
    assert [m["configuration_id"] for m in store.get_portfolio("p")["members"]] == [c1]
    assert _count(store, "portfolio_members") == 1 and _count(store, "portfolio_datasets") == 0
    assert store.portfolios().to_dict("records")[0]["size"] == 1
    with pytest.raises(NotFoundError, match="'q'"):
        store.get_portfolio("q")


def test_portfolio_with_unknown_member_writes_nothing(store, h):
    space = h.add_space(store)
    with pytest.raises(Exception):  # noqa: B017 - foreign key
        store.save_portfolio("p", space, [(999, 0.1)], datasets=[], settings={}, origin="t")
    assert _count(store, "portfolios") == 0


def test_embedding_round_trip_and_replace(store):
    store.save_embedding("siamese", "siamese", {"w": [[1.0, 2.0]], "b": [0.5]}, {"dim": 2}, origin="t")
    got = store.get_embedding("siamese")
    assert (got["kind"], got["state"], got["settings"]) == ("siamese", {"b": [0.5], "w": [[1.0, 2.0]]}, {"dim": 2})
    store.save_embedding("siamese", "siamese", {"w": [[3.0]]}, {"dim": 1}, origin="t")
    assert store.get_embedding("siamese")["state"] == {"w": [[3.0]]}
    assert _count(store, "embeddings") == 1
    with pytest.raises(NotFoundError):
        store.get_embedding("other")


def test_architecture_identity_and_fewshot_result(store):
    genotype = {"normal": [["sep_conv_3x3", 0]], "reduce": [["max_pool_3x3", 1]]}
    a = store.add_architecture(genotype, search_space="darts", origin="t")
    assert store.add_architecture(dict(reversed(list(genotype.items()))), search_space="darts", origin="t") == a
    assert _count(store, "architectures") == 1
    rid = store.add_fewshot_result(method="reptile", ways=5, shots=1, episodes=100, accuracy=0.6, ci95=0.02,
                                   settings={"lr": 0.1}, origin="t", architecture_id=a, device="cpu")
    row = store.connection.execute("SELECT architecture_id, method, accuracy, settings FROM fewshot_results "
                                   "WHERE id = ?", (rid,)).fetchone()
    assert row == (a, "reptile", 0.6, '{"lr":0.1}')


# ---------------------------------------------------------------------- transactions
def test_failed_transaction_leaves_nothing(store, h):
    with pytest.raises(RuntimeError, match="stop"), store.transaction():
        d = h.add_dataset(store)
        space = h.add_space(store)
        store.add_configuration(space, {"a": 1}, origin="t")
        store.set_meta_features(d, {"x": 1.0}, groups="general", extractor_version="1", origin="t")
        raise RuntimeError("stop")
    for table in ("datasets", "search_spaces", "configurations", "meta_features"):
        assert _count(store, table) == 0, table
    h.add_dataset(store)  # and the store still works
    assert _count(store, "datasets") == 1


def test_nested_transaction_rolls_back_only_the_inner_part(store, h):
    with store.transaction():
        h.add_dataset(store, "outer")
        with pytest.raises(ValueError), store.transaction():
            h.add_dataset(store, "inner")
            raise ValueError
        h.add_dataset(store, "after")
    assert sorted(store.datasets()["name"]) == ["after", "outer"]


def test_pragmas_wal_and_foreign_keys(store):
    assert store.connection.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    mode = store.connection.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == ("memory" if store.path == ":memory:" else "wal")


# ---------------------------------------------------------------------- info and check
def test_info_counts(store, h):
    d = h.add_dataset(store)
    space = h.add_space(store)
    c = store.add_configuration(space, {"a": 1}, origin="t")
    store.add_evaluations([h.evaluation(d, c), h.evaluation(d, c, seed=1, status="crashed", error="x")])
    info = store.info()
    assert info["counts"]["datasets"] == 1 and info["counts"]["evaluations"] == 2
    assert info["evaluation_status"] == {"ok": 1, "crashed": 1}
    assert info["schema_version"] == info["latest_schema_version"] >= 1
    assert (info["size_bytes"] > 0) == (store.path != ":memory:")


def test_check_clean_store_has_no_problems(store, h):
    d = h.add_dataset(store)
    store.set_meta_features(d, {"x": 1.0}, groups="general", extractor_version="1", origin="t")
    space = h.add_space(store)
    c = store.add_configuration(space, {"a": 1}, origin="t")
    store.add_evaluations([h.evaluation(d, c)])
    assert store.check() == []


def test_check_finds_planted_problems(store, h):
    d = h.add_dataset(store)  # no meta-features
    space = h.add_space(store)
    c = store.add_configuration(space, {"a": 1}, origin="t")
    conn = store.connection
    conn.execute("UPDATE configurations SET config = '{\"a\":2}' WHERE id = ?", (c,))
    columns = ("dataset_id, configuration_id, budget, protocol, seed, metric, higher_is_better, value, "
               "status, error, origin, created_at")
    conn.execute(f"INSERT INTO evaluations ({columns}) VALUES (?, ?, 1, 'p', 0, 'm', 1, NULL, 'ok', NULL, 't', 'now')",
                 (d, c))
    conn.execute(f"INSERT INTO evaluations ({columns}) VALUES (?, ?, 1, 'p', 1, 'm', 1, NULL, 'crashed', '', 't', 'now')",
                 (d, c))
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute(f"INSERT INTO evaluations ({columns}) VALUES (999, ?, 1, 'p', 2, 'm', 1, 0.5, 'ok', NULL, 't', 'now')",
                 (c,))
    conn.execute("PRAGMA foreign_keys = ON")
    problems = "\n".join(store.check())
    assert "status ok but no value: 1" in problems
    assert "without error text: 1" in problems
    assert "hash does not match their JSON: 1" in problems
    assert "datasets without meta-features: 1" in problems
    assert "foreign key: evaluations" in problems and "datasets" in problems


def test_frames_are_pandas(store, h):
    h.add_dataset(store)
    assert isinstance(store.datasets(), pd.DataFrame)
    assert isinstance(store.evaluations(), pd.DataFrame)
    assert isinstance(store.runs(), pd.DataFrame)
