-- ecert storage schema, version 9: staff accounts of the console (R-5.2.2), separate from the
-- customers. Same rules as 0001: TEXT, BIGINT and BYTEA only, one file for SQLite and PostgreSQL.
-- Passwords only as argon2id hashes; the TOTP secret SM4-GCM under the master key (nonce +
-- ciphertext, bound to the row); `totp_last_step` makes a code usable once, on any node.

CREATE TABLE staff_accounts (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    roles          TEXT NOT NULL,
    password_hash  TEXT,
    totp_nonce     BYTEA,
    totp_cipher    BYTEA,
    totp_last_step BIGINT,
    failed_logins  BIGINT NOT NULL CHECK (failed_logins >= 0),
    locked_until   BIGINT,
    state          TEXT NOT NULL CHECK (state IN ('active', 'disabled')),
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);

-- Console sessions: only the SM3 of the session id is stored.
CREATE TABLE staff_sessions (
    id_hash     BYTEA PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES staff_accounts (id),
    csrf_secret BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    remote      TEXT
);
CREATE INDEX staff_sessions_by_account ON staff_sessions (account_id);
