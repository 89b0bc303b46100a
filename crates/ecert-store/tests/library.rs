//! The resource library (R-5.2.2) with signer keys encrypted at rest (R-7.2.3d), templates,
//! settings and institutes, and the API's clients, nonces and idempotency keys — on both
//! backends. pyca/cryptography (an independent SM4-GCM) decrypts a stored key.

#![allow(clippy::unwrap_used)]
#[macro_use]
mod common;

use common::{Backend, Env, cert, file};
use ecert_store::{
    ClientCredential, IdempotencyState, Institute, MasterKey, NewSeal, StoreError, hex, sm3,
};
use serde_json::json;
use sqlx::{Executor, Row};
use zeroize::Zeroizing;

both_backends!(
    r_5_2_2_r_7_2_3d_seal_keys_are_stored_only_encrypted,
    r_7_2_3d_wrong_master_key_and_altered_record_are_told_apart,
    r_7_2_3d_master_key_rotation,
    r_7_2_3d_pyca_cryptography_decrypts_a_stored_signer_key,
    r_5_2_2_templates_are_versioned,
    settings_and_institutes,
    api_clients_nonces_and_idempotency_keys,
    impossible_stored_values_are_refused_naming_table_row_column_and_value,
    r_5_2_2_a_retired_seal_s_title_can_be_given_to_a_new_seal,
    r_6_5g_one_node_at_a_time_holds_a_lease,
);

const PKCS8: &[u8] = b"0\x81\x87\x02\x01\x000\x13\x06\x07*\x86H\xce=\x02\x01\x06\x08*\x81\x1c\xcfU\x01\x82-\x04m0k\x02\x01\x01\x04 SECRET-SIGNER-KEY-BYTES-0123456";

fn seal(name: &str) -> NewSeal {
    NewSeal {
        name: name.into(),
        kind: "校准".into(),
        image: b"\x89PNG\r\n\x1a\n fake image".to_vec(),
        image_format: "png".into(),
        seal_der: None,
        maker_cert_der: b"maker-cert-der".to_vec(),
        signer_cert_der: b"signer-cert-der".to_vec(),
        signer_key: Zeroizing::new(PKCS8.to_vec()),
    }
}

async fn r_5_2_2_r_7_2_3d_seal_keys_are_stored_only_encrypted(env: Env) {
    let s = &env.store;
    let mk = MasterKey::generate().unwrap();
    let rec = s
        .add_seal(&seal("某计量院校准电子证书专用章"), &mk, "admin")
        .await
        .unwrap();
    assert_eq!(rec.key_alg, "SM4-GCM");
    assert!(rec.active);
    assert_eq!(rec.maker_cert_der, b"maker-cert-der");
    let key = s.seal_signer_key(&rec.id, &mk).await.unwrap();
    assert_eq!(&key[..], PKCS8);
    // The stored bytes are not the key, and the key appears nowhere in the database.
    let row = sqlx::query("SELECT key_nonce, key_ciphertext FROM seals")
        .fetch_one(s.pool())
        .await
        .unwrap();
    let nonce: Vec<u8> = row.get("key_nonce");
    let ct: Vec<u8> = row.get("key_ciphertext");
    assert_eq!(nonce.len(), 12);
    assert_eq!(ct.len(), PKCS8.len() + 16);
    assert!(!ct.windows(16).any(|w| PKCS8.windows(16).any(|k| k == w)));
    if env.backend == Backend::Sqlite {
        s.close().await;
        let mut bytes = std::fs::read(env.dir.path().join("ecert.db")).unwrap();
        if let Ok(wal) = std::fs::read(env.dir.path().join("ecert.db-wal")) {
            bytes.extend(wal);
        }
        assert!(!bytes.windows(20).any(|w| w == &PKCS8[PKCS8.len() - 20..]));
        return;
    }
    // A second seal with the same key material gets another nonce and ciphertext.
    let rec2 = s.add_seal(&seal("第二枚章"), &mk, "admin").await.unwrap();
    let rows = sqlx::query("SELECT key_nonce, key_ciphertext FROM seals ORDER BY name")
        .fetch_all(s.pool())
        .await
        .unwrap();
    let a: Vec<u8> = rows[0].get("key_ciphertext");
    let b: Vec<u8> = rows[1].get("key_ciphertext");
    assert_ne!(a, b);
    let dup = s
        .add_seal(&seal("第二枚章"), &mk, "admin")
        .await
        .unwrap_err();
    assert!(
        matches!(
            dup,
            StoreError::AlreadyExists {
                what: "active seal",
                ..
            }
        ),
        "{dup}"
    );
    s.retire_seal(&rec2.id, "admin").await.unwrap();
    assert!(!s.seal(&rec2.id).await.unwrap().unwrap().active);
    s.set_seal_der(&rec.id, b"ses-seal-der", "admin")
        .await
        .unwrap();
    assert_eq!(
        s.seal_by_name(&rec.name)
            .await
            .unwrap()
            .unwrap()
            .seal_der
            .unwrap(),
        b"ses-seal-der"
    );
    assert_eq!(s.list_seals().await.unwrap().len(), 2);
    let actions: Vec<String> = s
        .audit_entries(1, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        ["seal.create", "seal.create", "seal.retire", "seal.update"]
    );
}

