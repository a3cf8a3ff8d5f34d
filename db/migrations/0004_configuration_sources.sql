-- metakb schema, version 4: where a configuration of the pool comes from (issue #24 item 1).
-- metakb: additive (only a new table: a reader of a version-3 file sees it empty, so a
-- read-only open of an older file, e.g. the shipped knowledge base, still works)
--
-- A tuned candidate (`metakb build --candidates bohb`) is an incumbent of a search on one
-- training dataset. The configuration itself is one row of `configurations` (identity by
-- content); each search that found it adds one row here, so a configuration found on two
-- datasets keeps both provenances.
CREATE TABLE configuration_sources (
    id               INTEGER PRIMARY KEY,
    configuration_id INTEGER NOT NULL REFERENCES configurations(id) ON DELETE CASCADE,
    dataset_id       INTEGER REFERENCES datasets(id) ON DELETE CASCADE,  -- the dataset searched
    kind             TEXT NOT NULL,          -- bohb-incumbent | ...
    rank             INTEGER NOT NULL,       -- 1: the search's incumbent, 2: the runner-up, ...
    loss             REAL,                   -- the search's loss of it (e.g. -balanced accuracy)
    budget           REAL,                   -- the budget that loss was measured on
    settings         TEXT NOT NULL,          -- canonical JSON: the search's settings and seed
    settings_hash    TEXT NOT NULL,          -- identity of the search (with the dataset)
    run_id           TEXT REFERENCES runs(id) ON DELETE SET NULL,
    origin           TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    UNIQUE (configuration_id, dataset_id, kind, settings_hash)
);
CREATE INDEX configuration_sources_by_search ON configuration_sources (dataset_id, settings_hash);
