-- A manager's finding that a deal's progress was false (虚假推进): when it was marked and the
-- penalty it carries, for the funnel's and the attention list's counts and fines.
ALTER TABLE opportunities ADD COLUMN false_progress_at INTEGER;
ALTER TABLE opportunities ADD COLUMN false_progress_penalty_minor INTEGER;
