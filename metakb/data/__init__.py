"""Data loading (CSV/TSV/ARFF/Parquet files, PMLB folders) and importers."""

from metakb.data._pmlb import pmlb_datasets
from metakb.data._tables import (
    NA_VALUES,
    Table,
    check_rows,
    coerce_column,
    load_pmlb,
    load_table,
    read_frame,
    table_from_frame,
)
from metakb.data._task import (
    as_task_table,
    detect_task,
    load_pmlb_task,
    regression_target,
    require_classification,
    task_of_target,
)

__all__ = ["as_task_table", "detect_task", "load_pmlb_task", "task_of_target", "Table", "load_table", "load_pmlb", "table_from_frame", "pmlb_datasets", "NA_VALUES", "check_rows",
           "read_frame", "coerce_column", "require_classification", "regression_target"]
