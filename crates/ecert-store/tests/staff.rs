//! The console's staff accounts on both backends: unique names, roles, the TOTP
//! secret stored only encrypted and re-encrypted by a master key rotation, a TOTP step accepted
//! once (no replay, whichever node asks), failures and lock-out, sessions stored as hashes.

#![allow(clippy::unwrap_used)]
#[macro_use]
mod common;

use common::Env;
use ecert_store::{MasterKey, NewSeal, StoreError};
use sqlx::Row;
use zeroize::Zeroizing;

both_backends!(
    r_5_2_2_staff_accounts_roles_and_the_encrypted_totp_secret,
    r_5_2_2_a_totp_step_is_accepted_once_and_failures_lock,
    r_5_2_2_a_seal_is_retired_by_two_persons,
    r_5_2_2_a_proposed_seal_keeps_its_material_encrypted_for_another_person,
);

fn master() -> MasterKey {
    MasterKey::from_hex("00112233445566778899aabbccddeeff").unwrap()
}

async fn r_5_2_2_staff_accounts_roles_and_the_encrypted_totp_secret(env: Env) {
    let s = &env.store;
    s.check_master_key(&master()).await.unwrap();
    let secret = b"12345678901234567890";
    let a = s
        .create_staff(
            &master(),
            "li.approver",
            &["approver"],
            "$argon2id$x",
            Some(secret),
            "cli",
        )
        .await
        .unwrap();
    assert_eq!(a.roles, vec!["approver".to_owned()]);
    assert!(a.has_totp && a.active);
    assert!(matches!(
        s.create_staff(&master(), "li.approver", &["operator"], "h", None, "cli")
            .await,
        Err(StoreError::AlreadyExists { .. })
    ));
    assert!(matches!(
        s.create_staff(&master(), "bad name!", &["operator"], "h", None, "cli")
            .await,
        Err(StoreError::Invalid { .. })
    ));
    assert!(matches!(
        s.create_staff(&master(), "no.roles", &[], "h", None, "cli")
            .await,
        Err(StoreError::Invalid { .. })
    ));
    // The secret is not in the database in the clear.
    let row = sqlx::query("SELECT totp_cipher FROM staff_accounts WHERE name = 'li.approver'")
        .fetch_one(env.store.pool())
        .await
        .unwrap();
    let cipher: Vec<u8> = row.try_get("totp_cipher").unwrap();
    assert!(!cipher.windows(secret.len()).any(|w| w == secret));
    assert_eq!(
        s.staff_totp_secret(&master(), &a.id)
            .await
            .unwrap()
            .unwrap()
            .as_slice(),
        secret
    );
    // A master key rotation re-encrypts it.
    let new = MasterKey::from_hex("ffeeddccbbaa99887766554433221100").unwrap();
    s.rotate_master_key(&master(), &new, "test").await.unwrap();
    assert!(s.staff_totp_secret(&master(), &a.id).await.is_err());
    assert_eq!(
        s.staff_totp_secret(&new, &a.id)
            .await
            .unwrap()
            .unwrap()
            .as_slice(),
        secret
    );
    // Audited with who made it.
    let head = s.audit_head().await.unwrap();
    let entries = s.audit_entries(1, head.seq).await.unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e.action == "staff.add" && e.actor == "cli")
    );
}

async fn r_5_2_2_a_totp_step_is_accepted_once_and_failures_lock(env: Env) {
    let s = &env.store;
    s.check_master_key(&master()).await.unwrap();
    let a = s
        .create_staff(&master(), "wang.admin", &["admin"], "h", Some(b"k"), "cli")
        .await
        .unwrap();
    assert!(s.accept_totp_step(&a.id, 100).await.unwrap());
    assert!(!s.accept_totp_step(&a.id, 100).await.unwrap(), "replay");
    assert!(!s.accept_totp_step(&a.id, 99).await.unwrap(), "older");
    assert!(s.accept_totp_step(&a.id, 101).await.unwrap());
    for n in 1..=5 {
        assert_eq!(s.record_staff_failure(&a.id, 5, 60_000).await.unwrap(), n);
    }
    let locked = s.staff(&a.id).await.unwrap().unwrap();
    assert!(locked.locked_until_ms.is_some());
    s.record_staff_success(&a.id).await.unwrap();
    let back = s.staff(&a.id).await.unwrap().unwrap();
    assert_eq!(back.failed_logins, 0);
    assert!(back.locked_until_ms.is_none());
    // Sessions: only the SM3 of the id is stored.
    let id = "ab".repeat(32);
    s.create_staff_session(&id, &a.id, b"csrf", i64::MAX / 2, None)
        .await
        .unwrap();
    assert_eq!(
        s.staff_session(&id).await.unwrap().unwrap().account_id,
        a.id
    );
    let row = sqlx::query("SELECT id_hash FROM staff_sessions")
        .fetch_one(env.store.pool())
        .await
        .unwrap();
    let stored: Vec<u8> = row.try_get("id_hash").unwrap();
    assert_eq!(stored, ecert_store::sm3(id.as_bytes()).to_vec());
    s.delete_staff_session(&id).await.unwrap();
    assert!(s.staff_session(&id).await.unwrap().is_none());
}

