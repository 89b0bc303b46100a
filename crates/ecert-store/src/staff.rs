//! Staff accounts of the console (R-5.2.2: the people who issue, approve, manage seals and
//! audit), separate from customers: names, roles, argon2id password hashes (made by the
//! application), the TOTP secret SM4-GCM under the master key with the last step accepted (so
//! a code is never accepted twice, on any node), failed logins and lock-out, and sessions stored
//! as the SM3 of their id. Every change is an audit entry naming who made it.

use serde_json::json;
use sqlx::Row;
use zeroize::Zeroizing;

use crate::audit::{AuditEvent, append_in};
use crate::crypto::{MasterKey, aad, new_id};
use crate::error::{Result, StoreError, db, is_unique_violation};
use crate::sessions::Sessions;
use crate::store::{Store, now_ms};

/// A staff account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffAccount {
    /// Random id.
    pub id: String,
    /// Login name (unique).
    pub name: String,
    /// Role names, as the application defines them.
    pub roles: Vec<String>,
    /// argon2id hash (PHC string).
    pub password_hash: Option<String>,
    /// Whether a TOTP secret is set.
    pub has_totp: bool,
    /// The last TOTP step accepted.
    pub totp_last_step: Option<i64>,
    /// Failed logins since the last success.
    pub failed_logins: i64,
    /// Locked until (unix ms).
    pub locked_until_ms: Option<i64>,
    /// `false` once disabled.
    pub active: bool,
    /// Who created it.
    pub created_by: String,
    /// Created (unix ms).
    pub created_at_ms: i64,
}

/// A staff session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSession {
    /// The account.
    pub account_id: String,
    /// The secret its form tokens come from.
    pub csrf_secret: Vec<u8>,
    /// Created (unix ms).
    pub created_at_ms: i64,
    /// Last request (unix ms).
    pub last_seen_ms: i64,
    /// Absolute end (unix ms).
    pub expires_at_ms: i64,
}

const COLUMNS: &str = "id, name, roles, password_hash, totp_cipher, totp_last_step, \
    failed_logins, locked_until, state, created_by, created_at";

const TOTP_PURPOSE: &str = "staff-totp";

fn from_row(r: &sqlx::any::AnyRow) -> Result<StaffAccount> {
    let op = "reading a staff account";
    let roles: String = r.try_get("roles").map_err(db(op))?;
    let cipher: Option<Vec<u8>> = r.try_get("totp_cipher").map_err(db(op))?;
    let state: String = r.try_get("state").map_err(db(op))?;
    Ok(StaffAccount {
        id: r.try_get("id").map_err(db(op))?,
        name: r.try_get("name").map_err(db(op))?,
        roles: roles
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        password_hash: r.try_get("password_hash").map_err(db(op))?,
        has_totp: cipher.is_some(),
        totp_last_step: r.try_get("totp_last_step").map_err(db(op))?,
        failed_logins: r.try_get("failed_logins").map_err(db(op))?,
        locked_until_ms: r.try_get("locked_until").map_err(db(op))?,
        active: state == "active",
        created_by: r.try_get("created_by").map_err(db(op))?,
        created_at_ms: r.try_get("created_at").map_err(db(op))?,
    })
}

fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid {
            field: "staff name",
            problem: format!("{name:?}: 1–64 of a–z, A–Z, 0–9, '.', '-', '_'"),
        })
    }
}

