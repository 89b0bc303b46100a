-- ecert storage schema, version 4: a seal's name (its title) can be used again once the seal
-- that had it is retired (key roll-over: an institute renews its signer key and makes a new seal
-- with the same title); two active seals with one name stay impossible.
-- Same rules as 0001: TEXT, BIGINT and BYTEA only, one file for SQLite and PostgreSQL.

-- SQLite cannot drop the UNIQUE constraint of a column, so the table is rebuilt on both
-- backends: the rows are set aside, the table is created again without it, and the rows come
-- back unchanged. (Nothing references seals; the copy keeps only the values, so the new table's
-- constraints and indexes keep their usual names.)
CREATE TABLE seals_before_0004 AS SELECT * FROM seals;
DROP TABLE seals;

-- Seal library (R-5.2.2); the signer's private key only encrypted (R-7.2.3d).
CREATE TABLE seals (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
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

INSERT INTO seals (id, name, kind, image, image_format, seal_der, maker_cert_der,
                   signer_cert_der, key_alg, key_nonce, key_ciphertext, status, created_at,
                   updated_at)
SELECT id, name, kind, image, image_format, seal_der, maker_cert_der, signer_cert_der, key_alg,
       key_nonce, key_ciphertext, status, created_at, updated_at
FROM seals_before_0004;
DROP TABLE seals_before_0004;

-- At most one active seal per name; retired seals may share it.
CREATE UNIQUE INDEX seals_active_name ON seals (name) WHERE status = 'active';
-- Lookup by name (the active one first, else the newest: Store::seal_by_name).
CREATE INDEX seals_by_name ON seals (name, created_at);
