"""Workflow ``merge``: another knowledge base's rows into this one (``metakb kb merge OTHER.sqlite``).

What is matched, copied or skipped (identity by content, as everywhere in the store):

* **search spaces** by (name, version). A space stored in both must have the same ConfigSpace
  JSON (compared as JSON values), else the merge is refused with one line naming the space,
  before anything is written. Spaces only in OTHER are added.
* **datasets** by content hash: a dataset stored in both keeps the target's row (and its
  meta-features); a new one is added with its meta-features and its near-duplicate signature.
  A new dataset whose name the target already uses for other content is stored as
  ``name@hash8`` (the store's rule) and listed in the report.
* **configurations** by (space, hash of the canonical JSON): no duplicates; their provenance
  (``configuration_sources``: which search on which dataset found a tuned candidate) is copied
  with the ids mapped, a source stored in both once.
* **runs** keep their ids; a run id the target uses for another run (another creation time)
  becomes ``ID~XXXXXXXX`` (a digest of OTHER's path). A run still marked ``running`` in OTHER is
  stored ``interrupted`` (no process here runs it); its owner and heartbeat are not copied.
* **evaluations** by their natural key (dataset, configuration, budget, protocol, seed, metric):
  a cell stored in both keeps the target's row (counted as a skipped duplicate); OTHER's runs
  still own it: the run that stored OTHER's row and the runs of its ``run_evaluations`` links
  are linked to it, with the runs mapped. Scores are stored as the target stores them
  (:func:`metakb.store.stored_scores`), whatever the schema OTHER was written with.
* **portfolios** and **embeddings** (Siamese models) are copied only when their name is free in
  the target, else skipped and reported (a portfolio's members and datasets are mapped to the
  target's ids; an embedding's settings still name its training datasets as OTHER names them).
* **architectures** by genotype hash; **few-shot results** are copied unless the same result
  (architecture, method, ways, shots, episodes, accuracy, CI, settings, creation time) is stored.
* **near-duplicate pairs** are recomputed over every stored signature after the merge (pairs
  across the two knowledge bases included); datasets without a signature need
  ``metakb kb dedupe``.

Every copied row keeps its creation time and its provenance: its ``origin`` becomes
``merged from /abs/path/OTHER.sqlite: <original origin>``. Everything happens in one
transaction: a merge that fails writes nothing, and a refused merge leaves the target file
byte-identical. Merging the same file twice adds nothing the second time.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from metakb.errors import ConfigError, NotFoundError, StoreError
from metakb.store import KnowledgeBase, sha256_text, stored_scores
from metakb.workflows.duplicates import refresh_near_duplicates

__all__ = ["MergeReport", "merge_knowledge_base"]

_READ = ("search_spaces", "datasets", "meta_features", "dataset_signatures", "configurations", "runs",
         "evaluations", "run_evaluations", "portfolios", "portfolio_members", "portfolio_datasets", "embeddings",
         "architectures", "fewshot_results", "configuration_sources")
_CELL = ("dataset_id", "configuration_id", "budget", "protocol", "seed", "metric")


@dataclass
class MergeReport:
    """What a merge added, matched and skipped (``metakb kb merge`` prints it)."""

    source: str
    spaces_added: int = 0
    spaces_matched: int = 0
    datasets_added: int = 0
    datasets_matched: int = 0
    datasets_renamed: dict[str, str] = field(default_factory=dict)
    meta_features_added: int = 0
    signatures_added: int = 0
    configurations_added: int = 0
    configurations_matched: int = 0
    runs_added: int = 0
    runs_matched: int = 0
    runs_renamed: dict[str, str] = field(default_factory=dict)
    evaluations_added: int = 0
    evaluations_skipped: int = 0
    portfolios_added: list[str] = field(default_factory=list)
    portfolios_skipped: dict[str, str] = field(default_factory=dict)
    embeddings_added: list[str] = field(default_factory=list)
    embeddings_skipped: dict[str, str] = field(default_factory=dict)
    architectures_added: int = 0
    fewshot_results_added: int = 0
    fewshot_results_skipped: int = 0
    configuration_sources_added: int = 0
    near_duplicates_added: int = 0
    near_duplicates_removed: int = 0
    datasets_without_signature: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON output."""
        return asdict(self)


