"""Load a tabular classification dataset: CSV/TSV (gzip too), ARFF, Parquet, or a PMLB folder.

Every loader returns a :class:`Table`: the features as a DataFrame (numeric columns as floats
with NaN for missing values, categorical columns as strings with NaN), the target as strings,
and which columns are categorical. Bad files are refused with one line naming the problem.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from metakb.errors import DataError

__all__ = ["Table", "load_table", "load_pmlb", "read_frame", "coerce_column", "NA_VALUES", "check_rows",
           "rows_needed"]

# Spellings of a missing value, in addition to empty fields ('?' is ARFF's and UCI's).
NA_VALUES = ["", "?", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "none"]
# A text column whose non-missing values parse as numbers at least this often is a numeric
# column with garbage in it, not a categorical column.
_NUMERIC_SHARE = 0.9


@dataclass
class Table:
    """A dataset ready for meta-features and evaluation.

    Attributes:
        name: a short name (file stem or PMLB name).
        X: features; numeric columns float64, categorical columns object (str or NaN).
        y: the target as strings (class labels).
        categorical: one bool per column of ``X``.
        target: the target column's name.
        source: ``file`` or ``pmlb`` (or an importer's name); ``source_id`` locates it there.
    """

    name: str
    X: pd.DataFrame
    y: np.ndarray
    categorical: np.ndarray
    target: str
    source: str = "file"
    source_id: str | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        """Number of feature columns."""
        return int(self.X.shape[1])

    @property
    def classes(self) -> np.ndarray:
        """The sorted distinct class labels."""
        return np.unique(self.y)

    def content_hash(self) -> str:
        """SHA-256 of the column names, types, values and target: identity by content.

        Numbers enter rounded to 12 significant digits, so the same file read by another
        parser (or library version) gives the same hash.
        """
        digest = hashlib.sha256()
        digest.update("\x1f".join(map(str, self.X.columns)).encode())
        digest.update(self.categorical.astype(np.uint8).tobytes())
        digest.update(str(self.target).encode())
        for column in self.X.columns:
            values = self.X[column]
            if values.dtype == object:
                digest.update("\x1f".join("\x00" if pd.isna(v) else str(v) for v in values).encode())
            else:
                digest.update(np.ascontiguousarray(_stable_floats(values.to_numpy(dtype=float))).tobytes())
        digest.update("\x1f".join(self.y.astype(str)).encode())
        return digest.hexdigest()

    def numeric_matrix(self) -> np.ndarray:
        """Features as float64: categorical columns integer-coded (sorted levels), NaN kept."""
        out = np.empty(self.X.shape, dtype=float)
        for j, column in enumerate(self.X.columns):
            if self.categorical[j]:
                codes = pd.Categorical(self.X[column]).codes.astype(float)
                codes[codes < 0] = np.nan
                out[:, j] = codes
            else:
                out[:, j] = self.X[column].to_numpy(dtype=float)
        return out


def load_table(path: str | Path, target: str, *, name: str | None = None,
               categorical: list[str] | None = None) -> Table:
    """Load a CSV/TSV (optionally gzipped), ARFF or Parquet file.

    Args:
        path: the file; its format is chosen by its suffixes (``.csv``, ``.tsv``, ``.txt``,
            ``.arff``, ``.parquet``/``.pq``, each optionally ``.gz``).
        target: the class column.
        name: the dataset's name (default: the file name without suffixes).
        categorical: columns to treat as categorical besides text and ARFF nominal columns.

    Raises:
        DataError: missing or empty file, unknown format, duplicate column names, unknown target,
            a target with fewer than two classes, non-numeric garbage in a numeric column.
    """
    path = Path(path)
    frame, nominal = _read_file(path)
    stem = path.name.split(".")[0]
    declared = [c for c in _beside_pmlb_metadata(path) if c in frame.columns and c != target]
    table = table_from_frame(frame, target, name=name or stem,
                             categorical=[*(categorical or []), *nominal, *declared],
                             source="file", source_id=str(path.resolve()))
    task = _beside_pmlb_task(path)
    if task:
        table.notes["declared_task"] = task
    return table


def _detected_task(y_raw: pd.Series, target: str) -> str | None:
    """The task type :func:`~metakb.data.detect_task` gives the raw target values, None if it refuses them."""
    from metakb.data._task import detect_task

    try:
        return detect_task(y_raw, name=target)
    except DataError:  # e.g. +-inf: the command's own task check says so in its words
        return None


def _beside_pmlb_task(path: Path) -> str | None:
    """The task a PMLB ``metadata.yaml`` beside ``NAME/NAME.tsv.gz`` declares, else None."""
    if not path.name.startswith(path.parent.name + "."):
        return None
    from metakb.data._task import pmlb_task

    return pmlb_task(path.parent) if (path.parent / "metadata.yaml").exists() else None


def read_frame(path: str | Path) -> pd.DataFrame:
    """The raw columns of a CSV/TSV (optionally compressed), ARFF or Parquet file, no target
    needed (``metakb predict`` reads new rows with it); the same readers as :func:`load_table`."""
    frame, _ = _read_file(Path(path))
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def coerce_column(values: pd.Series, column: str, force_categorical: bool) -> tuple[pd.Series, bool]:
    """One column as :func:`load_table` types it: floats, or text when categorical or non-numeric."""
    return _coerce_column(values, column, force_categorical)


def _read_file(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """The frame of a data file by its format, and the ARFF nominal columns (else none)."""
    if not path.exists():
        raise DataError(f"data file {path} does not exist")
    if path.is_dir():
        raise DataError(f"data path {path} is a directory, expected a CSV/TSV/ARFF/Parquet file")
    if path.stat().st_size == 0:
        raise DataError(f"data file {path} is empty")
    suffixes = [s.lower() for s in path.suffixes]
    gz = bool(suffixes) and suffixes[-1] == ".gz"
    kind = suffixes[-2] if gz and len(suffixes) >= 2 else (suffixes[-1] if suffixes else "")
    nominal: list[str] = []
    if kind in (".csv", ".tsv", ".txt", ".tab"):
        frame = _read_delimited(path, gz, "\t" if kind in (".tsv", ".tab") else None)
    elif kind == ".arff":
        frame, nominal = _read_arff(path, gz)
    elif kind in (".parquet", ".pq"):
        frame = _read_parquet(path)
    else:
        raise DataError(f"cannot tell the format of {path.name}: expected .csv, .tsv, .arff or .parquet (optionally .gz)")
    return frame, nominal


def _beside_pmlb_metadata(path: Path) -> list[str]:
    """The categorical columns a PMLB ``metadata.yaml`` beside ``NAME/NAME.tsv.gz`` declares.

    A PMLB file read as a plain file is then the same table (and has the same content hash)
    as :func:`load_pmlb` makes of its folder, so ``recommend``, ``run`` and ``optimize`` score
    it as the knowledge base's build did.
    """
    if not path.name.startswith(path.parent.name + "."):
        return []
    return _pmlb_categorical(path.parent / "metadata.yaml")


# The first bytes of compressed files: the content decides, not the file name.
_MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz", b"PK\x03\x04": "zip"}


def _compression(head: bytes) -> str | None:
    return next((kind for magic, kind in _MAGIC.items() if head.startswith(magic)), None)


def _open_text(path: Path, gz: bool) -> str:
    """The file's text, decompressed when its content is gzip, bzip2 or xz (whatever its name).

    A name ending in ``.gz`` (``gz``) over content that is not gzip, or a zip archive (it may
    hold several files), is refused with one line.
    """
    import bz2
    import lzma

    kind: str | None = None
    try:
        raw = path.read_bytes()
        kind = _compression(raw[:8])
        if kind == "zip":
            raise DataError(f"{path.name} is a zip archive, not a table; unzip it and pass the file inside")
        if gz and kind != "gzip":
            raise DataError(f"cannot read {path}: its name ends in .gz but its content is "
                            f"{kind + '-compressed' if kind else 'not compressed'}; rename it")
        if kind is not None:
            raw = {"gzip": gzip.decompress, "bzip2": bz2.decompress, "xz": lzma.decompress}[kind](raw)
    except (OSError, EOFError, lzma.LZMAError) as exc:
        what = f"it looks {kind}-compressed but does not decompress" if kind else "it cannot be read"
        raise DataError(f"cannot read {path}: {what} ({exc})") from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _read_delimited(path: Path, gz: bool, sep: str | None) -> pd.DataFrame:
    text = _open_text(path, gz)
    if not text.strip():
        raise DataError(f"data file {path} is empty")
    if sep is None:
        try:
            sep = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|").delimiter
        except csv.Error:
            sep = ","
    header = next(csv.reader(io.StringIO(text), delimiter=sep))
    _check_header(header, path)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, na_values=NA_VALUES, keep_default_na=False,
                            dtype=str, skipinitialspace=True)
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataError(f"cannot parse {path}: {str(exc).splitlines()[0]}") from exc
    if frame.empty:
        raise DataError(f"data file {path} has a header but no rows")
    return frame


def _check_header(header: list[str], path: Path) -> None:
    names = [h.strip() for h in header]
    duplicates = sorted(n for n, c in Counter(names).items() if c > 1)
    if duplicates:
        raise DataError(f"{path.name} has duplicate column names {duplicates}; rename them")


def _read_arff(path: Path, gz: bool) -> tuple[pd.DataFrame, list[str]]:
    import arff

    try:
        data = arff.loads(_open_text(path, gz))
    except arff.ArffException as exc:
        raise DataError(f"cannot parse ARFF file {path}: {exc}") from exc
    names = [a[0] for a in data["attributes"]]
    _check_header(names, path)
    nominal = [a[0] for a in data["attributes"] if isinstance(a[1], list)]
    frame = pd.DataFrame(data["data"], columns=names)
    if frame.empty:
        raise DataError(f"ARFF file {path} has no data rows")
    return frame, nominal


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        # the names first: pyarrow refuses duplicate names with a message about field refs
        _check_header([str(n) for n in pq.read_schema(path).names], path)
        frame = pd.read_parquet(path)
    except DataError:
        raise
    except Exception as exc:  # pyarrow raises many types for a bad file
        raise DataError(f"cannot read Parquet file {path}: {str(exc).splitlines()[0]}") from exc
    if frame.empty:
        raise DataError(f"Parquet file {path} has no rows")
    columns = [str(c) for c in frame.columns]
    _check_header(columns, path)
    frame.columns = columns
    return frame


def table_from_frame(frame: pd.DataFrame, target: str, *, name: str, categorical: list[str] | None = None,
                     source: str = "file", source_id: str | None = None) -> Table:
    """Validate a raw frame and split it into features and target (see :func:`load_table`)."""
    frame = frame.copy()
    frame.columns = [str(c).strip() for c in frame.columns]
    if target not in frame.columns:
        shown = list(frame.columns)[:20]
        raise DataError(f"target column {target!r} not found; columns are {shown}"
                        + (" ..." if frame.shape[1] > 20 else ""))
    y_raw = frame.pop(target)
    if isinstance(y_raw, pd.DataFrame):
        raise DataError(f"target column {target!r} appears more than once")
    y_text = _labels(y_raw)
    keep = y_text.notna().to_numpy()
    if not keep.any():
        raise DataError(f"target column {target!r} has no values (all missing)")
    notes: dict[str, Any] = {}
    if not keep.all():
        notes["dropped_rows_missing_target"] = int((~keep).sum())
    detected = _detected_task(y_raw[keep], target)
    if detected:  # from the raw values: the labels below lose rule 4's decimal-point cue
        notes["detected_task"] = detected
    frame = frame.loc[keep].reset_index(drop=True)
    y = y_text[keep].to_numpy(dtype=str)
    n_classes = len(np.unique(y))
    if n_classes < 2:
        raise DataError(f"target column {target!r} has a single class ({str(y[0])!r}), i.e. it is constant; "
                        "a classification or a regression needs at least two distinct values")
    if frame.shape[1] == 0:
        raise DataError(f"no feature columns besides the target {target!r}")
    forced = set(categorical or [])
    unknown = sorted(forced - set(frame.columns) - {target})
    if unknown:
        raise DataError(f"categorical columns {unknown} are not in the data")
    columns, mask = {}, []
    for column in frame.columns:
        values, is_categorical = _coerce_column(frame[column], column, column in forced)
        columns[column] = values
        mask.append(is_categorical)
    X = pd.DataFrame(columns)
    return Table(name=name, X=X, y=y, categorical=np.asarray(mask, dtype=bool), target=target,
                 source=source, source_id=source_id, notes=notes)


def _splits_fit(n: int, kind: str, param: float) -> bool:
    """Whether ``n`` rows give every split at least 1 test row and 2 training rows."""
    if kind == "cv":
        folds = int(param)
        return n >= folds and n - math.ceil(n / folds) >= 2
    test = math.ceil(param * n)  # scikit-learn's ShuffleSplit rounds the test share up
    return test >= 1 and n - test >= 2


def rows_needed(protocol: Any) -> int:
    """The fewest rows ``protocol`` (an evaluation :class:`~metakb.evaluation.Protocol`) can split.

    ``cv:k`` needs k rows (one test row per fold) and 2 training rows per fold; ``holdout:p``
    needs a test row and 2 training rows.
    """
    n = 1
    while not _splits_fit(n, protocol.kind, float(protocol.param)):
        n += 1
    return n


def check_rows(table: Table, protocol: Any) -> None:
    """Refuse, before anything is evaluated or stored, data too small for ``protocol``.

    Raises:
        DataError: one line naming the number of rows, the protocol and what it needs.
    """
    need = rows_needed(protocol)
    if table.n_rows < need:
        raise DataError(f"{table.name} has {table.n_rows} rows; protocol {protocol.key()} needs at least "
                        f"{need} (a test row per split and 2 training rows); use more data or a smaller protocol")


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and value.strip() in NA_VALUES


def _label(value: Any) -> str:
    """A class label as text; integral floats lose their '.0' so 1 and 1.0 are one class."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() and "e" not in text.lower() else text


def _labels(values: pd.Series) -> pd.Series:
    """Values as text labels (object dtype, NaN for missing), vectorised for numeric columns."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.to_numpy(dtype=float)
        present = ~np.isnan(numbers)
        out = np.full(len(numbers), np.nan, dtype=object)
        integral = present & (np.floor(numbers) == numbers) & (np.abs(numbers) < 2**53)
        out[integral] = numbers[integral].astype(np.int64).astype(str)
        other = present & ~integral
        out[other] = numbers[other].astype(str)
        return pd.Series(out, index=values.index, dtype=object)
    return values.map(lambda v: np.nan if _is_missing(v) else _label(v)).astype(object)


def _coerce_column(values: pd.Series, column: str, force_categorical: bool) -> tuple[pd.Series, bool]:
    """A numeric column as float64, a categorical one as object strings (NaN for missing)."""
    if force_categorical:
        return _labels(values), True
    if pd.api.types.is_bool_dtype(values):
        return values.astype(float), False
    if pd.api.types.is_numeric_dtype(values):
        return _refuse_infinite(values.astype(float), values, column), False
    text = values.map(lambda v: np.nan if _is_missing(v) else str(v).strip())
    present = text.dropna()
    if present.empty:
        return pd.Series(np.full(len(values), np.nan), index=values.index), False
    numbers = pd.to_numeric(present, errors="coerce")
    share = float(numbers.notna().mean())
    if share == 1.0:
        return _refuse_infinite(_parse_floats(text), text, column), False
    if share >= _NUMERIC_SHARE:
        bad = present[numbers.isna()]
        raise DataError(f"column {column!r} is numeric but has non-numeric values such as {bad.iloc[0]!r} "
                        f"({len(bad)} of {len(present)}); fix them or mark them missing ('?' or empty)")
    return text.astype(object), True


def _refuse_infinite(numbers: pd.Series, raw: pd.Series, column: str) -> pd.Series:
    """``numbers`` unchanged, or one DataError line when some are +-inf ('inf', '1e400', ...)."""
    infinite = np.isinf(numbers.to_numpy(dtype=float))
    if infinite.any():
        example = raw[infinite].iloc[0]
        example = example if isinstance(example, str) else float(example)
        present = int(numbers.notna().sum())
        raise DataError(f"column {column!r} is numeric but has infinite values such as {example!r} "
                        f"({int(infinite.sum())} of {present}); use finite numbers or mark them missing "
                        f"('?' or empty)")
    return numbers


def _parse_floats(text: pd.Series) -> pd.Series:
    """Numbers from text, correctly rounded (Python's parser), NaN for missing.

    pandas' fast parser may differ from the correctly rounded value in the last bit depending
    on its version; content hashes must not.
    """
    out = np.full(len(text), np.nan)
    present = text.notna().to_numpy()
    out[present] = np.asarray(text[present].astype(object).tolist(), dtype=str).astype(float)
    return pd.Series(out, index=text.index)


def _stable_floats(values: np.ndarray, digits: int = 12) -> np.ndarray:
    """Values rounded to ``digits`` significant digits, so that parsers' last-bit differences vanish."""
    values = np.asarray(values, dtype=float)
    out = values.copy()
    finite = np.isfinite(values) & (values != 0)
    magnitude = np.floor(np.log10(np.abs(values[finite])))
    scale = 10.0 ** (digits - 1 - magnitude)
    out[finite] = np.round(values[finite] * scale) / scale
    return out


def load_pmlb(folder: str | Path) -> Table:
    """Load one PMLB dataset folder (``NAME/NAME.tsv.gz`` + ``metadata.yaml``).

    The label is the column ``target``; features whose ``type`` in ``metadata.yaml`` is
    ``discrete`` (or ``categorical``/``nominal``) are categorical; ``binary`` and ``continuous``
    features are numeric (a 0/1 feature needs no encoding).
    """
    folder = Path(folder)
    name = folder.name
    data = folder / f"{name}.tsv.gz"
    if not data.exists():
        raise DataError(f"PMLB folder {folder} has no {name}.tsv.gz")
    if data.stat().st_size == 0:
        raise DataError(f"data file {data} is empty")
    frame = _read_delimited(data, gz=True, sep="\t")
    declared = _pmlb_categorical(folder / "metadata.yaml")
    categorical = [c for c in declared if c in frame.columns and c != "target"]
    return table_from_frame(frame, "target", name=name, categorical=categorical, source="pmlb", source_id=name)


def _pmlb_categorical(metadata: Path) -> list[str]:
    if not metadata.exists():
        return []
    import yaml

    try:
        meta = yaml.safe_load(metadata.read_text())
    except yaml.YAMLError as exc:
        raise DataError(f"cannot parse {metadata}: {exc}") from exc
    features = (meta or {}).get("features") or []
    return [str(f["name"]) for f in features
            if isinstance(f, dict) and str(f.get("type", "")).lower() in ("discrete", "categorical", "nominal")]
