//! Storage for the business-system API: clients with their keys, request nonces
//! (replay protection) and idempotency keys (a retried request never issues twice).

use serde_json::json;
use sqlx::Row;
use zeroize::Zeroizing;

use crate::audit::{AuditEvent, append_in};
use crate::crypto::{MasterKey, aad, new_id};
use crate::error::{Result, StoreError, db, is_unique_violation};
use crate::rows::At;
use crate::store::{Store, now_ms};

/// AAD purpose of encrypted client secrets.
pub(crate) const SECRET_PURPOSE: &str = "api-client-secret";

/// How a client proves who it is.
#[derive(Debug, Clone, Copy)]
pub enum ClientCredential<'a> {
    /// A public key (e.g. SM2 SubjectPublicKeyInfo DER): the client signs requests.
    PublicKey(&'a [u8]),
    /// A shared secret for HMAC-SM3 request signatures; stored only encrypted (R-7.2.3d).
    SharedSecret(&'a [u8]),
}

/// A registered API client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiClient {
    /// Client id.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Public key, for signature-authenticated clients.
    pub public_key: Option<Vec<u8>>,
    /// True when a shared secret is stored (see [`Store::api_client_secret`]).
    pub has_secret: bool,
    /// False when disabled.
    pub enabled: bool,
    /// Created (unix ms).
    pub created_at_ms: i64,
}

/// What [`Store::idempotency_begin`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyState {
    /// First time: the caller proceeds, then calls [`Store::idempotency_complete`] (or
    /// [`Store::idempotency_abandon`] on failure).
    New,
    /// The same request is being processed right now: answer "409 in progress".
    InProgress,
    /// Done before: answer with the stored response.
    Completed {
        /// Response status.
        status: i64,
        /// Response body.
        body: Vec<u8>,
    },
    /// The key was used for a different request: refuse (422).
    Mismatch,
}

/// An idempotency key still pending, as [`Store::pending_idempotency_not_owned_by`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingIdempotency {
    /// The client that claimed it.
    pub client_id: String,
    /// The key.
    pub key: String,
    /// SM3 of the request it was claimed for.
    pub request_sm3: Vec<u8>,
    /// The process that claimed it (`None`: claimed before keys named their owner).
    pub owner: Option<String>,
    /// When it was claimed (unix ms).
    pub created_at_ms: i64,
}

const CLIENT_COLUMNS: &str = "id, name, public_key, secret_cipher, enabled, created_at";

/// A row of `api_clients`, read with [`CLIENT_COLUMNS`].
#[derive(sqlx::FromRow)]
struct ClientRow {
    id: String,
    name: String,
    public_key: Option<Vec<u8>>,
    secret_cipher: Option<Vec<u8>>,
    enabled: i64,
    created_at: i64,
}

impl TryFrom<ClientRow> for ApiClient {
    type Error = StoreError;

    fn try_from(row: ClientRow) -> Result<Self> {
        let at = At {
            table: "api_clients",
            key: &row.id,
        };
        Ok(ApiClient {
            enabled: at.flag("enabled", row.enabled)?,
            has_secret: row.secret_cipher.is_some(),
            public_key: row.public_key,
            created_at_ms: row.created_at,
            name: row.name,
            id: row.id,
        })
    }
}

