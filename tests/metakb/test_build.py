"""``build_from_pmlb``: the full matrix, idempotent reruns, and resume after ``kill -9``."""

from __future__ import annotations

import math
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from metakb.build import DEFAULT_PROTOCOL, build_from_pmlb, register_space
from metakb.errors import ConfigError, DataError, SpaceError
from metakb.spaces import get_search_space
from metakb.store import KnowledgeBase

TINY = ["analcatdata_aids", "analcatdata_happiness", "confidence"]  # 50, 60 and 72 rows
REPO = Path(__file__).resolve().parents[2]


def _build(kb: KnowledgeBase, pmlb_dir: Path, n_configs: int, **kwargs):
    return build_from_pmlb(kb, pmlb_dir, n_configs=n_configs, datasets=TINY, progress=False, timeout=60,
                           **kwargs)


@pytest.fixture(scope="module")
def built(pmlb_dir, tmp_path_factory):
    """A file knowledge base after a build of 3 x 3, a rerun, and a rerun with 4 configurations."""
    path = tmp_path_factory.mktemp("build") / "kb.sqlite"
    with KnowledgeBase(path) as kb:
        first = _build(kb, pmlb_dir, 3)
        after_first = kb.evaluations()
        second = _build(kb, pmlb_dir, 3)
        after_second = kb.evaluations()
        third = _build(kb, pmlb_dir, 4)
        after_third = kb.evaluations()
    return {"path": path, "reports": (first, second, third), "frames": (after_first, after_second, after_third)}


def test_first_build_stores_the_full_matrix(built):
    report = built["reports"][0]
    assert (report.datasets, report.configurations, report.evaluated) == (3, 3, 9)
    assert report.skipped_existing == 0 and report.failed_datasets == {}
    assert sum(report.status_counts.values()) == 9
    frame = built["frames"][0]
    assert len(frame) == 9
    assert set(frame["dataset"]) == set(TINY)
    assert frame.groupby("dataset")["configuration_id"].nunique().tolist() == [3, 3, 3]
    assert set(frame["protocol"]) == {DEFAULT_PROTOCOL}
    assert set(frame["origin"]) == {f"build:{report.run_id}"} and set(frame["run_id"]) == {report.run_id}


def test_rerun_adds_nothing(built):
    first, second, _ = built["reports"]
    assert second.evaluated == 0 and second.skipped_existing == 9
    before, after = built["frames"][0], built["frames"][1]
    assert after[["id", "value", "created_at"]].equals(before[["id", "value", "created_at"]])


def test_more_configurations_evaluates_only_the_new_column(built):
    third = built["reports"][2]
    assert third.configurations == 4 and third.evaluated == 3 and third.skipped_existing == 9
    frame = built["frames"][2]
    assert len(frame) == 12
    assert not frame.duplicated(["dataset_id", "configuration_id"]).any()


def test_built_knowledge_base_is_sound(built):
    with KnowledgeBase(built["path"]) as kb:
        assert kb.check() == []  # includes: every dataset has meta-features
        matrix = kb.performance_matrix("sklearn-cash")
        assert matrix.shape == (3, 4)
        ok = kb.evaluations(status="ok")
        assert matrix.notna().sum().sum() == len(ok)
        for row in ok.itertuples():
            assert 0.0 <= row.value <= 1.0
            assert math.isclose(matrix.loc[row.dataset, row.configuration_id], row.value)
        labels = kb.configurations("sklearn-cash")["label"].tolist()
        assert labels == ["default:hist_gradient_boosting", "default:random_forest", "default:extra_trees",
                          "default:logistic_regression"]
        runs = kb.runs("build")
        assert len(runs) == 3 and set(runs["status"]) == {"finished"}
        state = kb.get_run(built["reports"][0].run_id)["state"]
        assert state["report"]["evaluated"] == 9
        assert len(kb.meta_feature_matrix()) == 3


