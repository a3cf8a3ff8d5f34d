"""Bad inputs that used to give raw tracebacks: each is one ``metakb: error:`` line, exit status 2.

Covered: a malformed ``--protocol`` number, +-inf in a numeric data column, ``--config @FILE``
that is a folder or not UTF-8, ``portfolio export --output`` into a missing folder, and OpenML
``--timeout``/``--suite``/measure values that are out of range or would leave the cache folder
(bad ASlib files: ``tests/metakb/data/test_aslib_import.py``). No test touches the network.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from metakb.cli import main
from metakb.errors import ConfigError, DataError

KNN = {"classifier": "k_neighbors", "numeric_imputer": "mean", "scaler": "standard",
       "categorical_encoding": "one_hot", "k_neighbors:n_neighbors": 5, "k_neighbors:weights": "uniform",
       "k_neighbors:p": "2"}
GOOD_ROWS = "".join(f"{i},{i % 3},{'a' if i % 2 else 'b'}\n" for i in range(30))


def _one_error_line(capsys, words: list[str]) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    line = lines[0]
    assert line.startswith("metakb: error: "), line
    for word in words:
        assert word in line, (word, line)
    return line


def _good_csv(folder: Path) -> Path:
    path = folder / "good.csv"
    path.write_text("x,z,y\n" + GOOD_ROWS)
    return path


def _run(data: Path, db: Path, *extra: str, config: str | None = None) -> list[str]:
    return ["run", str(data), "--target", "y", "--config", config or json.dumps(KNN), "--db", str(db), *extra]


# ---------------------------------------------------------------- 1. --protocol with a malformed number
@pytest.mark.parametrize("text", ["cv:1.2.3", "holdout:.", "holdout:0.3.", "cv:" + "9" * 400])
def test_malformed_protocol_number_is_one_line(tmp_path, capsys, text):
    code = main(_run(_good_csv(tmp_path), tmp_path / "kb.sqlite", "--protocol", text))
    assert code == 2
    line = _one_error_line(capsys, ["protocol" if len(text) < 50 else "CV folds"])
    if len(text) < 50:
        assert repr(text) in line and "'holdout:0.33'" in line and "'cv:5" in line


def test_protocol_still_parses_the_good_forms():
    from metakb.evaluation import Protocol

    assert Protocol.parse("holdout:.33").param == pytest.approx(0.33)
    assert Protocol.parse("cv:5.").key() == "cv:5"
    assert Protocol.parse("cv:5:max_rows=100").max_rows == 100
    with pytest.raises(ConfigError, match="'cv:1.2.3'"):
        Protocol.parse("cv:1.2.3")


# ---------------------------------------------------------------- 2. +-inf in a numeric column
@pytest.mark.parametrize("values, first", [(["inf", "-inf", "1e400"], "'inf'"), (["1e400"], "'1e400'"),
                                           (["-Infinity"], "'-Infinity'")])
def test_infinite_values_in_a_numeric_column_are_refused(tmp_path, capsys, values, first):
    rows = [f"{i / 10},{'a' if i % 2 else 'b'}" for i in range(30)]
    for k, value in enumerate(values):
        rows[5 + k] = f"{value},a"
    data = tmp_path / "inf.csv"
    data.write_text("x,y\n" + "\n".join(rows) + "\n")
    assert main(_run(data, tmp_path / "kb.sqlite")) == 2
    _one_error_line(capsys, ["'x'", "infinite", first, f"({len(values)} of 30)"])


def test_infinite_values_in_a_numeric_frame_are_refused():
    import numpy as np
    import pandas as pd

    from metakb.data import table_from_frame

    frame = pd.DataFrame({"a": [1.0, np.inf, 3.0, 4.0] * 5, "y": ["p", "q"] * 10})
    with pytest.raises(DataError, match=r"column 'a' .* infinite values such as inf \(5 of 20\)"):
        table_from_frame(frame, "y", name="t")


# ---------------------------------------------------------------- 3. --config @DIR or @non-UTF-8
def test_config_file_that_is_a_directory(tmp_path, capsys):
    folder = tmp_path / "configs"
    folder.mkdir()
    assert main(_run(_good_csv(tmp_path), tmp_path / "kb.sqlite", config=f"@{folder}")) == 2
    _one_error_line(capsys, [str(folder), "is a directory"])


def test_config_file_that_is_not_utf8(tmp_path, capsys):
    path = tmp_path / "config.json"
    path.write_bytes(b'{"classifier": "k_neighbors\xff"}')
    assert main(_run(_good_csv(tmp_path), tmp_path / "kb.sqlite", config=f"@{path}")) == 2
    _one_error_line(capsys, [str(path), "not UTF-8"])


# ---------------------------------------------------------------- 4. portfolio export --output
def _toy_space_json() -> str:
    from ConfigSpace import ConfigurationSpace, Float

    space = ConfigurationSpace(name="toy")
    space.add([Float("x", (0.0, 1.0))])
    buffer = io.StringIO()
    space.to_json(buffer)
    return buffer.getvalue()


@pytest.fixture()
def portfolio_db(tmp_path, capsys) -> str:
    from metakb.store import KnowledgeBase

    path = tmp_path / "kb.sqlite"
    with KnowledgeBase(path) as kb:
        space_id = kb.add_space("toy", "1", _toy_space_json(), origin="test")
        configs = kb.add_configurations(space_id, [{"x": i / 4} for i in range(3)], origin="test")
        records = []
        for d in range(2):
            did = kb.add_dataset(f"d{d}", f"hash{d}", source="test", origin="test")
            records += [{"dataset_id": did, "configuration_id": cid, "budget": 1.0, "protocol": "holdout",
                         "seed": 0, "metric": "balanced_accuracy", "higher_is_better": True,
                         "value": 0.5 + 0.1 * ((c + d) % 3), "status": "ok", "origin": "test"}
                        for c, cid in enumerate(configs)]
        kb.add_evaluations(records)
    assert main(["portfolio", "build", "--space", "toy", "--size", "2", "--name", "P", "--db", str(path)]) == 0
    capsys.readouterr()
    return str(path)


def test_export_into_a_missing_folder_is_one_line(tmp_path, capsys, portfolio_db):
    target = tmp_path / "no" / "such" / "p.json"
    assert main(["portfolio", "export", "P", "--db", portfolio_db, "-o", str(target)]) == 2
    _one_error_line(capsys, [str(target), "does not exist"])
    assert not target.parent.exists()


def test_export_onto_a_directory_is_one_line(tmp_path, capsys, portfolio_db):
    assert main(["portfolio", "export", "P", "--db", portfolio_db, "--output", str(tmp_path)]) == 2
    _one_error_line(capsys, [str(tmp_path), "is a directory"])


# ---------------------------------------------------------------- 6. OpenML --timeout, --suite, measure
@pytest.mark.parametrize("timeout", ["-5", "0", "nan", "inf"])
def test_openml_timeout_must_be_positive(tmp_path, capsys, no_network, timeout):
    argv = ["import", "openml", "--tasks", "1882", "--flow", "60", "--cache-dir", str(tmp_path / "cache"),
            "--timeout", timeout, "--db", str(tmp_path / "kb.sqlite")]
    assert main(argv) == 2
    _one_error_line(capsys, ["timeout", "> 0", timeout])
    assert no_network == []


@pytest.mark.parametrize("suite", ["../../x", "a/b", "..", ".hidden", "99 "])
def test_openml_suite_must_be_a_simple_token(tmp_path, capsys, no_network, suite):
    cache = tmp_path / "cache"
    argv = ["import", "openml", "--suite", suite, "--flow", "60", "--cache-dir", str(cache),
            "--db", str(tmp_path / "kb.sqlite")]
    assert main(argv) == 2
    _one_error_line(capsys, ["benchmark suite", repr(suite)])
    assert no_network == []
    assert not (tmp_path / "x").exists()


def test_openml_measure_must_be_a_simple_token(tmp_path, no_network):
    from metakb.data._openml_client import OpenMLClient

    client = OpenMLClient(cache_dir=tmp_path / "cache")
    with pytest.raises(ConfigError, match=r"OpenML measure .* got '\.\./\.\./x'"):
        client.evaluations(60, 1882, "../../x")
    assert no_network == []
