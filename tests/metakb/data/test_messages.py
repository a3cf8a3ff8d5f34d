"""Messages a new user met (issue #23 item 13): compression by content, too few rows refused up
front, plain labels in messages, the flag to pass, the command that trains a missing model,
values that start with '-'."""

from __future__ import annotations

import bz2
import gzip
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from metakb.cli import main
from metakb.data import load_table, table_from_frame
from metakb.errors import ConfigError, DataError, NotFoundError
from metakb.store import KnowledgeBase

CSV = "a,b,target\n" + "".join(f"{i},{i % 3},{'x' if i % 2 else 'y'}\n" for i in range(12))
REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("name, pack", [("data.csv", gzip.compress), ("data.csv", bz2.compress),
                                        ("data.tsv", gzip.compress), ("data.csv.gz", gzip.compress)])
def test_compression_is_detected_by_content(tmp_path, name, pack):
    text = CSV.replace(",", "\t") if name.startswith("data.tsv") else CSV
    path = tmp_path / name
    path.write_bytes(pack(text.encode()))
    table = load_table(path, "target")
    assert list(table.X.columns) == ["a", "b"] and table.n_rows == 12


def test_zip_and_wrongly_named_gz_are_one_line(tmp_path):
    archive = tmp_path / "data.csv"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("inner.csv", CSV)
    with pytest.raises(DataError, match=r"data\.csv is a zip archive, not a table; unzip it") as info:
        load_table(archive, "target")
    assert "\n" not in str(info.value)
    plain = tmp_path / "data.csv.gz"
    plain.write_text(CSV)
    with pytest.raises(DataError, match=r"name ends in \.gz but its content is not compressed"):
        load_table(plain, "target")


def test_single_class_message_shows_the_label_plainly():
    frame = pd.DataFrame({"a": range(12), "target": ["only"] * 12})
    with pytest.raises(DataError) as info:
        table_from_frame(frame, "target", name="t")
    assert "('only')" in str(info.value) and "np.str_" not in str(info.value)


def _default_config() -> dict:
    from metakb.spaces import get_search_space

    return dict(get_search_space("sklearn-cash").build().get_default_configuration())


def test_two_rows_are_refused_before_anything_runs_or_is_stored(kb):
    from metakb.run import run_configuration

    table = table_from_frame(pd.DataFrame({"a": [1, 2], "target": ["x", "y"]}), "target", name="two")
    before = kb.info()["counts"]
    with pytest.raises(DataError, match=r"two has 2 rows; protocol cv:3:max_rows=1500 needs at least 3"):
        run_configuration(table, _default_config(), kb=kb)
    assert kb.info()["counts"] == before


def test_two_rows_on_the_command_line(tmp_path, capsys):
    import json

    data = tmp_path / "two.csv"
    data.write_text("a,b,target\n1,2,x\n3,4,y\n")
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps(_default_config()))
    db = tmp_path / "kb.sqlite"
    for argv in (["run", str(data), "--target", "target", "--config", f"@{config}"],
                 ["optimize", str(data), "--target", "target", "--n-evaluations", "2"]):
        assert main([*argv, "--db", str(db)]) == 2
        captured = capsys.readouterr()
        assert captured.err.startswith("metakb: error: two has 2 rows") and captured.err.count("\n") == 1
        assert "crashed" not in captured.out
        if db.exists():
            with KnowledgeBase(db) as store:
                assert store.info()["counts"]["evaluations"] == 0


def test_rows_needed_by_protocol():
    from metakb.data._tables import rows_needed
    from metakb.evaluation import Protocol

    assert rows_needed(Protocol.parse("cv:3")) == 3
    assert rows_needed(Protocol.parse("cv:10")) == 10
    assert rows_needed(Protocol.parse("cv:2")) == 4  # half the rows train: 2 need 4
    assert rows_needed(Protocol.parse("holdout:0.33")) == 3
    assert rows_needed(Protocol.parse("holdout:0.5")) == 4


def test_existing_portfolio_names_the_flag(kb):
    space_id = kb.add_space("s", "1", "{}", origin="test")
    ids = kb.add_configurations(space_id, [{"x": 1}], origin="test")
    kb.save_portfolio("p", space_id, [(ids[0], 0.1)], datasets=[], settings={}, origin="test")
    with pytest.raises(ConfigError, match=r"pass --replace"):
        kb.save_portfolio("p", space_id, [(ids[0], 0.1)], datasets=[], settings={}, origin="test")


def test_missing_siamese_model_names_the_command(tmp_path):
    from metakb.warmstart import load_warm_starter

    shipped = REPO / "db" / "metakb-default.sqlite"
    if not shipped.is_file():
        pytest.skip(f"shipped knowledge base not found at {shipped}")
    path = tmp_path / "kb.sqlite"
    shutil.copy(shipped, path)
    with KnowledgeBase(path) as kb, pytest.raises(NotFoundError) as info:
        load_warm_starter(kb, "siamese", "sklearn-cash", name="not-trained")
    assert ("`metakb warmstart train-siamese --space sklearn-cash --metric balanced_accuracy "
            "--name not-trained`") in str(info.value)


def test_values_that_start_with_dash_and_a_digit_reach_their_option(tmp_path, capsys):
    from metakb.cli._common import attach_dash_values

    assert attach_dash_values(["optimize", "d.csv", "--time-budget", "-5s"]) == \
        ["optimize", "d.csv", "--time-budget=-5s"]
    # argparse's own negative numbers, '=' forms, short options and words are left alone
    for argv in (["--seed", "-5"], ["--x=-5s"], ["-h"], ["--json", "-0.5"], ["--", "--a", "-5s"]):
        assert attach_dash_values(argv) == argv
    data = tmp_path / "d.csv"
    data.write_text(CSV)
    assert main(["optimize", str(data), "--target", "target", "--time-budget", "-5s",
                 "--db", str(tmp_path / "kb.sqlite")]) == 2
    err = capsys.readouterr().err
    assert err == "metakb: error: --time-budget must look like 90s, 10m or 1h (> 0); got '-5s'\n"
