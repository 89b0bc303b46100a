-- ecert storage schema, version 1.
-- One file for SQLite and PostgreSQL: only TEXT, BIGINT and BYTEA columns (sqlx's Any driver
-- decodes nothing richer), timestamps as unix milliseconds (BIGINT), calendar dates as
-- 'YYYY-MM-DD' text (sorts as text), hashes as raw bytes. Identifiers are chosen by the
-- application (random 128-bit hex), so no auto-increment syntax is needed.

-- Institute settings: free key/value pairs (base URL, retention rules, master-key check value).
CREATE TABLE settings (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Issuing institutes (R-4.5.5 organisation code and accreditation id of the identifier).
CREATE TABLE institutes (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    org_code         TEXT NOT NULL,
    accreditation_id TEXT,
    details          TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);

-- Issued certificates (R-5.2.2 certificate library, R-6.4 lifecycle).
CREATE TABLE certificates (
    id              TEXT PRIMARY KEY,
    number          TEXT NOT NULL UNIQUE,
    identifier      TEXT NOT NULL UNIQUE,
    kind            BIGINT NOT NULL,
    customer_name   TEXT NOT NULL,
    instrument_name TEXT NOT NULL,
    serial_number   TEXT NOT NULL,
    issue_date      TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('valid', 'revised', 'supplemented', 'disposed')),
    revision        BIGINT NOT NULL CHECK (revision >= 0),
    revises         TEXT UNIQUE REFERENCES certificates (id),
    superseded_by   TEXT UNIQUE REFERENCES certificates (id),
    token_hash      BYTEA NOT NULL UNIQUE,
    check_code      TEXT NOT NULL,
    file_name       TEXT NOT NULL,
    file_sm3        BYTEA NOT NULL,
    file_size       BIGINT NOT NULL,
    blob_key        TEXT NOT NULL UNIQUE,
    created_at      BIGINT NOT NULL,
    status_at       BIGINT NOT NULL,
    retention_until TEXT
);
CREATE INDEX certificates_by_customer ON certificates (customer_name, issue_date);
CREATE INDEX certificates_by_issue_date ON certificates (issue_date, number);
CREATE INDEX certificates_by_created ON certificates (created_at);

-- Supplementary files bound to an original certificate (R-6.4.2).
CREATE TABLE supplements (
    id             TEXT PRIMARY KEY,
    certificate_id TEXT NOT NULL REFERENCES certificates (id),
    seq            BIGINT NOT NULL CHECK (seq >= 1),
    number         TEXT NOT NULL UNIQUE,
    file_name      TEXT NOT NULL,
    file_sm3       BYTEA NOT NULL,
    file_size      BIGINT NOT NULL,
    blob_key       TEXT NOT NULL UNIQUE,
    created_at     BIGINT NOT NULL,
    UNIQUE (certificate_id, seq)
);

-- Seal library (R-5.2.2); the signer's private key only encrypted (R-7.2.3d).
CREATE TABLE seals (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL,
    image            BYTEA NOT NULL,
    image_format     TEXT NOT NULL,
    seal_der         BYTEA,
    maker_cert_der   BYTEA NOT NULL,
    signer_cert_der  BYTEA NOT NULL,
    key_alg          TEXT NOT NULL,
    key_nonce        BYTEA NOT NULL,
    key_ciphertext   BYTEA NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('active', 'retired')),
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);

-- Certificate templates (R-5.2.2), versioned; a version is never overwritten.
CREATE TABLE templates (
    name       TEXT NOT NULL,
    version    BIGINT NOT NULL CHECK (version >= 1),
    kind       BIGINT,
    body       BYTEA NOT NULL,
    body_sm3   BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (name, version)
);

-- Business-system API clients (R-7.2.2c); a shared secret only encrypted (R-7.2.3d).
CREATE TABLE api_clients (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    public_key    BYTEA,
    secret_nonce  BYTEA,
    secret_cipher BYTEA,
    enabled       BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

-- Nonces seen per client (replay protection); old ones are purged.
CREATE TABLE api_nonces (
    client_id TEXT NOT NULL REFERENCES api_clients (id),
    nonce     TEXT NOT NULL,
    seen_at   BIGINT NOT NULL,
    PRIMARY KEY (client_id, nonce)
);
CREATE INDEX api_nonces_by_time ON api_nonces (seen_at);

-- Idempotency keys: a retried request never issues twice.
CREATE TABLE idempotency_keys (
    client_id       TEXT NOT NULL REFERENCES api_clients (id),
    idem_key        TEXT NOT NULL,
    request_sm3     BYTEA NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'done')),
    response_status BIGINT,
    response_body   BYTEA,
    created_at      BIGINT NOT NULL,
    completed_at    BIGINT,
    PRIMARY KEY (client_id, idem_key)
);
CREATE INDEX idempotency_by_time ON idempotency_keys (created_at);

-- Downloads: time and identity (R-7.2.3b).
CREATE TABLE download_log (
    id             TEXT PRIMARY KEY,
    at             BIGINT NOT NULL,
    certificate_id TEXT NOT NULL REFERENCES certificates (id),
    supplement_id  TEXT REFERENCES supplements (id),
    who            TEXT NOT NULL,
    channel        TEXT NOT NULL,
    remote         TEXT
);
CREATE INDEX download_log_by_certificate ON download_log (certificate_id, at);

-- Append-only SM3 hash-chained audit log (R-7.2.2b, R-7.2.2d, R-6.5d).
CREATE TABLE audit_log (
    seq       BIGINT PRIMARY KEY,
    at        BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT NOT NULL,
    details   TEXT NOT NULL,
    prev_hash BYTEA NOT NULL,
    hash      BYTEA NOT NULL
);

-- The chain's head (one row): appends lock it, so concurrent writers are serialised and the
-- chain cannot fork; it also lets verification notice entries removed from the tail.
CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash BYTEA NOT NULL
);