def merge_knowledge_base(kb: KnowledgeBase, other: str | Path) -> MergeReport:
    """Merge the knowledge base file ``other`` into ``kb`` (see the module doc for the rules).

    Args:
        kb: the target, opened for writing.
        other: the knowledge base file to merge in (opened read-only, never changed).

    Raises:
        NotFoundError: ``other`` does not exist.
        ConfigError: ``other`` is the target itself, or a search space of the same name and
            version has another definition in the two files (nothing is written).
        StoreError: ``other`` is not a knowledge base, or of a newer schema.
    """
    path = Path(other)
    if not path.is_file():
        raise NotFoundError(f"knowledge base to merge {path} does not exist" if not path.exists()
                            else f"knowledge base to merge {path} is not a file")
    label = str(path.resolve())
    if kb.path != ":memory:" and Path(kb.path).exists() and Path(kb.path).resolve() == path.resolve():
        raise ConfigError(f"cannot merge knowledge base {label} into itself; give another file")
    with KnowledgeBase(path, readonly=True) as source:
        rows = {table: source.rows(table) for table in _READ}
    report = MergeReport(source=label)
    _check_spaces(kb, rows["search_spaces"], label)  # refused here: nothing was written
    merged = _Merge(kb, rows, label, report)
    with kb.transaction():
        merged.run()
    return report


def _check_spaces(kb: KnowledgeBase, spaces: list[dict[str, Any]], label: str) -> None:
    for space in spaces:
        try:
            stored = kb.get_space(str(space["name"]), str(space["version"]))
        except NotFoundError:
            continue
        if not _same_json(stored["configspace"], space["configspace"]):
            raise ConfigError(f"search space {space['name']!r} version {space['version']!r} has another definition "
                              f"in {label} than in {kb.path}; merge refused, nothing was written")


def _same_json(a: str, b: str) -> bool:
    try:
        return bool(json.loads(a) == json.loads(b))
    except json.JSONDecodeError:
        return a == b


