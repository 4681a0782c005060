-- Photos and files kept outside the documents, by SHA-256 of their content: what this device
-- holds, and how far each one's upload has got (so an interrupted upload resumes).
CREATE TABLE attachments (
    sha256         TEXT PRIMARY KEY,
    size           INTEGER NOT NULL,
    mime           TEXT NOT NULL,
    stored_at      INTEGER NOT NULL,
    -- Bytes the server is known to hold; equal to size once uploaded.
    uploaded_bytes INTEGER NOT NULL DEFAULT 0,
    uploaded_at    INTEGER
) WITHOUT ROWID;
CREATE INDEX attachments_pending ON attachments(uploaded_at) WHERE uploaded_at IS NULL;
