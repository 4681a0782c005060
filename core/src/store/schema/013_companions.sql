-- Each sensitive field's companion and the record it belongs to: a change to a companion is
-- a change to its record for whoever listens (a screen refreshes the contact whose phone a
-- sync brought or took away).
CREATE TABLE companions (
    id          BLOB PRIMARY KEY,
    record_id   BLOB NOT NULL,
    record_kind TEXT NOT NULL
) WITHOUT ROWID;
