"""Enumerate the datasets of a PMLB folder."""

from __future__ import annotations

import csv
from pathlib import Path

from metakb.errors import DataError

__all__ = ["pmlb_datasets"]


def pmlb_datasets(root: str | Path, *, task: str = "classification") -> list[Path]:
    """The dataset folders of a PMLB tree of one task, sorted by name.

    ``root`` may be the PMLB folder (with ``index.csv`` and ``datasets/``) or its ``datasets/``
    folder; the task comes from ``index.csv`` when present, else from each ``metadata.yaml``.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"PMLB folder {root} does not exist")
    datasets = root / "datasets" if (root / "datasets").is_dir() else root
    index = datasets.parent / "index.csv"
    if index.exists():
        with index.open() as handle:
            names = [r["name"] for r in csv.DictReader(handle) if r.get("task") == task]
        folders = [datasets / n for n in names if (datasets / n).is_dir()]
    else:
        import yaml

        folders = []
        for folder in datasets.iterdir():
            meta = folder / "metadata.yaml"
            if meta.exists() and (yaml.safe_load(meta.read_text()) or {}).get("task") == task:
                folders.append(folder)
    if not folders:
        raise DataError(f"no {task} datasets found under {root}")
    return sorted(folders, key=lambda p: p.name)
