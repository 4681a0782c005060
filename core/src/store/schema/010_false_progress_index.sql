-- Deals marked falsely progressed are few: the funnel and the attention list find those of a
-- date range along this partial index instead of reading every deal of the reps in scope.
CREATE INDEX opportunities_false_progress ON opportunities(false_progress_at)
    WHERE false_progress_at IS NOT NULL;
