"""Loading tables: every format, missing values, categorical columns, and every bad input."""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metakb.data import Table, load_table, table_from_frame
from metakb.errors import DataError

# A small table with a numeric column with missing values, a categorical column with missing
# values, an integer column and a text target.
FRAME = pd.DataFrame({
    "num": [1.5, np.nan, 3.0, 4.25, 5.0, 6.0],
    "color": ["red", "blue", None, "red", "green", "blue"],
    "count": [1, 2, 3, 4, 5, 6],
    "label": ["yes", "no", "yes", "no", "yes", "no"],
})


def _csv_text(sep: str = ",", na: str = "") -> str:
    lines = [sep.join(FRAME.columns)]
    for row in FRAME.itertuples(index=False):
        lines.append(sep.join(na if (v is None or (isinstance(v, float) and math.isnan(v))) else
                              (str(int(v)) if isinstance(v, (int, np.integer)) else str(v)) for v in row))
    return "\n".join(lines) + "\n"


ARFF = """% a comment
@RELATION tiny

@ATTRIBUTE num NUMERIC
@ATTRIBUTE color {red, blue, green}
@ATTRIBUTE count NUMERIC
@ATTRIBUTE label {yes, no}

@DATA
1.5,red,1,yes
?,blue,2,no
3.0,?,3,yes
4.25,red,4,no
5.0,green,5,yes
6.0,blue,6,no
"""