async fn r_5_2_2_a_seal_is_retired_by_two_persons(env: Env) {
    let s = &env.store;
    s.check_master_key(&master()).await.unwrap();
    let seal = s
        .add_seal(
            &NewSeal {
                name: "校准电子证书专用章".into(),
                kind: "校准".into(),
                image: b"\x89PNG\r\n\x1a\n fake image".to_vec(),
                image_format: "png".into(),
                seal_der: None,
                maker_cert_der: b"maker-cert-der".to_vec(),
                signer_cert_der: b"signer-cert-der".to_vec(),
                signer_key: Zeroizing::new(b"signer-key".to_vec()),
            },
            &master(),
            "cli",
        )
        .await
        .unwrap();
    s.propose_seal_retirement(&seal.id, "staff:a")
        .await
        .unwrap();
    assert!(matches!(
        s.propose_seal_retirement(&seal.id, "staff:b").await,
        Err(StoreError::AlreadyExists { .. })
    ));
    assert_eq!(s.pending_seal_retirements().await.unwrap().len(), 1);
    // The proposer cannot approve; the seal stays active.
    assert!(matches!(
        s.approve_seal_retirement(&seal.id, " STAFF:A ").await,
        Err(StoreError::Invalid {
            field: "approver",
            ..
        })
    ));
    assert!(s.seal(&seal.id).await.unwrap().unwrap().active);
    s.approve_seal_retirement(&seal.id, "staff:b")
        .await
        .unwrap();
    assert!(!s.seal(&seal.id).await.unwrap().unwrap().active);
    assert!(s.pending_seal_retirements().await.unwrap().is_empty());
    assert!(
        s.approve_seal_retirement(&seal.id, "staff:c")
            .await
            .is_err()
    );
}

async fn r_5_2_2_a_proposed_seal_keeps_its_material_encrypted_for_another_person(env: Env) {
    let s = &env.store;
    s.check_master_key(&master()).await.unwrap();
    let material = b"{\"signer_key\":\"SECRET-KEY-MATERIAL\"}";
    let p = s
        .propose_seal(&master(), "校准电子证书专用章", "校准", material, "staff:a")
        .await
        .unwrap();
    assert_eq!(p.state, "proposed");
    let row = sqlx::query("SELECT material_cipher FROM seal_proposals")
        .fetch_one(env.store.pool())
        .await
        .unwrap();
    let c: Vec<u8> = row.try_get("material_cipher").unwrap();
    assert!(!c.windows(19).any(|w| w == b"SECRET-KEY-MATERIAL"));
    // Not for the proposer.
    assert!(matches!(
        s.seal_proposal_material(&master(), &p.id, "staff:a").await,
        Err(StoreError::Invalid {
            field: "approver",
            ..
        })
    ));
    assert_eq!(
        s.seal_proposal_material(&master(), &p.id, "staff:b")
            .await
            .unwrap()
            .as_slice(),
        material
    );
    // A rotation re-encrypts it; the decision wipes it; a rotation then skips the row.
    let new = MasterKey::from_hex("ffeeddccbbaa99887766554433221100").unwrap();
    s.rotate_master_key(&master(), &new, "test").await.unwrap();
    assert!(
        s.seal_proposal_material(&new, &p.id, "staff:b")
            .await
            .is_ok()
    );
    assert!(
        s.decide_seal_proposal(&p.id, "staff:a", Some("x"))
            .await
            .is_err()
    );
    s.decide_seal_proposal(&p.id, "staff:b", Some("seal-1"))
        .await
        .unwrap();
    assert!(s.pending_seal_proposals().await.unwrap().is_empty());
    let row = sqlx::query("SELECT material_cipher FROM seal_proposals")
        .fetch_one(env.store.pool())
        .await
        .unwrap();
    let c: Option<Vec<u8>> = row.try_get("material_cipher").unwrap();
    assert!(c.is_none(), "wiped");
    s.rotate_master_key(&new, &master(), "test").await.unwrap();
    assert!(
        s.decide_seal_proposal(&p.id, "staff:c", None)
            .await
            .is_err(),
        "decided once"
    );
}
