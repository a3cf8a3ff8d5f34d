"""A pair's importance says how many datasets it rests on, and thin pairs are not ranked first.

fANOVA computes pairs among each dataset's most important hyperparameters only, so a pair can
rest on one dataset while another rests on many; its median over one dataset is not comparable
to a median over many (issue #23 item 6: the shipped knowledge base's top pair rested on one
dataset).
"""

from __future__ import annotations

import ConfigSpace as CS
import numpy as np
import pandas as pd
import pytest

from metakb.importance import FANOVA
from metakb.importance._base import MIN_PAIR_DATASETS, ImportanceResult


def _result(pairs: dict[str, list[float]], n_datasets: int) -> ImportanceResult:
    index = [f"d{i}" for i in range(n_datasets)]
    per_dataset = pd.DataFrame({"a": np.full(n_datasets, 0.5)}, index=index)
    return ImportanceResult("fanova", ["a"], per_dataset,
                            pairs_per_dataset=pd.DataFrame(pairs, index=index))


def test_pair_on_one_dataset_is_ranked_after_supported_pairs():
    # "a × b" has the highest median but only one dataset; "a × c" rests on all four.
    result = _result({"a × b": [0.4, np.nan, np.nan, np.nan], "a × c": [0.1, 0.2, 0.1, 0.2],
                      "b × c": [np.nan, 0.05, 0.05, 0.05]}, 4)
    summary = result.pair_summary()
    assert list(summary.index) == ["a × c", "b × c", "a × b"]
    assert summary["n_datasets"].tolist() == [4, 3, 1]
    assert MIN_PAIR_DATASETS == 3


def test_minimum_is_capped_by_the_number_of_datasets():
    # with two datasets analysed, a pair on both is fully supported; one on one is not
    result = _result({"a × b": [0.4, np.nan], "a × c": [0.1, 0.2]}, 2)
    assert list(result.pair_summary().index) == ["a × c", "a × b"]
    # one dataset: every pair rests on all there is, ranked by value
    single = _result({"a × b": [0.1], "a × c": [0.3]}, 1)
    assert list(single.pair_summary().index) == ["a × c", "a × b"]


def test_json_gives_n_as_an_integer():
    result = _result({"a × b": [0.4, np.nan, np.nan], "a × c": [0.1, 0.2, 0.1]}, 3)
    pairs = result.to_dict()["pairs"]
    assert [(p["name"], p["n_datasets"]) for p in pairs] == [("a × c", 3), ("a × b", 1)]
    assert all(type(p["n_datasets"]) is int for p in pairs)
    assert all(type(p["n_datasets"]) is int for p in result.to_dict()["importance"])


def test_fanova_pairs_carry_their_support():
    # Dataset 0: a and b interact strongly (top-2 there: a, b); datasets 1-3: y = 3a + c
    # (top-2: a, c) with no interaction. pairs_of_top=2 computes a × b on dataset 0 only.
    rng = np.random.default_rng(0)
    space = CS.ConfigurationSpace({"a": (0.0, 1.0), "b": (0.0, 1.0), "c": (0.0, 1.0)})
    configs = pd.DataFrame(rng.uniform(size=(300, 3)), columns=["a", "b", "c"])
    a, b, c = (configs[k] for k in "abc")
    rows = [a + b + 6 * (a - 0.5) * (b - 0.5)] + [3 * a + c + 0.01 * rng.normal(size=300) for _ in range(3)]
    perf = pd.DataFrame(rows, index=["inter", "d1", "d2", "d3"])
    result = FANOVA(seed=0, pairs_of_top=2).evaluate(configs, perf, space)
    raw = result.pairs_per_dataset
    assert raw.loc["inter", "a × b"] > raw[["a × c"]].max().max()  # the thin pair has the larger value
    summary = result.pair_summary()
    assert summary.index[0] == "a × c" and summary.loc["a × c", "n_datasets"] == 3
    assert summary.loc["a × b", "n_datasets"] == 1 and summary.index[-1] == "a × b"


def test_cli_tables_show_n(tmp_path, capsys):
    from metakb.cli.importance import _print

    result = _result({"a × b": [0.4, np.nan, np.nan], "a × c": [0.1, 0.2, 0.1]}, 3)

    class Args:
        method, space, model, metric, pairs = "fanova", "toy", None, "balanced_accuracy", 5

    _print(result, Args())
    out = capsys.readouterr().out
    header = [line for line in out.splitlines() if line.startswith("pair")][0]
    assert header.split()[-1] == "n"
    row = [line for line in out.splitlines() if line.startswith("a × b")][0]
    assert row.split()[-1] == "1"


@pytest.mark.parametrize("n_pairs", [2])
def test_plot_labels_name_n(n_pairs, tmp_path):
    from metakb.importance.plots import bar_rows

    result = _result({"a × b": [0.4, np.nan, np.nan], "a × c": [0.1, 0.2, 0.1]}, 3)
    names = [row[0] for row in bar_rows(result, pairs=n_pairs, top=None)]
    assert names == ["a", "a × c (n=3)", "a × b (n=1)"]
