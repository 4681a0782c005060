-- Indexes that keep the manager dashboards within their time budget over a whole year.

-- The map's check-in points, newest first, a page at a time: walked backwards from the end
-- of the range in the page order itself (time, then visit), the scan stops as soon as a page
-- is full instead of sorting a year of check-ins, and reads every column a point needs.
CREATE INDEX visits_map ON visits(
    check_in_at, id, owner_id, local_date, deleted, customer_id, lat, lon, fence, flags);

-- The funnel's stage conversions: the deals with a stage entry in the range, found by entry
-- time instead of by reading every deal's whole history.
CREATE INDEX stage_history_entered ON stage_history(entered_at, opportunity_id);

-- Check-ins per rep and local day, kept by the triggers below as the visits projection
-- changes. A year of a region is a hundred thousand check-ins but only tens of thousands of
-- rep-days: the visits dashboard reads these sums instead of counting every check-in again
-- on each view. Only live check-ins of an owned visit count, as on the dashboard.
CREATE TABLE visit_days (
    owner_id         BLOB NOT NULL,
    local_date       TEXT NOT NULL,     -- the rep's own local day of the check-in
    check_ins        INTEGER NOT NULL,
    inside           INTEGER NOT NULL,
    outside          INTEGER NOT NULL,
    cannot_tell      INTEGER NOT NULL,
    unable_to_verify INTEGER NOT NULL,
    unjudged         INTEGER NOT NULL,  -- no fence verdict yet
    flagged          INTEGER NOT NULL,  -- at least one suspicion flag
    checked_out      INTEGER NOT NULL,  -- with a duration
    duration_s       INTEGER NOT NULL,  -- the sum of those durations
    PRIMARY KEY (owner_id, local_date)
) WITHOUT ROWID;

INSERT INTO visit_days
SELECT owner_id, local_date, COUNT(*), SUM(fence IS 'inside'), SUM(fence IS 'outside'),
       SUM(fence IS 'cannot_tell'), SUM(fence IS 'unable_to_verify'), SUM(fence IS NULL),
       SUM(COALESCE(flags <> '', 0)), COUNT(duration_s), COALESCE(SUM(duration_s), 0)
FROM visits
WHERE deleted = 0 AND owner_id IS NOT NULL
GROUP BY owner_id, local_date;

CREATE TRIGGER visit_days_insert AFTER INSERT ON visits
WHEN NEW.deleted = 0 AND NEW.owner_id IS NOT NULL
BEGIN
    INSERT INTO visit_days
    SELECT NEW.owner_id, NEW.local_date, 1, NEW.fence IS 'inside', NEW.fence IS 'outside',
           NEW.fence IS 'cannot_tell', NEW.fence IS 'unable_to_verify', NEW.fence IS NULL,
           COALESCE(NEW.flags <> '', 0), NEW.duration_s IS NOT NULL,
           COALESCE(NEW.duration_s, 0)
    WHERE true
    ON CONFLICT (owner_id, local_date) DO UPDATE SET
        check_ins = check_ins + excluded.check_ins,
        inside = inside + excluded.inside,
        outside = outside + excluded.outside,
        cannot_tell = cannot_tell + excluded.cannot_tell,
        unable_to_verify = unable_to_verify + excluded.unable_to_verify,
        unjudged = unjudged + excluded.unjudged,
        flagged = flagged + excluded.flagged,
        checked_out = checked_out + excluded.checked_out,
        duration_s = duration_s + excluded.duration_s;
END;

CREATE TRIGGER visit_days_delete AFTER DELETE ON visits
WHEN OLD.deleted = 0 AND OLD.owner_id IS NOT NULL
BEGIN
    UPDATE visit_days SET
        check_ins = check_ins - 1,
        inside = inside - (OLD.fence IS 'inside'),
        outside = outside - (OLD.fence IS 'outside'),
        cannot_tell = cannot_tell - (OLD.fence IS 'cannot_tell'),
        unable_to_verify = unable_to_verify - (OLD.fence IS 'unable_to_verify'),
        unjudged = unjudged - (OLD.fence IS NULL),
        flagged = flagged - COALESCE(OLD.flags <> '', 0),
        checked_out = checked_out - (OLD.duration_s IS NOT NULL),
        duration_s = duration_s - COALESCE(OLD.duration_s, 0)
    WHERE owner_id = OLD.owner_id AND local_date = OLD.local_date;
    DELETE FROM visit_days
    WHERE owner_id = OLD.owner_id AND local_date = OLD.local_date AND check_ins <= 0;
END;

-- The projection replaces a visit's row (delete, then insert); an update in place is
-- counted out as the old row and in as the new one all the same.
CREATE TRIGGER visit_days_update AFTER UPDATE ON visits
BEGIN
    UPDATE visit_days SET
        check_ins = check_ins - 1,
        inside = inside - (OLD.fence IS 'inside'),
        outside = outside - (OLD.fence IS 'outside'),
        cannot_tell = cannot_tell - (OLD.fence IS 'cannot_tell'),
        unable_to_verify = unable_to_verify - (OLD.fence IS 'unable_to_verify'),
        unjudged = unjudged - (OLD.fence IS NULL),
        flagged = flagged - COALESCE(OLD.flags <> '', 0),
        checked_out = checked_out - (OLD.duration_s IS NOT NULL),
        duration_s = duration_s - COALESCE(OLD.duration_s, 0)
    WHERE owner_id = OLD.owner_id AND local_date = OLD.local_date AND OLD.deleted = 0;
    DELETE FROM visit_days
    WHERE owner_id = OLD.owner_id AND local_date = OLD.local_date AND check_ins <= 0;
    INSERT INTO visit_days
    SELECT NEW.owner_id, NEW.local_date, 1, NEW.fence IS 'inside', NEW.fence IS 'outside',
           NEW.fence IS 'cannot_tell', NEW.fence IS 'unable_to_verify', NEW.fence IS NULL,
           COALESCE(NEW.flags <> '', 0), NEW.duration_s IS NOT NULL,
           COALESCE(NEW.duration_s, 0)
    WHERE NEW.deleted = 0 AND NEW.owner_id IS NOT NULL
    ON CONFLICT (owner_id, local_date) DO UPDATE SET
        check_ins = check_ins + excluded.check_ins,
        inside = inside + excluded.inside,
        outside = outside + excluded.outside,
        cannot_tell = cannot_tell + excluded.cannot_tell,
        unable_to_verify = unable_to_verify + excluded.unable_to_verify,
        unjudged = unjudged + excluded.unjudged,
        flagged = flagged + excluded.flagged,
        checked_out = checked_out + excluded.checked_out,
        duration_s = duration_s + excluded.duration_s;
END;
