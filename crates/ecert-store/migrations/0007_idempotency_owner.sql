-- Each idempotency key names the process that claimed it (a random id per `ecert serve` process
-- and its host name). At start-up a server resolves the keys still pending that another process
-- claimed: that process died mid-request, and a retry must not wait for the stale-key timeout.
-- Keys claimed before this migration have none (and are resolved the same way).
ALTER TABLE idempotency_keys ADD COLUMN owner TEXT;
