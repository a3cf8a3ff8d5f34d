"""Runs own every cell they evaluated, and a run whose process is gone is reported stale."""

from __future__ import annotations

import json
import subprocess
import sys

from metakb.store import KnowledgeBase


def _run_of_a_dead_process(path, kind: str) -> str:
    """A run created by a process that then exits without marking it (as after ``kill -9``)."""
    code = ("from metakb.store import KnowledgeBase;"
            f"kb = KnowledgeBase({str(path)!r});"
            f"print(kb.create_run({kind!r}, {{}}, origin='test'))")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_two_runs_evaluating_the_same_cell_both_own_it(store, h):
    space, d = h.add_space(store), h.add_dataset(store)
    c1 = store.add_configuration(space, {"a": 1}, origin="t")
    c2 = store.add_configuration(space, {"a": 2}, origin="t")
    first = store.create_run("optimize", {}, origin="test")
    second = store.create_run("optimize", {}, origin="test")
    assert store.add_evaluations([h.evaluation(d, c1, run_id=first)]) == 1
    # the same cell again (another run, same seed) and one cell of its own
    assert store.add_evaluations([h.evaluation(d, c1, run_id=second),
                                  h.evaluation(d, c2, run_id=second)]) == 1
    assert len(store.evaluations()) == 2  # one row per cell
    assert sorted(store.evaluations(run_id=first)["configuration_id"]) == [c1]
    assert sorted(store.evaluations(run_id=second)["configuration_id"]) == [c1, c2]
    keys = store.evaluated_keys(protocol="holdout:0.33", metric="balanced_accuracy", run_id=second)
    assert keys == {(d, c1, 1.0, 0), (d, c2, 1.0, 0)}
    # the row itself keeps the run that wrote it first
    row = store.evaluations(run_id=second).set_index("configuration_id").loc[c1]
    assert row["run_id"] == first


def test_a_live_run_is_not_stale_and_a_killed_one_is(tmp_path):
    path = tmp_path / "kb.sqlite"
    with KnowledgeBase(path) as kb:
        live = kb.create_run("optimize", {}, origin="test")
        assert kb.stale_runs() == []
    # a run created by a process that then dies without marking it (kill -9)
    dead = _run_of_a_dead_process(path, "optimize")
    with KnowledgeBase(path) as kb:
        stale = kb.stale_runs()
        assert [r["id"] for r in stale] == [dead]
        assert "is gone" in stale[0]["why"]
        assert any(dead in problem for problem in kb.check())
        assert live not in {r["id"] for r in stale}
        kb.update_run(dead, status="interrupted")
        assert kb.stale_runs() == []


def test_a_silent_run_of_another_machine_goes_stale_after_max_age(store):
    run = store.create_run("optimize", {}, origin="test")
    store._conn.execute("UPDATE runs SET owner = ?, heartbeat_at = ? WHERE id = ?",
                        (json.dumps({"host": "elsewhere", "pid": 1}), "2026-01-01T00:00:00Z", run))
    assert [r["id"] for r in store.stale_runs()] == [run]
    store.heartbeat(run)
    assert store.stale_runs() == []
    assert store.stale_runs(max_age=-1)  # any age is too old


def test_a_new_run_marks_the_stale_ones_of_its_kind_interrupted(tmp_path):
    path = tmp_path / "kb.sqlite"
    dead = _run_of_a_dead_process(path, "build")
    with KnowledgeBase(path) as kb:
        assert kb.interrupt_stale_runs("optimize") == []  # another kind: left alone
        assert kb.interrupt_stale_runs("build") == [dead]
        assert kb.get_run(dead)["status"] == "interrupted" and kb.check() == []


def test_a_build_beats_while_it_evaluates(tmp_path, pmlb_dir, monkeypatch):
    """A long build is not taken for a dead one: it has a heartbeat, as optimize has (a build
    without one was reported stale by `db check` after ten minutes, and the next build or
    optimize on the same file would have marked it interrupted while it ran)."""
    import time

    import metakb.workflows.build as build
    from metakb.workflows._runs import RunClock
    from metakb.workflows.build import build_from_pmlb

    beats: list[str] = []

    class FastClock(RunClock):
        def __init__(self, kb, run_id, spent, interval=60.0):
            super().__init__(kb, run_id, spent, interval=0.05)

        def _beat(self) -> None:
            while not self._stop.wait(self.interval):
                self.kb.heartbeat(self.run_id)
                beats.append(self.run_id)

    monkeypatch.setattr(build, "RunClock", FastClock)
    with KnowledgeBase(tmp_path / "kb.sqlite") as kb:
        start = time.monotonic()
        report = build_from_pmlb(kb, pmlb_dir, n_configs=2, datasets=["analcatdata_aids"], progress=False)
        assert time.monotonic() - start > 0.05  # long enough for a beat (worker start-up alone takes seconds)
        assert beats and set(beats) == {report.run_id}
        assert kb.get_run(report.run_id)["status"] == "finished"
        assert kb.stale_runs() == []
