"""``extract``: run the registered feature functions of the chosen groups on one dataset."""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController

from meta_features._context import Context
from meta_features._data import Prepared, prepare
from meta_features._registry import GROUPS, TASKS, Feature, features_of
from meta_features._summary import check_summary, summarise_many
from metakb.errors import ConfigError

__all__ = ["MetaFeatureResult", "extract", "check_groups", "EXTRACTOR_VERSION", "SUBSAMPLED_GROUPS"]

#: Bumped whenever the definition of any feature changes (values stored in the knowledge base
#: carry it, so that values of different versions are never mixed).
EXTRACTOR_VERSION = "0.1.0"

#: Groups computed on a row subsample when the data has more than ``max_rows`` rows.
SUBSAMPLED_GROUPS: tuple[str, ...] = ("statistical", "info-theory", "model-based", "landmarking")


class MetaFeatureResult(dict):
    """``{name: value}`` with float values, plus ``groups`` (name -> group) and ``notes``.

    ``notes`` holds ``n_rows``, ``subsampled_rows`` (None when every row was used),
    ``seconds`` (per group), ``skipped`` (group -> reason), ``nan_reasons`` (name -> why the
    value is NaN) and ``partial`` (feature -> why some of its values were left out of its
    summaries).
    """

    def __init__(self, values: dict[str, float], groups: dict[str, str], notes: dict[str, Any]):
        super().__init__(values)
        self.groups = groups
        self.notes = notes


def check_groups(groups: str | Iterable[str] | None) -> tuple[str, ...]:
    """Validate a group selection (``None`` or ``"all"`` means every group), in GROUPS order."""
    if groups is None or groups == "all":
        return GROUPS
    chosen = {groups} if isinstance(groups, str) else set(groups)
    unknown = sorted(chosen - set(GROUPS))
    if unknown or not chosen:
        raise ConfigError(f"groups must be a non-empty subset of {GROUPS}; got {sorted(chosen)!r}")
    return tuple(g for g in GROUPS if g in chosen)


def extract(
    X: Any,
    y: Any,
    *,
    groups: str | Iterable[str] | None = None,
    categorical: Sequence[bool] | Sequence[int] | np.ndarray | None = None,
    summary: str | Sequence[str] | None = None,
    time_budget: float | None = None,
    seed: int = 0,
    max_rows: int = 10_000,
    max_attr_pairs: int = 1000,
    task: str = "classification",
) -> MetaFeatureResult:
    """Extract meta-features of a classification or regression dataset.

    Args:
        X: ``(n, d)`` float array (NaN for missing, categorical columns integer-coded) or a
            pandas DataFrame (category/object/string/bool columns are categorical).
        y: Class labels, one per row; for ``task="regression"`` the numeric target.
        groups: Groups to extract (see :data:`GROUPS`); ``None`` means all.
        categorical: Mask or indices of the categorical columns (see ``_data.prepare``).
        summary: Summaries of multi-valued features; ``None`` means ``DEFAULT_SUMMARY``.
        time_budget: Seconds; groups not started before it runs out are skipped and listed in
            ``notes["skipped"]``. ``None``: no limit.
        seed: Seed of the row subsample, folds and random choices (results are deterministic).
        max_rows: Rows above which the groups in :data:`SUBSAMPLED_GROUPS` use a stratified
            random subsample of this many rows (``notes["subsampled_rows"]``).
        max_attr_pairs: Most numeric attributes used by pairwise features.
        task: ``classification`` or ``regression``: only the features registered for the
            task are extracted (a regression gets the target-free general, statistical and
            info-theory features, the target statistics, feature-target correlation and
            mutual information, and the regression landmarkers; the model-based group has
            none). A regression's row subsample is uniform, not stratified.

    Returns:
        A :class:`MetaFeatureResult`.

    Raises:
        ConfigError: On an unknown group or summary or a bad limit.
        DataError: On unusable data (see ``_data.prepare``).
    """
    if task not in TASKS:
        raise ConfigError(f"task must be one of {TASKS}; got {task!r}")
    chosen = check_groups(groups)
    summaries = check_summary(summary)
    if max_rows < 10:
        raise ConfigError(f"max_rows must be an int >= 10; got {max_rows!r}")
    if time_budget is not None and not time_budget > 0:
        raise ConfigError(f"time_budget must be a positive number of seconds or None; got {time_budget!r}")
    start = time.perf_counter()
    # The matrices here are small: BLAS threads only contend with each other (and with
    # whatever else runs), so one thread is both faster and reproducible.
    with _one_thread():
        return _run(X, y, chosen, summaries, categorical, time_budget, seed, max_rows,
                    max_attr_pairs, start, task)


def _run(X: Any, y: Any, chosen: tuple[str, ...], summaries: tuple[str, ...], categorical: Any,
         time_budget: float | None, seed: int, max_rows: int, max_attr_pairs: int,
         start: float, task: str = "classification") -> MetaFeatureResult:
    full = prepare(X, y, categorical, task)
    sub, rows = _subsample(full, max_rows, seed)
    ctx = Context(sub, full, seed=seed, max_attr_pairs=max_attr_pairs)
    out = _Collector(summaries)
    seconds: dict[str, float] = {}
    skipped: dict[str, str] = {}
    for group in chosen:
        if time_budget is not None and time.perf_counter() - start > time_budget:
            skipped[group] = f"time budget of {time_budget:g} s spent"
            continue
        t0 = time.perf_counter()
        for feature in features_of(group, task):
            ctx.current = feature.name
            out.add(feature, feature.function(ctx), ctx.reasons.get(feature.name))
        out.flush()
        seconds[group] = time.perf_counter() - t0
    notes: dict[str, Any] = {
        "extractor_version": EXTRACTOR_VERSION,
        "task": task,
        "n_rows": full.n,
        "subsampled_rows": rows,
        "seconds": seconds,
        "skipped": skipped,
        "nan_reasons": out.nan_reasons,
        "partial": out.partial,
    }
    notes.update(ctx.notes)
    return MetaFeatureResult(out.values, out.groups, notes)


