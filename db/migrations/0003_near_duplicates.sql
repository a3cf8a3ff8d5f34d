-- metakb schema, version 3: near-duplicate datasets (issue #24 item 3).
-- metakb: additive (only new tables: a reader of a version-2 file sees them empty, so a
-- read-only open of an older file, e.g. the shipped knowledge base, still works)
--
-- A dataset's signature (metakb.data.duplicates): the hash of its canonical form and its
-- per-column statistics as JSON. Written when a dataset is registered (build, run, optimize)
-- or by `metakb kb dedupe` for datasets stored before this existed.
CREATE TABLE dataset_signatures (
    dataset_id     INTEGER PRIMARY KEY REFERENCES datasets(id) ON DELETE CASCADE,
    version        TEXT NOT NULL,          -- metakb.data.duplicates.SIGNATURE_VERSION
    canonical_hash TEXT NOT NULL,          -- kind same-content: equal hashes
    n_rows         INTEGER NOT NULL,
    n_features     INTEGER NOT NULL,
    signature      TEXT NOT NULL,          -- JSON: DatasetSignature.to_dict()
    origin         TEXT NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX dataset_signatures_by_shape ON dataset_signatures (n_rows, n_features);

-- Pairs of near-duplicate datasets, each pair once (dataset_id < other_id).
CREATE TABLE near_duplicates (
    dataset_id  INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    other_id    INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('same-content', 'same-statistics')),
    detail      TEXT NOT NULL,
    origin      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (dataset_id, other_id),
    CHECK (dataset_id < other_id)
);
CREATE INDEX near_duplicates_by_other ON near_duplicates (other_id);
