-- ecert storage schema, version 3: the disposal workflow (R-6.5h, R-6.5i) and the
-- verification token of supplementary files (R-6.4.2: a supplement carries its own code).
-- Same rules as 0001: TEXT, BIGINT and BYTEA only, one file for SQLite and PostgreSQL.

-- SM3 of the supplement's own verification token (NULL for supplements stored without one).
ALTER TABLE supplements ADD COLUMN token_hash BYTEA;
CREATE UNIQUE INDEX supplements_by_token ON supplements (token_hash);

-- One disposal per certificate: proposed by one person, approved by another, then executed
-- (the files destroyed on every replica, the record kept as 'disposed').
CREATE TABLE disposals (
    id             TEXT PRIMARY KEY,
    certificate_id TEXT NOT NULL UNIQUE REFERENCES certificates (id),
    state          TEXT NOT NULL CHECK (state IN ('proposed', 'approved', 'executed')),
    proposed_by    TEXT NOT NULL,
    proposed_at    BIGINT NOT NULL,
    approved_by    TEXT,
    approved_at    BIGINT,
    executed_by    TEXT,
    executed_at    BIGINT,
    CHECK (approved_by IS NULL OR approved_by <> proposed_by)
);
CREATE INDEX disposals_by_state ON disposals (state, proposed_at);