class _Collector:
    """Gathers values (summarised when multi-valued), their groups and the NaN reasons.

    :meth:`add` only queues a feature's raw values; :meth:`flush` (once per group) summarises
    all queued multi-valued features together (:func:`summarise_many`: one numpy call per
    summary for all features with as many values, rather than one per feature) and then
    stores every queued feature in the order it was added.
    """

    def __init__(self, summaries: tuple[str, ...]) -> None:
        self.summaries = summaries
        self.values: dict[str, float] = {}
        self.groups: dict[str, str] = {}
        self.nan_reasons: dict[str, str] = {}
        self.partial: dict[str, str] = {}
        self._queue: list[tuple[Feature, Any, str | None]] = []

    def add(self, feature: Feature, raw: Any, reason: str | None) -> None:
        """Queue one feature's value (a number) or values (an array, to be summarised)."""
        # an array is copied: later features cannot change it before it is summarised
        value = np.array(raw, dtype=float).ravel() if feature.multi else float(raw)
        self._queue.append((feature, value, reason))

    def flush(self) -> None:
        """Summarise and store the queued features (values, groups and reasons in queue order)."""
        queue, self._queue = self._queue, []
        summarised = iter(summarise_many([raw for feature, raw, _ in queue if feature.multi], self.summaries))
        keys: list[str] = []
        values: list[float] = []
        groups: list[str] = []
        for feature, raw, reason in queue:
            if not feature.multi:
                keys.append(feature.name)
                values.append(raw)
                groups.append(feature.group)
                if raw != raw:  # NaN
                    self.nan_reasons[feature.name] = reason or "undefined for this dataset"
                continue
            names, (row, defined) = _keys(feature.name, self.summaries), next(summarised)
            keys.extend(names)
            values.extend(row)
            groups.extend([feature.group] * len(names))
            total = sum(row)
            if total != total:  # a NaN (or infinities of both signs); reasons only then
                for key, s, v in zip(names, self.summaries, row, strict=True):
                    if v != v:
                        self.nan_reasons[key] = _multi_reason(defined, s, reason)
            if reason and defined:
                self.partial[feature.name] = reason
        self.values.update(zip(keys, values, strict=True))
        self.groups.update(zip(keys, groups, strict=True))


@functools.lru_cache(maxsize=1024)
def _keys(name: str, summaries: tuple[str, ...]) -> tuple[str, ...]:
    """The value names ``name.summary`` of a summarised feature."""
    return tuple(f"{name}.{s}" for s in summaries)


_CONTROLLER: list[ThreadpoolController] = []


def _one_thread() -> AbstractContextManager[object]:
    """BLAS and OpenMP limited to one thread; nothing to do (and nothing done, which saves the
    ~10 us of setting and restoring the limits) when every library already uses one."""
    controller = _controller()
    if all(lib.num_threads == 1 for lib in controller.lib_controllers):
        return contextlib.nullcontext()
    return controller.limit(limits=1)


def _controller() -> ThreadpoolController:
    """One controller per process: building it scans the loaded libraries (about 10 ms)."""
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0]


def _multi_reason(defined: int, summary: str, reason: str | None) -> str:
    """Why ``summary`` of a feature with ``defined`` finite values is NaN."""
    if defined == 0:
        return reason or "no value to summarise"
    if defined == 1 and summary in ("sd", "skewness", "kurtosis"):
        return f"{summary} of a single value"
    return f"{summary} of values without spread"


def _subsample(data: Prepared, max_rows: int, seed: int) -> tuple[Prepared, int | None]:
    """A stratified random subsample of ``max_rows`` rows (every class keeps at least one)."""
    if data.n <= max_rows:
        return data, None
    rng = np.random.default_rng([seed, 0])
    if data.target is not None:  # regression: a uniform random subsample
        rows = np.sort(rng.choice(data.n, size=max_rows, replace=False))
        return Prepared(X=data.X[rows], y=data.y[rows], categorical=data.categorical,
                        classes=data.classes, target=data.target[rows]), int(rows.size)
    counts = np.bincount(data.y)
    quota = np.maximum(np.floor(counts * max_rows / data.n).astype(int), np.minimum(counts, 1))
    # hand out the rows lost to rounding to the largest classes
    short = max_rows - quota.sum()
    for c in np.argsort(-counts, kind="stable"):
        if short <= 0:
            break
        extra = min(short, counts[c] - quota[c])
        quota[c] += extra
        short -= extra
    rows = np.concatenate([
        rng.choice(np.flatnonzero(data.y == c), size=quota[c], replace=False)
        for c in range(len(counts)) if quota[c] > 0
    ])
    rows.sort()
    sub = Prepared(X=data.X[rows], y=data.y[rows], categorical=data.categorical,
                   classes=data.classes)
    return sub, int(rows.size)
