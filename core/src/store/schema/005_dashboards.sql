-- What the manager dashboards read beyond the kind projections, and the indexes that keep
-- each dashboard within its time budget on a store of a whole region.

-- The last time the pool took a lead back, and from which rep: the attention list shows a
-- manager the leads their reps let lapse.
ALTER TABLE leads ADD COLUMN reclaimed_from BLOB;
ALTER TABLE leads ADD COLUMN reclaimed_at INTEGER;
CREATE INDEX leads_reclaimed ON leads(reclaimed_at);

-- The currency of an approval's amount (NULL when it has none).
ALTER TABLE approvals ADD COLUMN currency TEXT;

-- Win rate and target attainment read deals by the instant they closed.
CREATE INDEX opportunities_outcome ON opportunities(outcome, outcome_at);
