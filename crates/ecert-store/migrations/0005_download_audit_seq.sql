-- The download log names the audit entry written with it (R-6.5d, R-7.2.3b): the entry's
-- sequence number orders downloads made within the same millisecond, which time and a random id
-- could not. Rows written before this migration have none.
ALTER TABLE download_log ADD COLUMN audit_seq BIGINT;
