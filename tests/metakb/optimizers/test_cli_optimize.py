"""``metakb optimize``: in process on a small real dataset, with resume; argument validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from metakb.cli import main
from metakb.cli.optimize import parse_duration
from metakb.errors import ConfigError


def test_parse_duration() -> None:
    assert parse_duration("90") == 90 and parse_duration("10m") == 600
    assert parse_duration("1.5h") == 5400 and parse_duration("30s") == 30
    for bad in ("", "10 minutes", "-5m", "0s"):
        with pytest.raises(ConfigError, match="time-budget"):
            parse_duration(bad)


@pytest.mark.slow  # two worker-process start-ups: ~15 s on 2 shared cores
def test_optimize_stores_evaluations_and_resumes(pmlb_dir: Path, tmp_path: Path, capsys) -> None:
    data = pmlb_dir / "breast_cancer" / "breast_cancer.tsv.gz"
    if not data.exists():
        pytest.skip(f"{data} not found")
    db = tmp_path / "kb.sqlite"
    args = [str(data), "--target", "target", "--time-budget", "2m", "--db", str(db), "--json",
            "--protocol", "holdout:0.33:max_rows=300"]
    assert main(["optimize", *args, "--n-evaluations", "4"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["n_evaluations"] == 4 and first["best_config"]
    # a resumed run's limits are totals: 6 in all, so 2 more
    assert main(["optimize", *args, "--n-evaluations", "6", "--resume", first["run_id"]]) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["run_id"] == first["run_id"] and second["n_evaluations"] == 6

    from metakb.store import KnowledgeBase

    with KnowledgeBase(db) as kb:
        rows = kb.evaluations(dataset="breast_cancer")
        assert len(rows) == 6 and set(rows["run_id"]) == {first["run_id"]}
        run = kb.get_run(first["run_id"])
        assert run["status"] == "finished" and len(run["state"]["history"]) == 6


@pytest.mark.slow  # starts a Dask LocalCluster of worker processes
def test_optimize_on_dask_workers(pmlb_dir: Path, tmp_path: Path, capsys) -> None:
    data = pmlb_dir / "breast_cancer" / "breast_cancer.tsv.gz"
    if not data.exists():
        pytest.skip(f"{data} not found")
    assert main(["optimize", str(data), "--target", "target", "--time-budget", "3m",
                 "--n-evaluations", "4", "--workers", "2", "--db", str(tmp_path / "kb.sqlite"),
                 "--protocol", "holdout:0.33:max_rows=300", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n_evaluations"] == 4


def test_optimize_argument_errors(tmp_path: Path, capsys) -> None:
    assert main(["optimize", "--db", str(tmp_path / "kb.sqlite")]) == 2
    assert "DATA is required" in capsys.readouterr().err
    missing = tmp_path / "x.csv"
    missing.write_text("a,target\n1,0\n2,1\n")
    assert main(["optimize", str(missing), "--target", "target", "--workers", "0",
                 "--db", str(tmp_path / "kb.sqlite")]) == 2
    assert "--workers" in capsys.readouterr().err


def test_resume_alone_continues_to_the_runs_own_limits(pmlb_dir: Path, tmp_path: Path,
                                                       capsys) -> None:
    """A run started with --n-evaluations 3 and killed after 2 continues to 3, from its own
    file, when resumed with nothing but its id; resuming a finished run evaluates nothing."""
    import sqlite3

    data = pmlb_dir / "appendicitis" / "appendicitis.tsv.gz"
    if not data.exists():
        pytest.skip(f"{data} not found")
    db = tmp_path / "kb.sqlite"
    assert main(["optimize", str(data), "--target", "target", "--n-evaluations", "2",
                 "--protocol", "holdout:0.33:max_rows=100", "--db", str(db), "--json"]) == 0
    run_id = json.loads(capsys.readouterr().out)["run_id"]
    with sqlite3.connect(db) as conn:  # as if it had been started with 3 and killed after 2
        settings = json.loads(conn.execute("SELECT settings FROM runs WHERE id = ?",
                                           (run_id,)).fetchone()[0])
        assert settings["limits"] == {"n_evaluations": 2, "time_budget": None}
        settings["limits"]["n_evaluations"] = 3
        conn.execute("UPDATE runs SET settings = ?, status = 'interrupted' WHERE id = ?",
                     (json.dumps(settings), run_id))
    assert main(["optimize", "--resume", run_id, "--db", str(db), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_evaluations"] == 3
    assert main(["optimize", "--resume", run_id, "--db", str(db), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_evaluations"] == 3  # its limit is reached

    from metakb.store import KnowledgeBase

    with KnowledgeBase(db) as kb:
        assert len(kb.evaluations(run_id=run_id)) == 3
        run = kb.get_run(run_id)
        assert run["status"] == "finished" and run["elapsed_seconds"] > 0


def test_a_live_running_run_is_not_resumed(tmp_path: Path, capsys) -> None:
    from metakb.store import KnowledgeBase

    db = tmp_path / "kb.sqlite"
    with KnowledgeBase(db) as kb:
        run_id = kb.create_run("optimize", {"limits": {"n_evaluations": 3}}, origin="test")
        kb.update_run(run_id, state={"x": 1})
    assert main(["optimize", "--resume", run_id, "--db", str(db)]) == 2
    assert "does not record its data file" in capsys.readouterr().err