def test_eval_seed_repeats_the_same_configurations_on_new_splits(pmlb_dir, tmp_path):
    with KnowledgeBase(tmp_path / "kb.sqlite") as kb:
        first = _build(kb, pmlb_dir, 3)
        repeat = _build(kb, pmlb_dir, 3, eval_seed=1)
        again = _build(kb, pmlb_dir, 3, eval_seed=1)
        frame = kb.evaluations()
        configs = kb.configurations("sklearn-cash")
        matrix = kb.performance_matrix("sklearn-cash")
        only_seed_1 = kb.performance_matrix("sklearn-cash", seed=1)
    assert (first.evaluated, repeat.evaluated, again.evaluated) == (9, 9, 0)
    assert len(configs) == 3  # the draws follow --seed, not --eval-seed: no new configuration
    assert sorted(frame["seed"].unique()) == [0, 1]
    pairs = frame.pivot_table(index=["dataset", "configuration_id"], columns="seed", values="value")
    assert len(pairs) == 9 and not np.allclose(pairs[0], pairs[1])  # new splits, new scores
    assert np.allclose(matrix.stack().sort_index().to_numpy(), pairs.mean(axis=1).sort_index().to_numpy())
    assert np.allclose(only_seed_1.stack().sort_index().to_numpy(), pairs[1].sort_index().to_numpy())


def test_build_configurations_are_reproducible():
    with KnowledgeBase() as a, KnowledgeBase() as b, KnowledgeBase() as c:
        _, ids_a = register_space(a, "sklearn-cash", 12, seed=0, origin="t")
        _, ids_b = register_space(b, "sklearn-cash", 12, seed=0, origin="t")
        _, ids_c = register_space(c, "sklearn-cash", 12, seed=1, origin="t")
        configs_a = [a.get_configuration(i) for i in ids_a]
        configs_b = [b.get_configuration(i) for i in ids_b]
        configs_c = [c.get_configuration(i) for i in ids_c]
    assert configs_a == configs_b
    assert configs_a[:7] == configs_c[:7] == list(get_search_space("sklearn-cash").defaults().values())
    assert configs_a[7:] != configs_c[7:]
    assert len({repr(sorted(x.items())) for x in configs_a}) == 12


def test_bad_build_arguments_write_nothing(pmlb_dir):
    with KnowledgeBase() as kb:
        with pytest.raises(DataError, match="nope"):
            build_from_pmlb(kb, pmlb_dir, datasets=["nope"], progress=False)
        with pytest.raises(ConfigError, match="max-datasets"):
            build_from_pmlb(kb, pmlb_dir, max_datasets=0, progress=False)
        with pytest.raises(ConfigError, match="protocol"):
            build_from_pmlb(kb, pmlb_dir, protocol="loo", progress=False)
        with pytest.raises(DataError, match="does not exist"):
            build_from_pmlb(kb, pmlb_dir / "absent", progress=False)
        assert sum(kb.info()["counts"].values()) == 0
        with pytest.raises(ConfigError, match="configs"):
            register_space(kb, "sklearn-cash", 0, seed=0, origin="t")
        with pytest.raises(SpaceError, match="unknown search space"):
            register_space(kb, "nope", 3, seed=0, origin="t")
        assert kb.info()["counts"]["configurations"] == 0


def test_meta_features_only(pmlb_dir):
    with KnowledgeBase() as kb:
        report = build_from_pmlb(kb, pmlb_dir, n_configs=2, datasets=TINY[:1], meta_features_only=True,
                                 progress=False)
        assert report.datasets == 1 and report.evaluated == 0
        assert kb.info()["counts"]["evaluations"] == 0
        assert kb.check() == []


# ---------------------------------------------------------------------- kill -9 and resume
KILLED_BUILD = textwrap.dedent("""
    import os, signal, sys
    import metakb.workflows.build

    original = metakb.workflows.build.build_from_pmlb

    def build_then_die(*args, **kwargs):
        # write every result at once, and die by SIGKILL after {kill_after} of them are stored
        def on_result(stored):
            if stored >= {kill_after}:
                os.kill(os.getpid(), signal.SIGKILL)
        return original(*args, **{{**kwargs, "batch_size": 1, "on_result": on_result}})

    metakb.workflows.build.build_from_pmlb = build_then_die  # the CLI imports it at call time
    from metakb.cli import main
    sys.exit(main(sys.argv[1:]))
""")


