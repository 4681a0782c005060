-- Sync: the field a refused edit concerned, so the app can point at it.
ALTER TABLE rejected_changes ADD COLUMN field TEXT;
