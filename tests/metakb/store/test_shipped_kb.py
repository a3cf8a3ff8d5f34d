"""The shipped default knowledge base: complete, current, readable read-only, never written."""

from __future__ import annotations

import shutil
from pathlib import Path

from metakb.cli import main
from metakb.store import KnowledgeBase, latest_version, shipped_kb_path
from metakb.warmstart import SiameseWarmStarter

SHIPPED = shipped_kb_path()


def test_shipped_file_is_there() -> None:
    # committed to git: a missing file is a broken checkout or install, not a reason to skip
    assert SHIPPED.is_file(), f"no shipped knowledge base at {SHIPPED}"


def test_shipped_file_uses_a_rollback_journal() -> None:
    # Bytes 18 and 19 of an SQLite header are 1 for rollback journals and 2 for WAL: a WAL
    # file cannot be read from a read-only install without its -shm file.
    header = SHIPPED.read_bytes()[:20]
    assert header[:16] == b"SQLite format 3\x00"
    assert (header[18], header[19]) == (1, 1), "run PRAGMA journal_mode=DELETE on the shipped file"


def test_shipped_kb_holds_the_full_matrix_and_its_models() -> None:
    with KnowledgeBase(SHIPPED, readonly=True) as kb:
        info = kb.info()
        counts = info["counts"]
        # current, or lacking only additive migrations (new tables, read as empty; #24 item 3)
        assert info["schema_version"] + len(info["pending_migrations"]) == latest_version()
        assert counts["datasets"] >= 100 and counts["configurations"] >= 64
        matrix = kb.performance_matrix("sklearn-cash", metric="balanced_accuracy")
        assert len(matrix) >= 100 and matrix.shape[1] >= 64
        assert matrix.notna().to_numpy().mean() > 0.999  # only recorded timeouts may be missing
        features = kb.meta_feature_matrix()
        assert len(features) == counts["datasets"] and features.shape[1] >= 300
        portfolio = kb.get_portfolio("sklearn-cash-greedy-32")
        members = [m["configuration_id"] for m in portfolio["members"]]
        assert len(members) == len(set(members)) == 32
        assert set(members) <= {int(c) for c in matrix.columns}
        embedding = kb.get_embedding("siamese:sklearn-cash:balanced_accuracy")
        assert embedding["kind"] == "siamese"
        model = SiameseWarmStarter.from_state(embedding["state"], embedding["settings"])  # loadable, JSON weights
        assert set(embedding["settings"]["datasets"]) <= set(features.index)
        assert model.get_params()["embedding_dim"] == embedding["settings"]["params"]["embedding_dim"]


def test_every_space_of_the_shipped_kb_is_a_full_matrix_over_its_task_type() -> None:
    """Each space's matrix covers every dataset of its task type with every configuration at
    every budget it has (a dataset registered without its row would be a half-built matrix),
    and no dataset is scored in a space of the other task type (#22: the regression rows beside
    the classification ones); both spaces have the learning curves (#24)."""
    from metakb.spaces import space_task

    with KnowledgeBase(SHIPPED, readonly=True) as kb:
        info = kb.info()
        assert {s["name"] for s in info["spaces"]} >= {"sklearn-cash", "sklearn-cash-regression"}
        configs = {s["name"]: s["configurations"] for s in info["spaces"]}
        for name, metric in (("sklearn-cash", "balanced_accuracy"), ("sklearn-cash-regression", "r2")):
            task = space_task(name)
            of_task = set(kb.datasets(task_type=task)["name"])
            assert len(of_task) >= 100, name
            budgets = 0  # learning curves (#24): a budget the space has is full too
            for budget in (b["budget"] for b in info["budgets"]):
                matrix = kb.performance_matrix(name, metric=metric, budget=budget, floor=False)
                if matrix.empty and budget < 1.0:
                    continue
                budgets += 1
                assert set(matrix.index) == of_task and matrix.shape[1] == configs[name], (name, budget)
                assert matrix.notna().to_numpy().mean() > 0.99, (name, budget)  # only recorded failures missing
            assert budgets == 3, name  # both spaces ship their learning curves: 1/9, 1/3 and 1
            assert info["tasks"][task]["evaluations"] == len(of_task) * configs[name] * budgets, name
        assert sum(t["evaluations"] for t in info["tasks"].values()) == info["counts"]["evaluations"]


def test_read_only_commands_leave_the_file_byte_identical(tmp_path: Path) -> None:
    copy = tmp_path / "metakb-default.sqlite"
    shutil.copy(SHIPPED, copy)
    before = copy.read_bytes()
    assert main(["db", "info", "--db", str(copy)]) == 0
    assert main(["db", "check", "--db", str(copy)]) == 0
    assert main(["portfolio", "show", "sklearn-cash-greedy-32", "--db", str(copy)]) == 0
    assert copy.read_bytes() == before
    assert not (tmp_path / "metakb-default.sqlite-wal").exists()
