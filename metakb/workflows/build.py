"""Workflow ``build``: every configuration of a space on every dataset of a PMLB folder
(:func:`build_from_pmlb`) or of a user's own tables (:func:`build_from_files`).

Both entry points select their datasets and then run one shared core (:func:`_build`) over a
list of :class:`BuildSource` (a name, how to load the table typed for its task, and where the
evaluation workers find it), so both follow the same protocol. The build is resumable and idempotent. Its configurations are a deterministic function of the
space, their number and the seed (the per-model defaults first, then draws), so a rerun finds
the same rows; evaluations are keyed by (dataset, configuration, budget, protocol, seed,
metric) and written in small transactions as they arrive, so a rerun, or a run after
``kill -9``, evaluates exactly the missing cells: no duplicate, nothing lost.
"""

from __future__ import annotations

import functools
import numbers
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from metakb._convert import canonical_budget
from metakb.data import Table, load_pmlb_task, load_table, pmlb_datasets, task_of_target
from metakb.data.duplicates import DatasetSignature, dataset_signature
from metakb.errors import ConfigError, DataError
from metakb.evaluation import DataRef, EvaluationResult, EvaluationTask, Protocol, evaluate_tasks
from metakb.executors import Executor, make_executor
from metakb.spaces import get_search_space, sample_configurations, space_task, space_to_json
from metakb.store import KnowledgeBase
from metakb.workflows._runs import RunClock
from metakb.workflows.candidates import (
    CANDIDATE_METHODS,
    CandidateSearch,
    candidate_ids,
    tune_candidates,
)
from metakb.workflows.duplicates import needs_signature, record_signature

__all__ = ["BuildReport", "BuildSource", "CandidateSearch", "DATA_SUFFIXES", "DEFAULT_PROTOCOL", "PreparedTable",
           "build_from_files", "build_from_pmlb", "check_budgets", "data_files", "parse_budgets", "register_space",
           "register_table", "extract_meta_features", "prepare_dataset", "write_dataset"]

DEFAULT_PROTOCOL = "cv:3:max_rows=1500"
#: What ``--budgets`` accepts (the message of a refused value).
_BUDGETS_HELP = "comma-separated fractions of the training rows in (0, 1], such as 1/9,1/3,1"
#: Suffixes of the data files a directory given to :func:`build_from_files` contributes (each
#: optionally followed by ``.gz``); a file named explicitly may also be ``.txt``.
DATA_SUFFIXES = (".csv", ".tsv", ".tab", ".arff", ".parquet", ".pq")


@dataclass
class BuildReport:
    """What a build did."""

    run_id: str
    datasets: int = 0
    configurations: int = 0
    evaluated: int = 0
    skipped_existing: int = 0
    status_counts: dict[str, int] = field(default_factory=dict)
    failed_datasets: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    budgets: list[float] = field(default_factory=lambda: [1.0])
    #: tuned candidates of the space in the pool (``--candidates bohb``: stored before or now)
    candidates: int = 0
    searches: int = 0
    searches_reused: int = 0
    search_evaluations: int = 0
    searches_failed: list[str] = field(default_factory=list)
    search_seconds: float = 0.0  # wall seconds of the candidate phase


def parse_budgets(text: str) -> tuple[float, ...]:
    """``--budgets``: ``"1/9,1/3,1"`` as the sorted, distinct canonical budgets.

    Raises:
        ConfigError: an item is not a number (a fraction ``a/b`` or a decimal) in (0, 1].
    """
    items = [t.strip() for t in str(text).split(",")]
    values = []
    for item in items:
        try:
            values.append(float(Fraction(item)))
        except (ValueError, ZeroDivisionError):
            raise ConfigError(f"--budgets must be {_BUDGETS_HELP}; got {text!r} ({item!r} is not a number)") from None
    return check_budgets(values, text)


