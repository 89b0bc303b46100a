-- ecert storage schema, version 10: a seal is retired by two persons (R-5.2.2): one proposes,
-- another approves; the seal stays in use until the approval. Same rules as 0001.

CREATE TABLE seal_retirements (
    seal_id     TEXT PRIMARY KEY REFERENCES seals (id),
    proposed_by TEXT NOT NULL,
    proposed_at BIGINT NOT NULL,
    approved_by TEXT,
    approved_at BIGINT
);
