"""Refused commands write nothing: ``optimize`` (resume checks, validation before the first write), ``build``
(limits validated first, per-dataset registration failures skipped) and ``nas`` summaries
(stored in one transaction)."""

from __future__ import annotations

from pathlib import Path

import pytest

import metakb.workflows.build
from metakb.build import build_from_pmlb, register_table
from metakb.cli.nas import store_summary
from metakb.data import load_pmlb
from metakb.errors import ConfigError, DataError, NotFoundError
from metakb.optimizers._bohb import BOHB
from metakb.spaces import get_search_space, space_to_json
from metakb.store import KnowledgeBase
from metakb.workflows.optimize import optimize_table

TINY = ["analcatdata_aids", "analcatdata_happiness"]


def _counts(kb: KnowledgeBase) -> dict[str, int]:
    return dict(kb.info()["counts"])


def _table(pmlb_dir: Path, name: str):
    folder = pmlb_dir / name
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    return load_pmlb(folder)


def _optimize_run(kb: KnowledgeBase, table) -> str:
    """What ``optimize_table`` writes before its first evaluation: dataset, space, run, state."""
    spec = get_search_space("sklearn-cash")
    space = spec.build()
    dataset_id = register_table(kb, table, origin="test", meta_features=False)
    space_id = kb.add_space(spec.name, spec.version, space_to_json(space), origin="test")
    settings = {"dataset": table.name, "space": "sklearn-cash", "protocol": "holdout:0.33:max_rows=300",
                "min_budget": 1 / 9, "max_budget": 1.0, "eta": 3, "warm_start": "none", "seed": 0}
    run_id = kb.create_run("optimize", settings, origin="test", dataset_id=dataset_id, space_id=space_id)
    kb.update_run(run_id, state=BOHB(space, 1 / 9, 1.0, seed=0).state().to_dict())
    return run_id


# ---------------------------------------------------------------------- 1. optimize --resume
def test_resume_with_another_dataset_is_refused(kb, pmlb_dir) -> None:
    lupus, iris = _table(pmlb_dir, "lupus"), _table(pmlb_dir, "iris")
    run_id = _optimize_run(kb, lupus)
    before = _counts(kb)
    with pytest.raises(ConfigError) as err:
        optimize_table(iris, kb, n_evaluations=1, resume=run_id, protocol="holdout:0.33:max_rows=300")
    message = str(err.value)
    assert "\n" not in message
    assert run_id in message and "'lupus'" in message and str(iris.source_id) in message
    assert _counts(kb) == before and kb.get_run(run_id)["status"] == "running"


def test_resume_of_a_run_that_is_not_an_optimize_run_is_refused(kb, pmlb_dir) -> None:
    lupus = _table(pmlb_dir, "lupus")
    dataset_id = register_table(kb, lupus, origin="test", meta_features=False)
    run_id = kb.create_run("build", {"datasets": ["lupus"]}, origin="test", dataset_id=dataset_id)
    kb.update_run(run_id, state={"report": {}})
    before = _counts(kb)
    with pytest.raises(ConfigError, match=rf"run '{run_id}' is a 'build' run, not an optimize run"):
        optimize_table(lupus, kb, n_evaluations=1, resume=run_id)
    assert _counts(kb) == before


# ---------------------------------------------------------------------- 2. optimize settings
@pytest.mark.parametrize(("kwargs", "match"), [
    ({"eta": 1}, "eta"),
    ({"min_budget": 0.0}, "min_budget"),
    ({"min_budget": 2.0}, "min_budget"),
    ({"timeout": 0}, "timeout"),
    ({"memory_mb": -1}, "memory"),
    ({"n_evaluations": 0}, "n_evaluations"),
    ({"time_budget": None, "n_evaluations": None}, "needs a limit"),
])
def test_bad_optimize_settings_write_nothing(kb, pmlb_dir, kwargs, match) -> None:
    lupus = _table(pmlb_dir, "lupus")
    settings = {"n_evaluations": 1, **kwargs}
    with pytest.raises(ConfigError, match=match):
        optimize_table(lupus, kb, **settings)
    assert sum(_counts(kb).values()) == 0


def test_missing_portfolio_writes_nothing(kb, pmlb_dir) -> None:
    lupus = _table(pmlb_dir, "lupus")
    spec = get_search_space("sklearn-cash")
    kb.add_space(spec.name, spec.version, space_to_json(spec.build()), origin="test")
    before = _counts(kb)
    with pytest.raises(NotFoundError, match="nope"):
        optimize_table(lupus, kb, n_evaluations=1, warm_start="portfolio", portfolio="nope")
    assert _counts(kb) == before