def _write(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    if name.endswith(".csv"):
        path.write_text(_csv_text(",", "?"))
    elif name.endswith(".tsv"):
        path.write_text(_csv_text("\t", "NA"))
    elif name.endswith(".csv.gz"):
        path.write_bytes(gzip.compress(_csv_text(";", "").encode()))
    elif name.endswith(".tsv.gz"):
        path.write_bytes(gzip.compress(_csv_text("\t", "").encode()))
    elif name.endswith(".arff"):
        path.write_text(ARFF)
    elif name.endswith(".arff.gz"):
        path.write_bytes(gzip.compress(ARFF.encode()))
    elif name.endswith(".parquet"):
        FRAME.to_parquet(path)
    else:
        raise AssertionError(name)
    return path


FORMATS = ["t.csv", "t.tsv", "t.csv.gz", "t.tsv.gz", "t.arff", "t.arff.gz", "t.parquet"]


@pytest.mark.parametrize("name", FORMATS)
def test_every_format_loads_missing_values_and_categoricals(tmp_path, name):
    table = load_table(_write(tmp_path, name), "label")
    assert isinstance(table, Table)
    assert table.name == "t" and table.target == "label" and table.source == "file"
    assert list(table.X.columns) == ["num", "color", "count"]
    assert table.categorical.tolist() == [False, True, False]
    assert table.X["num"].dtype == np.float64
    assert np.isnan(table.X["num"].iloc[1]) and table.X["num"].iloc[3] == 4.25
    assert table.X["count"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert pd.isna(table.X["color"].iloc[2])
    assert table.X["color"].iloc[0] == "red"
    assert table.y.tolist() == ["yes", "no", "yes", "no", "yes", "no"]
    assert table.classes.tolist() == ["no", "yes"]
    assert (table.n_rows, table.n_features) == (6, 3)


def test_the_same_data_in_every_format_has_one_content_hash(tmp_path):
    hashes = {name: load_table(_write(tmp_path, name), "label").content_hash() for name in FORMATS}
    assert len(set(hashes.values())) == 1, hashes


def test_content_hash_is_stable_and_changes_with_any_value(tmp_path):
    path = _write(tmp_path, "t.csv")
    first = load_table(path, "label").content_hash()
    assert load_table(path, "label").content_hash() == first
    assert load_table(path, "label", name="other").content_hash() == first  # content, not name
    changed = path.read_text().replace("4.25", "4.5")
    (tmp_path / "u.csv").write_text(changed)
    assert load_table(tmp_path / "u.csv", "label").content_hash() != first
    relabelled = path.read_text().replace(",yes\n", ",maybe\n", 1)
    (tmp_path / "v.csv").write_text(relabelled)
    assert load_table(tmp_path / "v.csv", "label").content_hash() != first
    # the same values under another target column are another dataset
    assert load_table(path, "color").content_hash() != first


def test_numeric_matrix_codes_categories(tmp_path):
    table = load_table(_write(tmp_path, "t.csv"), "label")
    matrix = table.numeric_matrix()
    assert matrix.shape == (6, 3) and matrix.dtype == np.float64
    # sorted levels: blue=0, green=1, red=2; a missing category stays NaN
    assert matrix[:, 1].tolist()[:2] == [2.0, 0.0] and np.isnan(matrix[2, 1]) and matrix[4, 1] == 1.0
    assert np.isnan(matrix[1, 0]) and matrix[0, 0] == 1.5


def test_integral_float_labels_are_one_class(tmp_path):
    path = tmp_path / "n.csv"
    path.write_text("x,y\n1,1\n2,1.0\n3,0\n4,0.0\n5,2.5\n")
    table = load_table(path, "y")
    assert table.y.tolist() == ["1", "1", "0", "0", "2.5"]


def test_rows_with_a_missing_target_are_dropped_and_noted(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("x,y\n1,a\n2,?\n3,b\n4,\n5,a\n")
    table = load_table(path, "y")
    assert table.X["x"].tolist() == [1.0, 3.0, 5.0]
    assert table.notes["dropped_rows_missing_target"] == 2


def test_forced_categorical_columns(tmp_path):
    path = _write(tmp_path, "t.csv")
    table = load_table(path, "label", categorical=["count"])
    assert table.categorical.tolist() == [False, True, True]
    assert table.X["count"].tolist() == ["1", "2", "3", "4", "5", "6"]
    with pytest.raises(DataError, match="nope"):
        load_table(path, "label", categorical=["nope"])


def test_a_mostly_text_column_is_categorical_not_garbage(tmp_path):
    path = tmp_path / "mixed.csv"
    rows = [f"{v},{c}" for v, c in zip(["1", "a", "b", "2", "c", "d"], "xyxyxy", strict=True)]
    path.write_text("v,c\n" + "\n".join(rows) + "\n")
    table = load_table(path, "c")
    assert table.categorical.tolist() == [True]


def test_table_from_frame(tmp_path):
    table = table_from_frame(FRAME, "label", name="frame", source="test", source_id="mem")
    assert (table.name, table.source, table.source_id) == ("frame", "test", "mem")
    assert table.content_hash() == load_table(_write(tmp_path, "t.parquet"), "label").content_hash()


# ---------------------------------------------------------------------- bad input
def _garbage_csv(tmp_path: Path) -> Path:
    path = tmp_path / "garbage.csv"
    values = [str(i / 10) for i in range(20)]
    values[7] = "abc"
    path.write_text("x,y\n" + "\n".join(f"{v},{i % 2}" for i, v in enumerate(values)) + "\n")
    return path


BAD_INPUTS = {
    "missing file": (lambda p: p / "absent.csv", "y", r"absent\.csv does not exist"),
    "empty file": (lambda p: _text(p / "empty.csv", ""), "y", r"empty\.csv is empty"),
    "blank file": (lambda p: _text(p / "blank.csv", "\n  \n"), "y", "is empty"),
    "header only": (lambda p: _text(p / "header.csv", "x,y\n"), "y", "header but no rows"),
    "unknown target": (lambda p: _text(p / "t.csv", "x,y\n1,a\n2,b\n"), "class",
                       r"target column 'class' not found; columns are \['x', 'y'\]"),
    "single class": (lambda p: _text(p / "one.csv", "x,y\n1,a\n2,a\n3,a\n"), "y", "single class"),
    "all-NaN target": (lambda p: _text(p / "nan.csv", "x,y\n1,?\n2,\n3,NA\n"), "y", "all missing"),
    "duplicate columns": (lambda p: _text(p / "dup.csv", "x,y,x\n1,a,2\n2,b,3\n"), "y",
                          r"duplicate column names \['x'\]"),
    "garbage in numeric": (_garbage_csv, "y", r"column 'x' is numeric but has non-numeric values such as 'abc'"),
    "no feature column": (lambda p: _text(p / "only.csv", "y\na\nb\n"), "y", "no feature columns"),
    "unknown format": (lambda p: _text(p / "data.xlsx", "x"), "y", "cannot tell the format"),
    "directory": (lambda p: p, "y", "is a directory"),
    "corrupt gzip": (lambda p: _bytes(p / "bad.csv.gz", b"not gzip at all"), "y", r"cannot read .*bad\.csv\.gz"),
    "corrupt parquet": (lambda p: _bytes(p / "bad.parquet", b"PAR1 garbage"), "y", "cannot read Parquet file"),
    "bad arff": (lambda p: _text(p / "bad.arff", "@RELATION x\n@ATTRIBUTE a NUMERIC\n@DATA\nzz,yy\n"), "a",
                 "cannot parse ARFF file"),
    "duplicate arff attributes": (lambda p: _text(p / "dup.arff", "@RELATION x\n@ATTRIBUTE a NUMERIC\n"
                                                  "@ATTRIBUTE a NUMERIC\n@ATTRIBUTE y {p,q}\n@DATA\n1,2,p\n"), "y",
                                  "duplicate|cannot parse ARFF"),
}


def _text(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_clear_data_error(tmp_path, case):
    make, target, message = BAD_INPUTS[case]
    path = make(tmp_path)
    with pytest.raises(DataError, match=message) as info:
        load_table(path, target)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


def test_duplicate_columns_in_parquet_or_tsv(tmp_path):
    path = tmp_path / "dup.tsv"
    path.write_text("a\tb\ta\ty\n1\t2\t3\tp\n4\t5\t6\tq\n")
    with pytest.raises(DataError, match=r"duplicate column names \['a'\]"):
        load_table(path, "y")
    import pyarrow as pa
    import pyarrow.parquet as pq

    # pandas cannot write duplicate names to Parquet, pyarrow can
    table = pa.Table.from_arrays([pa.array([1, 4]), pa.array([2, 5]), pa.array([3, 6]), pa.array(["p", "q"])],
                                 names=["a", "b", "a", "y"])
    pq.write_table(table, tmp_path / "dup.parquet")
    with pytest.raises(DataError, match=r"duplicate column names \['a'\]"):
        load_table(tmp_path / "dup.parquet", "y")


def test_garbage_message_counts_the_bad_values(tmp_path):
    with pytest.raises(DataError, match=r"\(1 of 20\)"):
        load_table(_garbage_csv(tmp_path), "y")


def test_unknown_target_lists_at_most_twenty_columns(tmp_path):
    path = tmp_path / "wide.csv"
    names = [f"c{i}" for i in range(30)]
    path.write_text(",".join(names) + "\n" + ",".join("1" for _ in names) + "\n")
    with pytest.raises(DataError, match=r"'c19'\] \.\.\.$") as info:
        load_table(path, "target")
    assert "c20" not in str(info.value)
