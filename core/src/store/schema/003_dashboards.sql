-- What the manager dashboards read beyond the kind projections, and the indexes that keep
-- each dashboard within its time budget on a store of a whole region.
--
-- The dashboards aggregate thousands of rows per query. The kind tables are keyed by record
-- ID, so reading their columns row by row means one B-tree lookup per row, spread over the
-- whole file, and the phone's page cache is small. The covering indexes below hold every
-- column a dashboard reads, in (owner, day) order, so a dashboard reads a few contiguous
-- index pages instead.

-- The last time the pool took a lead back, and from which rep: the attention list shows a
-- manager the leads their reps let lapse.
ALTER TABLE leads ADD COLUMN reclaimed_from BLOB;
ALTER TABLE leads ADD COLUMN reclaimed_at INTEGER;
CREATE INDEX leads_reclaimed ON leads(reclaimed_at);

-- The currency of an approval's amount (NULL when it has none).
ALTER TABLE approvals ADD COLUMN currency TEXT;

-- Funnel, win rate, targets: open deals per owner and stage, closed deals by closing time.
CREATE INDEX opportunities_dashboard ON opportunities(
    owner_id, outcome, outcome_at, stage, currency, amount_minor, deleted, stage_entered_at);

-- Visits per rep and day, plan against actual, the map.
CREATE INDEX visits_dashboard ON visits(
    owner_id, local_date, deleted, customer_id, fence, flags, duration_s, check_in_at, lat, lon);

-- Report compliance per rep and day.
CREATE INDEX daily_reports_dashboard ON daily_reports(
    owner_id, date, deleted, compliance, state, penalty_minor);
