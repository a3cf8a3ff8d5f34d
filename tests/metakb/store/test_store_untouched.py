"""Reading a knowledge base, or a write that is refused, leaves its file byte-identical (#23 item 15).

Before, every writable open switched the file to the WAL journal, which rewrites header bytes
18-19 (and the shipped file is in rollback mode): ``db info`` or a refused ``run`` changed it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from metakb.cli import main
from metakb.errors import ConfigError
from metakb.store import KnowledgeBase, shipped_kb_path

KNN = {"classifier": "k_neighbors", "numeric_imputer": "mean", "scaler": "standard",
       "categorical_encoding": "one_hot", "k_neighbors:n_neighbors": 5, "k_neighbors:weights": "uniform",
       "k_neighbors:p": "2"}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def kb_copy(tmp_path) -> Path:
    shipped = shipped_kb_path()
    if not shipped.exists():
        pytest.skip(f"no shipped knowledge base at {shipped}")
    copy = tmp_path / "kb.sqlite"
    shutil.copyfile(shipped, copy)
    assert copy.read_bytes()[18:20] == b"\x01\x01"  # rollback journal: a WAL switch would show
    return copy


def test_db_info_and_readonly_open_leave_the_file_identical(kb_copy, capsys):
    before = _sha(kb_copy)
    assert main(["db", "info", "--db", str(kb_copy)]) == 0
    assert "evaluations" in capsys.readouterr().out
    with KnowledgeBase(kb_copy, readonly=True) as kb:
        kb.info()
    assert _sha(kb_copy) == before


def test_writable_open_without_a_write_leaves_the_file_identical(kb_copy):
    before = _sha(kb_copy)
    with KnowledgeBase(kb_copy) as kb:
        kb.datasets()
        with pytest.raises(ConfigError):  # refused before anything is written
            kb.add_evaluations([{"dataset_id": 1}])
    assert _sha(kb_copy) == before


def test_first_write_switches_to_wal(kb_copy):
    with KnowledgeBase(kb_copy) as kb:
        kb.create_run("test", {}, origin="test")
        assert kb.connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert kb_copy.read_bytes()[18:20] == b"\x02\x02"


def test_recommend_and_a_refused_run_leave_the_file_identical(kb_copy, pmlb_dir, capsys):
    data = pmlb_dir / "breast_w" / "breast_w.tsv.gz"
    before = _sha(kb_copy)
    assert main(["recommend", str(data), "--target", "target", "-k", "3", "--db", str(kb_copy)]) == 0
    assert "configuration" in capsys.readouterr().out
    assert _sha(kb_copy) == before
    code = main(["run", str(data), "--target", "target", "--config", json.dumps(KNN),
                 "--space", "no-such-space", "--db", str(kb_copy)])
    assert code != 0
    assert _sha(kb_copy) == before
