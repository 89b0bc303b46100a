//! The resource library: seals with their images, maker and signer certificates and
//! the signer's private key encrypted at rest (R-7.2.3d); certificate templates; institutes and
//! settings.

use serde_json::json;
use sqlx::Row;
use zeroize::Zeroizing;

use crate::audit::{AuditEvent, append_in};
use crate::crypto::{KEY_ALG, MasterKey, aad, hex, new_id, parse_hex, sm3};
use crate::error::{Result, StoreError, db, is_unique_violation};
use crate::rows::At;
use crate::store::{Store, now_ms};

/// Settings whose value is a secret encrypted under the master key.
const SECRET_PREFIX: &str = "secret:";

/// `NONCE:CIPHERTEXT` (hex) of an encrypted setting.
fn split_sealed(name: &str, value: &str) -> Result<(Vec<u8>, Vec<u8>)> {
    let corrupt = || StoreError::Corrupt {
        table: "settings",
        key: name.to_owned(),
        problem: "not NONCE:CIPHERTEXT in hex".into(),
    };
    let (n, c) = value.split_once(':').ok_or_else(corrupt)?;
    Ok((
        parse_hex(n).ok_or_else(corrupt)?,
        parse_hex(c).ok_or_else(corrupt)?,
    ))
}

/// Plaintext of the master-key check value.
const CHECK_PLAINTEXT: &[u8] = b"ecert master key check v1";
const CHECK_SETTING: &str = "master_key_check";

/// A seal to add to the library.
#[derive(Debug, Clone)]
pub struct NewSeal {
    /// Name, its title (e.g. "XX计量院校准电子证书专用章"): unique among active seals; a
    /// retired seal's name can be given to a new seal (key roll-over).
    pub name: String,
    /// Kind (检定/校准/检验/检测, or the application's code for it).
    pub kind: String,
    /// The seal image.
    pub image: Vec<u8>,
    /// Image format (`png`, `svg`, `ofd`, …).
    pub image_format: String,
    /// The made seal (GB/T 38540 SES_Seal DER), if already made.
    pub seal_der: Option<Vec<u8>>,
    /// The seal maker's certificate (DER).
    pub maker_cert_der: Vec<u8>,
    /// The signer's certificate (DER).
    pub signer_cert_der: Vec<u8>,
    /// The signer's private key (e.g. PKCS#8 DER). Stored only encrypted.
    pub signer_key: Zeroizing<Vec<u8>>,
}

/// A seal as stored (without its key; see [`Store::seal_signer_key`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealRecord {
    /// Record id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: String,
    /// Image bytes.
    pub image: Vec<u8>,
    /// Image format.
    pub image_format: String,
    /// SES_Seal DER, if present.
    pub seal_der: Option<Vec<u8>>,
    /// Maker certificate (DER).
    pub maker_cert_der: Vec<u8>,
    /// Signer certificate (DER).
    pub signer_cert_der: Vec<u8>,
    /// Encryption of the key (`SM4-GCM`).
    pub key_alg: String,
    /// `false` once retired.
    pub active: bool,
    /// Created (unix ms).
    pub created_at_ms: i64,
    /// Last changed (unix ms).
    pub updated_at_ms: i64,
}

/// A template version (R-5.2.2 certificate templates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRecord {
    /// Template name.
    pub name: String,
    /// Version, from 1.
    pub version: i64,
    /// Kind code it is meant for, if limited to one.
    pub kind: Option<i64>,
    /// SM3 of the body.
    pub body_sm3: [u8; 32],
    /// Created (unix ms).
    pub created_at_ms: i64,
}

/// An issuing institute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Institute {
    /// Id chosen by the application (e.g. `default`).
    pub id: String,
    /// Name.
    pub name: String,
    /// Organisation code.
    pub org_code: String,
    /// Accreditation / authorisation id.
    pub accreditation_id: Option<String>,
    /// Anything else, JSON text (address, phone, logo, base URL, …).
    pub details: String,
}

const SEAL_COLUMNS: &str = "id, name, kind, image, image_format, seal_der, maker_cert_der, \
    signer_cert_der, key_alg, status, created_at, updated_at";

