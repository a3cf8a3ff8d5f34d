"""Workflow ``duplicates``: near-duplicate datasets of a knowledge base (issue #24 item 3).

What counts as a near-duplicate, and the canonical form, are defined (store-free) in
:mod:`metakb.data.duplicates`. This module keeps the knowledge base's tables
``dataset_signatures`` (one signature per dataset) and ``near_duplicates`` (the pairs, each once)
up to date:

* **at registration** -- :func:`metakb.workflows.build.prepare_dataset` computes a new dataset's
  signature with its meta-features (``metakb build``, ``run`` and ``optimize`` all go through
  it) and :func:`metakb.workflows.build.write_dataset` stores it with the pairs it forms with
  the stored datasets (:func:`record_signature`), in the dataset's own transaction;
* **for a knowledge base built before** -- ``metakb kb dedupe`` (:func:`dedupe_knowledge_base`)
  reloads every dataset whose data it finds (PMLB datasets under ``--pmlb DIR`` or the folder a
  build recorded; files at the path they were read from), checks the content hash, computes the
  missing signatures (all of them with ``--recompute``) and recomputes every pair, in one
  transaction; datasets whose data is not found (an OpenML or ASlib import, a moved file) are
  reported and keep no signature;
* **after a merge** -- the pairs are recomputed over the merged signatures (no data needed).

The leave-one-dataset-out harness reads the pairs through :func:`near_duplicate_map` and drops
a held-out dataset's near-duplicates from its training side (``metakb evaluate warmstart``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metakb.data import as_task_table, load_pmlb_task, load_table
from metakb.data.duplicates import (
    SIGNATURE_VERSION,
    DatasetSignature,
    dataset_signature,
    find_near_duplicates,
)
from metakb.errors import DataError, MetaKBError
from metakb.store import KnowledgeBase

__all__ = ["DedupeReport", "dedupe_knowledge_base", "near_duplicate_map", "needs_signature", "record_signature",
           "refresh_near_duplicates"]


def needs_signature(kb: KnowledgeBase, content_hash: str) -> bool:
    """Whether a dataset of this content hash has no stored signature of the current version."""
    existing = kb.find_dataset(content_hash)
    if existing is None:
        return True
    return not kb.dataset_signatures(version=SIGNATURE_VERSION, dataset_id=int(existing["id"]))


def record_signature(kb: KnowledgeBase, dataset_id: int, signature: DatasetSignature, *, origin: str) -> int:
    """Store a dataset's signature and the near-duplicate pairs it forms with the stored
    datasets (one transaction); return how many pairs are new."""
    with kb.transaction():
        kb.set_dataset_signature(dataset_id, signature.to_dict(), origin=origin)
        others = {i: DatasetSignature.from_dict(d) for i, d in
                  kb.dataset_signatures(n_rows=signature.n_rows, n_features=signature.n_features,
                                        version=SIGNATURE_VERSION).items()}
        pairs = find_near_duplicates(others, among=[int(dataset_id)])
        added, _ = kb.add_near_duplicates([(a, b, v.kind, v.detail) for a, b, v in pairs], origin=origin)
    return added


def refresh_near_duplicates(kb: KnowledgeBase, *, origin: str) -> tuple[int, int]:
    """Recompute every pair from the stored signatures of the current version (stale pairs are
    deleted); return (added, removed)."""
    signatures = {i: DatasetSignature.from_dict(d) for i, d in
                  kb.dataset_signatures(version=SIGNATURE_VERSION).items()}
    pairs = find_near_duplicates(signatures)
    return kb.add_near_duplicates([(a, b, v.kind, v.detail) for a, b, v in pairs], origin=origin, replace=True)


def near_duplicate_map(kb: KnowledgeBase) -> dict[str, set[str]]:
    """Dataset name -> the names of its near-duplicates (both directions; empty when none are
    stored, e.g. a knowledge base never deduplicated)."""
    out: dict[str, set[str]] = {}
    for pair in kb.near_duplicates():
        out.setdefault(pair["dataset"], set()).add(pair["other"])
        out.setdefault(pair["other"], set()).add(pair["dataset"])
    return out


@dataclass
class DedupeReport:
    """What ``metakb kb dedupe`` did."""

    computed: list[str] = field(default_factory=list)
    kept: int = 0
    skipped: dict[str, str] = field(default_factory=dict)
    added: int = 0
    removed: int = 0
    pairs: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON output."""
        return {"computed": self.computed, "kept": self.kept, "skipped": self.skipped, "added": self.added,
                "removed": self.removed, "pairs": self.pairs}


