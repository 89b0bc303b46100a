-- Each audit entry written by an instance carries a MAC: HMAC-SM3 under the instance's audit key
-- (random, kept in `settings` only encrypted under the master key) over the entry's hash. Someone
-- with write access to the database but without the master key can then neither append a forged
-- entry nor rewrite one and recompute the chain (R-7.2.2b). Entries written before this migration,
-- or by a store opened without the key, have none.
ALTER TABLE audit_log ADD COLUMN mac BYTEA;