/// A row of `seals` without the encrypted key, read with [`SEAL_COLUMNS`].
#[derive(sqlx::FromRow)]
struct SealRow {
    id: String,
    name: String,
    kind: String,
    image: Vec<u8>,
    image_format: String,
    seal_der: Option<Vec<u8>>,
    maker_cert_der: Vec<u8>,
    signer_cert_der: Vec<u8>,
    key_alg: String,
    status: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<SealRow> for SealRecord {
    type Error = StoreError;

    fn try_from(row: SealRow) -> Result<Self> {
        let active = match row.status.as_str() {
            "active" => true,
            "retired" => false,
            other => {
                return Err(At {
                    table: "seals",
                    key: &row.id,
                }
                .unknown("status", other, "active or retired"));
            }
        };
        Ok(SealRecord {
            id: row.id,
            name: row.name,
            kind: row.kind,
            image: row.image,
            image_format: row.image_format,
            seal_der: row.seal_der,
            maker_cert_der: row.maker_cert_der,
            signer_cert_der: row.signer_cert_der,
            key_alg: row.key_alg,
            active,
            created_at_ms: row.created_at,
            updated_at_ms: row.updated_at,
        })
    }
}

const TEMPLATE_COLUMNS: &str = "name, version, kind, body_sm3, created_at";

/// A row of `templates` without its body, read with [`TEMPLATE_COLUMNS`].
#[derive(sqlx::FromRow)]
struct TemplateRow {
    name: String,
    version: i64,
    kind: Option<i64>,
    body_sm3: Vec<u8>,
    created_at: i64,
}

/// A row of `templates` with its body: [`TEMPLATE_COLUMNS`] and `body`.
#[derive(sqlx::FromRow)]
struct TemplateBodyRow {
    #[sqlx(flatten)]
    meta: TemplateRow,
    body: Vec<u8>,
}

impl TryFrom<TemplateRow> for TemplateRecord {
    type Error = StoreError;

    fn try_from(row: TemplateRow) -> Result<Self> {
        let key = format!("{} v{}", row.name, row.version);
        let body_sm3 = At {
            table: "templates",
            key: &key,
        }
        .hash("body_sm3", row.body_sm3)?;
        Ok(TemplateRecord {
            name: row.name,
            version: row.version,
            kind: row.kind,
            body_sm3,
            created_at_ms: row.created_at,
        })
    }
}

const INSTITUTE_COLUMNS: &str = "id, name, org_code, accreditation_id, details";

/// A row of `institutes`, read with [`INSTITUTE_COLUMNS`].
#[derive(sqlx::FromRow)]
struct InstituteRow {
    id: String,
    name: String,
    org_code: String,
    accreditation_id: Option<String>,
    details: String,
}

impl From<InstituteRow> for Institute {
    fn from(row: InstituteRow) -> Self {
        Institute {
            id: row.id,
            name: row.name,
            org_code: row.org_code,
            accreditation_id: row.accreditation_id,
            details: row.details,
        }
    }
}

impl Store {
    /// A setting's value.
    pub async fn setting(&self, name: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT value FROM settings WHERE name = $1")
            .bind(name.to_owned())
            .fetch_optional(&self.pool)
            .await
            .map_err(db("reading a setting"))?;
        row.map(|r| r.try_get("value").map_err(db("reading a setting")))
            .transpose()
    }

    /// Sets a setting (insert or replace).
    pub async fn set_setting(&self, name: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(name.to_owned())
        .bind(value.to_owned())
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(db("writing a setting"))?;
        Ok(())
    }

