"""``metakb.build``: the public import path of the workflow :mod:`metakb.workflows.build` (kept for
the README and existing code; the implementation lives in the workflow layer)."""

from metakb.workflows.build import (
    DEFAULT_PROTOCOL,
    BuildReport,
    PreparedTable,
    build_from_files,
    build_from_pmlb,
    data_files,
    extract_meta_features,
    prepare_dataset,
    register_space,
    register_table,
    write_dataset,
)

__all__ = ['BuildReport', 'DEFAULT_PROTOCOL', 'PreparedTable', 'build_from_files', 'build_from_pmlb', 'data_files',
           'register_space', 'register_table', 'extract_meta_features', 'prepare_dataset', 'write_dataset']
