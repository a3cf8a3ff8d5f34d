-- metakb schema, version 1.
-- Every row records where it came from (origin) and when (created_at, UTC ISO-8601).

CREATE TABLE datasets (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    source       TEXT NOT NULL,            -- pmlb | file | openml | aslib | ...
    source_id    TEXT,                     -- e.g. the PMLB name, the OpenML dataset id
    content_hash TEXT NOT NULL UNIQUE,     -- identity by content
    task_type    TEXT NOT NULL,            -- classification | regression | algorithm-selection
    n_rows       INTEGER,
    n_features   INTEGER,
    n_classes    INTEGER,
    target       TEXT,
    origin       TEXT NOT NULL,
    created_at   TEXT NOT NULL
);

CREATE TABLE meta_features (
    dataset_id        INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    grp               TEXT NOT NULL,       -- general | statistical | info-theory | model-based | landmarking | openml | aslib
    value             REAL,                -- NULL: undefined for this dataset (see docs/meta_features.md)
    extractor_version TEXT NOT NULL,
    origin            TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    PRIMARY KEY (dataset_id, name)
);

CREATE TABLE search_spaces (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    version         TEXT NOT NULL,
    configspace     TEXT NOT NULL,         -- ConfigSpace JSON
    space_hash      TEXT NOT NULL,
    origin          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    UNIQUE (name, version)
);

CREATE TABLE configurations (
    id          INTEGER PRIMARY KEY,
    space_id    INTEGER NOT NULL REFERENCES search_spaces(id) ON DELETE CASCADE,
    config      TEXT NOT NULL,             -- canonical JSON of the active values, keys sorted
    config_hash TEXT NOT NULL,
    label       TEXT,                      -- e.g. 'default:random_forest'; NULL for drawn ones
    origin      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (space_id, config_hash)
);

CREATE TABLE runs (
    id          TEXT PRIMARY KEY,          -- a short readable id, e.g. build-20261123-0133-ab12
    kind        TEXT NOT NULL,             -- build | bohb | random | import | ...
    dataset_id  INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
    space_id    INTEGER REFERENCES search_spaces(id) ON DELETE SET NULL,
    settings    TEXT NOT NULL,             -- JSON: everything needed to resume
    state       TEXT,                      -- JSON: optimizer state for resume
    status      TEXT NOT NULL CHECK (status IN ('running', 'finished', 'interrupted', 'failed')),
    origin      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE evaluations (
    id               INTEGER PRIMARY KEY,
    dataset_id       INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    configuration_id INTEGER NOT NULL REFERENCES configurations(id) ON DELETE CASCADE,
    budget           REAL NOT NULL,        -- fraction of the full budget in (0, 1]
    protocol         TEXT NOT NULL,        -- e.g. holdout:0.33 | cv:5 | aslib | openml-task:59
    seed             INTEGER NOT NULL,
    metric           TEXT NOT NULL,        -- the primary metric of `value`
    higher_is_better INTEGER NOT NULL CHECK (higher_is_better IN (0, 1)),
    value            REAL,                 -- NULL unless status = 'ok'
    scores           TEXT,                 -- JSON of every metric computed
    fit_seconds      REAL,
    status           TEXT NOT NULL CHECK (status IN ('ok', 'crashed', 'timeout', 'memout')),
    error            TEXT,
    run_id           TEXT REFERENCES runs(id) ON DELETE SET NULL,
    origin           TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    UNIQUE (dataset_id, configuration_id, budget, protocol, seed, metric)
);
CREATE INDEX evaluations_by_config ON evaluations (configuration_id);
CREATE INDEX evaluations_by_run ON evaluations (run_id);

CREATE TABLE portfolios (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    space_id    INTEGER NOT NULL REFERENCES search_spaces(id) ON DELETE CASCADE,
    settings    TEXT NOT NULL,             -- JSON: size, metric, normalisation, ...
    origin      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE portfolio_members (
    portfolio_id     INTEGER NOT NULL REFERENCES portfolios(id) ON DELETE CASCADE,
    position         INTEGER NOT NULL,     -- order of addition = order of evaluation
    configuration_id INTEGER NOT NULL REFERENCES configurations(id) ON DELETE CASCADE,
    objective        REAL,                 -- training objective after adding this member
    PRIMARY KEY (portfolio_id, position)
);

CREATE TABLE portfolio_datasets (
    portfolio_id INTEGER NOT NULL REFERENCES portfolios(id) ON DELETE CASCADE,
    dataset_id   INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    role         TEXT NOT NULL DEFAULT 'train',  -- train | validation
    PRIMARY KEY (portfolio_id, dataset_id)
);

CREATE TABLE embeddings (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    kind          TEXT NOT NULL,           -- siamese | ...
    state         TEXT NOT NULL,           -- JSON: a state dict as nested lists, never a pickle
    settings      TEXT NOT NULL,           -- JSON: architecture, feature names, scaling, metrics
    origin        TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

CREATE TABLE architectures (
    id            INTEGER PRIMARY KEY,
    genotype      TEXT NOT NULL,           -- canonical JSON of a DARTS genotype
    genotype_hash TEXT NOT NULL UNIQUE,
    search_space  TEXT NOT NULL,
    origin        TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

CREATE TABLE fewshot_results (
    id              INTEGER PRIMARY KEY,
    architecture_id INTEGER REFERENCES architectures(id) ON DELETE SET NULL,
    method          TEXT NOT NULL,         -- metanas | reptile | fomaml | protonet
    ways            INTEGER NOT NULL,
    shots           INTEGER NOT NULL,
    episodes        INTEGER NOT NULL,
    accuracy        REAL NOT NULL,
    ci95            REAL NOT NULL,
    gpu_seconds     REAL,
    device          TEXT,
    settings        TEXT NOT NULL,         -- JSON
    origin          TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
