"""OpenML import from the real openml-python cache plus recorded server answers (no network)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
import requests

from metakb.data._openml_client import OpenMLClient
from metakb.data.openml_import import import_openml, openml_run_id
from metakb.errors import ConfigError, DataError, NetworkError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "openml"
TEST_SERVER = "https://test.openml.org/api/v1/xml"


@pytest.fixture()
def cache(shared_data, tmp_path) -> Path:
    """A writable copy of the real client cache with the recorded answers added."""
    source = shared_data / "openml-cache"
    if not (source / "org" / "openml" / "test").is_dir():
        pytest.skip(f"OpenML cache not found at {source}")
    root = tmp_path / "openml-cache"
    shutil.copytree(source, root)
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    shutil.copytree(FIXTURES / "api", root / "org" / "openml" / "test" / "api", dirs_exist_ok=True)
    return root


def client(cache: Path, timeout: float = 10.0) -> OpenMLClient:
    return OpenMLClient(cache_dir=cache, server=TEST_SERVER, timeout=timeout)


def test_round_trip_into_a_knowledge_base(kb, cache, no_network):
    report = import_openml(kb, flow=60, tasks=[1882], client=client(cache))
    assert no_network == []  # served entirely from the cache
    assert report.imported_tasks == [1882] and report.tasks_without_runs == []
    assert report.evaluations_added == 3 and report.configurations == 2
    assert report.metric == "accuracy" and report.space == "openml-flow-60"

    dataset = kb.get_dataset("anneal")
    assert dataset["source"] == "openml" and dataset["source_id"] == "2"
    assert dataset["n_rows"] == 898 and dataset["n_features"] == 38 and dataset["n_classes"] == 6
    features = kb.meta_feature_matrix(groups=["openml"])
    assert features.shape == (1, 106)  # every quality of the cached qualities.xml
    assert features.loc["anneal", "NumberOfInstances"] == 898
    assert features.loc["anneal", "DecisionStumpAUC"] == pytest.approx(0.8652735384332186)

    configs = kb.configurations("openml-flow-60")
    assert sorted(configs["config"].map(lambda c: (c["C"], c["M"]))) == [(0.25, 5), (0.9, 2)]
    assert sorted(configs["label"]) == ["openml-setup:100", "openml-setup:101"]

    matrix = kb.performance_matrix("openml-flow-60", metric="accuracy")
    assert matrix.attrs["higher_is_better"] is True
    by_label = dict(zip(configs["label"], configs.index, strict=True))
    # setup 100 ran twice (runs 100 and 102): the cell is their mean
    assert matrix.loc["anneal", by_label["openml-setup:100"]] == pytest.approx((0.9844 + 0.98) / 2)
    assert matrix.loc["anneal", by_label["openml-setup:101"]] == pytest.approx(0.9621)
    evals = kb.evaluations(dataset="anneal")
    assert set(evals["protocol"]) == {"openml-task:1882"}
    assert set(evals["origin"]) == {"openml:run/100", "openml:run/101", "openml:run/102"}
    assert kb.get_run(report.run_id)["status"] == "finished"


def test_space_is_derived_from_the_setups(kb, cache):
    import_openml(kb, flow=60, tasks=[1882], client=client(cache))
    import io

    from ConfigSpace import ConfigurationSpace

    space = ConfigurationSpace.from_json(io.StringIO(kb.get_space("openml-flow-60")["configspace"]))
    assert space["C"].lower == 0.25 and space["C"].upper == 0.9 and not space["C"].log
    assert (space["M"].lower, space["M"].upper) == (2, 5)


def test_import_is_resumable_and_idempotent(kb, cache):
    first = import_openml(kb, flow=60, tasks=[1882], client=client(cache))
    again = import_openml(kb, flow=60, tasks=[1882], client=client(cache))
    assert again.run_id == first.run_id and again.skipped_tasks == [1882]
    assert again.imported_tasks == [] and again.evaluations_added == 0
    assert len(kb.evaluations()) == 3


def test_task_whose_dataset_is_not_cached(kb, cache):
    # Task 1882 is imported and committed; task 1's dataset (1) is not cached: clear error,
    # nothing of task 1 written, the run is marked interrupted and resumes after 1882.
    with pytest.raises(NetworkError, match=r"task 1: its dataset 1 is not in the OpenML cache"):
        import_openml(kb, flow=60, tasks=[1882, 1], client=client(cache))
    evals = kb.evaluations()
    assert set(evals["protocol"]) == {"openml-task:1882"}
    run = kb.get_run(openml_run_id(60, [1882, 1], "predictive_accuracy"))
    assert run["status"] == "interrupted" and run["state"] == {"done_tasks": [1882]}
    with pytest.raises(NetworkError, match="task 1: its dataset 1"):
        import_openml(kb, flow=60, tasks=[1882, 1], client=client(cache))
    assert len(kb.evaluations()) == 3


def test_flow_with_no_runs_writes_nothing(kb, cache, monkeypatch):
    body = (FIXTURES / "errors" / "evaluation_list_no_result.xml").read_text()

    def answer(self, method, url, *args, **kwargs):
        response = requests.Response()
        response.status_code = 412
        response._content = body.encode()
        response.url = url
        return response

    monkeypatch.setattr(requests.Session, "request", answer)
    before = kb.info()["counts"]
    with pytest.raises(DataError, match=r"OpenML flow 9999 has no runs with measure 'predictive_accuracy' on tasks \[1882\]"):
        import_openml(kb, flow=9999, tasks=[1882], client=client(cache))
    assert kb.info()["counts"] == before


def test_unreachable_server_is_one_clear_line(kb, cache):
    with pytest.raises(NetworkError) as info:
        import_openml(kb, flow=61, tasks=[1882], client=client(cache))
    message = str(info.value)
    assert "cannot get" in message and TEST_SERVER in message and "\n" not in message
    assert kb.info()["counts"]["evaluations"] == 0


def test_hanging_server_times_out(kb, cache, monkeypatch):
    import openml

    def hang(*args, **kwargs):
        time.sleep(5)

    monkeypatch.setattr(openml._api_calls, "_perform_api_call", hang)
    start = time.monotonic()
    with pytest.raises(NetworkError, match=r"did not answer .* within 0.2 s"):
        import_openml(kb, flow=61, tasks=[1882], client=client(cache, timeout=0.2))
    assert time.monotonic() - start < 3


@pytest.mark.parametrize("kwargs, message", [
    ({"tasks": [1882], "suite": 99}, "exactly one"),
    ({}, "exactly one"),
    ({"tasks": [1882], "measure": "balanced_accuracy"}, "OpenML measure must be one of"),
    ({"tasks": [0]}, "positive integers"),
    ({"tasks": []}, "tasks is empty"),
])
def test_bad_arguments(kb, cache, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        import_openml(kb, flow=60, client=client(cache), **kwargs)


def test_portfolio_builds_on_imported_runs(kb, cache):
    from metakb.cli.portfolio import build_portfolio

    import_openml(kb, flow=60, tasks=[1882], client=client(cache))
    stored = build_portfolio(kb, space="openml-flow-60", size=2, metric="accuracy")
    assert [m["config"] for m in stored["members"]][0] == {"C": 0.9, "M": 2}
    assert stored["datasets"] == [{"name": "anneal", "role": "train"}]


def test_cli_import_then_portfolio(cache, tmp_path, capsys):
    import json

    from metakb.cli import main

    db = str(tmp_path / "kb.sqlite")
    argv = ["import", "openml", "--tasks", "1882", "--flow", "60", "--cache-dir", str(cache),
            "--server", TEST_SERVER, "--db", db, "--json"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["imported_tasks"] == [1882] and report["evaluations_added"] == 3
    assert main(argv[:-1]) == 0
    assert "already imported (skipped): [1882]" in capsys.readouterr().out
    assert main(["portfolio", "build", "--space", "openml-flow-60", "--size", "2", "--metric",
                 "accuracy", "--db", db]) == 0
    assert main(["import", "openml", "--tasks", "1882", "--flow", "61", "--cache-dir", str(cache),
                 "--server", TEST_SERVER, "--timeout", "5", "--db", db]) == 2
    err = capsys.readouterr().err
    assert err.startswith("metakb: error: cannot get") and err.count("\n") == 1


def test_suite_lists_its_tasks_then_needs_the_server(kb, cache):
    c = client(cache)
    assert c.suite_tasks(146) == [4, 5, 6]
    with pytest.raises(NetworkError, match=r"evaluation/list/function/predictive_accuracy/flow/60/task/4"):
        import_openml(kb, flow=60, suite=146, client=c)
    assert kb.info()["counts"]["evaluations"] == 0


def test_cache_dir_alone_serves_the_test_server_cache(cache, tmp_path, capsys, no_network):
    """As a user runs it offline: only --cache-dir, no --server (the cache names its server)."""
    import json

    from metakb.cli import main
    from metakb.data._openml_client import server_of_cache

    assert server_of_cache(cache) == TEST_SERVER
    assert OpenMLClient(cache_dir=cache).server_url() == TEST_SERVER
    db = str(tmp_path / "kb.sqlite")
    assert main(["import", "openml", "--tasks", "1882", "--flow", "60", "--cache-dir", str(cache),
                 "--db", db, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["imported_tasks"] == [1882]
    assert no_network == []


def test_cache_with_the_default_server_keeps_openml_settings(tmp_path):
    from metakb.data._openml_client import server_of_cache

    (tmp_path / "org" / "openml" / "www").mkdir(parents=True)
    assert server_of_cache(tmp_path) is None
    (tmp_path / "org" / "openml" / "test").mkdir()
    assert server_of_cache(tmp_path) is None  # two servers: openml-python's setting decides
    assert server_of_cache(tmp_path / "missing") is None


def test_cache_filled_online_then_used_offline(shared_data, tmp_path, monkeypatch, capsys):
    """The documented offline path: the same command once with a server (here a stand-in that
    answers with the recorded files, as www.openml.org would), which leaves openml-python's own
    cache layout in an empty folder; then again with the network refused: nothing is asked."""
    import json
    import re

    from metakb.cli import main

    source = shared_data / "openml-cache" / "org" / "openml" / "test"
    if not source.is_dir():
        pytest.skip(f"OpenML cache not found at {source}")
    files = {r"task/(\d+)": "tasks/{}/task.xml", r"data/(\d+)": "datasets/{}/description.xml",
             r"data/qualities/(\d+)": "datasets/{}/qualities.xml", r"data/features/(\d+)": "datasets/{}/features.xml"}
    asked: list[str] = []

    def server(self, method, url, *args, **kwargs):
        call = url.split("/api/v1/xml/", 1)[1].split("?")[0]
        asked.append(call)
        path = next((source / p.format(m.group(1)) for pattern, p in files.items()
                     if (m := re.fullmatch(pattern, call))), FIXTURES / "api" / "v1" / "xml" / call / "body.xml")
        response = requests.Response()
        response.status_code, response.url = (200, url) if path.is_file() else (404, url)
        response._content = path.read_bytes() if path.is_file() else b""
        return response

    cache = tmp_path / "cache"
    argv = ["import", "openml", "--flow", "60", "--tasks", "1882", "--cache-dir", str(cache), "--json"]
    monkeypatch.setattr(requests.Session, "request", server)
    assert main([*argv, "--db", str(tmp_path / "online.sqlite")]) == 0, capsys.readouterr().err
    online = json.loads(capsys.readouterr().out)
    # openml-python's own layout, under the folder of whichever server openml's setting names
    (host,) = (cache / "org" / "openml").iterdir()
    assert (host / "tasks" / "1882" / "task.xml").is_file() and (host / "datasets" / "2" / "qualities.xml").is_file()
    assert asked  # the first run asked the server

    refused: list[str] = []

    def offline(self, method, url, *args, **kwargs):
        refused.append(url)
        raise requests.exceptions.ConnectionError(f"network disabled in tests: {url}")

    monkeypatch.setattr(requests.Session, "request", offline)
    assert main([*argv, "--db", str(tmp_path / "offline.sqlite")]) == 0, capsys.readouterr().err
    report = json.loads(capsys.readouterr().out)
    assert refused == []
    assert report["imported_tasks"] == online["imported_tasks"] == [1882]
    assert report["evaluations_added"] == online["evaluations_added"] == 3