async fn r_7_2_3d_wrong_master_key_and_altered_record_are_told_apart(env: Env) {
    let s = &env.store;
    let mk = MasterKey::generate().unwrap();
    let rec = s.add_seal(&seal("章A"), &mk, "admin").await.unwrap();
    let other = MasterKey::generate().unwrap();
    let e = s.seal_signer_key(&rec.id, &other).await.unwrap_err();
    assert!(matches!(e, StoreError::WrongMasterKey), "{e}");
    assert!(e.to_string().contains("wrong master key"), "{e}");
    let e = s.add_seal(&seal("章B"), &other, "admin").await.unwrap_err();
    assert!(matches!(e, StoreError::WrongMasterKey), "{e}");
    // Flip one ciphertext bit: the right key now reports an altered record.
    let row = sqlx::query("SELECT key_ciphertext FROM seals WHERE id = $1")
        .bind(rec.id.clone())
        .fetch_one(s.pool())
        .await
        .unwrap();
    let mut ct: Vec<u8> = row.get("key_ciphertext");
    ct[3] ^= 0x80;
    sqlx::query("UPDATE seals SET key_ciphertext = $1 WHERE id = $2")
        .bind(ct)
        .bind(rec.id.clone())
        .execute(s.pool())
        .await
        .unwrap();
    let e = s.seal_signer_key(&rec.id, &mk).await.unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Decrypt {
                what: "signer key",
                ..
            }
        ),
        "{e}"
    );
    // A ciphertext moved to another seal's row fails too (bound to its record).
    let rec2 = s.add_seal(&seal("章C"), &mk, "admin").await.unwrap();
    sqlx::query(
        "UPDATE seals SET key_nonce = (SELECT key_nonce FROM seals WHERE id = $1), \
         key_ciphertext = (SELECT key_ciphertext FROM seals WHERE id = $1) WHERE id = $2",
    )
    .bind(rec2.id.clone())
    .bind(rec.id.clone())
    .execute(s.pool())
    .await
    .unwrap();
    assert!(s.seal_signer_key(&rec2.id, &mk).await.is_ok());
    let e = s.seal_signer_key(&rec.id, &mk).await.unwrap_err();
    assert!(matches!(e, StoreError::Decrypt { .. }), "{e}");
}