def check_budgets(budgets: Sequence[float] | str, given: Any = None) -> tuple[float, ...]:
    """The build's budgets (a string is parsed by :func:`parse_budgets`), sorted and distinct.

    Raises:
        ConfigError: no budget, or one outside (0, 1].
    """
    if isinstance(budgets, str):
        return parse_budgets(budgets)
    given = list(budgets) if given is None else given
    values = list(budgets)
    if not values:
        raise ConfigError(f"--budgets must be {_BUDGETS_HELP}; got none")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 < float(value) <= 1.0:
            raise ConfigError(f"--budgets must be {_BUDGETS_HELP}; got {given!r} ({value!r} is outside (0, 1])")
    return tuple(sorted({canonical_budget(v) for v in values}))


def register_space(kb: KnowledgeBase, name: str, n_configs: int, *, seed: int, origin: str) -> tuple[int, list[int]]:
    """Store the space and its build configurations (model defaults first, then draws).

    Returns:
        The space id and the configuration ids, in a deterministic order.
    """
    if n_configs < 1:
        raise ConfigError(f"--configs must be >= 1, got {n_configs}")
    spec = get_search_space(name)
    space = spec.build()
    defaults = spec.defaults()
    space_id = kb.add_space(spec.name, spec.version, space_to_json(space), origin=origin)
    configs: list[dict[str, Any]] = []
    labels: list[str | None] = []
    for model, config in list(defaults.items())[:n_configs]:
        configs.append(config)
        labels.append(f"default:{model}")
    seen = {repr(sorted(c.items())) for c in configs}
    for config in sample_configurations(space, 4 * n_configs, seed=seed):
        if len(configs) >= n_configs:
            break
        key = repr(sorted(config.items()))
        if key not in seen:
            seen.add(key)
            configs.append(config)
            labels.append(None)
    ids = kb.add_configurations(space_id, configs, origin=origin, labels=labels)
    return space_id, ids


def extract_meta_features(table: Table, *, seed: int = 0) -> tuple[dict[str, float], dict[str, str], str]:
    """The full meta-feature suite of a table (of its task): values, their groups, the extractor version."""
    import meta_features

    result = meta_features.extract(table.numeric_matrix(), table.y, categorical=table.categorical, seed=seed,
                                   task=task_of_target(table.y))
    return dict(result), dict(result.groups), meta_features.EXTRACTOR_VERSION


@dataclass
class PreparedTable:
    """A table with what :func:`register_table` computes before writing (its hash, meta-features
    and near-duplicate signature)."""

    table: Table
    content_hash: str
    meta_features: tuple[dict[str, float], dict[str, str], str] | None
    signature: DatasetSignature | None = None


def prepare_dataset(kb: KnowledgeBase, table: Table, *, meta_features: bool, seed: int,
                   content_hash: str | None = None) -> PreparedTable:
    """Compute the hash (unless the caller has it) and, unless current already, the
    meta-features and the near-duplicate signature (:mod:`metakb.data.duplicates`) of
    ``table``; write nothing.

    Raises:
        DataError: the meta-features cannot be extracted from the table.
    """
    content_hash = table.content_hash() if content_hash is None else content_hash
    values = None
    if meta_features:
        import meta_features as mf

        existing = kb.find_dataset(content_hash)
        if existing is None or kb.meta_feature_versions().get(int(existing["id"])) != mf.EXTRACTOR_VERSION:
            values = extract_meta_features(table, seed=seed)
    signature = dataset_signature(table) if needs_signature(kb, content_hash) else None
    return PreparedTable(table, content_hash, values, signature)


def write_dataset(kb: KnowledgeBase, prepared: PreparedTable, *, origin: str) -> int:
    """Store a prepared table, its meta-features, its signature and the near-duplicate pairs it
    forms with the stored datasets, in one transaction; return the dataset id."""
    table = prepared.table
    task = task_of_target(table.y)
    with kb.transaction():
        dataset_id = kb.add_dataset(
            table.name, prepared.content_hash, source=table.source, source_id=table.source_id, origin=origin,
            task_type=task, n_rows=table.n_rows, n_features=table.n_features,
            n_classes=len(table.classes) if task == "classification" else None, target=table.target)
        if prepared.meta_features is not None:
            values, groups, version = prepared.meta_features
            kb.set_meta_features(dataset_id, values, groups=groups, extractor_version=version, origin=origin)
        if prepared.signature is not None:
            record_signature(kb, dataset_id, prepared.signature, origin=origin)
    return dataset_id


