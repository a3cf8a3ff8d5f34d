-- metakb schema, version 5: evaluations stored more compactly (issue #24 item 2: the learning
-- curves triple the evaluations; this keeps the shipped file under 60 MB).
-- metakb: compaction (what a reader sees is unchanged: a reader of a version-4 file needs
-- nothing from it, so a read-only open of an older file still works; the first write applies it)
--
-- 1. The run that stored an evaluation is its own `run_id`; `run_evaluations` now lists only the
--    other runs that evaluated the same cell (a run owns its rows and those links). The links
--    that repeat an evaluation's own run_id are dropped.
DELETE FROM run_evaluations
 WHERE EXISTS (SELECT 1 FROM evaluations e
                WHERE e.id = run_evaluations.evaluation_id AND e.run_id = run_evaluations.run_id);

-- 2. The secondary `scores` (JSON) keep 6 significant digits, far below the noise of any
--    resampling estimate; the primary `value` keeps full precision. Non-finite numbers (stored
--    by SQLite's JSON as 9e999) and non-numbers are kept as they are.
UPDATE evaluations
   SET scores = (SELECT json_group_object(key, CASE WHEN type = 'real' AND abs(value) < 1e300
                                                    THEN json(printf('%.6g', value)) ELSE value END)
                   FROM json_each(evaluations.scores))
 WHERE scores IS NOT NULL AND json_valid(scores) AND json_type(scores) = 'object';