    /// Takes, or renews, the lease `name` for `owner` until `ttl_ms` from now: `true` when
    /// `owner` holds it afterwards, `false` when another owner holds an unexpired one. Jobs that
    /// several nodes over one database would each start (the scheduled scrub, R-6.5g) run on
    /// the node holding the lease. A lease lives in `settings` as `until|owner` (`until` in unix
    /// ms, 16 digits, so that text order is time order) and is taken by one conditional upsert,
    /// atomic on SQLite and PostgreSQL alike.
    pub async fn take_lease(&self, name: &str, owner: &str, ttl_ms: i64) -> Result<bool> {
        let now = now_ms();
        let value = format!("{:016}|{owner}", now.saturating_add(ttl_ms).max(0));
        let done = sqlx::query(
            "INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at \
             WHERE substr(settings.value, 18) = $4 OR substr(settings.value, 1, 16) < $5",
        )
        .bind(format!("lease:{name}"))
        .bind(value)
        .bind(now)
        .bind(owner.to_owned())
        .bind(format!("{:016}", now.max(0)))
        .execute(&self.pool)
        .await
        .map_err(db("taking a lease"))?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives the lease `name` up if `owner` holds it (another node may take it at once).
    pub async fn release_lease(&self, name: &str, owner: &str) -> Result<()> {
        sqlx::query(
            "UPDATE settings SET value = $1, updated_at = $2 \
             WHERE name = $3 AND substr(value, 18) = $4",
        )
        .bind(format!("{:016}|", 0))
        .bind(now_ms())
        .bind(format!("lease:{name}"))
        .bind(owner.to_owned())
        .execute(&self.pool)
        .await
        .map_err(db("releasing a lease"))?;
        Ok(())
    }

    /// Checks `key` against this database's master-key check value, creating the value on
    /// first use. [`StoreError::WrongMasterKey`] when it is not the key the database was set up
    /// with (R-7.2.3d).
    pub async fn check_master_key(&self, key: &MasterKey) -> Result<()> {
        let a = aad("settings", CHECK_SETTING);
        if self.setting(CHECK_SETTING).await?.is_none() {
            let (nonce, ct) = key.encrypt(&a, CHECK_PLAINTEXT)?;
            sqlx::query(
                "INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(CHECK_SETTING.to_owned())
            .bind(format!("{}:{}", hex(&nonce), hex(&ct)))
            .bind(now_ms())
            .execute(&self.pool)
            .await
            .map_err(db("writing the master key check value"))?;
        }
        let stored = self
            .setting(CHECK_SETTING)
            .await?
            .ok_or(StoreError::WrongMasterKey)?;
        let corrupt = || StoreError::Corrupt {
            table: "settings",
            key: CHECK_SETTING.to_owned(),
            problem: "not NONCE:CIPHERTEXT in hex".into(),
        };
        let (n, c) = stored.split_once(':').ok_or_else(corrupt)?;
        let (n, c) = (
            parse_hex(n).ok_or_else(corrupt)?,
            parse_hex(c).ok_or_else(corrupt)?,
        );
        match key.decrypt(&a, &n, &c) {
            Some(p) if p.as_slice() == CHECK_PLAINTEXT => Ok(()),
            _ => Err(StoreError::WrongMasterKey),
        }
    }

    /// Adds a seal; the signer's private key is encrypted with SM4-GCM under `master`, with a
    /// fresh nonce, bound to this seal's id (R-5.2.2, R-7.2.3d). Audited as `seal.create`.
    /// [`StoreError::AlreadyExists`] (`what`: "active seal") while an active seal has the same
    /// name; once that seal is retired the name is free again.
    pub async fn add_seal(
        &self,
        seal: &NewSeal,
        master: &MasterKey,
        actor: &str,
    ) -> Result<SealRecord> {
        for (field, v) in [
            ("seal name", &seal.name),
            ("seal kind", &seal.kind),
            ("image format", &seal.image_format),
        ] {
            if v.trim().is_empty() || v.chars().any(char::is_control) {
                return Err(StoreError::Invalid {
                    field,
                    problem: "empty or contains a control character".into(),
                });
            }
        }
        if seal.signer_key.is_empty() {
            return Err(StoreError::Invalid {
                field: "signer key",
                problem: "empty".into(),
            });
        }
        self.check_master_key(master).await?;
        let id = new_id()?;
        let (nonce, ct) = master.encrypt(&aad("seal-signer-key", &id), &seal.signer_key)?;
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let r = sqlx::query(
            "INSERT INTO seals (id, name, kind, image, image_format, seal_der, maker_cert_der, \
             signer_cert_der, key_alg, key_nonce, key_ciphertext, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'active', $12, $12)",
        )
        .bind(id.clone())
        .bind(seal.name.clone())
        .bind(seal.kind.clone())
        .bind(seal.image.clone())
        .bind(seal.image_format.clone())
        .bind(seal.seal_der.clone())
        .bind(seal.maker_cert_der.clone())
        .bind(seal.signer_cert_der.clone())
        .bind(KEY_ALG.to_owned())
        .bind(nonce.to_vec())
        .bind(ct)
        .bind(now)
        .execute(&mut *tx)
        .await;
        if let Err(e) = r {
            return Err(if is_unique_violation(&e) {
                StoreError::AlreadyExists {
                    what: "active seal",
                    name: seal.name.clone(),
                }
            } else {
                StoreError::Database {
                    op: "inserting a seal",
                    source: e,
                }
            });
        }
        append_in(
            &mut tx,
            &AuditEvent {
                actor,
                action: "seal.create",
                subject: &seal.name,
                details: &json!({
                    "id": id,
                    "kind": seal.kind,
                    "image_sm3": hex(&sm3(&seal.image)),
                    "maker_cert_sm3": hex(&sm3(&seal.maker_cert_der)),
                    "signer_cert_sm3": hex(&sm3(&seal.signer_cert_der)),
                }),
            },
        )
        .await?;
        tx.commit().await.map_err(db("committing a seal"))?;
        self.seal(&id).await?.ok_or(StoreError::NotFound {
            what: "seal",
            key: id,
        })
    }

    /// A seal by id.
    pub async fn seal(&self, id: &str) -> Result<Option<SealRecord>> {
        self.seal_where("id = $1", id).await
    }

    /// A seal by name. Several seals can share a name — a retired seal's name can be given to
    /// a new one — so this is the active seal of that name if there is one (there is at most
    /// one), else the newest retired one (latest `created_at`; then the greatest id).
    pub async fn seal_by_name(&self, name: &str) -> Result<Option<SealRecord>> {
        self.seal_where(
            "name = $1 ORDER BY CASE status WHEN 'active' THEN 0 ELSE 1 END, created_at DESC, \
             id DESC LIMIT 1",
            name,
        )
        .await
    }

    async fn seal_where(&self, clause: &'static str, v: &str) -> Result<Option<SealRecord>> {
        sqlx::query_as::<_, SealRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {SEAL_COLUMNS} FROM seals WHERE {clause}"
        )))
        .bind(v.to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(db("looking up a seal"))?
        .map(SealRecord::try_from)
        .transpose()
    }