impl Store {
    /// Creates a staff account with roles, a password hash and optionally a TOTP secret
    /// (encrypted under the master key). Audited as `staff.add` by `by`.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_staff(
        &self,
        master: &MasterKey,
        name: &str,
        roles: &[&str],
        password_hash: &str,
        totp_secret: Option<&[u8]>,
        by: &str,
    ) -> Result<StaffAccount> {
        check_name(name)?;
        if roles.is_empty() {
            return Err(StoreError::Invalid {
                field: "roles",
                problem: "at least one role".into(),
            });
        }
        let id = new_id()?;
        let now = now_ms();
        let (nonce, cipher) = match totp_secret {
            Some(s) => {
                let (n, c) = master.encrypt(&aad(TOTP_PURPOSE, &id), s)?;
                (Some(n.to_vec()), Some(c))
            }
            None => (None, None),
        };
        let mut tx = self.begin_write().await?;
        let r = sqlx::query(
            "INSERT INTO staff_accounts (id, name, roles, password_hash, totp_nonce, totp_cipher, \
             totp_last_step, failed_logins, locked_until, state, created_by, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, NULL, 0, NULL, 'active', $7, $8, $8)",
        )
        .bind(id.clone())
        .bind(name.to_owned())
        .bind(roles.join(","))
        .bind(password_hash.to_owned())
        .bind(nonce)
        .bind(cipher)
        .bind(by.to_owned())
        .bind(now)
        .execute(&mut *tx)
        .await;
        match r {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::AlreadyExists {
                    what: "staff account",
                    name: name.to_owned(),
                });
            }
            Err(e) => return Err(db("adding a staff account")(e)),
        }
        append_in(
            &mut tx,
            &AuditEvent {
                actor: by,
                action: "staff.add",
                subject: name,
                details: &json!({ "id": id, "roles": roles, "totp": totp_secret.is_some() }),
            },
        )
        .await?;
        tx.commit().await.map_err(db("adding a staff account"))?;
        self.staff_by_name(name)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "staff account",
                key: name.to_owned(),
            })
    }

    /// A staff account by login name.
    pub async fn staff_by_name(&self, name: &str) -> Result<Option<StaffAccount>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM staff_accounts WHERE name = $1"
        )))
        .bind(name.to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading a staff account"))?;
        row.as_ref().map(from_row).transpose()
    }

    /// A staff account by id.
    pub async fn staff(&self, id: &str) -> Result<Option<StaffAccount>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM staff_accounts WHERE id = $1"
        )))
        .bind(id.to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading a staff account"))?;
        row.as_ref().map(from_row).transpose()
    }

    /// Every staff account, by name.
    pub async fn staff_accounts(&self) -> Result<Vec<StaffAccount>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM staff_accounts ORDER BY name"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(db("listing staff accounts"))?;
        rows.iter().map(from_row).collect()
    }

    /// The account's TOTP secret, decrypted.
    pub async fn staff_totp_secret(
        &self,
        master: &MasterKey,
        id: &str,
    ) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let row = sqlx::query("SELECT totp_nonce, totp_cipher FROM staff_accounts WHERE id = $1")
            .bind(id.to_owned())
            .fetch_optional(&self.pool)
            .await
            .map_err(db("reading a TOTP secret"))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let op = "reading a TOTP secret";
        let nonce: Option<Vec<u8>> = row.try_get("totp_nonce").map_err(db(op))?;
        let cipher: Option<Vec<u8>> = row.try_get("totp_cipher").map_err(db(op))?;
        match (nonce, cipher) {
            (Some(n), Some(c)) => master
                .decrypt(&aad(TOTP_PURPOSE, id), &n, &c)
                .map(Some)
                .ok_or_else(|| StoreError::Decrypt {
                    what: "staff_accounts",
                    key: id.to_owned(),
                }),
            _ => Ok(None),
        }
    }

    /// Accepts TOTP step `step` for the account if it is later than the last one accepted (one
    /// conditional update: atomic, on every node). `false`: the step was used already.
    pub async fn accept_totp_step(&self, id: &str, step: i64) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE staff_accounts SET totp_last_step = $1 WHERE id = $2 \
             AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(step)
        .bind(id.to_owned())
        .execute(&self.pool)
        .await
        .map_err(db("accepting a TOTP code"))?
        .rows_affected();
        Ok(n == 1)
    }

    /// Counts a failed login; from the `max`-th the account is locked for `lock_ms`.
    pub async fn record_staff_failure(&self, id: &str, max: i64, lock_ms: i64) -> Result<i64> {
        let now = now_ms();
        let row = sqlx::query(
            "UPDATE staff_accounts SET failed_logins = failed_logins + 1, updated_at = $1 \
             WHERE id = $2 RETURNING failed_logins",
        )
        .bind(now)
        .bind(id.to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(db("counting a failed login"))?
        .ok_or_else(|| StoreError::NotFound {
            what: "staff account",
            key: id.to_owned(),
        })?;
        let n: i64 = row
            .try_get("failed_logins")
            .map_err(db("counting a failed login"))?;
        if n >= max {
            sqlx::query("UPDATE staff_accounts SET locked_until = $1 WHERE id = $2")
                .bind(now.saturating_add(lock_ms))
                .bind(id.to_owned())
                .execute(&self.pool)
                .await
                .map_err(db("locking a staff account"))?;
        }
        Ok(n)
    }

    /// A successful login: failures and lock-out reset.
    pub async fn record_staff_success(&self, id: &str) -> Result<()> {
        sqlx::query(
            "UPDATE staff_accounts SET failed_logins = 0, locked_until = NULL WHERE id = $1",
        )
        .bind(id.to_owned())
        .execute(&self.pool)
        .await
        .map_err(db("recording a login"))?;
        Ok(())
    }

    /// Stores a new staff session under the SM3 of its id.
    pub async fn create_staff_session(
        &self,
        session_id: &str,
        account_id: &str,
        csrf_secret: &[u8],
        expires_at_ms: i64,
        remote: Option<&str>,
    ) -> Result<()> {
        self.insert_session(
            Sessions::Staff,
            session_id,
            Some(account_id),
            csrf_secret,
            expires_at_ms,
            remote,
        )
        .await
    }

    /// A staff session by id, whatever its age (the caller applies the time-outs).
    pub async fn staff_session(&self, session_id: &str) -> Result<Option<StaffSession>> {
        Ok(self
            .read_session(Sessions::Staff, session_id)
            .await?
            .map(|r| StaffSession {
                account_id: r.account_id.unwrap_or_default(),
                csrf_secret: r.csrf_secret,
                created_at_ms: r.created_at_ms,
                last_seen_ms: r.last_seen_ms,
                expires_at_ms: r.expires_at_ms,
            }))
    }

    /// Records activity on a staff session.
    pub async fn touch_staff_session(&self, session_id: &str) -> Result<()> {
        self.touch_session_in(Sessions::Staff, session_id).await
    }

    /// Ends a staff session.
    pub async fn delete_staff_session(&self, session_id: &str) -> Result<()> {
        self.delete_session_in(Sessions::Staff, session_id).await
    }

    /// Removes staff sessions past their end or idle since before `idle_before_ms`.
    pub async fn purge_staff_sessions(&self, idle_before_ms: i64) -> Result<u64> {
        self.purge_sessions_in(Sessions::Staff, idle_before_ms)
            .await
    }
}

