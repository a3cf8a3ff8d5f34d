"""ASlib import: the mapping rules on a hand-written scenario, round trips on the real ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metakb.data.aslib_import import (
    aslib_performance,
    aslib_settings,
    import_aslib,
    import_scenario,
    read_scenario,
    scenario_folders,
)
from metakb.errors import DataError, NotFoundError

DESCRIPTION = """scenario_id: TOY
performance_measures:
- runtime
performance_type:
- runtime
maximize:
- false
algorithm_cutoff_time: 100
"""
RUNS = """@RELATION runs
@ATTRIBUTE instance_id STRING
@ATTRIBUTE repetition NUMERIC
@ATTRIBUTE algorithm STRING
@ATTRIBUTE runtime NUMERIC
@ATTRIBUTE runstatus {ok, timeout, memout, not_applicable, crash, other}
@DATA
i1,1,A,10,ok
i1,1,B,100,timeout
i2,1,A,150,ok
i2,1,B,5,ok
i3,1,A,7,memout
i3,1,B,1,crash
"""
FEATURES = """@RELATION features
@ATTRIBUTE instance_id STRING
@ATTRIBUTE repetition NUMERIC
@ATTRIBUTE f1 NUMERIC
@ATTRIBUTE f2 NUMERIC
@DATA
i1,1,1.0,2.0
i2,1,3.0,?
i3,1,5.0,6.0
"""
CV = """@RELATION cv
@ATTRIBUTE instance_id STRING
@ATTRIBUTE repetition NUMERIC
@ATTRIBUTE fold NUMERIC
@DATA
i1,1,1
i2,1,2
i3,1,1
"""


@pytest.fixture()
def toy(tmp_path: Path) -> Path:
    folder = tmp_path / "TOY"
    folder.mkdir()
    for name, text in (("description.txt", DESCRIPTION), ("algorithm_runs.arff", RUNS),
                       ("feature_values.arff", FEATURES), ("cv.arff", CV)):
        (folder / name).write_text(text)
    return folder


def test_toy_scenario_maps_to_the_store(kb, toy):
    summary = import_scenario(kb, toy)
    assert summary["instances"] == 3 and summary["algorithms"] == 2 and summary["evaluations_added"] == 6
    datasets = kb.datasets(source="aslib")
    assert sorted(datasets["name"]) == ["TOY/i1", "TOY/i2", "TOY/i3"]
    assert set(datasets["task_type"]) == {"algorithm-selection"}
    assert kb.meta_features("TOY/i2") == {"f1": 3.0, "f2": pytest.approx(np.nan, nan_ok=True)}
    configs = kb.configurations("TOY")
    assert sorted(configs["label"]) == ["A", "B"] and sorted(c["algorithm"] for c in configs["config"]) == ["A", "B"]
    evals = kb.evaluations(space="TOY").merge(configs["label"], left_on="configuration_id", right_index=True)
    status = {(d, a): s for d, a, s in zip(evals["dataset"], evals["label"], evals["status"], strict=True)}
    # i2/A says ok but ran past the 100 s cutoff: a timeout; crash -> crashed
    assert status == {("TOY/i1", "A"): "ok", ("TOY/i1", "B"): "timeout", ("TOY/i2", "A"): "timeout",
                      ("TOY/i2", "B"): "ok", ("TOY/i3", "A"): "memout", ("TOY/i3", "B"): "crashed"}
    assert set(evals["metric"]) == {"runtime"} and set(evals["higher_is_better"]) == {0}
    assert kb.check() == []
    settings = aslib_settings(kb, "TOY")
    assert settings["cutoff_time"] == 100.0 and settings["folds"] == {"i1": 1, "i2": 2, "i3": 1}
    expected = pd.DataFrame({"A": [10.0, 1000.0, 1000.0], "B": [1000.0, 5.0, 1000.0]}, index=["i1", "i2", "i3"])
    pd.testing.assert_frame_equal(aslib_performance(kb, "TOY", par=True), expected, check_names=False)
    plain = aslib_performance(kb, "TOY")
    assert plain.loc["i1", "A"] == 10.0 and np.isnan(plain.loc["i1", "B"])
    assert kb.performance_matrix("TOY", metric="runtime").attrs["higher_is_better"] is False


def test_reimport_is_idempotent(kb, toy):
    import_scenario(kb, toy)
    before = kb.info()["counts"]
    again = import_scenario(kb, toy)
    assert again["evaluations_added"] == 0 and kb.info()["counts"] == before


def test_a_failing_import_writes_nothing(kb, toy):
    (toy / "algorithm_runs.arff").write_text(RUNS + "i9,1,A,1,ok\n")  # instance without features
    with pytest.raises(DataError, match="no features"):
        import_scenario(kb, toy)
    assert kb.info()["counts"]["datasets"] == 0 and kb.info()["counts"]["search_spaces"] == 0


def test_bad_folders_are_rejected(tmp_path, toy):
    with pytest.raises(DataError, match="not an ASlib scenario"):
        read_scenario(tmp_path)
    with pytest.raises(DataError):
        scenario_folders(tmp_path / "missing")
    assert scenario_folders(toy.parent) == [toy] and scenario_folders(toy) == [toy]
    (toy / "algorithm_runs.arff").write_text("not arff at all")
    with pytest.raises(DataError):
        read_scenario(toy)


def test_unknown_scenario_settings(kb):
    with pytest.raises(NotFoundError):
        aslib_settings(kb, "NOPE")


def _reference_matrix(folder: Path, cutoff: float) -> pd.DataFrame:
    """PAR10 matrix straight from the ARFF file, independently of the importer."""
    import arff

    data = arff.load((folder / "algorithm_runs.arff").open())
    rows = {}
    for instance, _rep, algorithm, runtime, status in data["data"]:
        ok = status == "ok" and runtime is not None and runtime <= cutoff
        rows[(instance, algorithm)] = runtime if ok else 10 * cutoff
    series = pd.Series(rows)
    return series.unstack().sort_index().sort_index(axis=1)


def test_real_scenarios_round_trip(kb, shared_data):
    root = shared_data / "aslib"
    if not root.is_dir():
        pytest.skip(f"no ASlib scenarios in {root}")
    summaries = import_aslib(kb, root)
    assert {s["scenario"] for s in summaries} == {"QBF-2011", "SAT11-HAND"}
    for summary in summaries:
        folder = root / summary["scenario"]
        expected = _reference_matrix(folder, summary["cutoff_time"])
        got = aslib_performance(kb, summary["scenario"], par=True)
        np.testing.assert_allclose(got.to_numpy(), expected.loc[got.index, got.columns].to_numpy())
        assert list(got.index) == sorted(expected.index) and list(got.columns) == sorted(expected.columns)
    assert kb.info()["counts"]["evaluations"] == sum(s["runs"] for s in summaries)


# bad files: one ``metakb: error:`` line naming the file and the column (they used to give
# raw tracebacks); each case edits one file of the toy scenario
BAD_FILES = {
    "NaN repetition": ("algorithm_runs.arff", ("i2,1,A", "i2,?,A"), ["'repetition'", "'?'", "(1 of 6 rows)"]),
    "no instance_id": ("feature_values.arff", ("instance_id STRING", "inst STRING"),
                       ["lacks columns", "'instance_id'"]),
    "NaN cv fold": ("cv.arff", ("i2,1,2", "i2,1,?"), ["'fold'", "'?'"]),
    "cv without fold": ("cv.arff", ("fold NUMERIC", "folds NUMERIC"), ["lacks columns", "'fold'"]),
    "description not a mapping": ("description.txt", (DESCRIPTION, "- runtime\n"), ["YAML mapping"]),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_scenario_file_is_one_error_line(toy, tmp_path, capsys, case):
    from metakb.cli import main

    name, (old, new), words = BAD_FILES[case]
    path = toy / name
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))
    assert main(["import", "aslib", str(toy), "--db", str(tmp_path / "kb.sqlite")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("metakb: error: "), lines
    for word in [str(toy), name, *words]:
        assert word in lines[0], (word, lines[0])


def test_good_toy_scenario_reads_its_repetitions_and_folds(toy):
    scenario = read_scenario(toy)
    assert scenario.runs["repetition"].tolist() == [1] * 6 and scenario.folds == {"i1": 1, "i2": 2, "i3": 1}
