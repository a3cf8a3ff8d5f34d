-- metakb schema, version 2: every run's evaluations, and who is running a run.
--
-- An evaluation row is stored once per cell (dataset, configuration, budget, protocol, seed,
-- metric) and keeps the run that wrote it first; run_evaluations lists every run that evaluated
-- the cell, so two runs that evaluate the same cell both own it.
CREATE TABLE run_evaluations (
    run_id        TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    evaluation_id INTEGER NOT NULL REFERENCES evaluations(id) ON DELETE CASCADE,
    PRIMARY KEY (run_id, evaluation_id)
);
CREATE INDEX run_evaluations_by_evaluation ON run_evaluations (evaluation_id);
INSERT INTO run_evaluations (run_id, evaluation_id)
    SELECT run_id, id FROM evaluations WHERE run_id IS NOT NULL;

-- A running run's owner ({"host": ..., "pid": ...}) and the last time it said it is alive; a
-- run whose process is gone (or silent for too long) is reported stale and can be resumed.
ALTER TABLE runs ADD COLUMN owner TEXT;
ALTER TABLE runs ADD COLUMN heartbeat_at TEXT;
-- Wall seconds a run has spent so far, over all its sessions (resume continues to the limits).
ALTER TABLE runs ADD COLUMN elapsed_seconds REAL NOT NULL DEFAULT 0;