class _Merge:
    """One merge: the id maps from the other file to the target, filled table by table."""

    def __init__(self, kb: KnowledgeBase, rows: dict[str, list[dict[str, Any]]], label: str,
                 report: MergeReport) -> None:
        self.kb, self.rows, self.label, self.report = kb, rows, label, report
        self.spaces: dict[int, int] = {}
        self.datasets: dict[int, int] = {}
        self.new_datasets: set[int] = set()
        self.configs: dict[int, int] = {}
        self.runs: dict[str, str] = {}
        self.architectures: dict[int, int] = {}

    def origin(self, original: Any) -> str:
        return f"merged from {self.label}: {original}"

    def run(self) -> None:
        for step in (self._spaces, self._datasets, self._meta_features, self._signatures, self._configurations,
                     self._runs, self._configuration_sources, self._evaluations, self._portfolios, self._embeddings,
                     self._architectures, self._fewshot_results):
            step()
        report = self.report
        report.near_duplicates_added, report.near_duplicates_removed = refresh_near_duplicates(
            self.kb, origin=self.origin("near-duplicate detection"))
        signed = set(self.kb.dataset_signatures())
        report.datasets_without_signature = sum(1 for i in self.kb.datasets().index if int(i) not in signed)

    def _spaces(self) -> None:
        for space in self.rows["search_spaces"]:
            try:
                self.spaces[int(space["id"])] = int(self.kb.get_space(str(space["name"]), str(space["version"]))["id"])
                self.report.spaces_matched += 1
            except NotFoundError:
                self.spaces[int(space["id"])] = self.kb.add_space(
                    str(space["name"]), str(space["version"]), str(space["configspace"]),
                    origin=self.origin(space["origin"]))
                self.report.spaces_added += 1

    def _datasets(self) -> None:
        for row in self.rows["datasets"]:
            existing = self.kb.find_dataset(str(row["content_hash"]))
            if existing is not None:
                self.datasets[int(row["id"])] = int(existing["id"])
                self.report.datasets_matched += 1
                continue
            new = self.kb.add_dataset(
                str(row["name"]), str(row["content_hash"]), source=str(row["source"]), origin=self.origin(row["origin"]),
                source_id=row["source_id"], task_type=str(row["task_type"]), n_rows=row["n_rows"],
                n_features=row["n_features"], n_classes=row["n_classes"], target=row["target"])
            self.datasets[int(row["id"])] = new
            self.new_datasets.add(int(row["id"]))
            self.report.datasets_added += 1
            name = str(self.kb.get_dataset(new)["name"])
            if name != row["name"]:
                self.report.datasets_renamed[str(row["name"])] = name

    def _meta_features(self) -> None:
        rows = [{**r, "dataset_id": self.datasets[int(r["dataset_id"])], "origin": self.origin(r["origin"])}
                for r in self.rows["meta_features"] if int(r["dataset_id"]) in self.new_datasets]
        self.report.meta_features_added = self.kb.insert_rows("meta_features", rows)

    def _signatures(self) -> None:
        """Signatures of the datasets the target has none of (content decides, so they are
        right for a matched dataset too)."""
        rows = [{**r, "dataset_id": self.datasets[int(r["dataset_id"])], "origin": self.origin(r["origin"])}
                for r in self.rows["dataset_signatures"]]
        self.report.signatures_added = self.kb.insert_rows("dataset_signatures", rows)

    def _configurations(self) -> None:
        rows = []
        for r in self.rows["configurations"]:
            rows.append({"space_id": self.spaces[int(r["space_id"])], "config": r["config"],
                         "config_hash": sha256_text(str(r["config"])), "label": r["label"],
                         "origin": self.origin(r["origin"]), "created_at": r["created_at"]})
        self.report.configurations_added = self.kb.insert_rows("configurations", rows)
        self.report.configurations_matched = len(rows) - self.report.configurations_added
        index = {(int(c["space_id"]), str(c["config_hash"])): int(c["id"]) for c in self.kb.rows("configurations")}
        for r, new in zip(self.rows["configurations"], rows, strict=True):
            self.configs[int(r["id"])] = index[(new["space_id"], new["config_hash"])]

    def _runs(self) -> None:
        stored = {str(r["id"]): r for r in self.kb.rows("runs")}
        suffix = sha256_text(self.label)[:8]
        rows = []
        for r in self.rows["runs"]:
            run_id = str(r["id"])
            for candidate in (run_id, f"{run_id}~{suffix}"):
                mine = stored.get(candidate)
                if mine is None or (mine["kind"], mine["created_at"]) == (r["kind"], r["created_at"]):
                    break
            else:
                raise StoreError(f"run ids {run_id!r} and {run_id}~{suffix} are both taken in {self.kb.path}; "
                                 "nothing was written")
            self.runs[run_id] = candidate
            if candidate != run_id:
                self.report.runs_renamed[run_id] = candidate
            if candidate in stored:
                self.report.runs_matched += 1
                continue
            dataset = None if r["dataset_id"] is None else self.datasets.get(int(r["dataset_id"]))
            space = None if r["space_id"] is None else self.spaces.get(int(r["space_id"]))
            rows.append({**r, "id": candidate, "dataset_id": dataset, "space_id": space,
                         "status": "interrupted" if r["status"] == "running" else r["status"],
                         "origin": self.origin(r["origin"]), "owner": None, "heartbeat_at": None})
        self.report.runs_added = self.kb.insert_rows("runs", rows)

    def _configuration_sources(self) -> None:
        rows = [{**{k: v for k, v in r.items() if k != "id"}, "configuration_id": self.configs[int(r["configuration_id"])],
                 "dataset_id": None if r["dataset_id"] is None else self.datasets[int(r["dataset_id"])],
                 "run_id": None if r["run_id"] is None else self.runs.get(str(r["run_id"])),
                 "origin": self.origin(r["origin"])} for r in self.rows["configuration_sources"]]
        self.report.configuration_sources_added = self.kb.insert_rows("configuration_sources", rows)

    def _evaluations(self) -> None:
        rows = []
        for r in self.rows["evaluations"]:
            row = {k: v for k, v in r.items() if k != "id"}
            row.update(dataset_id=self.datasets[int(r["dataset_id"])],
                       configuration_id=self.configs[int(r["configuration_id"])],
                       run_id=None if r["run_id"] is None else self.runs.get(str(r["run_id"])),
                       origin=self.origin(r["origin"]),
                       # stored as the target stores them (OTHER may be of an older schema)
                       scores=stored_scores(r["scores"], str(r["metric"]), r["value"], f"{self.label} evaluation {r['id']}"))
            rows.append(row)
        self.report.evaluations_added = self.kb.insert_rows("evaluations", rows)
        self.report.evaluations_skipped = len(rows) - self.report.evaluations_added
        cell = {int(r["id"]): tuple(row[k] for k in _CELL) for r, row in zip(self.rows["evaluations"], rows, strict=True)}
        # OTHER's runs own their cells: the run that stored a row (its run_id) and the runs its
        # run_evaluations link. A cell the target had already keeps its run and gains these links.
        owners = [(int(r["id"]), str(r["run_id"])) for r in self.rows["evaluations"] if r["run_id"] is not None]
        owners += [(int(link["evaluation_id"]), str(link["run_id"])) for link in self.rows["run_evaluations"]]
        links = [(self.runs[run], *cell[evaluation]) for evaluation, run in owners
                 if run in self.runs and evaluation in cell]
        self.kb.link_run_evaluations(links)

    def _portfolios(self) -> None:
        taken = {str(p["name"]) for p in self.kb.rows("portfolios")}
        for p in self.rows["portfolios"]:
            name = str(p["name"])
            if name in taken:
                self.report.portfolios_skipped[name] = "the target has a portfolio of this name"
                continue
            members = sorted((m for m in self.rows["portfolio_members"] if m["portfolio_id"] == p["id"]),
                             key=lambda m: int(m["position"]))
            datasets = [(self.datasets[int(d["dataset_id"])], str(d["role"]))
                        for d in self.rows["portfolio_datasets"] if d["portfolio_id"] == p["id"]]
            self.kb.save_portfolio(name, self.spaces[int(p["space_id"])],
                                   [(self.configs[int(m["configuration_id"])], m["objective"]) for m in members],
                                   datasets=datasets, settings=json.loads(str(p["settings"])),
                                   origin=self.origin(p["origin"]))
            self.report.portfolios_added.append(name)

    def _embeddings(self) -> None:
        taken = {str(e["name"]) for e in self.kb.rows("embeddings")}
        rows = []
        for e in self.rows["embeddings"]:
            if str(e["name"]) in taken:
                self.report.embeddings_skipped[str(e["name"])] = "the target has a model of this name"
                continue
            rows.append({k: v for k, v in e.items() if k != "id"} | {"origin": self.origin(e["origin"])})
            self.report.embeddings_added.append(str(e["name"]))
        self.kb.insert_rows("embeddings", rows)

    def _architectures(self) -> None:
        rows = [{k: v for k, v in a.items() if k != "id"} | {"origin": self.origin(a["origin"])}
                for a in self.rows["architectures"]]
        self.report.architectures_added = self.kb.insert_rows("architectures", rows)
        index = {str(a["genotype_hash"]): int(a["id"]) for a in self.kb.rows("architectures")}
        for a in self.rows["architectures"]:
            self.architectures[int(a["id"])] = index[str(a["genotype_hash"])]

    def _fewshot_results(self) -> None:
        genotype = {int(a["id"]): str(a["genotype_hash"]) for a in self.kb.rows("architectures")}

        def key(row: dict[str, Any], architecture: int | None) -> tuple[Any, ...]:
            return (None if architecture is None else genotype.get(architecture), row["method"], row["ways"],
                    row["shots"], row["episodes"], row["accuracy"], row["ci95"], row["settings"], row["created_at"])

        stored = {key(r, r["architecture_id"]) for r in self.kb.rows("fewshot_results")}
        rows = []
        for r in self.rows["fewshot_results"]:
            architecture = None if r["architecture_id"] is None else self.architectures.get(int(r["architecture_id"]))
            if key(r, architecture) in stored:
                self.report.fewshot_results_skipped += 1
                continue
            rows.append({k: v for k, v in r.items() if k != "id"}
                        | {"architecture_id": architecture, "origin": self.origin(r["origin"])})
        self.report.fewshot_results_added = self.kb.insert_rows("fewshot_results", rows)