    /// All seals, by name; seals sharing a name oldest first.
    pub async fn list_seals(&self) -> Result<Vec<SealRecord>> {
        let rows = sqlx::query_as::<_, SealRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {SEAL_COLUMNS} FROM seals ORDER BY name, created_at, id"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(db("listing seals"))?;
        rows.into_iter().map(SealRecord::try_from).collect()
    }

    /// Stores the made seal (SES_Seal DER) of a seal record.
    pub async fn set_seal_der(&self, id: &str, seal_der: &[u8], actor: &str) -> Result<()> {
        self.seal_update(id, actor, "seal.update", Some(seal_der), None)
            .await
    }

    /// Retires a seal (kept for verification of what it sealed; no longer offered for use). Its
    /// name is then free for a new seal.
    pub async fn retire_seal(&self, id: &str, actor: &str) -> Result<()> {
        self.seal_update(id, actor, "seal.retire", None, Some("retired"))
            .await
    }

    async fn seal_update(
        &self,
        id: &str,
        actor: &str,
        action: &str,
        seal_der: Option<&[u8]>,
        status: Option<&str>,
    ) -> Result<()> {
        let seal = self.seal(id).await?.ok_or(StoreError::NotFound {
            what: "seal",
            key: id.to_owned(),
        })?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE seals SET seal_der = COALESCE($1, seal_der), status = COALESCE($2, status), \
             updated_at = $3 WHERE id = $4",
        )
        .bind(seal_der.map(<[u8]>::to_vec))
        .bind(status.map(str::to_owned))
        .bind(now_ms())
        .bind(id.to_owned())
        .execute(&mut *tx)
        .await
        .map_err(db("updating a seal"))?;
        append_in(
            &mut tx,
            &AuditEvent {
                actor,
                action,
                subject: &seal.name,
                details: &json!({
                    "id": id,
                    "seal_der_sm3": seal_der.map(|d| hex(&sm3(d))),
                    "status": status,
                }),
            },
        )
        .await?;
        tx.commit().await.map_err(db("committing a seal update"))
    }