def register_table(kb: KnowledgeBase, table: Table, *, origin: str, meta_features: bool = True,
                   seed: int = 0) -> int:
    """Store a dataset and (unless current already) its meta-features; return the dataset id.

    The meta-features are computed before anything is written, and the dataset and its
    meta-features are written in one transaction: a table whose meta-features fail leaves nothing.
    """
    return write_dataset(kb, prepare_dataset(kb, table, meta_features=meta_features, seed=seed), origin=origin)


@dataclass(frozen=True)
class BuildSource:
    """One dataset of a build: its name, a function loading its table (typed for the build's
    task) and where the evaluation workers find its data."""

    name: str
    load: Callable[[], Table]
    ref: DataRef


def build_from_pmlb(
    kb: KnowledgeBase,
    pmlb_dir: str | Path,
    *,
    space: str = "sklearn-cash",
    n_configs: int = 64,
    jobs: int = 1,
    protocol: str = DEFAULT_PROTOCOL,
    seed: int = 0,
    eval_seed: int | None = None,
    datasets: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    max_datasets: int | None = None,
    timeout: float = 60.0,
    memory_mb: int = 4096,
    meta_features_only: bool = False,
    with_meta_features: bool = True,
    progress: bool = True,
    batch_size: int = 25,
    on_result: Callable[[int], None] | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    budgets: Sequence[float] | str = (1.0,),
    candidates: str = "none",
    search: CandidateSearch | None = None,
) -> BuildReport:
    """Evaluate every configuration on every PMLB dataset of the space's task (the full matrix).

    The space decides the task: ``sklearn-cash`` builds over PMLB's classification datasets
    (balanced accuracy), ``sklearn-cash-regression`` over its regression datasets (R², with
    RMSE and MAE in each evaluation's scores).

    Args:
        kb: the knowledge base to fill.
        pmlb_dir: the PMLB folder (with ``index.csv`` and ``datasets/``) or its ``datasets/``.
        space: the registered search space.
        n_configs: configurations: the per-model defaults plus ``n_configs - 7`` draws.
        jobs: worker processes.
        protocol: evaluation protocol key (see :class:`~metakb.evaluation.Protocol`).
        seed: seeds the draws, subsampling, splits and models.
        eval_seed: seeds the subsampling, splits and models only (default: ``seed``). Another
            value re-evaluates the same configurations on new splits: the matrix averages
            the ``ok`` evaluations over seeds, so repeats reduce its noise, and comparing two
            seeds measures that noise (``benchmarks/matrix_noise.py``).
        datasets / exclude / max_datasets: which datasets (by PMLB name).
        timeout / memory_mb: per-evaluation limits.
        meta_features_only: (re)compute meta-features and store datasets, evaluate nothing.
        with_meta_features: compute meta-features at all.
        batch_size: results per write transaction.
        executor: ``local`` (worker processes with timeout and memory cap) or ``dask`` (a
            ``LocalCluster`` of ``jobs`` workers, or the cluster at ``scheduler``; the
            cluster's own limits apply instead of ``timeout``/``memory_mb``).
        scheduler: address of an existing Dask scheduler (implies ``executor='dask'``).
        budgets: the fractions of the training rows every cell is evaluated at (``budget_mode
            'rows'``, as ``optimize``): ``(1/9, 1/3, 1)`` stores learning curves, for BOHB's
            per-budget warm start; a string such as ``"1/9,1/3,1"`` is parsed.
        candidates: ``none``, or ``bohb``: before the matrix, search every dataset with BOHB
            (``search``'s settings) and add the incumbents to the pool
            (:mod:`metakb.workflows.candidates`). The pool is the build's configurations plus
            every tuned candidate stored for the space.
        search: the per-dataset search (default :class:`CandidateSearch`, seeded by ``seed``).
    """
    get_search_space(space)  # validate everything before the first write
    task = space_task(space)
    proto = Protocol.for_task(protocol, task)
    executor = _check_arguments(n_configs, jobs, executor, scheduler, timeout, memory_mb)
    plan = _plan(budgets, candidates, search, seed)
    folders = _select(pmlb_datasets(pmlb_dir, task=task), datasets, exclude, max_datasets,
                      f"PMLB {task} datasets in this folder")
    sources = [BuildSource(f.name, functools.partial(load_pmlb_task, f, task), DataRef("pmlb", path=str(f), task=task))
               for f in folders]
    return _build(kb, sources, {"pmlb_dir": str(pmlb_dir)}, space=space, task=task, proto=proto,
                  n_configs=n_configs, jobs=jobs, seed=seed, eval_seed=eval_seed, timeout=timeout,
                  memory_mb=memory_mb, meta_features_only=meta_features_only,
                  with_meta_features=with_meta_features, progress=progress, batch_size=batch_size,
                  on_result=on_result, executor=executor, scheduler=scheduler, plan=plan)