def test_bad_optimize_settings_leave_the_file_unchanged(tmp_path, pmlb_dir) -> None:
    lupus = _table(pmlb_dir, "lupus")
    path = tmp_path / "kb.sqlite"
    with KnowledgeBase(path) as kb:
        kb.info()
    before = path.read_bytes()
    with KnowledgeBase(path) as kb:
        with pytest.raises(ConfigError, match="eta"):
            optimize_table(lupus, kb, n_evaluations=1, eta=1)
        with pytest.raises(ConfigError, match="timeout"):
            optimize_table(lupus, kb, n_evaluations=1, timeout=0)
    assert path.read_bytes() == before


# ---------------------------------------------------------------------- 3. build
@pytest.mark.parametrize(("kwargs", "match"), [
    ({"timeout": 0}, "--timeout must be > 0 seconds, got 0"),
    ({"timeout": -5.0}, "--timeout"),
    ({"memory_mb": -1}, "--memory-mb must be >= 0 MiB"),
])
def test_bad_build_limits_write_nothing(kb, pmlb_dir, kwargs, match) -> None:
    with pytest.raises(ConfigError, match=match):
        build_from_pmlb(kb, pmlb_dir, n_configs=2, datasets=TINY[:1], progress=False, **kwargs)
    assert sum(_counts(kb).values()) == 0


def test_build_refused_by_a_stored_space_of_another_definition_leaves_no_run(kb, pmlb_dir) -> None:
    spec = get_search_space("sklearn-cash")
    kb.add_space(spec.name, spec.version, '{"hyperparameters": []}', origin="test")  # same name, version
    before = _counts(kb)
    with pytest.raises(ConfigError, match="already stored with a different definition"):
        build_from_pmlb(kb, pmlb_dir, n_configs=2, datasets=TINY[:1], progress=False)
    assert _counts(kb) == before  # no run left behind as "interrupted"


def test_a_dataset_failing_registration_is_skipped(kb, pmlb_dir, monkeypatch) -> None:
    for name in TINY:
        if not (pmlb_dir / name).is_dir():
            pytest.skip(f"{name} not found")
    original = metakb.workflows.build.extract_meta_features

    def failing(table, *, seed=0):
        if table.name == TINY[0]:
            raise DataError(f"cannot extract meta-features of {table.name}: bad values")
        return original(table, seed=seed)

    monkeypatch.setattr(metakb.workflows.build, "extract_meta_features", failing)
    report = build_from_pmlb(kb, pmlb_dir, n_configs=2, datasets=TINY, meta_features_only=True, progress=False)
    assert report.datasets == 1
    assert report.failed_datasets == {TINY[0]: f"cannot extract meta-features of {TINY[0]}: bad values"}
    assert list(kb.datasets()["name"]) == [TINY[1]]  # the failed one left no row behind
    assert kb.check() == []
    assert kb.get_run(report.run_id)["status"] == "finished"


# ---------------------------------------------------------------------- 4. nas summaries
GENOTYPE = {"normal": [["sep_conv_3x3", 0], ["skip_connect", 1]], "normal_concat": [2],
            "reduce": [["max_pool_3x3", 0], ["max_pool_3x3", 1]], "reduce_concat": [2]}


def _summary(**last) -> dict:
    good = {"ways": 5, "shots": 1, "episodes": 10, "accuracy": 0.6, "ci95": 0.05}
    return {"method": "metanas", "genotype": GENOTYPE, "steps": 2, "device": "cpu", "train_seconds": 1.5,
            "evaluations": [good, {**good, "ways": 20, **last}]}


def test_summary_is_stored_whole(kb) -> None:
    ids = store_summary(kb, _summary(), origin="test")
    counts = _counts(kb)
    assert len(ids) == 2 and counts["architectures"] == 1 and counts["fewshot_results"] == 2


@pytest.mark.parametrize(("last", "match"), [
    ({"accuracy": None}, "evaluation 1 of the summary: accuracy must be a finite number; got None"),
    ({"ci95": float("nan")}, "ci95"),
    ({"ways": "20"}, "ways must be an int >= 1; got '20'"),
    ({"episodes": 0}, "episodes"),
])
def test_summary_with_a_bad_last_result_leaves_the_kb_unchanged(kb, last, match) -> None:
    with pytest.raises(ConfigError, match=match):
        store_summary(kb, _summary(**last), origin="test")
    assert sum(_counts(kb).values()) == 0


def test_summary_refused_by_the_store_part_way_leaves_the_kb_unchanged(kb, monkeypatch) -> None:
    original, calls = kb.add_fewshot_result, []

    def second_fails(**kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return original(**kwargs)

    monkeypatch.setattr(kb, "add_fewshot_result", second_fails)
    with pytest.raises(RuntimeError, match="disk full"):
        store_summary(kb, _summary(), origin="test")
    assert len(calls) == 2 and sum(_counts(kb).values()) == 0
