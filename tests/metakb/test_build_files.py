"""``metakb build --data``: the matrix over a user's own tables (issue #24 item 4), with the
same resumable, idempotent protocol as a PMLB build; bad input refused before any write."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metakb.cli import main
from metakb.errors import ConfigError, SpaceError
from metakb.store import KnowledgeBase
from metakb.workflows.build import build_from_files, data_files

NAMES = ["alpha", "beta", "gamma"]


def _frame(seed: int, n: int = 60, regression: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n).round(4), rng.normal(size=n).round(4)
    colour = rng.choice(["red", "green", "blue"], n)
    signal = x1 + (colour == "red") + 0.3 * rng.normal(size=n)
    label = signal.round(3) + 0.5 if regression else np.where(signal > 0.5, "yes", "no")
    return pd.DataFrame({"x1": x1, "x2": x2, "colour": colour, "label": label})


def _tables(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    _frame(0).to_csv(folder / "alpha.csv", index=False)
    _frame(1).to_csv(folder / "beta.tsv", index=False, sep="\t")
    _frame(2).to_parquet(folder / "gamma.parquet")
    (folder / "README.txt").write_text("not a table: a directory contributes only its data files\n")
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A build of 3 files x 3 configurations through the CLI, then the same command again."""
    root = tmp_path_factory.mktemp("own")
    folder = _tables(root / "tables")
    db = root / "kb.sqlite"
    argv = ["build", "--data", str(folder), "--target", "label", "--configs", "3", "--db", str(db),
            "--no-progress", "--timeout", "60"]
    first = main(argv)
    with KnowledgeBase(db, readonly=True) as kb:
        before = kb.evaluations()
    with KnowledgeBase(db) as kb:
        rerun = build_from_files(kb, folder, "label", n_configs=3, progress=False, timeout=60)
        after = kb.evaluations()
        runs = kb.runs("build")
        settings = kb.get_run(str(runs["id"].iloc[-1]))["settings"]
        datasets = kb.datasets()
        signatures = kb.dataset_signatures()
    return {"first": first, "rerun": rerun, "before": before, "after": after, "settings": settings,
            "datasets": datasets, "signatures": signatures, "db": db, "folder": folder}


def test_a_directory_of_own_tables_is_built(built):
    assert built["first"] == 0
    before = built["before"]
    assert len(before) == 9 and set(before["dataset"]) == set(NAMES)
    assert before.groupby("dataset")["configuration_id"].nunique().tolist() == [3, 3, 3]
    assert set(built["datasets"]["source"]) == {"file"} and set(built["datasets"]["target"]) == {"label"}
    assert len(built["signatures"]) == 3  # registered with their near-duplicate signatures
    assert built["settings"]["target"] == "label" and len(built["settings"]["data"]) == 3
    assert built["settings"]["space"] == "sklearn-cash"  # the files' task picked the space


def test_the_rerun_skips_everything(built):
    rerun = built["rerun"]
    assert (rerun.datasets, rerun.configurations, rerun.evaluated, rerun.skipped_existing) == (3, 3, 0, 9)
    assert built["after"][["id", "value", "created_at"]].equals(built["before"][["id", "value", "created_at"]])


def test_data_files_of_a_directory():
    folder = Path(__file__).parent  # no data files here
    with pytest.raises(Exception, match="holds no data files"):
        data_files(folder)


def test_pmlb_with_data_is_refused_with_one_line(tmp_path, capsys, pmlb_dir):
    db = tmp_path / "kb.sqlite"
    folder = _tables(tmp_path / "tables")
    code = main(["build", "--pmlb", str(pmlb_dir), "--data", str(folder), "--target", "label", "--db", str(db)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--pmlb and --data are mutually exclusive" in err
    assert main(["build", "--data", str(folder), "--db", str(db)]) == 2
    assert "--data needs --target" in capsys.readouterr().err
    assert main(["build", "--pmlb", str(pmlb_dir), "--target", "label", "--db", str(db)]) == 2
    assert "--target applies to --data" in capsys.readouterr().err
    assert not db.exists()


def test_a_file_of_the_other_task_is_refused_before_any_write(tmp_path, capsys):
    folder = _tables(tmp_path / "tables")
    _frame(3, regression=True).to_csv(folder / "delta.csv", index=False)
    db = tmp_path / "kb.sqlite"
    with KnowledgeBase(db) as kb:
        with pytest.raises(SpaceError, match="delta"):
            build_from_files(kb, folder, "label", space="sklearn-cash", n_configs=3, progress=False)
        with pytest.raises(ConfigError, match="both task types"):
            build_from_files(kb, folder, "label", n_configs=3, progress=False)
        assert kb.info()["counts"]["runs"] == 0 and kb.info()["counts"]["datasets"] == 0
    db.unlink()
    code = main(["build", "--data", str(folder), "--target", "label", "--space", "sklearn-cash",
                 "--db", str(db), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "delta" in err
    assert not db.exists()