    /// Decrypts a seal's signer private key (R-7.2.3d). [`StoreError::WrongMasterKey`] for a
    /// wrong master key; [`StoreError::Decrypt`] when the key is right but the record was altered.
    pub async fn seal_signer_key(
        &self,
        id: &str,
        master: &MasterKey,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let row = sqlx::query("SELECT key_alg, key_nonce, key_ciphertext FROM seals WHERE id = $1")
            .bind(id.to_owned())
            .fetch_optional(&self.pool)
            .await
            .map_err(db("reading a seal key"))?
            .ok_or(StoreError::NotFound {
                what: "seal",
                key: id.to_owned(),
            })?;
        let alg: String = row.try_get("key_alg").map_err(db("reading a seal key"))?;
        if alg != KEY_ALG {
            return Err(StoreError::Corrupt {
                table: "seals",
                key: id.to_owned(),
                problem: format!("unknown key encryption {alg:?}"),
            });
        }
        let nonce: Vec<u8> = row.try_get("key_nonce").map_err(db("reading a seal key"))?;
        let ct: Vec<u8> = row
            .try_get("key_ciphertext")
            .map_err(db("reading a seal key"))?;
        match master.decrypt(&aad("seal-signer-key", id), &nonce, &ct) {
            Some(k) => Ok(k),
            None => {
                self.check_master_key(master).await?;
                Err(StoreError::Decrypt {
                    what: "signer key",
                    key: id.to_owned(),
                })
            }
        }
    }