/// A proposed (or approved) retirement of a seal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealRetirement {
    /// The seal.
    pub seal_id: String,
    /// Who proposed it.
    pub proposed_by: String,
    /// When (unix ms).
    pub proposed_at_ms: i64,
    /// Who approved it (then the seal is retired).
    pub approved_by: Option<String>,
}

impl Store {
    /// Proposes retiring an active seal (the first of two persons). Audited as
    /// `seal.retire_proposed`.
    pub async fn propose_seal_retirement(&self, seal_id: &str, by: &str) -> Result<()> {
        let seal = self
            .seal(seal_id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "seal",
                key: seal_id.to_owned(),
            })?;
        if !seal.active {
            return Err(StoreError::Invalid {
                field: "seal",
                problem: format!("{:?} is retired already", seal.name),
            });
        }
        let mut tx = self.begin_write().await?;
        let r = sqlx::query(
            "INSERT INTO seal_retirements (seal_id, proposed_by, proposed_at, approved_by, \
             approved_at) VALUES ($1, $2, $3, NULL, NULL)",
        )
        .bind(seal_id.to_owned())
        .bind(by.trim().to_owned())
        .bind(now_ms())
        .execute(&mut *tx)
        .await;
        match r {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::AlreadyExists {
                    what: "seal retirement proposal",
                    name: seal.name,
                });
            }
            Err(e) => return Err(db("proposing a seal retirement")(e)),
        }
        append_in(
            &mut tx,
            &AuditEvent {
                actor: by,
                action: "seal.retire_proposed",
                subject: &seal.name,
                details: &json!({ "id": seal_id }),
            },
        )
        .await?;
        tx.commit().await.map_err(db("proposing a seal retirement"))
    }

    /// A second person approves a proposed retirement (the proposer cannot): the seal is
    /// retired in the same transaction. Audited as `seal.retire` naming both.
    pub async fn approve_seal_retirement(&self, seal_id: &str, by: &str) -> Result<()> {
        let row =
            sqlx::query("SELECT proposed_by, approved_by FROM seal_retirements WHERE seal_id = $1")
                .bind(seal_id.to_owned())
                .fetch_optional(&self.pool)
                .await
                .map_err(db("reading a seal retirement"))?
                .ok_or_else(|| StoreError::NotFound {
                    what: "seal retirement proposal",
                    key: seal_id.to_owned(),
                })?;
        let op = "reading a seal retirement";
        let proposed_by: String = row.try_get("proposed_by").map_err(db(op))?;
        let approved_by: Option<String> = row.try_get("approved_by").map_err(db(op))?;
        if approved_by.is_some() {
            return Err(StoreError::Invalid {
                field: "seal retirement",
                problem: "approved already".into(),
            });
        }
        if proposed_by.trim().to_lowercase() == by.trim().to_lowercase() {
            return Err(StoreError::Invalid {
                field: "approver",
                problem: format!(
                    "{by:?} proposed retiring this seal; a different person must approve it"
                ),
            });
        }
        let seal = self
            .seal(seal_id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "seal",
                key: seal_id.to_owned(),
            })?;
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE seal_retirements SET approved_by = $1, approved_at = $2 WHERE seal_id = $3 \
             AND approved_by IS NULL",
        )
        .bind(by.trim().to_owned())
        .bind(now)
        .bind(seal_id.to_owned())
        .execute(&mut *tx)
        .await
        .map_err(db("approving a seal retirement"))?
        .rows_affected();
        if n != 1 {
            return Err(StoreError::Invalid {
                field: "seal retirement",
                problem: "changed concurrently; retry".into(),
            });
        }
        sqlx::query("UPDATE seals SET status = 'retired', updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(seal_id.to_owned())
            .execute(&mut *tx)
            .await
            .map_err(db("retiring a seal"))?;
        append_in(
            &mut tx,
            &AuditEvent {
                actor: by,
                action: "seal.retire",
                subject: &seal.name,
                details: &json!({ "id": seal_id, "proposed_by": proposed_by, "approved_by": by }),
            },
        )
        .await?;
        tx.commit().await.map_err(db("retiring a seal"))
    }

    /// Retirement proposals not yet approved.
    pub async fn pending_seal_retirements(&self) -> Result<Vec<SealRetirement>> {
        let rows = sqlx::query(
            "SELECT seal_id, proposed_by, proposed_at, approved_by FROM seal_retirements \
             WHERE approved_by IS NULL ORDER BY proposed_at",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading seal retirements"))?;
        let op = "reading seal retirements";
        rows.iter()
            .map(|r| {
                Ok(SealRetirement {
                    seal_id: r.try_get("seal_id").map_err(db(op))?,
                    proposed_by: r.try_get("proposed_by").map_err(db(op))?,
                    proposed_at_ms: r.try_get("proposed_at").map_err(db(op))?,
                    approved_by: r.try_get("approved_by").map_err(db(op))?,
                })
            })
            .collect()
    }
}

