-- Fieldsales local store, schema version 1.
-- IDs are 16-byte UUID blobs; instants are UTC milliseconds; local dates are 'YYYY-MM-DD'.

-- Key/value settings of this store: the device's Automerge actor, the sync cursor, the
-- clock offset, the signed-in user.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB
) WITHOUT ROWID;

-- The truth: one saved Automerge document per record.
CREATE TABLE documents (
    id          BLOB PRIMARY KEY,
    kind        TEXT NOT NULL,
    doc         BLOB NOT NULL,
    heads       BLOB NOT NULL,      -- sorted 32-byte change hashes
    acked_heads BLOB,               -- heads the server last acknowledged; NULL: never seen by it
    updated_at  INTEGER NOT NULL    -- local time of the last write
);

-- Records with changes the server has not acknowledged.
CREATE TABLE outbox (
    id        BLOB PRIMARY KEY,
    queued_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Edits the server refused, kept so the user's work is never silently lost.
CREATE TABLE rejected_changes (
    seq         INTEGER PRIMARY KEY,
    record_id   BLOB NOT NULL,
    kind        TEXT NOT NULL,
    reason_code TEXT NOT NULL,
    detail      TEXT NOT NULL,
    rejected_at INTEGER NOT NULL,
    changes     BLOB NOT NULL,      -- the refused Automerge changes
    attempted   BLOB,               -- the record as the user had it (saved document)
    resolved_at INTEGER
);
CREATE INDEX rejected_open ON rejected_changes(resolved_at, record_id);

-- The common index of every record: generic listing and filters.
CREATE TABLE records (
    rid         INTEGER PRIMARY KEY,
    id          BLOB NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    owner_id    BLOB,
    org_unit_id BLOB,
    customer_id BLOB,
    status      TEXT,
    occurred_at INTEGER,
    local_date  TEXT,
    title       TEXT NOT NULL,
    search_text TEXT,               -- width- and case-folded, for short substring queries
    created_at  INTEGER NOT NULL,
    deleted     INTEGER NOT NULL
);
CREATE INDEX records_kind_time ON records(kind, deleted, occurred_at);
CREATE INDEX records_kind_date ON records(kind, local_date);
CREATE INDEX records_owner ON records(owner_id, kind);
CREATE INDEX records_customer ON records(customer_id, kind);

-- Who a record is shared with (collaborators, assigners).
CREATE TABLE record_shares (
    record_id BLOB NOT NULL,
    user_id   BLOB NOT NULL,
    PRIMARY KEY (record_id, user_id)
) WITHOUT ROWID;
CREATE INDEX record_shares_user ON record_shares(user_id);

-- Fuzzy search over customers, contacts, opportunities, leads, products and orders.
-- rowid = records.rid. The trigram tokenizer matches any substring of three or more
-- characters, Chinese included; shorter queries scan records.search_text instead.
-- Contentless: the indexed text is records.search_text, not stored twice.
CREATE VIRTUAL TABLE search USING fts5(
    text, content = '', contentless_delete = 1, tokenize = 'trigram'
);

-- The duplicate check: normalised customer names and their bigrams.
CREATE TABLE customer_names (
    customer_id BLOB NOT NULL,
    norm        TEXT NOT NULL,
    source      TEXT NOT NULL,      -- legal | short | english
    PRIMARY KEY (customer_id, source)
) WITHOUT ROWID;
CREATE INDEX customer_names_norm ON customer_names(norm);
-- Near-duplicate candidates: the bigrams of a customer's normalised names as space-separated
-- tokens (rowid = records.rid). Contentless: only the compact index is kept.
CREATE VIRTUAL TABLE customer_grams USING fts5(
    grams, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0'
);

-- Kind projections: typed columns for dashboards and rules.
CREATE TABLE org_units (
    id         BLOB PRIMARY KEY,
    name       TEXT NOT NULL,
    level      TEXT NOT NULL,
    parent_id  BLOB,
    manager_id BLOB,
    zone       TEXT,
    deleted    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX org_units_parent ON org_units(parent_id);

CREATE TABLE users (
    id          BLOB PRIMARY KEY,
    name        TEXT NOT NULL,
    employee_no TEXT NOT NULL,
    unit_id     BLOB NOT NULL,
    roles       TEXT NOT NULL,      -- space-separated role codes
    zone        TEXT NOT NULL,
    active      INTEGER NOT NULL,
    deleted     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX users_unit ON users(unit_id);

CREATE TABLE roles (
    id         BLOB PRIMARY KEY,
    code       TEXT NOT NULL,
    name       TEXT NOT NULL,
    data_scope TEXT NOT NULL,
    deleted    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE customers (
    id               BLOB PRIMARY KEY,
    owner_id         BLOB,
    legal_name       TEXT NOT NULL,
    short_name       TEXT,
    english_name     TEXT,
    industry         TEXT,
    tier             TEXT,
    lat              REAL,
    lon              REAL,
    pending_location INTEGER NOT NULL,
    deleted          INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX customers_owner ON customers(owner_id);

CREATE TABLE contacts (
    id            BLOB PRIMARY KEY,
    customer_id   BLOB NOT NULL,
    owner_id      BLOB,
    name          TEXT NOT NULL,
    title         TEXT,
    phone         TEXT,
    email         TEXT,
    decision_role TEXT NOT NULL,
    deleted       INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX contacts_customer ON contacts(customer_id);

CREATE TABLE follow_ups (
    id           BLOB PRIMARY KEY,
    owner_id     BLOB,
    customer_id  BLOB,
    subject_kind TEXT NOT NULL,
    subject_id   BLOB NOT NULL,
    method       TEXT NOT NULL,
    occurred_at  INTEGER NOT NULL,
    visit_id     BLOB,
    deleted      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX follow_ups_subject ON follow_ups(subject_id, occurred_at);
CREATE INDEX follow_ups_owner_time ON follow_ups(owner_id, occurred_at);

CREATE TABLE leads (
    id                BLOB PRIMARY KEY,
    owner_id          BLOB,
    org_unit_id       BLOB,
    company_name      TEXT NOT NULL,
    status            TEXT NOT NULL,
    source            TEXT,
    assigned_at       INTEGER,
    last_follow_up_at INTEGER,
    deleted           INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX leads_owner_status ON leads(owner_id, status);

CREATE TABLE opportunities (
    id               BLOB PRIMARY KEY,
    owner_id         BLOB,
    customer_id      BLOB NOT NULL,
    name             TEXT NOT NULL,
    amount_minor     INTEGER NOT NULL,
    currency         TEXT NOT NULL,
    stage            TEXT NOT NULL,
    stage_entered_at INTEGER,
    expected_close   TEXT,
    outcome          TEXT,
    outcome_at       INTEGER,
    created_at       INTEGER NOT NULL,
    deleted          INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX opportunities_owner_stage ON opportunities(owner_id, stage);
CREATE INDEX opportunities_customer ON opportunities(customer_id);

CREATE TABLE stage_history (
    opportunity_id BLOB NOT NULL,
    seq            INTEGER NOT NULL,
    stage          TEXT NOT NULL,
    entered_at     INTEGER NOT NULL,
    left_at        INTEGER,
    PRIMARY KEY (opportunity_id, seq)
) WITHOUT ROWID;
CREATE INDEX stage_history_stage ON stage_history(stage, entered_at);

CREATE TABLE visits (
    id           BLOB PRIMARY KEY,
    owner_id     BLOB,
    customer_id  BLOB NOT NULL,
    plan_id      BLOB,
    check_in_at  INTEGER NOT NULL,
    local_date   TEXT NOT NULL,
    zone         TEXT NOT NULL,
    lat          REAL NOT NULL,
    lon          REAL NOT NULL,
    accuracy_m   REAL NOT NULL,
    is_mock      INTEGER NOT NULL,
    check_out_at INTEGER,
    duration_s   INTEGER,
    photo_count  INTEGER NOT NULL,
    deleted      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX visits_owner_date ON visits(owner_id, local_date);
CREATE INDEX visits_customer_time ON visits(customer_id, check_in_at);
CREATE INDEX visits_date ON visits(local_date);

CREATE TABLE visit_photos (
    sha256   TEXT NOT NULL,
    visit_id BLOB NOT NULL,
    PRIMARY KEY (sha256, visit_id)
) WITHOUT ROWID;
CREATE INDEX visit_photos_visit ON visit_photos(visit_id);

CREATE TABLE visit_plan_items (
    plan_id     BLOB NOT NULL,
    owner_id    BLOB,
    date        TEXT NOT NULL,
    customer_id BLOB NOT NULL,
    planned_at  INTEGER,
    PRIMARY KEY (plan_id, customer_id)
) WITHOUT ROWID;
CREATE INDEX visit_plan_items_owner_date ON visit_plan_items(owner_id, date);

CREATE TABLE daily_reports (
    id                BLOB PRIMARY KEY,
    owner_id          BLOB,
    date              TEXT NOT NULL,
    zone              TEXT NOT NULL,
    state             TEXT NOT NULL,
    submitted_at      INTEGER,
    clock_offset_ms   INTEGER,
    received_at       INTEGER,
    marked_false      INTEGER NOT NULL,
    comment_count     INTEGER NOT NULL,
    deleted           INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX daily_reports_owner_date ON daily_reports(owner_id, date);
CREATE INDEX daily_reports_date ON daily_reports(date);

CREATE TABLE tasks (
    id           BLOB PRIMARY KEY,
    owner_id     BLOB,
    assigner_id  BLOB NOT NULL,
    kind         TEXT NOT NULL,
    title        TEXT NOT NULL,
    status       TEXT NOT NULL,
    due_at       INTEGER,
    start_at     INTEGER,
    end_at       INTEGER,
    reminder_at  INTEGER,
    completed_at INTEGER,
    deleted      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX tasks_owner_status ON tasks(owner_id, status);
CREATE INDEX tasks_reminder ON tasks(reminder_at);

CREATE TABLE approvals (
    id           BLOB PRIMARY KEY,
    owner_id     BLOB,
    subject_kind TEXT NOT NULL,
    subject_id   BLOB NOT NULL,
    rule         TEXT NOT NULL,
    status       TEXT NOT NULL,
    amount_minor INTEGER,
    step_index   INTEGER,           -- the step waiting for decisions; NULL once decided
    step_roles   TEXT,              -- space-separated approver roles of that step
    created_at   INTEGER NOT NULL,
    decided_at   INTEGER,
    deleted      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX approvals_status ON approvals(status);
CREATE INDEX approvals_subject ON approvals(subject_id);

CREATE TABLE products (
    id               BLOB PRIMARY KEY,
    code             TEXT NOT NULL,
    name             TEXT NOT NULL,
    list_price_minor INTEGER NOT NULL,
    currency         TEXT NOT NULL,
    category         TEXT,
    product_line     TEXT,
    active           INTEGER NOT NULL,
    deleted          INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX products_code ON products(code);

CREATE TABLE orders (
    id              BLOB PRIMARY KEY,
    owner_id        BLOB,
    customer_id     BLOB NOT NULL,
    opportunity_id  BLOB,
    number          TEXT NOT NULL,
    total_minor     INTEGER NOT NULL,
    currency        TEXT NOT NULL,
    status          TEXT NOT NULL,
    confirmed_at    INTEGER,
    new_customer    INTEGER NOT NULL,
    collected_minor INTEGER NOT NULL,
    delivery        TEXT NOT NULL,
    deleted         INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX orders_owner_status ON orders(owner_id, status);

CREATE TABLE payments (
    order_id     BLOB NOT NULL,
    payment_id   BLOB NOT NULL,
    amount_minor INTEGER NOT NULL,
    received_at  INTEGER NOT NULL,
    PRIMARY KEY (order_id, payment_id)
) WITHOUT ROWID;
CREATE INDEX payments_time ON payments(received_at);

CREATE TABLE targets (
    id           BLOB PRIMARY KEY,
    subject      TEXT NOT NULL,
    subject_id   BLOB NOT NULL,
    period       TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end   TEXT NOT NULL,
    metric       TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    currency     TEXT NOT NULL,
    deleted      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX targets_subject ON targets(subject_id, period_start);
