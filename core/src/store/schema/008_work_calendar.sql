-- A person's own working days, for the work calendar: their first and last working day and
-- their leave (day spans, space-separated), read with the org's calendar wherever reports are
-- owed (the missing-report job, the compliance dashboard, the reminders).
ALTER TABLE users ADD COLUMN started_on TEXT;
ALTER TABLE users ADD COLUMN left_on TEXT;
ALTER TABLE users ADD COLUMN leave TEXT NOT NULL DEFAULT '';