async fn r_7_2_3d_master_key_rotation(env: Env) {
    let s = &env.store;
    let old = MasterKey::generate().unwrap();
    let new = MasterKey::generate().unwrap();
    let rec = s.add_seal(&seal("章"), &old, "admin").await.unwrap();
    let client = s
        .add_api_client(
            "lims",
            ClientCredential::SharedSecret(b"0123456789abcdef0123"),
            Some(&old),
            "admin",
        )
        .await
        .unwrap();
    assert_eq!(s.rotate_master_key(&old, &new, "admin").await.unwrap(), 2);
    assert_eq!(&s.seal_signer_key(&rec.id, &new).await.unwrap()[..], PKCS8);
    assert_eq!(
        &s.api_client_secret(&client.id, &new)
            .await
            .unwrap()
            .unwrap()[..],
        b"0123456789abcdef0123"
    );
    assert!(matches!(
        s.seal_signer_key(&rec.id, &old).await.unwrap_err(),
        StoreError::WrongMasterKey
    ));
}

async fn r_7_2_3d_pyca_cryptography_decrypts_a_stored_signer_key(env: Env) {
    let s = &env.store;
    let mk = MasterKey::generate().unwrap();
    let rec = s.add_seal(&seal("章"), &mk, "admin").await.unwrap();
    let row = sqlx::query("SELECT key_nonce, key_ciphertext FROM seals")
        .fetch_one(s.pool())
        .await
        .unwrap();
    let nonce: Vec<u8> = row.get("key_nonce");
    let ct: Vec<u8> = row.get("key_ciphertext");
    let mut aad = b"seal-signer-key\0".to_vec();
    aad.extend_from_slice(rec.id.as_bytes());
    let venv = std::env::var("ECERT_ORACLE_VENV").unwrap_or_else(|_| "/opt/ecert-oracles".into());
    let python = format!("{venv}/bin/python");
    let script = r#"
import sys
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
key, nonce, ct, aad = (bytes.fromhex(a) for a in sys.argv[1:5])
body, tag = ct[:-16], ct[-16:]
d = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
d.authenticate_additional_data(aad)
print((d.update(body) + d.finalize()).hex())
"#;
    let out = std::process::Command::new(&python)
        .args([
            "-c",
            script,
            &mk.to_hex(),
            &hex(&nonce),
            &hex(&ct),
            &hex(&aad),
        ])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "this test needs {python} with pyca/cryptography (run `bash scripts/setup`): {e}"
            )
        });
    assert!(
        out.status.success(),
        "pyca/cryptography oracle failed (run `bash scripts/setup` to install it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), hex(PKCS8));
}

async fn r_5_2_2_templates_are_versioned(env: Env) {
    let s = &env.store;
    let t1 = s
        .add_template("calibration", Some(2), b"#let v = 1", "admin")
        .await
        .unwrap();
    let t2 = s
        .add_template("calibration", Some(2), b"#let v = 2", "admin")
        .await
        .unwrap();
    s.add_template("report", None, b"#let r = 1", "admin")
        .await
        .unwrap();
    assert_eq!((t1.version, t2.version), (1, 2));
    let (latest, body) = s.template("calibration", None).await.unwrap().unwrap();
    assert_eq!(latest.version, 2);
    assert_eq!(body, b"#let v = 2");
    assert_eq!(latest.body_sm3, sm3(b"#let v = 2"));
    let (first, body) = s.template("calibration", Some(1)).await.unwrap().unwrap();
    assert_eq!((first.version, body.as_slice()), (1, &b"#let v = 1"[..]));
    assert!(s.template("nope", None).await.unwrap().is_none());
    let list = s.list_templates().await.unwrap();
    assert_eq!(
        list.iter()
            .map(|t| (t.name.as_str(), t.version))
            .collect::<Vec<_>>(),
        [("calibration", 2), ("report", 1)]
    );
    // An altered body is refused.
    sqlx::query("UPDATE templates SET body = $1 WHERE name = 'report'")
        .bind(b"#let r = 666".to_vec())
        .execute(s.pool())
        .await
        .unwrap();
    let e = s.template("report", None).await.unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Corrupt {
                table: "templates",
                ..
            }
        ),
        "{e}"
    );
}

