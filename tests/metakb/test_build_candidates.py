"""``build --candidates bohb`` and ``--budgets``: tuned candidates with their provenance, the full
matrix at every budget, resumable reruns, and bad input refused with the file unchanged."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from metakb.build import build_from_pmlb
from metakb.cli import main
from metakb.errors import ConfigError
from metakb.optimizers import Result
from metakb.store import KnowledgeBase
from metakb.workflows.build import check_budgets, parse_budgets
from metakb.workflows.candidates import CANDIDATE_KIND, CandidateSearch, incumbents

TINY = ["analcatdata_aids", "analcatdata_happiness", "confidence"]  # 50, 60 and 72 rows
BUDGETS = (1 / 9, 1 / 3, 1.0)


def _build(kb: KnowledgeBase, pmlb_dir: Path):
    return build_from_pmlb(kb, pmlb_dir, n_configs=2, datasets=TINY, progress=False, timeout=60, budgets="1/9,1/3,1",
                           candidates="bohb", search=CandidateSearch(n_evaluations=5, incumbents=1, seed=0))


@pytest.fixture(scope="module")
def built(pmlb_dir, tmp_path_factory):
    path = tmp_path_factory.mktemp("candidates") / "kb.sqlite"
    with KnowledgeBase(path) as kb:
        first = _build(kb, pmlb_dir)
        second = _build(kb, pmlb_dir)
    return {"path": path, "reports": (first, second)}


def test_each_search_adds_its_incumbent_with_its_provenance(built):
    first = built["reports"][0]
    assert (first.searches, first.searches_reused, first.search_evaluations) == (3, 0, 15)
    with KnowledgeBase(built["path"], readonly=True) as kb:
        sources = kb.configuration_sources("sklearn-cash")
        configs = kb.configurations("sklearn-cash")
        assert kb.check() == []
    assert sorted(sources["dataset"]) == sorted(TINY)  # one incumbent per dataset searched
    assert set(sources["kind"]) == {CANDIDATE_KIND} and set(sources["rank"]) == {1}
    assert set(sources["run_id"]) == {first.run_id}
    for row in sources.itertuples():
        settings = json.loads(row.settings)
        assert settings["n_evaluations"] == 5 and settings["seed"] == 0 and settings["optimizer"] == "BOHB"
        assert settings["protocol"] == "cv:3:max_rows=1500" and isinstance(settings["search_seed"], int)
        assert configs.loc[row.configuration_id, "label"].startswith("tuned:")
    # each dataset's BOHB has its own seed: the searches do not all start from the same draws
    assert len({json.loads(s)["search_seed"] for s in sources["settings"]}) == 3
    assert first.candidates == sources["configuration_id"].nunique()
    assert first.configurations == 2 + first.candidates


def test_the_matrix_is_full_at_every_budget(built):
    first = built["reports"][0]
    n = first.configurations
    assert first.evaluated == 3 * n * 3 and first.budgets == list(BUDGETS)
    with KnowledgeBase(built["path"], readonly=True) as kb:
        frame = kb.evaluations()
        for budget in (1 / 9, 3 ** -2, 1 / 3, 1):
            matrix = kb.performance_matrix("sklearn-cash", budget=budget)
            assert matrix.shape == (3, n)
            ok = frame[(frame["status"] == "ok") & ((frame["budget"] - budget).abs() < 1e-12)]
            assert matrix.notna().sum().sum() == len(ok)
        candidates = set(kb.configuration_sources("sklearn-cash")["configuration_id"])
    assert sorted(frame["budget"].unique()) == list(BUDGETS)  # three budgets, stored canonically
    cells = frame.groupby(["dataset_id", "budget"])["configuration_id"].apply(set)
    assert len(cells) == 9 and all(candidates <= c for c in cells)


def test_rerun_repeats_no_search_and_no_cell(built):
    first, second = built["reports"]
    assert (second.searches, second.searches_reused, second.search_evaluations) == (0, 3, 0)
    assert second.evaluated == 0 and second.skipped_existing == first.evaluated
    assert second.candidates == first.candidates


def test_a_configuration_found_twice_is_one_row_with_both_provenances(kb):
    space_id = kb.add_space("s", "1", "{}", origin="t")
    a = kb.add_dataset("a", "ha", source="file", origin="t")
    b = kb.add_dataset("b", "hb", source="file", origin="t")
    config = {"model": "x", "c": 1.0}
    rows = []
    for dataset, seed in ((a, 1), (b, 2)):
        [cid] = kb.add_configurations(space_id, [config], origin="t", labels=["tuned:x"])
        rows.append({"configuration_id": cid, "dataset_id": dataset, "kind": CANDIDATE_KIND, "rank": 1,
                     "loss": -0.9, "budget": 1.0, "settings": {"seed": seed}, "origin": "t"})
    assert kb.add_configuration_sources(rows) == 2
    assert kb.add_configuration_sources(rows) == 0  # the same searches again: nothing new
    assert len(kb.configurations(space_id)) == 1
    assert sorted(kb.configuration_sources(space_id)["dataset"]) == ["a", "b"]
    with pytest.raises(ConfigError, match="rank"):
        kb.add_configuration_sources([{**rows[0], "rank": 0}])


def test_incumbents_are_the_best_distinct_configurations_of_the_largest_budget():
    history = [Result(0, {"a": 1}, 1.0, 0.5), Result(1, {"a": 2}, 1 / 3, 0.1), Result(2, {"a": 3}, 1.0, 0.2),
               Result(3, {"a": 3}, 1.0, 0.3), Result(4, {"a": 4}, 1.0, float("inf"))]
    assert [r.config for r in incumbents(history, 2)] == [{"a": 3}, {"a": 1}]
    assert [r.config for r in incumbents(history, 4)] == [{"a": 3}, {"a": 1}, {"a": 2}]
    assert incumbents([Result(0, {"a": 1}, 1.0, float("inf"))], 1) == []


def test_budgets_are_parsed_and_checked():
    assert parse_budgets("1/9, 1/3,1") == (1 / 9, 1 / 3, 1.0)
    assert parse_budgets("0.5,1,1/2") == (0.5, 1.0)
    assert check_budgets([3 ** -2, 1]) == (1 / 9, 1.0)
    for bad in ("2", "abc", "0", "", "1/0", "-1/3"):
        with pytest.raises(ConfigError, match="--budgets"):
            parse_budgets(bad)
    with pytest.raises(ConfigError, match="--budgets"):
        check_budgets([])


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(("argv", "words"), [
    (["--candidates", "bohb", "--per-dataset-evaluations", "0"], ["--per-dataset-evaluations", "[1, inf)", "0"]),
    (["--candidates", "bohb", "--incumbents", "-1"], ["--incumbents", "[1, inf)", "-1"]),
    (["--budgets", "2"], ["--budgets", "(0, 1]", "'2'"]),
    (["--budgets", "abc"], ["--budgets", "(0, 1]", "'abc'"]),
    (["--per-dataset-evaluations", "5"], ["--per-dataset-evaluations", "--candidates bohb"]),
])
def test_bad_input_is_one_line_exit_2_and_the_file_unchanged(built, pmlb_dir, tmp_path, capsys, argv, words):
    path = tmp_path / "kb.sqlite"
    shutil.copy(built["path"], path)
    before = _sha(path)
    code = main(["build", "--db", str(path), "--pmlb", str(pmlb_dir), "--datasets", *TINY, "--no-progress", *argv])
    assert code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("metakb: error: ")
    assert all(w in lines[0] for w in words), lines[0]
    assert _sha(path) == before
    fresh = tmp_path / "new.sqlite"
    assert main(["build", "--db", str(fresh), "--pmlb", str(pmlb_dir), "--no-progress", *argv]) == 2
    assert not fresh.exists()


def test_merge_copies_the_provenance_once(built, tmp_path):
    from metakb.workflows.merge import merge_knowledge_base

    with KnowledgeBase(tmp_path / "merged.sqlite") as kb:
        first = merge_knowledge_base(kb, built["path"])
        again = merge_knowledge_base(kb, built["path"])
        merged = kb.configuration_sources("sklearn-cash")
    with KnowledgeBase(built["path"], readonly=True) as source:
        original = source.configuration_sources("sklearn-cash")
    assert first.configuration_sources_added == len(original) == 3 and again.configuration_sources_added == 0
    assert sorted(merged["dataset"]) == sorted(original["dataset"])
    assert list(merged["settings"]) == list(original["settings"])


def test_candidate_origins_feed_the_leave_one_dataset_out_evaluation(built):
    """The knowledge base's provenance reaches the harness: a held-out dataset is never offered
    the candidate its own search found (``metakb evaluate warmstart``)."""
    from metakb.workflows.candidates import candidate_origins
    from metakb.workflows.warmstart import evaluate_knowledge_base

    with KnowledgeBase(built["path"], readonly=True) as kb:
        origins = candidate_origins(kb, "sklearn-cash")
        sources = kb.configuration_sources("sklearn-cash")
        assert origins == {int(c): set(g["dataset"]) for c, g in sources.groupby("configuration_id")}
        evaluation = evaluate_knowledge_base(kb, "sklearn-cash", methods=["knn"], ks=(1,))
        shown = evaluate_knowledge_base(kb, "sklearn-cash", methods=["knn"], ks=(1,), hide_own_candidates=False)
    only_own = {d: sorted(c for c, found in origins.items() if found == {d}) for d in TINY}
    assert any(only_own.values())  # some candidate comes from one search only: there is something to hide
    assert evaluation.settings["own_candidates_hidden"] == {d: c for d, c in only_own.items() if c}
    assert shown.settings["own_candidates_hidden"] == {}
    chosen = evaluation.selections.set_index(["dataset", "method"])["configuration_id"]
    for dataset, own in only_own.items():
        assert chosen[(dataset, "knn")] not in own and chosen[(dataset, "single-best")] not in own


def test_the_evaluation_can_keep_the_yardstick_of_the_untuned_matrix(built, capsys):
    """``regret_reference="untuned"`` scales every regret by the configurations that are not
    tuned candidates (the matrix before the searches): the record names exactly those, and
    the command line takes the same choice."""
    from metakb.workflows.candidates import candidate_origins
    from metakb.workflows.warmstart import evaluate_knowledge_base

    with KnowledgeBase(built["path"], readonly=True) as kb:
        origins = candidate_origins(kb, "sklearn-cash")
        untuned = sorted(int(c) for c in kb.configurations("sklearn-cash").index if int(c) not in origins)
        evaluation = evaluate_knowledge_base(kb, "sklearn-cash", methods=["knn"], ks=(1,), regret_reference="untuned")
        with pytest.raises(ConfigError, match="regret_reference must be one of"):
            evaluate_knowledge_base(kb, "sklearn-cash", methods=["knn"], ks=(1,), regret_reference="old")
    assert untuned and evaluation.settings["regret_reference"] == untuned
    assert main(["evaluate", "warmstart", "--db", str(built["path"]), "--method", "knn", "-k", "1",
                 "--regret-reference", "untuned", "--json", "--quiet"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["settings"]["regret_reference"] == untuned


def test_a_warm_start_never_offers_a_candidate_tuned_only_on_a_dataset_it_must_not_learn_from(built, pmlb_dir):
    """``recommend`` leaves out the dataset itself (by content) and ``exclude_datasets``;
    ``optimize``'s warm start (initial configurations and every budget's prior) leaves out
    its ``exclude_datasets``: a candidate whose only searches ran on those datasets was learned
    from them, so it is hidden as well. With k as large as the pool, the recommendations are
    exactly the pool without the hidden candidates."""
    from metakb.data import load_pmlb
    from metakb.evaluation import Protocol
    from metakb.workflows.candidates import own_candidates
    from metakb.workflows.optimize import _warm_start_lists
    from metakb.workflows.recommend import recommend

    table = load_pmlb(pmlb_dir / TINY[0])
    with KnowledgeBase(built["path"], readonly=True) as kb:
        pool = {int(c) for c in kb.configurations("sklearn-cash").index}
        hidden = set(own_candidates(kb, "sklearn-cash", [TINY[0]]))
        assert hidden and hidden < pool
        report = recommend(table, kb, k=len(pool), method="knn-best", space="sklearn-cash")
        assert report.excluded_self == TINY[0]
        assert {r.configuration_id for r in report.recommendations} == pool - hidden
        kept = recommend(table, kb, k=len(pool), method="knn-best", space="sklearn-cash", include_self=True)
        assert {r.configuration_id for r in kept.recommendations} == pool
        hidden_configs = [kb.configurations("sklearn-cash").loc[c, "config"] for c in hidden]
        proto = Protocol.for_task("holdout:0.33:max_rows=1500", "classification")
        initial, priors = _warm_start_lists(kb, table, "knn", "sklearn-cash", proto, len(pool), None,
                                            [TINY[0]], budgets=list(BUDGETS))
    assert isinstance(priors, dict) and set(priors) == set(BUDGETS)
    offered = initial + [config for prior in priors.values() for config, _, _ in prior]
    assert offered and all(config not in offered for config in hidden_configs)