def _pmlb_roots(kb: KnowledgeBase, pmlb_dir: str | Path | None) -> list[Path]:
    """Folders holding PMLB dataset folders: ``pmlb_dir``, then those the builds recorded."""
    roots: list[Path] = []
    candidates: list[Any] = [pmlb_dir] if pmlb_dir else []
    for run_id in kb.runs("build")["id"]:
        candidates.append(kb.get_run(str(run_id))["settings"].get("pmlb_dir"))
    for candidate in candidates:
        if not candidate:
            continue
        root = Path(candidate)
        root = root / "datasets" if (root / "datasets").is_dir() else root
        if root.is_dir() and root not in roots:
            roots.append(root)
    return roots


def _load(row: dict[str, Any], roots: Iterable[Path]) -> Any:
    """The stored dataset's table, typed for its task, or a DataError saying why not."""
    task = str(row["task_type"])
    if task not in ("classification", "regression"):
        raise DataError(f"a {task} dataset has no table")
    if row["source"] == "pmlb":
        name = str(row["source_id"] or row["name"])
        folder = next((r / name for r in roots if (r / name).is_dir()), None)
        if folder is None:
            raise DataError(f"PMLB dataset {name} not found; give its folder with --pmlb DIR")
        table = load_pmlb_task(folder, task)
    elif row["source"] == "file" and row["source_id"] and row["target"]:
        table = as_task_table(load_table(row["source_id"], str(row["target"]), name=str(row["name"])), task)
    else:
        raise DataError(f"no data file is known for a dataset of source {row['source']!r}")
    if table.content_hash() != row["content_hash"]:
        raise DataError("its data no longer has the stored content hash (the file changed)")
    return table


def dedupe_knowledge_base(kb: KnowledgeBase, *, pmlb_dir: str | Path | None = None, recompute: bool = False,
                          progress: bool = False) -> DedupeReport:
    """Compute the missing signatures (all with ``recompute``) and every near-duplicate pair.

    Args:
        kb: the knowledge base (opened for writing).
        pmlb_dir: a PMLB folder (with ``datasets/``, or that folder itself) holding the PMLB
            datasets; default: the folders the knowledge base's builds recorded.
        recompute: recompute the signatures of every dataset, not only the missing ones.
        progress: show a progress bar.

    Signatures are computed before anything is written; then the signatures and the pairs are
    written in one transaction.
    """
    datasets = kb.datasets()
    stored = kb.dataset_signatures(version=SIGNATURE_VERSION)
    roots = _pmlb_roots(kb, pmlb_dir)
    report = DedupeReport()
    computed: dict[int, DatasetSignature] = {}
    rows: Iterable[dict[str, Any]] = [dict(row, id=int(i)) for i, row in datasets.iterrows()]
    if progress:
        from tqdm.auto import tqdm

        rows = tqdm(rows, desc="signatures", unit="dataset")
    for row in rows:
        if row["id"] in stored and not recompute:
            report.kept += 1
            continue
        try:
            computed[row["id"]] = dataset_signature(_load(row, roots))
        except MetaKBError as exc:
            report.skipped[str(row["name"])] = str(exc)
            continue
        report.computed.append(str(row["name"]))
    with kb.transaction():
        for dataset_id, signature in computed.items():
            kb.set_dataset_signature(dataset_id, signature.to_dict(), origin="metakb kb dedupe")
        report.added, report.removed = refresh_near_duplicates(kb, origin="metakb kb dedupe")
    report.pairs = [{k: p[k] for k in ("dataset", "other", "kind", "detail")} for p in kb.near_duplicates()]
    return report
