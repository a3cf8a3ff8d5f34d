"""Every bad input of issue 2: exit status != 0, one line on stderr naming it, the KB unchanged.

The commands run in process (``metakb.cli.main``); ``test_cli_subprocess.py`` checks a few of
the same cases through the installed console script.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from metakb.cli import main
from metakb.store import KnowledgeBase, latest_version

KNN = {"classifier": "k_neighbors", "numeric_imputer": "mean", "scaler": "standard",
       "categorical_encoding": "one_hot", "k_neighbors:n_neighbors": 5, "k_neighbors:weights": "uniform",
       "k_neighbors:p": "2"}
GOOD_ROWS = "".join(f"{i},{i % 3},{'a' if i % 2 else 'b'}\n" for i in range(30))


def _write(name: str, text: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_text(text)
        return path
    return make


def _garbage(folder: Path) -> Path:
    rows = [f"{i / 10},{'a' if i % 2 else 'b'}" for i in range(30)]
    rows[12] = "twelve,a"
    path = folder / "garbage.csv"
    path.write_text("x,y\n" + "\n".join(rows) + "\n")
    return path


# name -> (make the data file, target, words the error line must contain)
BAD_DATA = {
    "missing file": (lambda folder: folder / "absent.csv", "y", ["absent.csv", "does not exist"]),
    "empty file": (_write("empty.csv", ""), "y", ["empty.csv", "empty"]),
    "header only": (_write("header.csv", "x,z,y\n"), "y", ["header but no rows"]),
    "unknown target": (_write("good.csv", "x,z,y\n" + GOOD_ROWS), "label", ["'label'", "not found", "'x'", "'y'"]),
    "single class": (_write("one.csv", "x,y\n" + "".join(f"{i},a\n" for i in range(20))), "y", ["single class"]),
    "all-NaN target": (_write("nan.csv", "x,y\n" + "".join(f"{i},?\n" for i in range(20))), "y", ["all missing"]),
    "duplicate columns": (_write("dup.csv", "x,x,y\n" + GOOD_ROWS), "y", ["duplicate column names", "'x'"]),
    "garbage in numeric": (_garbage, "y", ["'x'", "non-numeric", "'twelve'"]),
}


@pytest.fixture()
def kb_file(tmp_path) -> Path:
    """A small valid knowledge base file (one dataset, one configuration, one evaluation)."""
    path = tmp_path / "kb.sqlite"
    with KnowledgeBase(path) as kb:
        d = kb.add_dataset("d", "h", source="file", origin="t")
        s = kb.add_space("sklearn-cash", "1", "{}", origin="t")
        c = kb.add_configuration(s, KNN, origin="t")
        kb.add_evaluations([{"dataset_id": d, "configuration_id": c, "budget": 1.0, "protocol": "holdout:0.33",
                             "seed": 0, "metric": "balanced_accuracy", "status": "ok", "value": 0.5,
                             "origin": "t"}])
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _siblings(path: Path) -> list[str]:
    """The files beside ``path`` that SQLite may create (journal, WAL, shared memory)."""
    return sorted(p.name for p in path.parent.glob(path.name + "-*"))


def _one_error_line(capsys, words: list[str]) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    line = lines[0]
    assert line.startswith("metakb: error: ")
    for word in words:
        assert word in line, (word, line)
    return line


def _commands(data: Path, target: str, db: Path) -> dict[str, list[str]]:
    return {
        "recommend": ["recommend", str(data), "--target", target, "--db", str(db)],
        "run": ["run", str(data), "--target", target, "--config", json.dumps(KNN), "--db", str(db)],
    }


@pytest.mark.parametrize("command", ["recommend", "run"])
@pytest.mark.parametrize("case", sorted(BAD_DATA))
def test_bad_data_file(tmp_path, kb_file, capsys, case, command):
    make, target, words = BAD_DATA[case]
    data = make(tmp_path)
    before = _digest(kb_file)
    code = main(_commands(data, target, kb_file)[command])
    assert code != 0
    _one_error_line(capsys, words)
    assert _digest(kb_file) == before


def _not_sqlite(folder: Path) -> Path:
    path = folder / "notes.sqlite"
    path.write_text("these are my notes, not a database\n" * 20)
    return path


def _newer(folder: Path) -> Path:
    path = folder / "future.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE datasets (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO datasets (name) VALUES ('future')")
        conn.execute(f"PRAGMA user_version = {latest_version() + 1}")
    conn.close()
    return path


def _logical(path: Path) -> tuple:
    with sqlite3.connect(path) as conn:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        rows = {t: conn.execute(f"SELECT * FROM {t}").fetchall() for t in tables}
    conn.close()
    return version, rows


@pytest.mark.parametrize("command", ["db info", "db check", "recommend", "run", "build"])
def test_db_that_is_not_sqlite(tmp_path, capsys, command):
    db = _not_sqlite(tmp_path)
    before = db.read_bytes()
    data = _write("good.csv", "x,z,y\n" + GOOD_ROWS)(tmp_path)
    argv = {
        "db info": ["db", "info", "--db", str(db)],
        "db check": ["db", "check", "--db", str(db)],
        "recommend": ["recommend", str(data), "--target", "y", "--db", str(db)],
        "run": ["run", str(data), "--target", "y", "--config", json.dumps(KNN), "--db", str(db)],
        "build": ["build", "--pmlb", str(tmp_path), "--db", str(db)],
    }[command]
    assert main(argv) != 0
    _one_error_line(capsys, ["notes.sqlite", "not an SQLite"])
    assert db.read_bytes() == before


@pytest.mark.parametrize("command", ["db info", "recommend", "run"])
def test_db_of_a_newer_schema(tmp_path, capsys, command):
    db = _newer(tmp_path)
    before, files = _digest(db), _siblings(db)
    data = _write("good.csv", "x,z,y\n" + GOOD_ROWS)(tmp_path)
    argv = {
        "db info": ["db", "info", "--db", str(db)],
        "recommend": ["recommend", str(data), "--target", "y", "--db", str(db)],
        "run": ["run", str(data), "--target", "y", "--config", json.dumps(KNN), "--db", str(db)],
    }[command]
    assert main(argv) != 0
    _one_error_line(capsys, ["future.sqlite", f"schema version {latest_version() + 1}", "upgrade metakb"])
    assert _digest(db) == before, "refusing a newer file changed its bytes"
    assert _siblings(db) == files, "refusing a newer file left -wal/-shm files behind"


@pytest.mark.parametrize("command", ["build", "run", "recommend"])
def test_unknown_space(tmp_path, kb_file, capsys, command, pmlb_dir):
    before = _digest(kb_file)
    data = _write("good.csv", "x,z,y\n" + GOOD_ROWS)(tmp_path)
    argv = {
        "build": ["build", "--pmlb", str(pmlb_dir), "--datasets", "lupus", "--space", "no-such-space",
                  "--no-progress", "--db", str(kb_file)],
        "run": ["run", str(data), "--target", "y", "--config", json.dumps(KNN), "--space", "no-such-space",
                "--db", str(kb_file)],
        "recommend": ["recommend", str(data), "--target", "y", "--space", "no-such-space", "--db", str(kb_file)],
    }[command]
    assert main(argv) != 0
    _one_error_line(capsys, ["'no-such-space'"])
    assert _digest(kb_file) == before


@pytest.mark.parametrize("bad", [["--space", "no-such-space"], ["--configs", "0"]])
def test_refused_build_leaves_the_kb_unchanged(kb_file, capsys, pmlb_dir, bad):
    before = _logical(kb_file)
    assert main(["build", "--pmlb", str(pmlb_dir), "--datasets", "lupus", *bad, "--no-progress",
                 "--db", str(kb_file)]) != 0
    assert _logical(kb_file) == before


BAD_CONFIGS = {
    "malformed JSON": ('{"classifier": "k_neighbors",', ["configuration JSON is not valid JSON", "line 1"]),
    "not an object": ("[1, 2]", ["JSON object", "list"]),
    "missing config file": ("@/no/such/config.json", ["/no/such/config.json", "does not exist"]),
    "unknown hyperparameter": (json.dumps({**KNN, "k_neighbors:leaf_size": 30}), ["unknown hyperparameters",
                                                                                   "k_neighbors:leaf_size"]),
    # (a configuration that leaves an active hyperparameter out takes its default since #23 item 11;
    # one that sets a hyperparameter its model does not have is still refused)
    "inactive hyperparameter": (json.dumps({**KNN, "svc:C": 1.0}), ["not valid", "svc:C"]),
    "out of range": (json.dumps({**KNN, "k_neighbors:n_neighbors": 1000}), ["not valid"]),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_configuration(tmp_path, kb_file, capsys, case):
    text, words = BAD_CONFIGS[case]
    data = _write("good.csv", "x,z,y\n" + GOOD_ROWS)(tmp_path)
    before = _digest(kb_file)
    assert main(["run", str(data), "--target", "y", "--config", text, "--db", str(kb_file)]) != 0
    _one_error_line(capsys, words)
    assert _digest(kb_file) == before


@pytest.mark.parametrize(("argv", "words"), [
    (["build", "--pmlb", "/no/such/pmlb"], ["/no/such/pmlb", "does not exist"]),
    (["build", "--pmlb", "{pmlb}", "--datasets", "no_such_dataset"], ["no_such_dataset"]),
    (["build", "--pmlb", "{pmlb}", "--configs", "0", "--datasets", "lupus"], ["configs", "0"]),
    (["build", "--pmlb", "{pmlb}", "--protocol", "kfold", "--datasets", "lupus"], ["protocol", "'kfold'"]),
    (["run", "{data}", "--target", "y", "--config", json.dumps(KNN), "--budget", "2"], ["budget", "2"]),
    (["run", "{data}", "--target", "y", "--config", json.dumps(KNN), "--protocol", "cv:1"], ["folds"]),
    (["recommend", "{data}", "--target", "y", "-k", "0"], ["'k'", "Got 0"]),
])
def test_other_bad_arguments(tmp_path, kb_file, capsys, pmlb_dir, argv, words):
    data = _write("good.csv", "x,z,y\n" + GOOD_ROWS)(tmp_path)
    argv = [a.replace("{pmlb}", str(pmlb_dir)).replace("{data}", str(data)) for a in argv] + ["--db", str(kb_file)]
    before = _logical(kb_file)
    assert main(argv) != 0
    _one_error_line(capsys, words)
    assert _logical(kb_file) == before


@pytest.mark.parametrize("command", ["run", "optimize", "build"])
def test_refused_command_leaves_no_new_empty_kb(tmp_path, capsys, pmlb_dir, command):
    """A writing command refused after opening a new ``--db`` file removes that file again."""
    db = tmp_path / "new.sqlite"
    data = _write("good.csv", "x,z,y\n" + GOOD_ROWS)(tmp_path)
    argv = {
        "run": ["run", str(data), "--target", "y", "--config", json.dumps(KNN), "--timeout", "0"],
        "optimize": ["optimize", str(data), "--target", "y", "--n-evaluations", "0"],
        "build": ["build", "--pmlb", str(pmlb_dir), "--datasets", "no_such_dataset", "--no-progress"],
    }[command]
    assert main([*argv, "--db", str(db)]) != 0
    _one_error_line(capsys, [])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.csv"]


def test_kb_that_received_data_is_kept_when_a_later_step_fails(tmp_path, capsys, monkeypatch):
    """Only an empty new file is removed: one holding results (a stopped build) stays to resume."""
    from metakb.cli import _common
    from metakb.errors import ConfigError

    db = tmp_path / "new.sqlite"

    class Args:
        pass

    args = Args()
    args.db = str(db)
    with pytest.raises(ConfigError), _common.open_from_args(args) as kb:
        kb.add_dataset("d", "h", source="file", origin="t")
        raise ConfigError("a later step failed")
    with KnowledgeBase(db, readonly=True) as kb:
        assert kb.info()["counts"]["datasets"] == 1