def _rows(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT id, dataset_id, configuration_id, status, value, created_at "
                            "FROM evaluations ORDER BY id").fetchall()
    conn.close()
    return rows


def test_resume_after_kill_9(pmlb_dir, tmp_path):
    """``metakb build`` killed by SIGKILL after 5 stored results; a rerun completes the matrix."""
    db = tmp_path / "kb.sqlite"
    args = ["build", "--db", str(db), "--pmlb", str(pmlb_dir), "--configs", "4", "--datasets", *TINY,
            "--no-progress", "--timeout", "60"]
    killed = subprocess.run([sys.executable, "-c", KILLED_BUILD.format(kill_after=5), *args],
                            capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    before = _rows(db)
    assert len(before) == 5  # stored before the kill, and committed
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT status FROM runs").fetchall() == [("running",)]  # it never finished
    conn.close()
    rerun = subprocess.run([sys.executable, "-m", "metakb.cli", *args, "--json"], capture_output=True,
                           text=True, cwd=tmp_path, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    after = _rows(db)
    assert len(after) == 12  # 3 datasets x 4 configurations
    assert after[:5] == before  # nothing lost or rewritten
    pairs = [(r[1], r[2]) for r in after]
    assert len(set(pairs)) == 12  # no duplicate (dataset, configuration)
    with KnowledgeBase(db) as kb:
        assert kb.performance_matrix("sklearn-cash").shape == (3, 4)
        assert kb.check() == []


@pytest.mark.slow
def test_resume_after_kill_9_of_the_console_script(pmlb_dir, tmp_path, metakb_script):
    """The installed ``metakb`` killed by SIGKILL as soon as results are stored (timing based)."""
    script = metakb_script
    db = tmp_path / "kb.sqlite"
    names = ["analcatdata_aids", "analcatdata_happiness", "confidence", "lupus", "appendicitis", "iris",
             "tae", "hayes_roth", "glass2", "prnn_crabs", "glass", "sonar"]
    args = ["build", "--db", str(db), "--pmlb", str(pmlb_dir), "--configs", "7", "--datasets", *names,
            "--no-progress", "--timeout", "60"]
    process = subprocess.Popen([str(script), *args], cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    stored = 0
    while time.monotonic() < deadline and process.poll() is None:
        if db.exists():
            try:
                stored = len(_rows(db))
            except sqlite3.OperationalError:
                stored = 0
        if stored:
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.2)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the build finished before it could be killed"
    before = _rows(db)
    assert 0 < len(before) < len(names) * 7
    rerun = subprocess.run([str(script), *args], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    after = _rows(db)
    assert len(after) == len(names) * 7
    assert after[:len(before)] == before
    assert len({(r[1], r[2]) for r in after}) == len(after)


def test_build_on_a_dask_local_cluster_matches_the_local_executor(pmlb_dir):
    """``--executor dask`` fills the same matrix as local worker processes, with the same values."""
    pytest.importorskip("distributed")
    with KnowledgeBase() as local, KnowledgeBase() as dask:
        kwargs = dict(n_configs=2, datasets=TINY[:2], jobs=2, progress=False, with_meta_features=False,
                      protocol="holdout:0.33")
        build_from_pmlb(local, pmlb_dir, **kwargs)
        report = build_from_pmlb(dask, pmlb_dir, executor="dask", **kwargs)
        assert report.evaluated == 4 and report.status_counts == {"ok": 4}
        a = local.performance_matrix("sklearn-cash").sort_index()
        b = dask.performance_matrix("sklearn-cash").sort_index()
        assert np.allclose(a.to_numpy(), b.to_numpy())


def test_unknown_executor_is_refused_before_any_write(pmlb_dir):
    with KnowledgeBase() as kb:
        with pytest.raises(ConfigError, match="executor"):
            build_from_pmlb(kb, pmlb_dir, n_configs=2, datasets=TINY[:1], executor="ray", progress=False)
        assert kb.info()["counts"]["runs"] == 0