async fn settings_and_institutes(env: Env) {
    let s = &env.store;
    assert!(s.setting("base_url").await.unwrap().is_none());
    s.set_setting("base_url", "https://cert.example.cn")
        .await
        .unwrap();
    s.set_setting("base_url", "https://verify.example.cn")
        .await
        .unwrap();
    assert_eq!(
        s.setting("base_url").await.unwrap().unwrap(),
        "https://verify.example.cn"
    );
    let mut inst = Institute {
        id: "default".into(),
        name: "某某省计量科学研究院".into(),
        org_code: "12330000470000000X".into(),
        accreditation_id: Some("CNAS L0000".into()),
        details: "{\"address\":\"杭州\"}".into(),
    };
    s.put_institute(&inst, "admin").await.unwrap();
    inst.name = "某某省计量院".into();
    s.put_institute(&inst, "admin").await.unwrap();
    assert_eq!(s.institute("default").await.unwrap().unwrap(), inst);
    assert!(s.institute("x").await.unwrap().is_none());
}

async fn r_6_5g_one_node_at_a_time_holds_a_lease(env: Env) {
    let s = &env.store;
    assert!(s.take_lease("scrub", "node-a", 60_000).await.unwrap());
    // Another node is refused while the lease runs; the holder renews it.
    assert!(!s.take_lease("scrub", "node-b", 60_000).await.unwrap());
    assert!(s.take_lease("scrub", "node-a", 60_000).await.unwrap());
    // Another lease is independent.
    assert!(
        s.take_lease("housekeeping", "node-b", 60_000)
            .await
            .unwrap()
    );
    // Released: the other node takes it at once.
    s.release_lease("scrub", "node-b").await.unwrap();
    assert!(!s.take_lease("scrub", "node-b", 60_000).await.unwrap());
    s.release_lease("scrub", "node-a").await.unwrap();
    assert!(s.take_lease("scrub", "node-b", 60_000).await.unwrap());
    // Expired (a holder that died): taken over.
    assert!(s.take_lease("expiring", "node-a", -1).await.unwrap());
    assert!(s.take_lease("expiring", "node-b", 60_000).await.unwrap());
    assert!(!s.take_lease("expiring", "node-a", 60_000).await.unwrap());
    // Two nodes racing for a free lease: exactly one wins.
    let (a, b) = tokio::join!(
        s.take_lease("race", "node-a", 60_000),
        s.take_lease("race", "node-b", 60_000)
    );
    assert!(a.unwrap() ^ b.unwrap());
}

