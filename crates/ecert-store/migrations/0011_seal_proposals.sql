-- ecert storage schema, version 11: a seal is made by two persons (R-5.2.2): a seal
-- administrator proposes it with its key material (the signer's and maker's keys and
-- certificates, the picture), kept SM4-GCM under the master key, bound to the row; an approver
-- who is someone else approves, and only then is the seal made; the material is cleared (NULL)
-- once decided. Same rules as 0001.

CREATE TABLE seal_proposals (
    id              TEXT PRIMARY KEY,
    title           TEXT NOT NULL,
    kind            TEXT NOT NULL,
    material_nonce  BYTEA,
    material_cipher BYTEA,
    state           TEXT NOT NULL CHECK (state IN ('proposed', 'approved', 'rejected')),
    proposed_by     TEXT NOT NULL,
    proposed_at     BIGINT NOT NULL,
    decided_by      TEXT,
    decided_at      BIGINT,
    seal_id         TEXT
);
