"""The installed ``metakb`` console script end to end, in subprocesses, on real PMLB datasets."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from metakb.store import KnowledgeBase, latest_version, shipped_kb_path

KB_DATASETS = ["analcatdata_aids", "analcatdata_happiness", "confidence"]
KNN = {"classifier": "k_neighbors", "numeric_imputer": "mean", "scaler": "standard",
       "categorical_encoding": "one_hot", "k_neighbors:n_neighbors": 5, "k_neighbors:weights": "uniform",
       "k_neighbors:p": "2"}


def _command() -> list[str]:
    script = Path(sys.executable).with_name("metakb")
    return [str(script)] if script.exists() else [sys.executable, "-m", "metakb.cli"]


def metakb(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k != "METAKB_DB"}
    full_env.update(env or {})
    return subprocess.run([*_command(), *args], capture_output=True, text=True, env=full_env, cwd=cwd,
                          timeout=300)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, pmlb_dir) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    with gzip.open(pmlb_dir / "lupus" / "lupus.tsv.gz", "rb") as source:
        (folder / "lupus.tsv").write_bytes(source.read())
    return folder


@pytest.fixture(scope="module")
def built(workdir, pmlb_dir) -> tuple[Path, dict]:
    db = workdir / "kb.sqlite"
    done = metakb("build", "--db", str(db), "--pmlb", str(pmlb_dir.parent), "--configs", "3", "--datasets",
                  *KB_DATASETS, "--no-progress", "--json", cwd=workdir)
    assert done.returncode == 0, done.stderr
    return db, json.loads(done.stdout)


def test_build(built):
    _, report = built
    assert (report["datasets"], report["configurations"], report["evaluated"]) == (3, 3, 9)
    assert report["status_counts"] == {"ok": 9}


def test_db_info_json_through_the_environment(built, workdir):
    db, _ = built
    done = metakb("db", "info", "--json", env={"METAKB_DB": str(db)}, cwd=workdir)
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert info["path"] == str(db)
    assert info["schema_version"] == latest_version()
    assert info["counts"]["datasets"] == 3 and info["counts"]["evaluations"] == 9
    assert info["counts"]["meta_features"] > 3 * 10


def test_db_check(built, workdir):
    db, _ = built
    done = metakb("db", "check", "--db", str(db), cwd=workdir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "ok: no problems found"


def test_recommend_json(built, workdir):
    db, _ = built
    done = metakb("recommend", "lupus.tsv", "--target", "target", "-k", "3", "--json", "--db", str(db), cwd=workdir)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["dataset"] == "lupus"
    assert len(report["recommendations"]) == 3
    for rec in report["recommendations"]:
        assert rec["sources"] and {s["dataset"] for s in rec["sources"]} <= set(KB_DATASETS)
        assert all(0 <= s["score"] <= 1 for s in rec["sources"])


def test_run_json_stores_into_the_env_kb(built, workdir):
    db, _ = built
    done = metakb("run", "lupus.tsv", "--target", "target", "--config", json.dumps(KNN), "--json",
                  "--protocol", "holdout:0.33", env={"METAKB_DB": str(db)}, cwd=workdir)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["status"] == "ok" and out["stored"] is True and 0 <= out["value"] <= 1
    with KnowledgeBase(db) as kb:
        assert len(kb.evaluations(dataset="lupus")) == 1


def test_without_db_the_users_kb_is_created(tmp_path, workdir):
    home = tmp_path / "home"
    shipped = shipped_kb_path()
    before = _counts(shipped) if shipped.exists() else None
    done = metakb("db", "info", "--json", env={"METAKB_HOME": str(home)}, cwd=workdir)
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert info["path"] == str(home / "metakb.sqlite")
    assert (home / "metakb.sqlite").exists()
    if before is None:
        assert sum(info["counts"].values()) == 0
    else:  # seeded; the shipped file may be growing (a build in progress): its counts bracket the copy's
        after = _counts(shipped)
        assert all(before[t] <= n <= after[t] for t, n in info["counts"].items()), (before, info, after)
        assert info["counts"]["datasets"] > 0


def _counts(path: Path) -> dict[str, int]:
    with KnowledgeBase(path, readonly=True) as kb:
        return kb.info()["counts"]


def test_bad_input_exit_status_and_one_line(built, workdir):
    db, _ = built
    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    bad = workdir / "garbage.csv"
    bad.write_text("x,y\n" + "".join(f"{'oops' if i == 3 else i},{i % 2}\n" for i in range(30)))
    done = metakb("run", str(bad), "--target", "y", "--config", json.dumps(KNN), "--db", str(db), cwd=workdir)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert lines == ["metakb: error: column 'x' is numeric but has non-numeric values such as 'oops' (1 of 30); "
                     "fix them or mark them missing ('?' or empty)"]
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest
