-- Verdicts judged from the raw check-in and report data, for dashboards and lists.

-- inside | outside | cannot_tell | unable_to_verify; NULL before any judgement.
ALTER TABLE visits ADD COLUMN fence TEXT;
-- Space-separated flag kinds (mock_location, poor_accuracy, ...); '' when none.
ALTER TABLE visits ADD COLUMN flags TEXT;
-- device | server: who judged last.
ALTER TABLE visits ADD COLUMN judged_by TEXT;

-- on_time | late | missing | false | awaiting_receipt; NULL before any judgement.
ALTER TABLE daily_reports ADD COLUMN compliance TEXT;
ALTER TABLE daily_reports ADD COLUMN penalty_minor INTEGER;
ALTER TABLE daily_reports ADD COLUMN judged_by TEXT;
