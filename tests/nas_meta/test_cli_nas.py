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


def test_paused_meta_train_resumes_and_stores_once(omniglot, tmp_path, capsys):
    db, out = tmp_path / "kb.sqlite", tmp_path / "run"
    common = ["--data", str(omniglot), "--cache", str(tmp_path / "omniglot28.npz"), "--device", "cpu",
              "--db", str(db), "--json"]
    train = ["nas", "meta-train", "--method", "fomaml", "--steps", "2", "--meta-batch", "1", "--out", str(out),
             "--ways", "3", "--episodes", "2", *common]
    settings = ["--set", "channels=2", "inner_steps=1", "eval_steps=1"]
    assert main([*train, *settings, "--stop-after", "1e-9"]) == 0  # pauses before its first meta-step
    paused = json.loads(capsys.readouterr().out)
    assert paused["paused"] and paused["steps_done"] == 0 and paused["evaluations"] == []
    assert (out / "optimizer.pt").is_file() and (out / "train_state.json").is_file() and not db.exists()
    assert main([*train, "--resume", *settings]) == 2  # a resumed run keeps its settings
    assert "--set" in capsys.readouterr().err
    changed = [a if a != "2" else "3" for a in train]  # --steps 3
    assert main([*changed, "--resume"]) == 2
    assert "steps 2 -> 3" in capsys.readouterr().err
    assert main([*train, "--resume", "--augment", "0.5"]) == 2  # the training images must not change either
    assert "augment 0.0 -> 0.5" in capsys.readouterr().err
    assert main([*train, "--resume"]) == 0
    done = json.loads(capsys.readouterr().out)
    assert not done["paused"] and done["steps_done"] == 2 and len(done["fewshot_result_ids"]) == 1
    assert done["params"]["channels"] == 2
    assert main([*train, "--resume"]) == 2  # finished: nothing to resume
    assert "not paused" in capsys.readouterr().err


def test_bad_arguments_exit_2(tmp_path, capsys):
    assert main(["nas", "meta-train", "--method", "reptile", "--steps", "0", "--out", str(tmp_path),
                 "--device", "cpu", "--no-store"]) == 2
    assert "--steps" in capsys.readouterr().err
    assert main(["nas", "meta-train", "--method", "reptile", "--steps", "1", "--out", str(tmp_path),
                 "--device", "cpu", "--no-store", "--augment", "2", "--cache", str(tmp_path / "none.npz"),
                 "--data", str(tmp_path)]) == 2
    assert "augment must be a strength in [0, 1]; got 2.0" in capsys.readouterr().err
    assert main(["nas", "evaluate", "--checkpoint", str(tmp_path / "none"), "--device", "cpu", "--no-store"]) == 2


def test_console_script_help():
    result = subprocess.run([sys.executable, "-m", "metakb.cli", "nas", "meta-train", "--help"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "--method" in result.stdout


def test_evaluate_gives_meta_trains_number_for_the_same_checkpoint(omniglot, tmp_path, capsys):
    """Issue 23, item 7: ``nas evaluate`` on meta-train's checkpoint, same episodes, no --seed,
    meets the same test episodes (meta-train's evaluation seed, from results.json), whatever
    the training seed was, and gives the same accuracy; another --seed gives other episodes."""
    out = tmp_path / "run"
    common = ["--data", str(omniglot), "--cache", str(tmp_path / "omniglot28.npz"), "--device", "cpu",
              "--no-store", "--json", "--ways", "3", "--episodes", "6"]
    assert main(["nas", "meta-train", "--method", "reptile", "--steps", "1", "--meta-batch", "1", "--out", str(out),
                 "--seed", "0", "--set", "channels=2", "inner_steps=1", "eval_steps=1", *common]) == 0
    trained = json.loads(capsys.readouterr().out)["evaluations"][0]
    assert main(["nas", "evaluate", "--checkpoint", str(out), *common]) == 0
    again = json.loads(capsys.readouterr().out)["evaluations"][0]
    assert again["eval_seed"] == trained["eval_seed"]
    assert again["accuracy"] == trained["accuracy"] and again["ci95"] == trained["ci95"]
    assert main(["nas", "evaluate", "--checkpoint", str(out), "--seed", "7", *common]) == 0
    assert json.loads(capsys.readouterr().out)["evaluations"][0]["eval_seed"] == 7
