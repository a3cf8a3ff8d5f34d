"""``metakb nas``: in-process, tiny settings on the real Omniglot zips, results in the store."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from metakb.cli import main


@pytest.fixture(scope="module")
def omniglot(shared_data):
    folder = shared_data / "omniglot"
    if not folder.is_dir():
        pytest.skip(f"Omniglot not found at {folder}")
    return folder


def test_meta_train_evaluate_and_store(omniglot, tmp_path, capsys):
    db, out = tmp_path / "kb.sqlite", tmp_path / "run"
    cache = tmp_path / "omniglot28.npz"
    common = ["--data", str(omniglot), "--cache", str(cache), "--device", "cpu", "--db", str(db), "--json"]
    code = main(["nas", "meta-train", "--method", "reptile", "--steps", "1", "--meta-batch", "1", "--out", str(out),
                 "--ways", "3", "--episodes", "2", "--set", "channels=2", "inner_steps=1", "eval_steps=1", *common])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["evaluations"][0]["ways"] == 3 and len(summary["fewshot_result_ids"]) == 1
    assert (out / "checkpoint.pt").is_file() and (out / "config.json").is_file()
    code = main(["nas", "evaluate", "--checkpoint", str(out), "--eval", "4x1", "--episodes", "2", *common])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["evaluations"][0]["ways"] == 4

    from metakb.store import KnowledgeBase

    with KnowledgeBase(db) as kb:
        assert kb.info()["counts"]["fewshot_results"] == 2


def test_bad_arguments_exit_2(tmp_path, capsys):
    assert main(["nas", "meta-train", "--method", "reptile", "--steps", "0", "--out", str(tmp_path),
                 "--device", "cpu", "--no-store"]) == 2
    assert "--steps" in capsys.readouterr().err
    assert main(["nas", "evaluate", "--checkpoint", str(tmp_path / "none"), "--device", "cpu", "--no-store"]) == 2


def test_console_script_help():
    result = subprocess.run([sys.executable, "-m", "metakb.cli", "nas", "meta-train", "--help"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "--method" in result.stdout