def data_files(data: str | Path | Sequence[str | Path]) -> list[Path]:
    """The data files of ``data``: files as given, and a directory's files whose name ends in
    one of :data:`DATA_SUFFIXES` (optionally ``.gz``; not hidden, not recursive), sorted.

    Raises:
        DataError: a path that does not exist, or a directory without data files.
    """
    paths = [Path(data)] if isinstance(data, (str, Path)) else [Path(p) for p in data]
    if not paths:
        raise DataError("no data given; pass data files or a directory of them")
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")
                           and _data_suffix(p) in DATA_SUFFIXES)
            if not found:
                raise DataError(f"directory {path} holds no data files ({', '.join(DATA_SUFFIXES)}, "
                                "optionally .gz)")
            files += found
        elif path.is_file():
            files.append(path)
        else:
            raise DataError(f"data path {path} does not exist")
    return list(dict.fromkeys(files))


def _data_suffix(path: Path) -> str:
    """The format suffix of a file name (the one before ``.gz``), lower case."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def build_from_files(
    kb: KnowledgeBase,
    data: str | Path | Sequence[str | Path],
    target: str,
    *,
    space: str | None = None,
    task: str | None = None,
    n_configs: int = 64,
    jobs: int = 1,
    protocol: str = DEFAULT_PROTOCOL,
    seed: int = 0,
    eval_seed: int | None = None,
    datasets: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    max_datasets: int | None = None,
    timeout: float = 60.0,
    memory_mb: int = 4096,
    meta_features_only: bool = False,
    with_meta_features: bool = True,
    progress: bool = True,
    batch_size: int = 25,
    on_result: Callable[[int], None] | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    budgets: Sequence[float] | str = (1.0,),
    candidates: str = "none",
    search: CandidateSearch | None = None,
) -> BuildReport:
    """Evaluate every configuration on every one of a user's own tables (``metakb build --data``).

    The same resumable, idempotent protocol as :func:`build_from_pmlb` (one shared core): a
    rerun evaluates only the missing cells. Every file is loaded and its task resolved
    (:func:`metakb.workflows.task.resolve_task`: ``task`` if given, else declared or detected
    from the target) before anything is written; the space is ``space``, else the CASH space of
    the files' task. A file of the other task type than the space, files of both task types
    without a ``space``, an unreadable file or one without the ``target`` column are refused
    with one line, and nothing is written.

    Args:
        data: a data file, a directory of them (see :func:`data_files`), or a list of both.
        target: the target column, the same in every file.
        space: the search space (default: the files' task's CASH space).
        task: ``classification`` or ``regression`` for every file (default: per file, detected).
        datasets / exclude / max_datasets: which files, by dataset name (the file name without
            its suffixes; two files may not share one).
        Other arguments: as :func:`build_from_pmlb`.

    Raises:
        DataError: a file cannot be read or has no usable target; two files share a name.
        SpaceError: a file's task type is not the space's.
        ConfigError: a bad argument, or files of both task types and no ``space``.
    """
    from metakb.workflows.task import resolve_task

    if space is not None:
        get_search_space(space)
    executor = _check_arguments(n_configs, jobs, executor, scheduler, timeout, memory_mb)
    plan = _plan(budgets, candidates, search, seed)
    files = data_files(data)
    names: dict[str, Path] = {}
    for path in files:
        name = path.name.split(".")[0]
        if name in names:
            raise DataError(f"data files {names[name]} and {path} are both named {name!r}; rename one")
        names[name] = path
    chosen = _select(list(names), datasets, exclude, max_datasets, "among the data files")
    setups = []
    for name in chosen:
        setups.append((names[name], resolve_task(load_table(names[name], target, name=name), task=task, space=space)))
    kinds = {setup.task for _, setup in setups}
    if len(kinds) > 1:
        by_task = {k: [s.table.name for _, s in setups if s.task == k] for k in sorted(kinds)}
        raise ConfigError(f"the data files hold both task types ({by_task}); give --space to choose one, or build "
                          "each task type's files separately")
    kind = kinds.pop()
    chosen_space = setups[0][1].space
    proto = Protocol.for_task(protocol, kind)
    sources = [BuildSource(s.table.name, functools.partial(_loaded, s.table),
                           DataRef("file", path=str(path), target=target, task=kind))
               for path, s in setups]
    return _build(kb, sources, {"data": [str(p.resolve()) for p, _ in setups], "target": target},
                  space=chosen_space, task=kind, proto=proto, n_configs=n_configs, jobs=jobs, seed=seed,
                  eval_seed=eval_seed, timeout=timeout, memory_mb=memory_mb,
                  meta_features_only=meta_features_only, with_meta_features=with_meta_features,
                  progress=progress, batch_size=batch_size, on_result=on_result, executor=executor,
                  scheduler=scheduler, plan=plan)


def _loaded(table: Table) -> Table:
    """A table loaded (and checked) before the build started."""
    return table


def _check_arguments(n_configs: int, jobs: int, executor: str, scheduler: str | None, timeout: float,
                     memory_mb: int) -> str:
    """Refuse a bad build argument with one line naming it; return the executor to use."""
    if n_configs < 1:
        raise ConfigError(f"--configs must be >= 1, got {n_configs}")
    if jobs < 1:
        raise ConfigError(f"--jobs must be >= 1, got {jobs}")
    if scheduler:
        executor = "dask"
    if executor not in ("local", "dask"):
        raise ConfigError(f"--executor must be 'local' or 'dask', got {executor!r}")
    if not timeout > 0:
        raise ConfigError(f"--timeout must be > 0 seconds, got {timeout}")
    if memory_mb < 0:
        raise ConfigError(f"--memory-mb must be >= 0 MiB (0: none), got {memory_mb}")
    return executor


@dataclass(frozen=True)
class _Plan:
    """The checked budgets and candidate search of a build."""

    budgets: tuple[float, ...]
    search: CandidateSearch | None

    def settings(self) -> dict[str, Any]:
        out: dict[str, Any] = {"budgets": list(self.budgets)}
        if self.search is not None:
            out["candidates"] = {"method": "bohb", **self.search.__dict__}
        return out


def _plan(budgets: Sequence[float] | str, candidates: str, search: CandidateSearch | None, seed: int) -> _Plan:
    """Refuse bad ``--budgets`` / ``--candidates`` with one line each, before anything is written."""
    checked = check_budgets(budgets)
    if candidates not in CANDIDATE_METHODS:
        raise ConfigError(f"--candidates must be one of {list(CANDIDATE_METHODS)}, got {candidates!r}")
    if candidates == "none":
        if search is not None:
            raise ConfigError("a candidate search applies with candidates='bohb' only")
        return _Plan(checked, None)
    return _Plan(checked, search if search is not None else CandidateSearch(seed=seed))


def _build(kb: KnowledgeBase, sources: list[BuildSource], source_settings: dict[str, Any], *, space: str, task: str,
           proto: Protocol, n_configs: int, jobs: int, seed: int, eval_seed: int | None, timeout: float,
           memory_mb: int, meta_features_only: bool, with_meta_features: bool, progress: bool, batch_size: int,
           on_result: Callable[[int], None] | None, executor: str, scheduler: str | None,
           plan: _Plan = _Plan((1.0,), None)) -> BuildReport:
    """The build protocol shared by every entry point, after its arguments were checked: one
    ``build`` run, the space's configurations, the datasets with their meta-features and
    signatures, the tuned candidates (when asked), then every missing cell of the matrix at
    every budget."""
    started = time.monotonic()
    eval_seed = seed if eval_seed is None else int(eval_seed)
    settings = {**source_settings, "space": space, "n_configs": n_configs, "jobs": jobs,
                "protocol": proto.key(), "seed": seed, "eval_seed": eval_seed, "datasets": [s.name for s in sources],
                "timeout": timeout, "memory_mb": memory_mb, **plan.settings()}
    with kb.transaction():  # a space refused by the store (another definition) leaves no run
        kb.interrupt_stale_runs("build")  # a killed build's run: this build takes up its work
        run_id = kb.create_run("build", settings, origin="metakb build")
        origin = f"build:{run_id}"
        space_id, config_ids = register_space(kb, space, n_configs, seed=seed, origin=origin)
    report = BuildReport(run_id=run_id, budgets=list(plan.budgets))
    try:
        with RunClock(kb, run_id, 0.0):  # a heartbeat: a live build is never taken for a dead one
            registered = _register_datasets(kb, sources, origin, with_meta_features, seed, report, progress)
            report.datasets = len(registered)
            if not meta_features_only:
                with make_executor(executor, jobs, scheduler, **_limits(executor, timeout, memory_mb)) as pool:
                    if plan.search is not None:
                        _search_candidates(kb, registered, space, space_id, proto, eval_seed, plan.search, pool,
                                           run_id, origin, report, progress)
                    pool_ids = list(dict.fromkeys([*config_ids, *candidate_ids(kb, space_id)]))
                    report.configurations, report.candidates = len(pool_ids), len(pool_ids) - len(config_ids)
                    _evaluate_matrix(kb, registered, space_id, pool_ids, proto, eval_seed, _results_source(pool),
                                     origin, run_id, report, progress, batch_size, on_result, plan.budgets)
            else:
                report.configurations = len(config_ids)
    except BaseException:
        kb.update_run(run_id, status="interrupted")
        raise
    report.seconds = time.monotonic() - started
    kb.update_run(run_id, status="finished", state={"report": report.__dict__})
    return report


def _search_candidates(kb: KnowledgeBase, registered: list[tuple[int, DataRef]], space: str, space_id: int,
                       proto: Protocol, eval_seed: int, search: CandidateSearch, pool: Executor, run_id: str,
                       origin: str, report: BuildReport, progress: bool) -> None:
    """The candidate phase (:func:`metakb.workflows.candidates.tune_candidates`) with its progress bar."""
    started = time.monotonic()
    bar = _progress(None, progress, total=len(registered) * search.n_evaluations, desc="candidate searches",
                    unit="eval", smoothing=0.05)
    found = tune_candidates(kb, registered, space=space, space_id=space_id, protocol=proto, eval_seed=eval_seed,
                            search=search, executor=pool, run_id=run_id, origin=origin,
                            on_result=(lambda: bar.update(1)) if progress else None)
    if progress:
        bar.close()
    report.searches, report.searches_reused = found.searched, found.reused
    report.search_evaluations, report.searches_failed = found.evaluations, found.failed
    report.search_seconds = time.monotonic() - started


def _limits(executor: str, timeout: float, memory_mb: int) -> dict[str, Any]:
    """The per-evaluation limits of the ``local`` pool (a cluster applies its own)."""
    return {"timeout": timeout, "memory_mb": memory_mb} if executor == "local" else {}


_Item = Any  # a PMLB folder (Path) or a dataset name


def _select(items: list[_Item], names: Sequence[str] | None, exclude: Iterable[str],
            limit: int | None, where: str) -> list[_Item]:
    """The items (named by ``Path.name`` or themselves) that ``--datasets``, ``--exclude`` and
    ``--max-datasets`` keep; ``where`` ends the message about unknown names."""
    by_name = {(i.name if isinstance(i, Path) else str(i)): i for i in items}
    if names:
        unknown = sorted(set(names) - set(by_name))
        if unknown:
            raise DataError(f"datasets {unknown} are not {where}")
        items = [by_name[n] for n in names]
    excluded = set(exclude)
    items = [i for i in items if (i.name if isinstance(i, Path) else str(i)) not in excluded]
    if limit is not None:
        if limit < 1:
            raise ConfigError(f"--max-datasets must be >= 1, got {limit}")
        items = items[:limit]
    return items


def _progress(iterable: Any, progress: bool, **kwargs: Any) -> Any:
    if not progress:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, **kwargs)


def _register_datasets(kb: KnowledgeBase, sources: list[BuildSource], origin: str, with_mf: bool, seed: int,
                       report: BuildReport, progress: bool) -> list[tuple[int, DataRef]]:
    registered: dict[int, DataRef] = {}
    for source in _progress(sources, progress, desc="datasets + meta-features", unit="dataset"):
        try:  # a dataset that cannot be loaded or registered is skipped (and reported), not fatal
            table = source.load()
            dataset_id = register_table(kb, table, origin=origin, meta_features=with_mf, seed=seed)
        except DataError as exc:
            report.failed_datasets[source.name] = str(exc)
            continue
        registered.setdefault(dataset_id, source.ref)  # the same content twice is one dataset
    return list(registered.items())


def _results_source(executor: Executor) -> Callable[[list[EvaluationTask]], Iterator[tuple[EvaluationTask, EvaluationResult]]]:
    """A function mapping tasks to ``(task, result)`` as they finish on ``executor``."""
    return functools.partial(evaluate_tasks, executor)


def _evaluate_matrix(kb: KnowledgeBase, registered: list[tuple[int, DataRef]], space_id: int, config_ids: list[int],
                     proto: Protocol, seed: int,
                     source: Callable[[list[EvaluationTask]], Iterator[tuple[EvaluationTask, EvaluationResult]]],
                     origin: str, run_id: str, report: BuildReport, progress: bool, batch_size: int,
                     on_result: Callable[[int], None] | None, budgets: Sequence[float] = (1.0,)) -> None:
    done = kb.evaluated_keys(protocol=proto.key(), metric=proto.metric, space_id=space_id)
    configs = {cid: kb.get_configuration(cid) for cid in config_ids}
    tasks = []
    for dataset_id, ref in registered:
        for budget in budgets:  # the dataset's cells at every budget together: its table stays cached
            for cid in config_ids:
                if (dataset_id, cid, budget, seed) in done:
                    report.skipped_existing += 1
                    continue
                tasks.append(EvaluationTask((dataset_id, cid, budget), ref, configs[cid], proto, budget, seed))
    if not tasks:
        return
    batch: list[dict[str, Any]] = []
    last_write = time.monotonic()
    bar = _progress(None, progress, total=len(tasks), desc="evaluations", unit="eval", smoothing=0.05)
    for done_task, result in source(tasks):
        dataset_id, cid, budget = done_task.key  # type: ignore[misc]
        batch.append({"dataset_id": dataset_id, "configuration_id": cid, "budget": budget,
                      "protocol": proto.key(), "seed": seed, "metric": proto.metric,
                      "higher_is_better": proto.higher_is_better, "run_id": run_id, "origin": origin,
                      **result.to_record()})
        report.status_counts[result.status] = report.status_counts.get(result.status, 0) + 1
        if len(batch) >= batch_size or time.monotonic() - last_write > 10:
            report.evaluated += kb.add_evaluations(batch)
            batch, last_write = [], time.monotonic()
        if progress:
            bar.update(1)
        if on_result is not None:
            on_result(report.evaluated + len(batch))
    if batch:
        report.evaluated += kb.add_evaluations(batch)
    if progress:
        bar.close()