async fn api_clients_nonces_and_idempotency_keys(env: Env) {
    let s = &env.store;
    let mk = MasterKey::generate().unwrap();
    let c = s
        .add_api_client(
            "lims",
            ClientCredential::SharedSecret(b"0123456789abcdef0123"),
            Some(&mk),
            "admin",
        )
        .await
        .unwrap();
    assert!(c.has_secret && c.enabled && c.public_key.is_none());
    assert_eq!(
        &s.api_client_secret(&c.id, &mk).await.unwrap().unwrap()[..],
        b"0123456789abcdef0123"
    );
    let raw: Vec<u8> = sqlx::query("SELECT secret_cipher FROM api_clients")
        .fetch_one(s.pool())
        .await
        .unwrap()
        .get("secret_cipher");
    assert!(!raw.windows(8).any(|w| w == b"01234567"));
    let pk = s
        .add_api_client(
            "erp",
            ClientCredential::PublicKey(b"spki-der"),
            None,
            "admin",
        )
        .await
        .unwrap();
    assert_eq!(pk.public_key.as_deref(), Some(&b"spki-der"[..]));
    assert!(s.api_client_secret(&pk.id, &mk).await.unwrap().is_none());
    let e = s
        .add_api_client("lims", ClientCredential::PublicKey(b"x"), None, "admin")
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::AlreadyExists { .. }), "{e}");
    s.set_api_client_enabled(&pk.id, false, "admin")
        .await
        .unwrap();
    assert!(!s.api_client_by_name("erp").await.unwrap().unwrap().enabled);

    // Nonces: fresh once, then a replay; concurrent copies — exactly one passes.
    assert!(s.record_nonce(&c.id, "n-1").await.unwrap());
    assert!(!s.record_nonce(&c.id, "n-1").await.unwrap());
    assert!(
        s.record_nonce(&pk.id, "n-1").await.unwrap(),
        "nonces are per client"
    );
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let s = s.clone();
        let id = c.id.clone();
        tasks.push(tokio::spawn(async move {
            s.record_nonce(&id, "n-race").await.unwrap()
        }));
    }
    let mut fresh = 0;
    for t in tasks {
        fresh += usize::from(t.await.unwrap());
    }
    assert_eq!(fresh, 1);
    assert_eq!(s.purge_nonces(i64::MAX).await.unwrap(), 3);

    // Idempotency: new → in progress → completed (same request) / mismatch (other request).
    let req = sm3(b"{\"content\":1}");
    assert_eq!(
        s.idempotency_begin(&c.id, "k1", &req).await.unwrap(),
        IdempotencyState::New
    );
    assert_eq!(
        s.idempotency_begin(&c.id, "k1", &req).await.unwrap(),
        IdempotencyState::InProgress
    );
    s.idempotency_complete(&c.id, "k1", 201, b"{\"number\":\"JZ1\"}")
        .await
        .unwrap();
    assert_eq!(
        s.idempotency_begin(&c.id, "k1", &req).await.unwrap(),
        IdempotencyState::Completed {
            status: 201,
            body: b"{\"number\":\"JZ1\"}".to_vec()
        }
    );
    assert_eq!(
        s.idempotency_begin(&c.id, "k1", &sm3(b"other"))
            .await
            .unwrap(),
        IdempotencyState::Mismatch
    );
    // Abandon after a failure: a retry may proceed.
    assert_eq!(
        s.idempotency_begin(&c.id, "k2", &req).await.unwrap(),
        IdempotencyState::New
    );
    s.idempotency_abandon(&c.id, "k2").await.unwrap();
    assert_eq!(
        s.idempotency_begin(&c.id, "k2", &req).await.unwrap(),
        IdempotencyState::New
    );
    // Concurrent first attempts: exactly one New.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let s = s.clone();
        let id = c.id.clone();
        tasks.push(tokio::spawn(async move {
            s.idempotency_begin(&id, "k3", &req).await.unwrap()
        }));
    }
    let mut new = 0;
    for t in tasks {
        new += usize::from(t.await.unwrap() == IdempotencyState::New);
    }
    assert_eq!(new, 1);
    // Keys left pending by requests that died are released (k2 and k3, both pending here);
    // the completed one (k1) stays.
    assert_eq!(s.release_stale_idempotency(i64::MAX).await.unwrap(), 2);
    assert_eq!(
        s.idempotency_begin(&c.id, "k3", &req).await.unwrap(),
        IdempotencyState::New
    );
    assert_eq!(
        s.release_stale_idempotency(0).await.unwrap(),
        0,
        "none is that old"
    );
    assert_eq!(s.purge_idempotency(i64::MAX).await.unwrap(), 2);
    // Keys name the process that claimed them: a process lists the pending keys it does not
    // own (a dead process's, and those claimed without an owner); completed keys are not listed.
    for (key, owner) in [("mine", Some("p1")), ("theirs", Some("p0")), ("old", None)] {
        assert_eq!(
            s.idempotency_begin_as(&c.id, key, &req, owner)
                .await
                .unwrap(),
            IdempotencyState::New
        );
    }
    s.idempotency_begin_as(&c.id, "done", &req, Some("p0"))
        .await
        .unwrap();
    s.idempotency_complete(&c.id, "done", 201, b"{}")
        .await
        .unwrap();
    let mut foreign: Vec<(String, Option<String>)> = s
        .pending_idempotency_not_owned_by("p1")
        .await
        .unwrap()
        .into_iter()
        .map(|p| {
            assert_eq!(p.request_sm3, req.to_vec());
            (p.key, p.owner)
        })
        .collect();
    foreign.sort();
    assert_eq!(
        foreign,
        [("old".into(), None), ("theirs".into(), Some("p0".into()))]
    );
    assert_eq!(s.purge_idempotency(i64::MAX).await.unwrap(), 4);
}

