//! The rows of the two session tables, `customer_sessions` (the portal) and `staff_sessions`
//! (the console): the same columns, the id stored only as its SM3. The public functions of
//! `customers` and `staff` are thin wrappers over these.

use sqlx::Row;

use crate::crypto::sm3;
use crate::error::{Result, db};
use crate::store::{Store, now_ms};

/// Which session table.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Sessions {
    /// `customer_sessions`.
    Customer,
    /// `staff_sessions`.
    Staff,
}

impl Sessions {
    fn table(self) -> &'static str {
        match self {
            Sessions::Customer => "customer_sessions",
            Sessions::Staff => "staff_sessions",
        }
    }
}

/// A session row as stored.
pub(crate) struct SessionRow {
    pub(crate) account_id: Option<String>,
    pub(crate) csrf_secret: Vec<u8>,
    pub(crate) created_at_ms: i64,
    pub(crate) last_seen_ms: i64,
    pub(crate) expires_at_ms: i64,
}

fn key(session_id: &str) -> Vec<u8> {
    sm3(session_id.as_bytes()).to_vec()
}

impl Store {
    pub(crate) async fn insert_session(
        &self,
        t: Sessions,
        session_id: &str,
        account_id: Option<&str>,
        csrf_secret: &[u8],
        expires_at_ms: i64,
        remote: Option<&str>,
    ) -> Result<()> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {} (id_hash, account_id, csrf_secret, created_at, last_seen, \
             expires_at, remote) VALUES ($1, $2, $3, $4, $4, $5, $6)",
            t.table()
        )))
        .bind(key(session_id))
        .bind(account_id.map(str::to_owned))
        .bind(csrf_secret.to_vec())
        .bind(now_ms())
        .bind(expires_at_ms)
        .bind(remote.map(str::to_owned))
        .execute(&self.pool)
        .await
        .map_err(db("storing a session"))?;
        Ok(())
    }

    pub(crate) async fn read_session(
        &self,
        t: Sessions,
        session_id: &str,
    ) -> Result<Option<SessionRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT account_id, csrf_secret, created_at, last_seen, expires_at FROM {} \
             WHERE id_hash = $1",
            t.table()
        )))
        .bind(key(session_id))
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading a session"))?;
        let op = "reading a session";
        row.map(|r| {
            Ok(SessionRow {
                account_id: r.try_get("account_id").map_err(db(op))?,
                csrf_secret: r.try_get("csrf_secret").map_err(db(op))?,
                created_at_ms: r.try_get("created_at").map_err(db(op))?,
                last_seen_ms: r.try_get("last_seen").map_err(db(op))?,
                expires_at_ms: r.try_get("expires_at").map_err(db(op))?,
            })
        })
        .transpose()
    }

    pub(crate) async fn touch_session_in(&self, t: Sessions, session_id: &str) -> Result<()> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {} SET last_seen = $1 WHERE id_hash = $2",
            t.table()
        )))
        .bind(now_ms())
        .bind(key(session_id))
        .execute(&self.pool)
        .await
        .map_err(db("touching a session"))?;
        Ok(())
    }

    pub(crate) async fn delete_session_in(&self, t: Sessions, session_id: &str) -> Result<()> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {} WHERE id_hash = $1",
            t.table()
        )))
        .bind(key(session_id))
        .execute(&self.pool)
        .await
        .map_err(db("ending a session"))?;
        Ok(())
    }

    pub(crate) async fn purge_sessions_in(&self, t: Sessions, idle_before_ms: i64) -> Result<u64> {
        Ok(sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {} WHERE expires_at < $1 OR last_seen < $2",
            t.table()
        )))
        .bind(now_ms())
        .bind(idle_before_ms)
        .execute(&self.pool)
        .await
        .map_err(db("purging sessions"))?
        .rows_affected())
    }
}