    /// A secret of the instance (e.g. the audit key), kept in `settings` as `secret:NAME`
    /// encrypted with SM4-GCM under `master`, never in clear (R-7.2.3d): read it, or create it
    /// with `make` on first use (when several processes race, the first stored wins and every
    /// one returns that). [`Store::rotate_master_key`] re-encrypts these too.
    pub async fn instance_secret(
        &self,
        master: &MasterKey,
        name: &str,
        make: impl FnOnce() -> Result<Zeroizing<Vec<u8>>>,
    ) -> Result<Zeroizing<Vec<u8>>> {
        self.check_master_key(master).await?;
        let setting = format!("{SECRET_PREFIX}{name}");
        let a = aad("settings", &setting);
        if self.setting(&setting).await?.is_none() {
            let fresh = make()?;
            let (nonce, ct) = master.encrypt(&a, &fresh)?;
            sqlx::query(
                "INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(setting.clone())
            .bind(format!("{}:{}", hex(&nonce), hex(&ct)))
            .bind(now_ms())
            .execute(&self.pool)
            .await
            .map_err(db("storing an instance secret"))?;
        }
        let stored = self
            .setting(&setting)
            .await?
            .ok_or_else(|| StoreError::Corrupt {
                table: "settings",
                key: setting.clone(),
                problem: "vanished while being read".into(),
            })?;
        let (nonce, ct) = split_sealed(&setting, &stored)?;
        master.decrypt(&a, &nonce, &ct).ok_or(StoreError::Decrypt {
            what: "instance secret",
            key: setting,
        })
    }

    /// Re-encrypts every seal's signer key (and API client secret) from `old` to `new` in one
    /// transaction (master key rotation); returns how many keys were re-encrypted.
    pub async fn rotate_master_key(
        &self,
        old: &MasterKey,
        new: &MasterKey,
        actor: &str,
    ) -> Result<u64> {
        self.check_master_key(old).await?;
        let mut tx = self.begin_write().await?;
        let mut n = 0u64;
        let mut columns = vec![
            ("seals", "seal-signer-key", "key_nonce", "key_ciphertext"),
            (
                "api_clients",
                crate::api::SECRET_PURPOSE,
                "secret_nonce",
                "secret_cipher",
            ),
        ];
        // Customer names, addresses and bindings of the portal.
        columns.extend_from_slice(crate::customers::ENCRYPTED_COLUMNS);
        // The staff's TOTP secrets.
        columns.push(("staff_accounts", "staff-totp", "totp_nonce", "totp_cipher"));
        // Key material of seals proposed and not yet made.
        columns.push((
            "seal_proposals",
            crate::staff::PROPOSAL_PURPOSE,
            "material_nonce",
            "material_cipher",
        ));
        for (table, purpose, nonce_col, ct_col) in columns {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT id, {nonce_col} AS n, {ct_col} AS c FROM {table} WHERE {ct_col} IS NOT NULL"
            )))
            .fetch_all(&mut *tx)
            .await
            .map_err(db("reading encrypted keys"))?;
            for row in rows {
                let id: String = row.try_get("id").map_err(db("reading encrypted keys"))?;
                let nonce: Vec<u8> = row.try_get("n").map_err(db("reading encrypted keys"))?;
                let ct: Vec<u8> = row.try_get("c").map_err(db("reading encrypted keys"))?;
                let a = aad(purpose, &id);
                let plain = old.decrypt(&a, &nonce, &ct).ok_or(StoreError::Decrypt {
                    what: "key",
                    key: format!("{table}/{id}"),
                })?;
                let (nonce2, ct2) = new.encrypt(&a, &plain)?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE {table} SET {nonce_col} = $1, {ct_col} = $2 WHERE id = $3"
                )))
                .bind(nonce2.to_vec())
                .bind(ct2)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db("writing re-encrypted keys"))?;
                n += 1;
            }
        }
        let secrets = sqlx::query("SELECT name, value FROM settings WHERE name LIKE 'secret:%'")
            .fetch_all(&mut *tx)
            .await
            .map_err(db("reading instance secrets"))?;
        for row in secrets {
            let name: String = row
                .try_get("name")
                .map_err(db("reading instance secrets"))?;
            let value: String = row
                .try_get("value")
                .map_err(db("reading instance secrets"))?;
            let (nonce, ct) = split_sealed(&name, &value)?;
            let a = aad("settings", &name);
            let plain = old.decrypt(&a, &nonce, &ct).ok_or(StoreError::Decrypt {
                what: "instance secret",
                key: name.clone(),
            })?;
            let (nonce2, ct2) = new.encrypt(&a, &plain)?;
            sqlx::query("UPDATE settings SET value = $1, updated_at = $2 WHERE name = $3")
                .bind(format!("{}:{}", hex(&nonce2), hex(&ct2)))
                .bind(now_ms())
                .bind(name)
                .execute(&mut *tx)
                .await
                .map_err(db("writing re-encrypted instance secrets"))?;
            n += 1;
        }
        let (nonce, ct) = new.encrypt(&aad("settings", CHECK_SETTING), CHECK_PLAINTEXT)?;
        sqlx::query("UPDATE settings SET value = $1, updated_at = $2 WHERE name = $3")
            .bind(format!("{}:{}", hex(&nonce), hex(&ct)))
            .bind(now_ms())
            .bind(CHECK_SETTING.to_owned())
            .execute(&mut *tx)
            .await
            .map_err(db("writing the master key check value"))?;
        append_in(
            &mut tx,
            &AuditEvent {
                actor,
                action: "master_key.rotate",
                subject: "master key",
                details: &json!({ "keys": n }),
            },
        )
        .await?;
        tx.commit()
            .await
            .map_err(db("committing the key rotation"))?;
        Ok(n)
    }

    /// Adds a new version of template `name` (versions are never overwritten); returns it.
    pub async fn add_template(
        &self,
        name: &str,
        kind: Option<i64>,
        body: &[u8],
        actor: &str,
    ) -> Result<TemplateRecord> {
        if name.trim().is_empty() || name.chars().any(char::is_control) {
            return Err(StoreError::Invalid {
                field: "template name",
                problem: "empty or contains a control character".into(),
            });
        }
        let digest = sm3(body);
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let row =
            sqlx::query("SELECT COALESCE(MAX(version), 0) + 1 AS v FROM templates WHERE name = $1")
                .bind(name.to_owned())
                .fetch_one(&mut *tx)
                .await
                .map_err(db("numbering a template version"))?;
        let version: i64 = row
            .try_get("v")
            .map_err(db("numbering a template version"))?;
        sqlx::query(
            "INSERT INTO templates (name, version, kind, body, body_sm3, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(name.to_owned())
        .bind(version)
        .bind(kind)
        .bind(body.to_vec())
        .bind(digest.to_vec())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::AlreadyExists {
                    what: "template version",
                    name: format!("{name} v{version}"),
                }
            } else {
                StoreError::Database {
                    op: "inserting a template",
                    source: e,
                }
            }
        })?;
        append_in(
            &mut tx,
            &AuditEvent {
                actor,
                action: "template.add",
                subject: name,
                details: &json!({"version": version, "kind": kind, "body_sm3": hex(&digest)}),
            },
        )
        .await?;
        tx.commit().await.map_err(db("committing a template"))?;
        Ok(TemplateRecord {
            name: name.to_owned(),
            version,
            kind,
            body_sm3: digest,
            created_at_ms: now,
        })
    }

    /// A template version (the latest when `version` is `None`) with its body; the body's SM3
    /// is checked.
    pub async fn template(
        &self,
        name: &str,
        version: Option<i64>,
    ) -> Result<Option<(TemplateRecord, Vec<u8>)>> {
        let row = sqlx::query_as::<_, TemplateBodyRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {TEMPLATE_COLUMNS}, body FROM templates \
             WHERE name = $1 AND ($2 = 0 OR version = $2) ORDER BY version DESC LIMIT 1"
        )))
        .bind(name.to_owned())
        .bind(version.unwrap_or(0))
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading a template"))?;
        let Some(TemplateBodyRow { meta, body }) = row else {
            return Ok(None);
        };
        let record = TemplateRecord::try_from(meta)?;
        if record.body_sm3 != sm3(&body) {
            return Err(StoreError::Corrupt {
                table: "templates",
                key: format!("{name} v{}", record.version),
                problem: "body does not match its SM3".into(),
            });
        }
        Ok(Some((record, body)))
    }

    /// The latest version of every template.
    pub async fn list_templates(&self) -> Result<Vec<TemplateRecord>> {
        let rows = sqlx::query_as::<_, TemplateRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {TEMPLATE_COLUMNS} FROM templates t \
             WHERE t.version = (SELECT MAX(u.version) FROM templates u WHERE u.name = t.name) \
             ORDER BY t.name"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(db("listing templates"))?;
        rows.into_iter().map(TemplateRecord::try_from).collect()
    }

    /// Inserts or replaces an institute.
    pub async fn put_institute(&self, inst: &Institute, actor: &str) -> Result<()> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO institutes (id, name, org_code, accreditation_id, details, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (id) DO UPDATE SET \
             name = excluded.name, org_code = excluded.org_code, \
             accreditation_id = excluded.accreditation_id, details = excluded.details, \
             updated_at = excluded.updated_at",
        )
        .bind(inst.id.clone())
        .bind(inst.name.clone())
        .bind(inst.org_code.clone())
        .bind(inst.accreditation_id.clone())
        .bind(inst.details.clone())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db("writing an institute"))?;
        append_in(
            &mut tx,
            &AuditEvent {
                actor,
                action: "institute.put",
                subject: &inst.id,
                details: &json!({"name": inst.name, "org_code": inst.org_code,
                    "accreditation_id": inst.accreditation_id}),
            },
        )
        .await?;
        tx.commit().await.map_err(db("committing an institute"))
    }

    /// An institute by id.
    pub async fn institute(&self, id: &str) -> Result<Option<Institute>> {
        let row = sqlx::query_as::<_, InstituteRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {INSTITUTE_COLUMNS} FROM institutes WHERE id = $1"
        )))
        .bind(id.to_owned())
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading an institute"))?;
        Ok(row.map(Institute::from))
    }
}
