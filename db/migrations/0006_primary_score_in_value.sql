-- metakb schema, version 6: an evaluation's primary metric is stored once, in `value` (issue #24
-- item 2: the regression learning curves; this keeps the shipped file under 60 MB).
-- metakb: compaction (what a reader sees is unchanged: `KnowledgeBase.evaluations()` puts the
-- primary metric back into `scores` from `value`, and the performance matrix of the primary
-- metric always read `value`; a read-only open of an older file still works, the first write
-- applies it)
--
-- `scores` (JSON) now holds the *other* metrics of an evaluation; the entry of the evaluation's
-- own `metric` repeated `value` (rounded to 6 significant digits since version 5) and is dropped
-- where `value` holds it. An evaluation without a value (crashed, timeout) keeps its scores as
-- they are; scores left empty become NULL. A metric name with a double quote cannot be written
-- as a JSON path and is left alone (the reader copes with a primary kept in `scores`).
UPDATE evaluations
   SET scores = nullif(json_remove(scores, '$."' || metric || '"'), '{}')
 WHERE value IS NOT NULL AND scores IS NOT NULL AND json_valid(scores) AND json_type(scores) = 'object'
   AND instr(metric, '"') = 0;