impl Store {
    /// Registers a client. A shared secret is encrypted under `master` (required then).
    pub async fn add_api_client(
        &self,
        name: &str,
        credential: ClientCredential<'_>,
        master: Option<&MasterKey>,
        actor: &str,
    ) -> Result<ApiClient> {
        if name.trim().is_empty() || name.chars().any(char::is_control) {
            return Err(StoreError::Invalid {
                field: "client name",
                problem: "empty or contains a control character".into(),
            });
        }
        let id = new_id()?;
        let (public_key, nonce, cipher) = match credential {
            ClientCredential::PublicKey(pk) => (Some(pk.to_vec()), None, None),
            ClientCredential::SharedSecret(secret) => {
                let master = master.ok_or(StoreError::Invalid {
                    field: "master key",
                    problem: "needed to store a shared secret".into(),
                })?;
                if secret.len() < 16 {
                    return Err(StoreError::Invalid {
                        field: "shared secret",
                        problem: "shorter than 16 bytes".into(),
                    });
                }
                self.check_master_key(master).await?;
                let (n, c) = master.encrypt(&aad(SECRET_PURPOSE, &id), secret)?;
                (None, Some(n.to_vec()), Some(c))
            }
        };
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO api_clients (id, name, public_key, secret_nonce, secret_cipher, enabled, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 1, $6, $6)",
        )
        .bind(id.clone())
        .bind(name.to_owned())
        .bind(public_key)
        .bind(nonce)
        .bind(cipher)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::AlreadyExists {
                    what: "API client",
                    name: name.to_owned(),
                }
            } else {
                StoreError::Database {
                    op: "inserting an API client",
                    source: e,
                }
            }
        })?;
        append_in(
            &mut tx,
            &AuditEvent {
                actor,
                action: "api_client.create",
                subject: name,
                details: &json!({"id": id, "credential": match credential {
                    ClientCredential::PublicKey(_) => "public_key",
                    ClientCredential::SharedSecret(_) => "shared_secret",
                }}),
            },
        )
        .await?;
        tx.commit().await.map_err(db("committing an API client"))?;
        self.api_client(&id).await?.ok_or(StoreError::NotFound {
            what: "API client",
            key: id,
        })
    }

    /// A client by id.
    pub async fn api_client(&self, id: &str) -> Result<Option<ApiClient>> {
        self.client_where("id", id).await
    }

    /// A client by name.
    pub async fn api_client_by_name(&self, name: &str) -> Result<Option<ApiClient>> {
        self.client_where("name", name).await
    }

    /// Every client, by name.
    pub async fn api_clients(&self) -> Result<Vec<ApiClient>> {
        sqlx::query_as::<_, ClientRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {CLIENT_COLUMNS} FROM api_clients ORDER BY name"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(db("listing API clients"))?
        .into_iter()
        .map(ApiClient::try_from)
        .collect()
    }

    async fn client_where(&self, col: &'static str, v: &str) -> Result<Option<ApiClient>> {
        sqlx::query_as::<_, ClientRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {CLIENT_COLUMNS} FROM api_clients WHERE {col} = $1"
        )))
        .bind(v.to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(db("looking up an API client"))?
        .map(ApiClient::try_from)
        .transpose()
    }

    /// Decrypts a client's shared secret.
    pub async fn api_client_secret(
        &self,
        id: &str,
        master: &MasterKey,
    ) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let op = "reading an API client secret";
        let row = sqlx::query("SELECT secret_nonce, secret_cipher FROM api_clients WHERE id = $1")
            .bind(id.to_owned())
            .fetch_optional(&self.pool)
            .await
            .map_err(db(op))?
            .ok_or(StoreError::NotFound {
                what: "API client",
                key: id.to_owned(),
            })?;
        let nonce: Option<Vec<u8>> = row.try_get("secret_nonce").map_err(db(op))?;
        let ct: Option<Vec<u8>> = row.try_get("secret_cipher").map_err(db(op))?;
        let (Some(nonce), Some(ct)) = (nonce, ct) else {
            return Ok(None);
        };
        match master.decrypt(&aad(SECRET_PURPOSE, id), &nonce, &ct) {
            Some(s) => Ok(Some(s)),
            None => {
                self.check_master_key(master).await?;
                Err(StoreError::Decrypt {
                    what: "client secret",
                    key: id.to_owned(),
                })
            }
        }
    }

    /// Enables or disables a client.
    pub async fn set_api_client_enabled(&self, id: &str, enabled: bool, actor: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("UPDATE api_clients SET enabled = $1, updated_at = $2 WHERE id = $3")
            .bind(i64::from(enabled))
            .bind(now_ms())
            .bind(id.to_owned())
            .execute(&mut *tx)
            .await
            .map_err(db("updating an API client"))?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound {
                what: "API client",
                key: id.to_owned(),
            });
        }
        append_in(
            &mut tx,
            &AuditEvent {
                actor,
                action: if enabled {
                    "api_client.enable"
                } else {
                    "api_client.disable"
                },
                subject: id,
                details: &serde_json::Value::Null,
            },
        )
        .await?;
        tx.commit()
            .await
            .map_err(db("committing an API client change"))
    }

    /// Records a request nonce; `true` if it is fresh, `false` if this client used it before
    /// (a replay: refuse the request). Atomic, so two copies of one request racing each other
    /// cannot both pass.
    pub async fn record_nonce(&self, client_id: &str, nonce: &str) -> Result<bool> {
        if nonce.is_empty() || nonce.len() > 256 {
            return Err(StoreError::Invalid {
                field: "nonce",
                problem: "must be 1 to 256 bytes".into(),
            });
        }
        let n = sqlx::query(
            "INSERT INTO api_nonces (client_id, nonce, seen_at) VALUES ($1, $2, $3) \
             ON CONFLICT (client_id, nonce) DO NOTHING",
        )
        .bind(client_id.to_owned())
        .bind(nonce.to_owned())
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(db("recording a request nonce"))?
        .rows_affected();
        Ok(n == 1)
    }

    /// Forgets nonces seen before `before_ms` (requests older than the allowed clock skew are
    /// refused by their timestamp anyway). Returns how many were removed.
    pub async fn purge_nonces(&self, before_ms: i64) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM api_nonces WHERE seen_at < $1")
            .bind(before_ms)
            .execute(&self.pool)
            .await
            .map_err(db("purging request nonces"))?
            .rows_affected())
    }

    /// Claims an idempotency key for a request whose body hashes to `request_sm3`, owned by
    /// no named process (see [`Store::idempotency_begin_as`]).
    pub async fn idempotency_begin(
        &self,
        client_id: &str,
        key: &str,
        request_sm3: &[u8; 32],
    ) -> Result<IdempotencyState> {
        self.idempotency_begin_as(client_id, key, request_sm3, None)
            .await
    }

    /// Claims an idempotency key for a request whose body hashes to `request_sm3`, recording
    /// `owner` (the claiming process) with it, so that a later process can tell the keys of a
    /// dead one from its own ([`Store::pending_idempotency_not_owned_by`]).
    pub async fn idempotency_begin_as(
        &self,
        client_id: &str,
        key: &str,
        request_sm3: &[u8; 32],
        owner: Option<&str>,
    ) -> Result<IdempotencyState> {
        if key.is_empty() || key.len() > 256 {
            return Err(StoreError::Invalid {
                field: "idempotency key",
                problem: "must be 1 to 256 bytes".into(),
            });
        }
        let op = "claiming an idempotency key";
        let n = sqlx::query(
            "INSERT INTO idempotency_keys (client_id, idem_key, request_sm3, state, created_at, \
             owner) VALUES ($1, $2, $3, 'pending', $4, $5) \
             ON CONFLICT (client_id, idem_key) DO NOTHING",
        )
        .bind(client_id.to_owned())
        .bind(key.to_owned())
        .bind(request_sm3.to_vec())
        .bind(now_ms())
        .bind(owner.map(str::to_owned))
        .execute(&self.pool)
        .await
        .map_err(db(op))?
        .rows_affected();
        if n == 1 {
            return Ok(IdempotencyState::New);
        }
        let row = sqlx::query(
            "SELECT request_sm3, state, response_status, response_body FROM idempotency_keys \
             WHERE client_id = $1 AND idem_key = $2",
        )
        .bind(client_id.to_owned())
        .bind(key.to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(db(op))?;
        // Abandoned between our insert and this read: claim again once.
        let Some(row) = row else {
            return Box::pin(self.idempotency_begin_as(client_id, key, request_sm3, owner)).await;
        };
        let stored: Vec<u8> = row.try_get("request_sm3").map_err(db(op))?;
        if stored[..] != request_sm3[..] {
            return Ok(IdempotencyState::Mismatch);
        }
        let state: String = row.try_get("state").map_err(db(op))?;
        if state != "done" {
            return Ok(IdempotencyState::InProgress);
        }
        Ok(IdempotencyState::Completed {
            status: row
                .try_get::<Option<i64>, _>("response_status")
                .map_err(db(op))?
                .unwrap_or(0),
            body: row
                .try_get::<Option<Vec<u8>>, _>("response_body")
                .map_err(db(op))?
                .unwrap_or_default(),
        })
    }

    /// Stores the response of a request whose key was claimed.
    pub async fn idempotency_complete(
        &self,
        client_id: &str,
        key: &str,
        status: i64,
        body: &[u8],
    ) -> Result<()> {
        let n = sqlx::query(
            "UPDATE idempotency_keys SET state = 'done', response_status = $1, \
             response_body = $2, completed_at = $3 WHERE client_id = $4 AND idem_key = $5",
        )
        .bind(status)
        .bind(body.to_vec())
        .bind(now_ms())
        .bind(client_id.to_owned())
        .bind(key.to_owned())
        .execute(&self.pool)
        .await
        .map_err(db("completing an idempotency key"))?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound {
                what: "idempotency key",
                key: key.to_owned(),
            });
        }
        Ok(())
    }

    /// Releases a claimed key after a failure that stored nothing, so a retry may proceed.
    pub async fn idempotency_abandon(&self, client_id: &str, key: &str) -> Result<()> {
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE client_id = $1 AND idem_key = $2 AND state = 'pending'",
        )
        .bind(client_id.to_owned())
        .bind(key.to_owned())
        .execute(&self.pool)
        .await
        .map_err(db("abandoning an idempotency key"))?;
        Ok(())
    }

    /// Releases keys still pending that were claimed before `before_ms`: their request died
    /// with its process (a crash between claiming and completing), and a retry would otherwise
    /// be told "in progress" until the key expires. Completed keys are kept. Returns how many.
    pub async fn release_stale_idempotency(&self, before_ms: i64) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM idempotency_keys WHERE state = 'pending' AND created_at < $1")
                .bind(before_ms)
                .execute(&self.pool)
                .await
                .map_err(db("releasing stale idempotency keys"))?
                .rows_affected(),
        )
    }

    /// The keys still pending that `owner` did not claim (keys without an owner included),
    /// oldest first.
    pub async fn pending_idempotency_not_owned_by(
        &self,
        owner: &str,
    ) -> Result<Vec<PendingIdempotency>> {
        let op = "listing pending idempotency keys";
        let rows = sqlx::query(
            "SELECT client_id, idem_key, request_sm3, owner, created_at FROM idempotency_keys \
             WHERE state = 'pending' AND (owner IS NULL OR owner <> $1) ORDER BY created_at",
        )
        .bind(owner.to_owned())
        .fetch_all(&self.pool)
        .await
        .map_err(db(op))?;
        rows.iter()
            .map(|r| {
                Ok(PendingIdempotency {
                    client_id: r.try_get("client_id").map_err(db(op))?,
                    key: r.try_get("idem_key").map_err(db(op))?,
                    request_sm3: r.try_get("request_sm3").map_err(db(op))?,
                    owner: r.try_get("owner").map_err(db(op))?,
                    created_at_ms: r.try_get("created_at").map_err(db(op))?,
                })
            })
            .collect()
    }

    /// Forgets idempotency keys created before `before_ms`; returns how many.
    pub async fn purge_idempotency(&self, before_ms: i64) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
                .bind(before_ms)
                .execute(&self.pool)
                .await
                .map_err(db("purging idempotency keys"))?
                .rows_affected(),
        )
    }
}