/// Runs `sql` as someone editing the database by hand could, with the CHECK constraint of
/// `table.column` out of the way: SQLite ignores CHECK constraints on this connection, on
/// PostgreSQL the constraint is dropped.
async fn edit_by_hand(env: &Env, table: &str, column: &str, sql: &str) {
    let mut conn = env.store.pool().acquire().await.unwrap();
    let unchecked = match env.backend {
        Backend::Sqlite => "PRAGMA ignore_check_constraints = ON".to_owned(),
        Backend::Postgres => format!("ALTER TABLE {table} DROP CONSTRAINT {table}_{column}_check"),
    };
    conn.execute(sqlx::AssertSqlSafe(unchecked)).await.unwrap();
    conn.execute(sqlx::AssertSqlSafe(sql.to_owned()))
        .await
        .unwrap();
    if env.backend == Backend::Sqlite {
        conn.execute("PRAGMA ignore_check_constraints = OFF")
            .await
            .unwrap();
    }
}

/// A value the store never writes (a status it does not know, a hash of the wrong length, a
/// flag that is neither 0 nor 1) is reported as `CorruptColumn` naming the table, the row, the
/// column and the value — by every read of the record, single or listed — instead of being
/// guessed at (an unknown seal status used to read as "retired") or panicking.
async fn impossible_stored_values_are_refused_naming_table_row_column_and_value(env: Env) {
    let s = &env.store;
    let is_bad = |e: &StoreError, t: &str, k: &str, c: &str, v: &str| {
        matches!(e, StoreError::CorruptColumn { table, key, column, value, .. }
            if *table == t && key == k && *column == c && value == v)
    };
    let mk = MasterKey::generate().unwrap();
    let sealed = s.add_seal(&seal("章A"), &mk, "admin").await.unwrap();
    edit_by_hand(
        &env,
        "seals",
        "status",
        "UPDATE seals SET status = 'revoked'",
    )
    .await;
    for e in [
        s.seal(&sealed.id).await.unwrap_err(),
        s.seal_by_name("章A").await.unwrap_err(),
        s.list_seals().await.unwrap_err(),
    ] {
        assert!(
            is_bad(&e, "seals", &sealed.id, "status", "\"revoked\""),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            format!(
                "corrupt record in seals ({}): column status holds \"revoked\", expected active \
                 or retired",
                sealed.id
            )
        );
    }

    let c = s
        .issue_certificate(&cert(1), file(1, 100), "u", &json!(null))
        .await
        .unwrap();
    edit_by_hand(
        &env,
        "certificates",
        "status",
        "UPDATE certificates SET status = 'void'",
    )
    .await;
    for e in [
        s.certificate(&c.id).await.unwrap_err(),
        s.certificate_by_number(&c.number).await.unwrap_err(),
        s.list_certificates(&Default::default()).await.unwrap_err(),
    ] {
        assert!(
            is_bad(&e, "certificates", &c.id, "status", "\"void\""),
            "{e:?}"
        );
    }
    sqlx::query("UPDATE certificates SET status = 'valid', file_sm3 = $1")
        .bind(vec![0u8; 31])
        .execute(s.pool())
        .await
        .unwrap();
    let e = s.certificate(&c.id).await.unwrap_err();
    assert!(
        is_bad(&e, "certificates", &c.id, "file_sm3", "31 bytes"),
        "{e:?}"
    );
    sqlx::query("UPDATE certificates SET file_sm3 = $1")
        .bind(c.file_sm3.to_vec())
        .execute(s.pool())
        .await
        .unwrap();
    assert_eq!(s.certificate(&c.id).await.unwrap().unwrap(), c);

    // Past retention (issued 2026, kept until 2032), so a disposal can be proposed.
    let d = s
        .propose_disposal(&c.id, "张三", "2040-01-01", 6)
        .await
        .unwrap();
    edit_by_hand(
        &env,
        "disposals",
        "state",
        "UPDATE disposals SET state = 'lost'",
    )
    .await;
    for e in [
        s.disposal_of(&c.id).await.unwrap_err(),
        s.disposals(None).await.unwrap_err(),
    ] {
        assert!(is_bad(&e, "disposals", &d.id, "state", "\"lost\""), "{e:?}");
    }

    let client = s
        .add_api_client("erp", ClientCredential::PublicKey(b"spki"), None, "admin")
        .await
        .unwrap();
    sqlx::query("UPDATE api_clients SET enabled = 7")
        .execute(s.pool())
        .await
        .unwrap();
    for e in [
        s.api_client(&client.id).await.unwrap_err(),
        s.api_client_by_name("erp").await.unwrap_err(),
        s.api_clients().await.unwrap_err(),
    ] {
        assert!(
            is_bad(&e, "api_clients", &client.id, "enabled", "7"),
            "{e:?}"
        );
    }
}