/// The purpose bound into the encryption of a seal proposal's material.
pub(crate) const PROPOSAL_PURPOSE: &str = "seal-proposal";

/// A seal proposed by one person, to be approved by another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealProposal {
    /// Random id.
    pub id: String,
    /// The seal's title.
    pub title: String,
    /// Its kind (as the application names it).
    pub kind: String,
    /// `proposed`, `approved` or `rejected`.
    pub state: String,
    /// Who proposed it.
    pub proposed_by: String,
    /// When (unix ms).
    pub proposed_at_ms: i64,
    /// Who approved or rejected it.
    pub decided_by: Option<String>,
    /// The seal made on approval.
    pub seal_id: Option<String>,
}

impl Store {
    /// Stores a proposed seal with its key material encrypted under the master key. Audited as
    /// `seal.proposed` (title, kind; never the material).
    pub async fn propose_seal(
        &self,
        master: &MasterKey,
        title: &str,
        kind: &str,
        material: &[u8],
        by: &str,
    ) -> Result<SealProposal> {
        self.check_master_key(master).await?;
        let id = new_id()?;
        let (n, c) = master.encrypt(&aad(PROPOSAL_PURPOSE, &id), material)?;
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO seal_proposals (id, title, kind, material_nonce, material_cipher, state, \
             proposed_by, proposed_at, decided_by, decided_at, seal_id) \
             VALUES ($1, $2, $3, $4, $5, 'proposed', $6, $7, NULL, NULL, NULL)",
        )
        .bind(id.clone())
        .bind(title.to_owned())
        .bind(kind.to_owned())
        .bind(n.to_vec())
        .bind(c)
        .bind(by.trim().to_owned())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db("proposing a seal"))?;
        append_in(
            &mut tx,
            &AuditEvent {
                actor: by,
                action: "seal.proposed",
                subject: title,
                details: &json!({ "proposal": id, "kind": kind }),
            },
        )
        .await?;
        tx.commit().await.map_err(db("proposing a seal"))?;
        self.seal_proposal(&id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "seal proposal",
                key: id,
            })
    }

    /// A seal proposal by id.
    pub async fn seal_proposal(&self, id: &str) -> Result<Option<SealProposal>> {
        let row = sqlx::query(
            "SELECT id, title, kind, state, proposed_by, proposed_at, decided_by, seal_id \
             FROM seal_proposals WHERE id = $1",
        )
        .bind(id.to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading a seal proposal"))?;
        row.as_ref().map(proposal_row).transpose()
    }

    /// Seal proposals awaiting a decision, oldest first.
    pub async fn pending_seal_proposals(&self) -> Result<Vec<SealProposal>> {
        let rows = sqlx::query(
            "SELECT id, title, kind, state, proposed_by, proposed_at, decided_by, seal_id \
             FROM seal_proposals WHERE state = 'proposed' ORDER BY proposed_at",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading seal proposals"))?;
        rows.iter().map(proposal_row).collect()
    }

    /// The proposal's key material, decrypted, for the person who decides — never for the
    /// proposer (two persons, R-5.2.2): [`StoreError::Invalid`] when `by` proposed it or it was
    /// decided already.
    pub async fn seal_proposal_material(
        &self,
        master: &MasterKey,
        id: &str,
        by: &str,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let p = self
            .seal_proposal(id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "seal proposal",
                key: id.to_owned(),
            })?;
        if p.state != "proposed" {
            return Err(StoreError::Invalid {
                field: "seal proposal",
                problem: format!("{} already", p.state),
            });
        }
        if p.proposed_by.trim().to_lowercase() == by.trim().to_lowercase() {
            return Err(StoreError::Invalid {
                field: "approver",
                problem: format!("{by:?} proposed this seal; a different person must approve it"),
            });
        }
        self.seal_proposal_contents(master, id).await
    }

    /// The decrypted material of the seal proposal `id` whatever its proposer, for showing
    /// what it is to staff (its picture, size, validity) before anyone approves it; approval
    /// reads it through [`Store::seal_proposal_material`].
    pub async fn seal_proposal_contents(
        &self,
        master: &MasterKey,
        id: &str,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let row =
            sqlx::query("SELECT material_nonce, material_cipher FROM seal_proposals WHERE id = $1")
                .bind(id.to_owned())
                .fetch_optional(&self.pool)
                .await
                .map_err(db("reading a seal proposal"))?
                .ok_or_else(|| StoreError::NotFound {
                    what: "seal proposal",
                    key: id.to_owned(),
                })?;
        let op = "reading a seal proposal";
        let n: Option<Vec<u8>> = row.try_get("material_nonce").map_err(db(op))?;
        let c: Option<Vec<u8>> = row.try_get("material_cipher").map_err(db(op))?;
        let (Some(n), Some(c)) = (n, c) else {
            return Err(StoreError::Invalid {
                field: "seal proposal",
                problem: "its material is gone".into(),
            });
        };
        master
            .decrypt(&aad(PROPOSAL_PURPOSE, id), &n, &c)
            .ok_or_else(|| StoreError::Decrypt {
                what: "seal_proposals",
                key: id.to_owned(),
            })
    }

    /// Records the decision on a proposal (`seal_id`: the seal made on approval; `None`:
    /// rejected); the material is wiped from the row either way. Audited as
    /// `seal.proposal_approved` / `seal.proposal_rejected` naming both persons.
    pub async fn decide_seal_proposal(
        &self,
        id: &str,
        by: &str,
        seal_id: Option<&str>,
    ) -> Result<()> {
        let p = self
            .seal_proposal(id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "seal proposal",
                key: id.to_owned(),
            })?;
        if p.proposed_by.trim().to_lowercase() == by.trim().to_lowercase() {
            return Err(StoreError::Invalid {
                field: "approver",
                problem: format!("{by:?} proposed this seal; a different person must decide"),
            });
        }
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE seal_proposals SET state = $1, decided_by = $2, decided_at = $3, \
             seal_id = $4, material_nonce = NULL, material_cipher = NULL WHERE id = $5 \
             AND state = 'proposed'",
        )
        .bind(if seal_id.is_some() {
            "approved"
        } else {
            "rejected"
        })
        .bind(by.trim().to_owned())
        .bind(now_ms())
        .bind(seal_id.map(str::to_owned))
        .bind(id.to_owned())
        .execute(&mut *tx)
        .await
        .map_err(db("deciding a seal proposal"))?
        .rows_affected();
        if n != 1 {
            return Err(StoreError::Invalid {
                field: "seal proposal",
                problem: "decided already".into(),
            });
        }
        append_in(
            &mut tx,
            &AuditEvent {
                actor: by,
                action: if seal_id.is_some() {
                    "seal.proposal_approved"
                } else {
                    "seal.proposal_rejected"
                },
                subject: &p.title,
                details: &json!({ "proposal": id, "proposed_by": p.proposed_by, "seal": seal_id }),
            },
        )
        .await?;
        tx.commit().await.map_err(db("deciding a seal proposal"))
    }
}

fn proposal_row(r: &sqlx::any::AnyRow) -> Result<SealProposal> {
    let op = "reading a seal proposal";
    Ok(SealProposal {
        id: r.try_get("id").map_err(db(op))?,
        title: r.try_get("title").map_err(db(op))?,
        kind: r.try_get("kind").map_err(db(op))?,
        state: r.try_get("state").map_err(db(op))?,
        proposed_by: r.try_get("proposed_by").map_err(db(op))?,
        proposed_at_ms: r.try_get("proposed_at").map_err(db(op))?,
        decided_by: r.try_get("decided_by").map_err(db(op))?,
        seal_id: r.try_get("seal_id").map_err(db(op))?,
    })
}
