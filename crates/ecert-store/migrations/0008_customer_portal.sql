-- ecert storage schema, version 8: the customer self-service portal (R-5.2.3, R-6.1, R-6.2,
-- R-7.2.3). Same rules as 0001: TEXT, BIGINT and BYTEA only, one file for SQLite and PostgreSQL.
-- Customer data are protected at rest (R-5.2.3 "keeps their data safe", R-7.2.3d): names,
-- mobiles and e-mails only as SM4-GCM ciphertexts under the master key (nonce + ciphertext
-- columns, bound to their row), looked up through a keyed index HMAC-SM3(index key, kind ‖ 0 ‖
-- normalised value) whose key is random and kept in `settings` encrypted under the master key
-- (`secret:customer-index-key`); passwords and download passwords only as argon2id hashes;
-- session ids and one-time codes only as hashes.

-- Customer accounts: a natural person, or a member of an organisation (R-5.2.3). An account is
-- 'pending' until a code sent to one of its channels was entered.
CREATE TABLE customer_accounts (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('person', 'member')),
    state         TEXT NOT NULL CHECK (state IN ('pending', 'active', 'closed')),
    name_nonce    BYTEA,
    name_cipher   BYTEA,
    password_hash TEXT,
    failed_logins BIGINT NOT NULL CHECK (failed_logins >= 0),
    locked_until  BIGINT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

-- Channels (e-mail, mobile) of an account; verified once a code sent there was entered. A
-- verified address belongs to one account only.
CREATE TABLE customer_channels (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES customer_accounts (id),
    kind         TEXT NOT NULL CHECK (kind IN ('email', 'mobile')),
    value_index  BYTEA NOT NULL,
    value_nonce  BYTEA NOT NULL,
    value_cipher BYTEA NOT NULL,
    verified_at  BIGINT,
    created_at   BIGINT NOT NULL,
    UNIQUE (account_id, value_index)
);
CREATE UNIQUE INDEX customer_channels_verified ON customer_channels (value_index)
    WHERE verified_at IS NOT NULL;
CREATE INDEX customer_channels_by_index ON customer_channels (value_index);

-- Organisations (legal persons) by their unified social credit code (GB 32100): at most one
-- active organisation per code; the name and the code itself encrypted.
CREATE TABLE customer_orgs (
    id           TEXT PRIMARY KEY,
    uscc_index   BYTEA NOT NULL,
    uscc_nonce   BYTEA NOT NULL,
    uscc_cipher  BYTEA NOT NULL,
    name_nonce   BYTEA NOT NULL,
    name_cipher  BYTEA NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'active')),
    created_by   TEXT NOT NULL REFERENCES customer_accounts (id),
    created_at   BIGINT NOT NULL,
    activated_at BIGINT
);
CREATE UNIQUE INDEX customer_orgs_active ON customer_orgs (uscc_index) WHERE state = 'active';
CREATE INDEX customer_orgs_by_uscc ON customer_orgs (uscc_index);

-- Members of an organisation; the first is its administrator, who invites the others.
CREATE TABLE customer_members (
    org_id     TEXT NOT NULL REFERENCES customer_orgs (id),
    account_id TEXT NOT NULL REFERENCES customer_accounts (id),
    role       TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, account_id)
);
CREATE INDEX customer_members_by_account ON customer_members (account_id);

-- Invitations into an organisation, to an e-mail address or mobile number (by its index; the
-- address encrypted, to send the invitation).
CREATE TABLE customer_invitations (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES customer_orgs (id),
    role          TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    target_kind   TEXT NOT NULL CHECK (target_kind IN ('email', 'mobile')),
    target_index  BYTEA NOT NULL,
    target_nonce  BYTEA NOT NULL,
    target_cipher BYTEA NOT NULL,
    invited_by    TEXT NOT NULL REFERENCES customer_accounts (id),
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    accepted_by   TEXT REFERENCES customer_accounts (id),
    accepted_at   BIGINT
);
CREATE INDEX customer_invitations_by_target ON customer_invitations (target_index);

-- Portal sessions, in the database so that they survive a restart and serve several nodes. Only
-- the SM3 of the session id is stored. `account_id` is NULL for a visitor who has not logged in
-- yet (the session then carries only the CSRF secret of the login and registration forms); a
-- login always creates a new session (the id changes: no fixation).
CREATE TABLE customer_sessions (
    id_hash     BYTEA PRIMARY KEY,
    account_id  TEXT REFERENCES customer_accounts (id),
    csrf_secret BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    remote      TEXT
);
CREATE INDEX customer_sessions_by_account ON customer_sessions (account_id);
CREATE INDEX customer_sessions_by_expiry ON customer_sessions (expires_at);

-- One-time codes (R-6.2a/b): for what, to which address (its index), a keyed SM3 of the code,
-- 10 minutes of life, at most 5 tries, single use. `subject` names what the code unlocks (an
-- account, an organisation, a set of certificates).
CREATE TABLE customer_codes (
    id           TEXT PRIMARY KEY,
    purpose      TEXT NOT NULL CHECK (purpose IN ('register', 'login', 'recover', 'org_activate',
                                                  'invite', 'download', 'channel')),
    target_index BYTEA NOT NULL,
    subject      TEXT NOT NULL,
    code_hash    BYTEA NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    tries        BIGINT NOT NULL CHECK (tries >= 0),
    used_at      BIGINT,
    remote       TEXT
);
CREATE INDEX customer_codes_by_target ON customer_codes (target_index, created_at);
CREATE INDEX customer_codes_by_subject ON customer_codes (purpose, subject, created_at);
CREATE INDEX customer_codes_by_remote ON customer_codes (remote, created_at);

-- Which customer a certificate belongs to, as the business system gave it (customer.uscc,
-- customer.mobile, customer.email of the content): their indexes for the portal's lists, the
-- contact encrypted (a JSON object, for sending identity codes to the channel the business
-- system gave, R-6.2a/b), and the preset download password only as an argon2id hash (R-6.2f).
-- Supplements belong to their original's customer.
CREATE TABLE customer_bindings (
    id                TEXT PRIMARY KEY,
    certificate_id    TEXT NOT NULL UNIQUE REFERENCES certificates (id),
    uscc_index        BYTEA,
    mobile_index      BYTEA,
    email_index       BYTEA,
    contact_nonce     BYTEA NOT NULL,
    contact_cipher    BYTEA NOT NULL,
    download_password TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX customer_bindings_by_uscc ON customer_bindings (uscc_index);
CREATE INDEX customer_bindings_by_mobile ON customer_bindings (mobile_index);
CREATE INDEX customer_bindings_by_email ON customer_bindings (email_index);

-- Portal downloads in the download log (R-7.2.3b): the account, the package they came in (one
-- encrypted ZIP may hold several certificates) and the SM3 of the bytes sent.
ALTER TABLE download_log ADD COLUMN account_id TEXT;
ALTER TABLE download_log ADD COLUMN package_id TEXT;
ALTER TABLE download_log ADD COLUMN sent_sm3 BYTEA;
CREATE INDEX download_log_by_account ON download_log (account_id, at);