/// Key roll-over: once a seal is retired, a new seal may take its title; two active
/// seals with one title are refused with a typed error and nothing stored. By name, the active
/// seal comes first, else the newest retired one.
async fn r_5_2_2_a_retired_seal_s_title_can_be_given_to_a_new_seal(env: Env) {
    let s = &env.store;
    let mk = MasterKey::generate().unwrap();
    let title = "某计量院校准电子证书专用章";
    let refused = |e: &StoreError| matches!(e, StoreError::AlreadyExists { what: "active seal", name } if name == title);
    // Seals made one after the other get different creation times (unix ms).
    let next_ms = || std::thread::sleep(std::time::Duration::from_millis(3));

    let first = s.add_seal(&seal(title), &mk, "admin").await.unwrap();
    let e = s.add_seal(&seal(title), &mk, "admin").await.unwrap_err();
    assert!(refused(&e), "{e}");
    assert_eq!(
        e.to_string(),
        format!("active seal {title:?} already exists")
    );
    assert_eq!(s.list_seals().await.unwrap().len(), 1, "nothing stored");

    s.retire_seal(&first.id, "admin").await.unwrap();
    next_ms();
    let second = s.add_seal(&seal(title), &mk, "admin").await.unwrap();
    assert!(second.active);
    assert_ne!(second.id, first.id);
    assert!(second.created_at_ms > first.created_at_ms);
    assert_eq!(s.seal_by_name(title).await.unwrap().unwrap().id, second.id);
    let e = s.add_seal(&seal(title), &mk, "admin").await.unwrap_err();
    assert!(refused(&e), "{e}");

    // Every seal of the title retired: by name gives the newest.
    s.retire_seal(&second.id, "admin").await.unwrap();
    let newest = s.seal_by_name(title).await.unwrap().unwrap();
    assert_eq!(
        (newest.id.as_str(), newest.active),
        (second.id.as_str(), false)
    );

    // A third one; it is the one by name although two older ones share its title.
    next_ms();
    let third = s.add_seal(&seal(title), &mk, "admin").await.unwrap();
    assert_eq!(s.seal_by_name(title).await.unwrap().unwrap(), third);
    let list = s.list_seals().await.unwrap();
    assert_eq!(
        list.iter()
            .map(|r| (r.id.as_str(), r.active))
            .collect::<Vec<_>>(),
        [
            (first.id.as_str(), false),
            (second.id.as_str(), false),
            (third.id.as_str(), true)
        ],
        "oldest first"
    );
    // Each keeps its own signer key.
    for r in &list {
        assert_eq!(&s.seal_signer_key(&r.id, &mk).await.unwrap()[..], PKCS8);
    }
    assert!(s.verify_audit_chain().await.unwrap().is_ok());
}
