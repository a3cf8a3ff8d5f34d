"""OptimizerState: JSON round trips, and resuming a run killed mid-way (a real subprocess)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from metakb.errors import ConfigError
from metakb.optimizers import BOHB, OptimizerState, RandomSearch, restore


def test_state_round_trip_with_pending_trials(cond_space, cond_loss) -> None:
    init = [{"kind": "knn", "size": "large"}]
    prior = [({"kind": "linear", "alpha": 0.01, "size": "medium"}, 0.0, 2.0),
             ({"kind": "tree", "depth": 3, "size": "small"}, 1.0, 1.0)]
    opt = BOHB(cond_space, 1, 9, initial_configs=init, prior_observations=prior, seed=4)
    opt.optimize(cond_loss, n_evaluations=40, progress=False)
    in_flight = [opt.suggest() for _ in range(5)]
    text = json.dumps(opt.state().to_dict())  # plain JSON
    clone = restore(json.loads(text))
    assert isinstance(clone, BOHB) and clone.history == opt.history
    again = [clone.suggest() for _ in range(5)]
    assert [(t.trial_id, t.config, t.budget) for t in again] == \
        [(t.trial_id, t.config, t.budget) for t in in_flight]
    for t in reversed(in_flight):
        opt.observe(t.trial_id, cond_loss(t.config, t.budget))
        clone.observe(t.trial_id, cond_loss(t.config, t.budget))
    assert clone.state().extra == opt.state().extra  # same brackets, queues
    nxt = clone.suggest()
    assert nxt.trial_id == opt.suggest().trial_id


def test_random_search_round_trip(cond_space, cond_loss) -> None:
    opt = RandomSearch(cond_space, budget=3, seed=1)
    opt.optimize(cond_loss, n_evaluations=5, progress=False)
    clone = restore(opt.state())
    assert clone.suggest().config == opt.suggest().config  # the generator state travels too


def test_state_validation() -> None:
    state = {"kind": "Nope", "settings": {}, "rng": {}, "next_trial_id": 0, "history": [],
             "pending": []}
    with pytest.raises(ConfigError, match="Nope"):
        restore(state)
    with pytest.raises(ConfigError, match="version"):
        OptimizerState.from_dict({**state, "version": 99})


_SCRIPT = textwrap.dedent("""
    import json, os, sys, time
    from pathlib import Path
    import ConfigSpace as CS
    from metakb.optimizers import BOHB, restore

    state_path, log_path, total = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    space = CS.ConfigurationSpace()
    space.add([CS.UniformFloatHyperparameter("x", 0, 1),
               CS.CategoricalHyperparameter("c", ["a", "b"])])

    def objective(config, budget):
        with open(log_path, "a") as f:
            f.write(json.dumps([config, budget], sort_keys=True) + "\\n")
        time.sleep(0.02)
        return (config["x"] - 0.4) ** 2 + (config["c"] == "b") + 1 / budget

    def save(opt, result):
        tmp = state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(opt.state().to_dict()))
        os.replace(tmp, state_path)

    if state_path.exists():
        opt = restore(json.loads(state_path.read_text()))
    else:
        opt = BOHB(space, 1, 9, seed=11)
    opt.optimize(objective, n_evaluations=total - len(opt.history), callback=save,
                 progress=False)
    print("finished", len(opt.history))
""")


def test_resume_after_kill_repeats_no_finished_evaluation(tmp_path: Path) -> None:
    script, state, log = tmp_path / "run.py", tmp_path / "state.json", tmp_path / "evals.log"
    script.write_text(_SCRIPT)
    total = 60
    args = [sys.executable, str(script), str(state), str(log), str(total)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if state.exists() and len(json.loads(state.read_text())["history"]) >= 20:
            break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    at_kill = json.loads(state.read_text())
    n_done = len(at_kill["history"])
    assert 20 <= n_done < total, "the run should be killed mid-way"
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    final = json.loads(state.read_text())
    assert len(final["history"]) == total
    assert len({r["trial_id"] for r in final["history"]}) == total
    assert final["history"][:n_done] == at_kill["history"]
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    for r in at_kill["history"]:  # every evaluation finished before the kill ran exactly once
        assert calls.count([r["config"], r["budget"]]) == 1, r
    # At most the one evaluation in flight at the kill (or finished but unsaved) ran twice.
    assert total <= len(calls) <= total + 1
