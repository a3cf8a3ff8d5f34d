"""A small, cached, time-limited client over openml-python for the OpenML importer.

Tasks and datasets go through openml-python's own functions and its cache directory (so a
cache filled by openml-python, or by this client, serves them offline). The list calls that
openml-python never caches (evaluations of a flow on a task, setups, suites) are cached here,
in the same directory, under ``api/v1/xml/<call>/body.xml`` (the layout newer openml-python
versions use for their own response cache), so a second import of the same tasks is served
from disk and an interrupted import resumes without asking the server again.

Every call to the server runs in a daemon thread with a wall-clock limit: a server that does
not answer raises :class:`~metakb.errors.NetworkError` after ``timeout`` seconds instead of
hanging.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import xmltodict

from metakb.errors import ConfigError, NetworkError, NotFoundError

__all__ = ["OpenMLClient", "TaskInfo", "DatasetInfo", "SetupParameter"]

T = TypeVar("T")

# A suite id/alias or a measure name: it becomes one folder of the cache path (``study/<id>``),
# so letters, digits, '_', '-' and '.' only, not starting with '.' (no '..', '/' or hidden names).
_TOKEN = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")


def _token(what: str, value: object) -> str:
    """``value`` as text when it is a simple token, else one ConfigError line naming it."""
    text = str(value)
    if not _TOKEN.fullmatch(text) or ".." in text:
        raise ConfigError(f"OpenML {what} must be a simple name or id (letters, digits, '_', '-', '.'; "
                          f"no '/' or '..'), got {value!r}")
    return text


@dataclass(frozen=True)
class TaskInfo:
    """What the importer needs of an OpenML task."""

    task_id: int
    dataset_id: int
    task_type: str
    target: str | None
    estimation_procedure: dict[str, Any]


@dataclass(frozen=True)
class DatasetInfo:
    """An OpenML dataset's description and its qualities (OpenML's meta-features)."""

    dataset_id: int
    name: str
    version: int
    md5_checksum: str | None
    qualities: dict[str, float | None]


@dataclass(frozen=True)
class SetupParameter:
    """One hyperparameter value of an OpenML setup (values are strings, as the server sends them)."""

    full_name: str
    parameter_name: str
    data_type: str | None
    default_value: str | None
    value: str | None


def server_of_cache(root: str | Path) -> str | None:
    """The server whose answers a cache holds, when it holds only one other than the default.

    openml-python files a server's answers under ``<root>/<host reversed>``
    (``www.openml.org`` -> ``org/openml/www``, ``test.openml.org`` -> ``org/openml/test``). A
    cache with one server folder that is not ``www`` (the default server's) names that server,
    so ``--cache-dir`` alone serves it offline; None otherwise (openml-python's setting is used).
    """
    folder = Path(root) / "org" / "openml"
    hosts = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    if len(hosts) != 1 or hosts[0] == "www":
        return None
    return f"https://{hosts[0]}.openml.org/api/v1/xml"


class OpenMLClient:
    """Talks to OpenML through openml-python, from its cache first, with a time limit.

    Args:
        cache_dir: openml-python's root cache directory (default: openml-python's own setting).
        server: the API server URL (default: the one server a ``cache_dir`` holds answers of,
            see :func:`server_of_cache`, else openml-python's setting, normally www.openml.org).
        timeout: seconds one server call may take before :class:`NetworkError`.
        retries: openml-python's ``connection_n_retries`` during our calls.
    """

    def __init__(self, cache_dir: str | Path | None = None, server: str | None = None,
                 timeout: float = 30.0, retries: int = 1) -> None:
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self.server = server if server is not None or self.cache_dir is None else server_of_cache(self.cache_dir)
        try:
            seconds = float(timeout)
        except (TypeError, ValueError):
            seconds = math.nan
        if not (math.isfinite(seconds) and seconds > 0):
            raise ConfigError(f"OpenML timeout must be a finite number of seconds > 0, got {timeout!r}")
        self.timeout = seconds
        self.retries = int(retries)

    # ------------------------------------------------------------------ configuration
    @contextlib.contextmanager
    def _configured(self) -> Iterator[Any]:
        """openml-python set to our cache, server and retries, restored afterwards."""
        import openml

        config = openml.config
        saved = (config.get_config_as_dict()["cachedir"], config.server, config.connection_n_retries)
        try:
            if self.cache_dir is not None:
                config.set_root_cache_directory(str(self.cache_dir))
            if self.server is not None:
                config.server = self.server
            config.connection_n_retries = self.retries
            yield openml
        finally:
            config.set_root_cache_directory(str(saved[0]))
            config.server = saved[1]
            config.connection_n_retries = saved[2]

    def server_cache_dir(self) -> Path:
        """The cache folder of the configured server (``<root>/org/openml/<host>``)."""
        with self._configured() as openml:
            return Path(openml.config.get_cache_directory())

    def server_url(self) -> str:
        """The configured server's API URL."""
        with self._configured() as openml:
            return str(openml.config.server)

    # ------------------------------------------------------------------ time-limited calls
    def _limited(self, what: str, function: Callable[[], T], *, pass_no_result: bool = False) -> T:
        """Run ``function`` with a wall-clock limit; translate network and server failures.

        OpenML's "no results" answer becomes :class:`NotFoundError` (or is re-raised as it is
        with ``pass_no_result``); other server errors and connection failures become
        :class:`NetworkError`.
        """
        import requests
        from openml.exceptions import OpenMLServerError, OpenMLServerNoResult

        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["value"] = function()
            except BaseException as exc:  # handed to the caller's thread below
                box["error"] = exc

        thread = threading.Thread(target=target, name=f"openml:{what}", daemon=True)
        thread.start()
        thread.join(self.timeout)
        if thread.is_alive():
            raise NetworkError(f"OpenML server {self.server_url()} did not answer {what} within "
                               f"{self.timeout:g} s; try again later or raise --timeout")
        error = box.get("error")
        if error is None:
            return box["value"]
        if isinstance(error, OpenMLServerNoResult):
            if pass_no_result:
                raise error
            raise NotFoundError(f"OpenML has no {what} ({error.message})") from error
        if isinstance(error, (requests.exceptions.RequestException, ConnectionError, TimeoutError,
                              OpenMLServerError)):
            first = str(error).splitlines()[0] if str(error) else ""
            raise NetworkError(f"cannot get {what} from OpenML server {self.server_url()} "
                               f"({type(error).__name__}: {first[:200]})") from error
        raise error

    def _api(self, call: str) -> str | None:
        """The XML answer to ``call`` from our cache, else the server (then cached).

        Returns None when the server answers "no results".
        """
        from openml.exceptions import OpenMLServerNoResult

        path = self.server_cache_dir() / "api" / "v1" / "xml" / call / "body.xml"
        if path.is_file():
            return path.read_text(encoding="utf-8")

        def fetch() -> str:
            with self._configured() as openml:
                return str(openml._api_calls._perform_api_call(call, "get"))

        try:
            text = self._limited(f"'{call}'", fetch, pass_no_result=True)
        except OpenMLServerNoResult:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)  # atomic: an interrupted write never leaves a half file
        return text

    # ------------------------------------------------------------------ objects
    def task(self, task_id: int) -> TaskInfo:
        """An OpenML task (its description and dataset id), from the cache when there.

        Raises:
            NetworkError: neither the cache nor the server can provide the task or its dataset.
        """
        def load() -> Any:
            with self._configured() as openml:
                return openml.tasks.get_task(int(task_id), download_splits=False, download_data=False,
                                             download_qualities=False,
                                             download_features_meta_data=False)

        # openml-python removes a task's cache folder when loading it (or its dataset) fails;
        # keep a copy and put it back, so that an offline cache survives a failed import.
        cached_dataset = self._cached_task_dataset(int(task_id))
        task_dir = self.server_cache_dir() / "tasks" / str(int(task_id))
        with tempfile.TemporaryDirectory() as backup:
            if task_dir.is_dir():
                shutil.copytree(task_dir, Path(backup) / "task")
            try:
                task = self._load_task(int(task_id), load, cached_dataset)
            except BaseException:
                if (Path(backup) / "task").is_dir() and not task_dir.is_dir():
                    shutil.copytree(Path(backup) / "task", task_dir)
                raise
        return self._task_info(task)

    def _task_info(self, task: Any) -> TaskInfo:
        return TaskInfo(task_id=int(task.task_id), dataset_id=int(task.dataset_id),
                        task_type=str(task.task_type), target=getattr(task, "target_name", None),
                        estimation_procedure=dict(task.estimation_procedure or {}))

    def _load_task(self, task_id: int, load: Callable[[], Any], cached_dataset: str | None) -> Any:
        try:
            return self._limited(f"task {task_id}", load)
        except NetworkError as exc:
            where = self.server_cache_dir()
            if cached_dataset is None:
                raise NetworkError(f"task {task_id} is not in the OpenML cache {where} and {exc}") from exc
            raise NetworkError(f"task {task_id}: its dataset {cached_dataset} is not in the OpenML "
                               f"cache {where} and {exc}") from exc

    def _cached_task_dataset(self, task_id: int) -> str | None:
        """The dataset id named by a cached ``task.xml``, or None when the task is not cached."""
        cached = self.server_cache_dir() / "tasks" / str(task_id) / "task.xml"
        if not cached.is_file():
            return None
        task = xmltodict.parse(cached.read_text(encoding="utf-8"))["oml:task"]
        inputs = task.get("oml:input", [])
        inputs = inputs if isinstance(inputs, list) else [inputs]
        return next((str(i["oml:data_set"]["oml:data_set_id"]) for i in inputs
                     if isinstance(i, dict) and "oml:data_set" in i), "?")

    def dataset(self, dataset_id: int) -> DatasetInfo:
        """An OpenML dataset's description and qualities (no data is downloaded)."""
        def load() -> Any:
            with self._configured() as openml:
                return openml.datasets.get_dataset(int(dataset_id), download_data=False,
                                                   download_qualities=True,
                                                   download_features_meta_data=False)

        try:
            data = self._limited(f"dataset {dataset_id}", load)
        except NetworkError as exc:
            raise NetworkError(f"dataset {dataset_id} is not in the OpenML cache "
                               f"{self.server_cache_dir()} and {exc}") from exc
        qualities = {str(k): (None if v is None else float(v))
                     for k, v in (data.qualities or {}).items()}
        return DatasetInfo(dataset_id=int(dataset_id), name=str(data.name),
                           version=int(data.version), md5_checksum=data.md5_checksum,
                           qualities=qualities)

    def evaluations(self, flow_id: int, task_id: int, measure: str) -> list[dict[str, Any]]:
        """Every run of ``flow_id`` on ``task_id`` with its value of ``measure``.

        Each item has ``run_id``, ``setup_id``, ``task_id``, ``flow_id``, ``data_id`` and
        ``value`` (the fields of the server's ``oml:evaluation``); an empty list when there
        are none.
        """
        call = f"evaluation/list/function/{_token('measure', measure)}/flow/{int(flow_id)}/task/{int(task_id)}"
        text = self._api(call)
        if text is None:
            return []
        parsed = xmltodict.parse(text, force_list=("oml:evaluation",))
        if "oml:evaluations" not in parsed:
            raise NetworkError(f"OpenML answered {call!r} without oml:evaluations; got "
                               f"{sorted(parsed)}")
        out = []
        for item in parsed["oml:evaluations"].get("oml:evaluation", []) or []:
            out.append({
                "run_id": int(item["oml:run_id"]), "task_id": int(item["oml:task_id"]),
                "setup_id": int(item["oml:setup_id"]), "flow_id": int(item["oml:flow_id"]),
                "flow_name": item.get("oml:flow_name"),
                "data_id": int(item["oml:data_id"]) if item.get("oml:data_id") else None,
                "function": item.get("oml:function"),
                "value": float(item["oml:value"]) if item.get("oml:value") is not None else None,
            })
        return out

    def setups(self, setup_ids: list[int], chunk: int = 100) -> dict[int, list[SetupParameter]]:
        """The parameter settings of setups, listed ``chunk`` at a time (``setup/list``)."""
        ids = sorted({int(s) for s in setup_ids})
        out: dict[int, list[SetupParameter]] = {}
        for start in range(0, len(ids), chunk):
            part = ids[start:start + chunk]
            call = "setup/list/setup/" + ",".join(str(i) for i in part)
            text = self._api(call)
            if text is None:
                continue
            parsed = xmltodict.parse(text, force_list=("oml:setup", "oml:parameter"))
            for setup in parsed["oml:setups"].get("oml:setup", []) or []:
                out[int(setup["oml:setup_id"])] = [
                    SetupParameter(full_name=p["oml:full_name"], parameter_name=p["oml:parameter_name"],
                                   data_type=p.get("oml:data_type"),
                                   default_value=p.get("oml:default_value"), value=p.get("oml:value"))
                    for p in setup.get("oml:parameter", []) or []]
        missing = sorted(set(ids) - set(out))
        if missing:
            raise NotFoundError(f"OpenML has no setups {missing[:10]} (asked for {len(ids)})")
        return out

    def suite_tasks(self, suite_id: int | str) -> list[int]:
        """The task ids of a benchmark suite (``study/<id>``)."""
        call = f"study/{_token('benchmark suite', suite_id)}"
        text = self._api(call)
        if text is None:
            raise NotFoundError(f"OpenML has no benchmark suite {suite_id!r}")
        study = xmltodict.parse(text, force_list=("oml:task_id",))["oml:study"]
        tasks = (study.get("oml:tasks") or {}).get("oml:task_id", []) or []
        return [int(t) for t in tasks]


def parse_value(text: str | None) -> Any:
    """A setup value as the server sends it: JSON for scikit-learn flows, plain text otherwise."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return text
