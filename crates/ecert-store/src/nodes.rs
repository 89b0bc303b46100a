//! Several `ecert serve` nodes over one PostgreSQL: what one node must know of the others,
//! with PostgreSQL as the only shared state (no cluster logic of our own).
//!
//! - **Which processes are alive.** Each node holds, for its whole life, a session advisory
//!   lock named after itself on a connection of its own ([`Store::hold_process_lock`]); when the
//!   process dies, even by SIGKILL, its connection closes and PostgreSQL releases the lock. A
//!   node that starts resolves only the idempotency keys of processes whose lock it can take
//!   ([`Store::process_alive`]), never those of a live node with a request in flight.
//! - **What changed.** Every audit entry that changes what a certificate's page says (issue,
//!   revision, supplement, disposal) sends `NOTIFY ecert_changes` in its own transaction, so it
//!   is delivered exactly when the change commits, whichever process made it (a node, the CLI);
//!   each node listens ([`Store::listen_changes`]) and drops its page cache.
//!
//! On SQLite (one machine, one server) there is nothing to share: no locks, no notifications.

use sqlx::Connection;
use sqlx::postgres::{PgConnection, PgListener};

use crate::crypto::sm3;
use crate::error::{Result, db};
use crate::store::{Backend, Store};

/// The channel of change notifications.
pub const CHANGES_CHANNEL: &str = "ecert_changes";

/// The advisory lock key of a process (the first 8 bytes of the SM3 of its name).
fn lock_key(owner: &str) -> i64 {
    let h = sm3(format!("ecert process\0{owner}").as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&h[..8]);
    i64::from_be_bytes(b)
}

/// A process's liveness lock, held while this value lives (its own connection; dropping it, or
/// the process ending, releases the lock).
#[derive(Debug)]
pub struct ProcessLock {
    _conn: Option<PgConnection>,
}

/// Change notifications from every process ([`Store::listen_changes`]).
pub struct ChangeListener {
    inner: PgListener,
}

impl std::fmt::Debug for ChangeListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChangeListener")
    }
}

/// What [`ChangeListener::next`] saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A certificate changed (its number).
    Certificate(String),
    /// The connection was lost and made again: changes may have been missed.
    Reconnected,
}

impl ChangeListener {
    /// The next change; waits for it. An error: the listener could not reconnect (try again
    /// later, and assume everything changed).
    pub async fn next(&mut self) -> Result<Change> {
        match self
            .inner
            .try_recv()
            .await
            .map_err(db("listening for changes"))?
        {
            Some(n) => Ok(Change::Certificate(n.payload().to_owned())),
            None => Ok(Change::Reconnected),
        }
    }
}

impl Store {
    /// Holds this process's liveness lock (PostgreSQL) until the returned value is dropped or
    /// the process ends. SQLite: nothing to hold.
    pub async fn hold_process_lock(&self, owner: &str) -> Result<ProcessLock> {
        if self.backend != Backend::Postgres {
            return Ok(ProcessLock { _conn: None });
        }
        let mut conn = PgConnection::connect(self.url())
            .await
            .map_err(db("connecting for the process lock"))?;
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(lock_key(owner))
            .execute(&mut conn)
            .await
            .map_err(db("taking the process lock"))?;
        Ok(ProcessLock { _conn: Some(conn) })
    }

    /// Whether the process `owner` is alive: it holds its liveness lock. SQLite (one server per
    /// database): every other process counts as gone.
    pub async fn process_alive(&self, owner: &str) -> Result<bool> {
        if self.backend != Backend::Postgres {
            return Ok(false);
        }
        let mut conn = PgConnection::connect(self.url())
            .await
            .map_err(db("connecting to look at a process lock"))?;
        let key = lock_key(owner);
        let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut conn)
            .await
            .map_err(db("looking at a process lock"))?;
        // (taken: nobody held it — the process is gone; the connection's end releases ours)
        conn.close().await.ok();
        Ok(!taken)
    }

    /// Listens for the changes every process announces (PostgreSQL); `None` on SQLite.
    pub async fn listen_changes(&self) -> Result<Option<ChangeListener>> {
        if self.backend != Backend::Postgres {
            return Ok(None);
        }
        let mut inner = PgListener::connect(self.url())
            .await
            .map_err(db("connecting to listen for changes"))?;
        inner
            .listen(CHANGES_CHANNEL)
            .await
            .map_err(db("listening for changes"))?;
        Ok(Some(ChangeListener { inner }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_differ_per_process_and_stay_the_same() {
        assert_eq!(lock_key("node-a:1"), lock_key("node-a:1"));
        assert_ne!(lock_key("node-a:1"), lock_key("node-a:2"));
    }
}
