"""``optimize``'s warm start seeds each BOHB budget from the knowledge base's evaluations at that
budget (learning curves), and falls back to the full-budget prior where there are none."""

from __future__ import annotations

import shutil

import pytest

from metakb.data import load_pmlb
from metakb.errors import ConfigError
from metakb.optimizers import restore
from metakb.store import KnowledgeBase
from metakb.workflows.optimize import budget_priors_from_kb, optimize_table

BUDGETS = [1 / 9, 1 / 3, 1.0]


def _kb_with_curves(kb: KnowledgeBase, low_budget: float | None) -> dict[int, dict]:
    """Three datasets, three configurations: at ``low_budget`` config 'a' is best, at the full
    budget config 'c' is best."""
    space = kb.add_space("s", "1", "{}", origin="t")
    ids = kb.add_configurations(space, [{"m": "a"}, {"m": "b"}, {"m": "c"}], origin="t")
    rows = []
    for d in ("d1", "d2", "d3"):
        dataset = kb.add_dataset(d, f"h{d}", source="file", origin="t")
        for i, cid in enumerate(ids):
            cells = [(1.0, 0.5 + 0.1 * i)] + ([(low_budget, 0.7 - 0.1 * i)] if low_budget else [])
            rows += [{"dataset_id": dataset, "configuration_id": cid, "budget": b, "protocol": "cv:3", "seed": 0,
                      "metric": "balanced_accuracy", "value": v, "status": "ok", "origin": "t"} for b, v in cells]
    kb.add_evaluations(rows)
    return {cid: kb.get_configuration(cid) for cid in ids}


def _best(prior) -> str:
    return min(prior, key=lambda t: t[1])[0]["m"]


def test_each_budget_gets_the_prior_of_its_evaluations(kb):
    configs = _kb_with_curves(kb, 3 ** -2)  # stored at 1/9 computed another way
    full = [(configs[3], 0.0, 1.0), (configs[1], 1.0, 1.0)]
    prior = budget_priors_from_kb(kb, "s", "balanced_accuracy", BUDGETS, full, ["d1", "d2", "d3"], configs, True)
    assert isinstance(prior, dict) and list(prior) == BUDGETS
    assert _best(prior[1 / 9]) == "a" and len(prior[1 / 9]) == 9
    assert prior[1 / 3] is full and prior[1.0] is full  # no evaluations at 1/3: the full budget's prior
    only_two = budget_priors_from_kb(kb, "s", "balanced_accuracy", BUDGETS, full, ["d1", "d2"], configs, True)
    assert len(only_two[1 / 9]) == 6  # an excluded dataset never seeds a budget


def test_without_learning_curves_the_prior_is_the_full_budget_one(kb):
    configs = _kb_with_curves(kb, None)
    full = [(configs[3], 0.0, 1.0), (configs[1], 1.0, 1.0)]
    assert budget_priors_from_kb(kb, "s", "balanced_accuracy", BUDGETS, full, ["d1"], configs, True) is full


def test_optimize_passes_per_budget_priors_to_bohb(pmlb_dir, tmp_path):
    """A tiny build with learning curves, then warm-started BOHB on one of its datasets left out."""
    from metakb.build import build_from_pmlb

    path = tmp_path / "kb.sqlite"
    names = ["analcatdata_aids", "analcatdata_happiness", "confidence"]
    with KnowledgeBase(path) as kb:
        build_from_pmlb(kb, pmlb_dir, n_configs=3, datasets=names, progress=False, budgets="1/9,1/3,1")
    table = load_pmlb(pmlb_dir / "confidence")
    settings = {}
    for mode in ("each", "full"):
        copy = tmp_path / f"{mode}.sqlite"
        shutil.copy(path, copy)
        with KnowledgeBase(copy) as kb:
            report = optimize_table(table, kb, n_evaluations=1, warm_start="knn", n_initial=2, budget_priors=mode,
                                    exclude_datasets=["confidence"], seed=0)
            run = kb.get_run(report.run_id)
        assert run["settings"]["budget_priors"] == mode
        settings[mode] = run["state"]["settings"]["prior_observations"]
        opt = restore(run["state"])
        low, full = opt.prior_for(1 / 9), opt.prior_for(1.0)
        assert (low is not full) if mode == "each" else (low is full)
    by_budget = dict((b, p) for b, p in settings["each"]["by_budget"])
    assert sorted(by_budget) == BUDGETS and "by_budget" not in settings["full"]
    assert len(by_budget[1 / 9]["points"]) == 2 * 3  # two source datasets x three configurations


def test_bad_budget_priors_is_refused(kb):
    with pytest.raises(ConfigError, match="budget_priors"):
        optimize_table(None, kb, n_evaluations=1, budget_priors="some")
