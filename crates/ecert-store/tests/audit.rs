//! The SM3 hash-chained audit log (R-7.2.2b, R-7.2.2d, R-6.5d) on both backends: concurrent
//! appends never fork the chain; every kind of tampering, done with raw SQL, is detected and
//! the first bad sequence number named; an independent implementation (Python's hashlib SM3,
//! i.e. OpenSSL) recomputes the chain.

#![allow(clippy::unwrap_used)]
#[macro_use]
mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{Backend, Env};
use ecert_store::{
    AuditEvent, AuditFault, AuditMacKey, AuditProblem, MasterKey, Replica, Store, StoreError,
    audit_entry_hash, hex,
};
use serde_json::json;
use zeroize::Zeroizing;

both_backends!(
    r_7_2_2b_audit_log_refuses_update_and_delete,
    r_7_2_2b_concurrent_appends_form_one_unbroken_chain,
    r_7_2_2b_a_batch_is_the_entries_single_appends_would_write,
    r_7_2_2b_edited_entry_is_detected,
    r_7_2_2b_removed_entry_is_detected,
    r_7_2_2b_removed_last_entry_is_detected,
    r_7_2_2b_inserted_entries_are_detected,
    r_7_2_2b_reordered_entries_are_detected,
    r_7_2_2b_rewritten_chain_is_detected_against_an_anchor,
    r_7_2_2b_python_hashlib_sm3_recomputes_the_chain,
    r_7_2_2b_keyed_entries_carry_a_mac_from_where_the_key_was_first_used,
    r_7_2_2b_forged_appended_entry_is_detected_by_its_mac,
    r_7_2_2b_rewritten_chain_is_detected_by_the_mac,
    r_7_2_2b_truncation_is_detected_against_a_checkpoint,
    r_7_2_3d_instance_secrets_are_encrypted_and_survive_key_rotation,
    r_7_2_2b_checkpoint_files_are_on_every_replica_and_not_orphans,
);

fn key() -> AuditMacKey {
    AuditMacKey::from_bytes([0x5a; 32])
}

/// The store with the audit key, after `n` keyless entries and `m` keyed ones.
async fn keyed(env: &Env, n: usize, m: usize) -> Store {
    fill(&env.store, n).await;
    let mut s = env.store.clone();
    let from = s.enable_audit_mac(key()).await.unwrap();
    assert_eq!(from, n as i64 + 1);
    fill(&s, m).await;
    s
}

async fn keyed_fault(s: &Store) -> AuditFault {
    let r = s.verify_audit_chain().await.unwrap();
    r.fault.expect("tampering must be detected")
}

async fn r_7_2_2b_keyed_entries_carry_a_mac_from_where_the_key_was_first_used(env: Env) {
    let s = keyed(&env, 3, 5).await;
    let all = s.audit_entries(1, 100).await.unwrap();
    assert!(all[..3].iter().all(|e| e.mac.is_none()));
    for e in &all[3..] {
        assert_eq!(e.mac.as_deref(), Some(&key().mac(&e.hash)[..]), "{}", e.seq);
    }
    let r = s.verify_audit_chain().await.unwrap();
    assert!(r.is_ok(), "{:?}", r.fault);
    assert_eq!((r.authenticated, r.keyed_from), (5, Some(4)));
    // Enabling again (another process, a restart) keeps where keying began.
    let mut again = env.store.clone();
    assert_eq!(again.enable_audit_mac(key()).await.unwrap(), 4);
    // A wrong key finds every keyed entry unauthenticated.
    let mut wrong = env.store.clone();
    wrong
        .enable_audit_mac(AuditMacKey::from_bytes([1; 32]))
        .await
        .unwrap();
    assert_eq!(
        keyed_fault(&wrong).await,
        AuditFault {
            seq: 4,
            problem: AuditProblem::BadMac
        }
    );
    // A checkpoint that says keying began earlier than the setting wins.
    let r = s.verify_audit_chain_with(None, Some(1)).await.unwrap();
    assert_eq!(
        r.fault,
        Some(AuditFault {
            seq: 1,
            problem: AuditProblem::BadMac
        })
    );
}

/// Appends an entry the way an attacker with database access (but not the key) can: correct
/// hash, head advanced, and the given MAC.
async fn forge_append(s: &Store, mac: Option<Vec<u8>>) -> i64 {
    let head = s.audit_head().await.unwrap();
    let seq = head.seq + 1;
    let h = audit_entry_hash(
        &head.hash,
        seq,
        1,
        "mallory",
        "certificate.issue",
        "FAKE-9",
        "{}",
    );
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash, mac) \
         VALUES ($1, 1, 'mallory', 'certificate.issue', 'FAKE-9', '{}', $2, $3, $4)",
    )
    .bind(seq)
    .bind(head.hash.to_vec())
    .bind(h.to_vec())
    .bind(mac)
    .execute(s.pool())
    .await
    .unwrap();
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2")
        .bind(seq)
        .bind(h.to_vec())
        .execute(s.pool())
        .await
        .unwrap();
    seq
}

async fn r_7_2_2b_forged_appended_entry_is_detected_by_its_mac(env: Env) {
    let s = keyed(&env, 0, 6).await;
    drop_guard(&env).await;
    let seq = forge_append(&s, None).await;
    // Without the key the chain looks fine: that is the attack.
    assert!(env.store.verify_audit_chain().await.unwrap().is_ok());
    assert_eq!(
        keyed_fault(&s).await,
        AuditFault {
            seq,
            problem: AuditProblem::BadMac
        }
    );
    exec(&s, &format!("DELETE FROM audit_log WHERE seq = {seq}")).await;
    let prev = s.audit_entries(seq - 1, seq - 1).await.unwrap().remove(0);
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2")
        .bind(prev.seq)
        .bind(prev.hash)
        .execute(s.pool())
        .await
        .unwrap();
    assert!(s.verify_audit_chain().await.unwrap().is_ok());
    // A made-up MAC is no better than none.
    let seq = forge_append(&s, Some(vec![9; 32])).await;
    assert_eq!(keyed_fault(&s).await.problem, AuditProblem::BadMac);
    assert_eq!(keyed_fault(&s).await.seq, seq);
}

async fn r_7_2_2b_rewritten_chain_is_detected_by_the_mac(env: Env) {
    let s = keyed(&env, 0, 10).await;
    drop_guard(&env).await;
    // Entry 6 edited, every later hash and the head recomputed; the MACs copied as they were.
    let entries = s.audit_entries(1, 10).await.unwrap();
    let mut prev = entries[4].hash.clone();
    for e in &entries[5..] {
        let details = if e.seq == 6 {
            "{\"forged\":true}".to_owned()
        } else {
            e.details.clone()
        };
        let h = audit_entry_hash(
            &prev, e.seq, e.at_ms, &e.actor, &e.action, &e.subject, &details,
        );
        sqlx::query("UPDATE audit_log SET details = $1, prev_hash = $2, hash = $3 WHERE seq = $4")
            .bind(details)
            .bind(prev.clone())
            .bind(h.to_vec())
            .bind(e.seq)
            .execute(s.pool())
            .await
            .unwrap();
        prev = h.to_vec();
    }
    sqlx::query("UPDATE audit_head SET hash = $1")
        .bind(prev)
        .execute(s.pool())
        .await
        .unwrap();
    assert!(env.store.verify_audit_chain().await.unwrap().is_ok());
    assert_eq!(
        keyed_fault(&s).await,
        AuditFault {
            seq: 6,
            problem: AuditProblem::BadMac
        }
    );
}

async fn r_7_2_2b_truncation_is_detected_against_a_checkpoint(env: Env) {
    let s = keyed(&env, 0, 10).await;
    let anchor = s.audit_head().await.unwrap();
    drop_guard(&env).await;
    // The last two entries removed and the head rolled back to entry 8: a consistent, fully
    // authenticated chain, shorter than the anchor kept outside.
    exec(&s, "DELETE FROM audit_log WHERE seq > 8").await;
    let e8 = s.audit_entries(8, 8).await.unwrap().remove(0);
    sqlx::query("UPDATE audit_head SET seq = 8, hash = $1")
        .bind(e8.hash)
        .execute(s.pool())
        .await
        .unwrap();
    assert!(s.verify_audit_chain().await.unwrap().is_ok());
    let r = s
        .verify_audit_chain_with(Some(&anchor), Some(1))
        .await
        .unwrap();
    assert_eq!(
        r.fault,
        Some(AuditFault {
            seq: 9,
            problem: AuditProblem::Truncated
        })
    );
}

async fn r_7_2_3d_instance_secrets_are_encrypted_and_survive_key_rotation(env: Env) {
    let s = &env.store;
    let master = MasterKey::from_bytes([3; 16]);
    let made = s
        .instance_secret(&master, "audit-mac-key", || {
            Ok(Zeroizing::new(b"0123456789abcdef0123456789abcdef".to_vec()))
        })
        .await
        .unwrap();
    // Second call reads, never makes.
    let again = s
        .instance_secret(&master, "audit-mac-key", || {
            panic!("must not be made twice")
        })
        .await
        .unwrap();
    assert_eq!(*made, *again);
    let stored = s.setting("secret:audit-mac-key").await.unwrap().unwrap();
    assert!(!stored.contains(&hex(b"0123456789abcdef")), "{stored}");
    assert!(!stored.contains("0123456789abcdef"), "{stored}");
    // A wrong master key is refused as such.
    let wrong = s
        .instance_secret(&MasterKey::from_bytes([4; 16]), "audit-mac-key", || {
            panic!("must not be made")
        })
        .await
        .unwrap_err();
    assert!(matches!(wrong, StoreError::WrongMasterKey), "{wrong:?}");
    let new = MasterKey::from_bytes([5; 16]);
    s.rotate_master_key(&master, &new, "admin").await.unwrap();
    let rotated = s
        .instance_secret(&new, "audit-mac-key", || panic!("must not be made"))
        .await
        .unwrap();
    assert_eq!(*rotated, *made);
}

async fn r_7_2_2b_checkpoint_files_are_on_every_replica_and_not_orphans(env: Env) {
    let s = env
        .open_with(vec![
            Replica::local("r0", env.replica_dir(0)).unwrap(),
            Replica::local("r1", env.replica_dir(1)).unwrap(),
        ])
        .await;
    s.put_checkpoint("000000000007-1.json", bytes::Bytes::from_static(b"{}"))
        .await
        .unwrap();
    let mut listed = s.list_checkpoints().await.unwrap();
    listed.sort();
    assert_eq!(
        listed,
        vec![
            ("r0".to_owned(), "000000000007-1.json".to_owned(), 2),
            ("r1".to_owned(), "000000000007-1.json".to_owned(), 2),
        ]
    );
    assert_eq!(
        &s.read_checkpoint("r1", "000000000007-1.json")
            .await
            .unwrap()[..],
        b"{}"
    );
    assert!(
        env.replica_dir(1)
            .join("audit-checkpoints/000000000007-1.json")
            .is_file()
    );
    assert!(s.orphan_blobs().await.unwrap().is_empty());
    for bad in ["../x", "a/b", ".hidden", ""] {
        let e = s
            .put_checkpoint(bad, bytes::Bytes::from_static(b"{}"))
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Invalid { .. }), "{bad}: {e:?}");
    }
    s.close().await;
}

async fn fill(s: &Store, n: usize) {
    for i in 0..n {
        s.append_audit(&AuditEvent {
            actor: "api:lims",
            action: "api.request",
            subject: &format!("req-{i}"),
            details: &json!({"i": i, "path": "/api/v1/certificates", "status": 201}),
        })
        .await
        .unwrap();
    }
}

/// The tamper tests play an attacker with the database owner's rights, who first drops the
/// append-only triggers.
async fn drop_guard(env: &Env) {
    let sql = match env.backend {
        Backend::Sqlite => {
            exec(&env.store, "DROP TRIGGER audit_log_no_update").await;
            "DROP TRIGGER audit_log_no_delete"
        }
        Backend::Postgres => "DROP TRIGGER audit_log_append_only ON audit_log",
    };
    exec(&env.store, sql).await;
}

async fn r_7_2_2b_audit_log_refuses_update_and_delete(env: Env) {
    let s = &env.store;
    fill(s, 3).await;
    for sql in [
        "UPDATE audit_log SET details = '{}' WHERE seq = 2",
        "DELETE FROM audit_log WHERE seq = 3",
    ] {
        let e = sqlx::query(sql).execute(s.pool()).await.unwrap_err();
        assert!(e.to_string().contains("append-only"), "{sql}: {e}");
    }
    assert!(s.verify_audit_chain().await.unwrap().is_ok());
    // Reopening keeps the guard (installed idempotently on every open).
    let again = env
        .open_with(vec![
            ecert_store::Replica::local("r0", env.replica_dir(0)).unwrap(),
        ])
        .await;
    assert!(
        sqlx::query("DELETE FROM audit_log")
            .execute(again.pool())
            .await
            .is_err()
    );
    again.close().await;
}

async fn exec(s: &Store, sql: &str) {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(s.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn fault(s: &Store) -> AuditFault {
    let r = s.verify_audit_chain().await.unwrap();
    r.fault.expect("tampering must be detected")
}

async fn r_7_2_2b_concurrent_appends_form_one_unbroken_chain(env: Env) {
    let s = env.store.clone();
    // Two independent handles (two pools, as two processes would have): serialisation must
    // come from the database, not only from one handle's in-process writer queue.
    let other = env
        .open_with(vec![
            ecert_store::Replica::local("r0", env.replica_dir(0)).unwrap(),
        ])
        .await;
    let mut tasks = Vec::new();
    for t in 0..16 {
        let s = if t % 2 == 0 { s.clone() } else { other.clone() };
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                s.append_audit(&AuditEvent {
                    actor: &format!("writer-{t}"),
                    action: "test.append",
                    subject: &format!("{t}-{i}"),
                    details: &json!({}),
                })
                .await
                .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    other.close().await;
    let r = s.verify_audit_chain().await.unwrap();
    assert!(r.is_ok(), "{:?}", r.fault);
    assert_eq!(r.entries, 400);
    assert_eq!(r.head.seq, 400);
    let all = s.audit_entries(1, 400).await.unwrap();
    assert_eq!(
        all.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=400).collect::<Vec<_>>()
    );
    // No fork: every prev_hash is used exactly once.
    let mut prevs: Vec<&Vec<u8>> = all.iter().map(|e| &e.prev_hash).collect();
    prevs.sort();
    prevs.dedup();
    assert_eq!(prevs.len(), 400);
}

/// `append_audit_batch` writes what single appends would: its own sequence number, hash over
/// the entry before it and MAC for each entry, in order, the returned entries equal to the rows
/// stored — for batches of 1, of more rows than one INSERT takes, and while another handle
/// appends single entries at the same time.
async fn r_7_2_2b_a_batch_is_the_entries_single_appends_would_write(env: Env) {
    let s = keyed(&env, 2, 1).await;
    let mut other = env
        .open_with(vec![
            ecert_store::Replica::local("r0", env.replica_dir(0)).unwrap(),
        ])
        .await;
    assert_eq!(other.enable_audit_mac(key()).await.unwrap(), 3);
    let single = tokio::spawn(async move {
        for i in 0..40 {
            other
                .append_audit(&AuditEvent {
                    actor: "single",
                    action: "test.append",
                    subject: &format!("s-{i}"),
                    details: &json!({ "i": i }),
                })
                .await
                .unwrap();
        }
        other.close().await;
    });
    let details: Vec<serde_json::Value> = (0..150).map(|i| json!({ "n": i })).collect();
    let subjects: Vec<String> = (0..150).map(|i| format!("b-{i}")).collect();
    let mut returned = Vec::new();
    for size in [1, 150, 7] {
        let events: Vec<AuditEvent<'_>> = (0..size)
            .map(|i| AuditEvent {
                actor: "batch",
                action: "verify.upload",
                subject: &subjects[i],
                details: &details[i],
            })
            .collect();
        let entries = s.append_audit_batch(&events).await.unwrap();
        assert_eq!(entries.len(), size);
        // One run of consecutive numbers, in the order given.
        for (i, e) in entries.iter().enumerate() {
            assert_eq!(e.seq, entries[0].seq + i as i64);
            assert_eq!(e.subject, subjects[i]);
            assert!(e.mac.is_some(), "entry {} has no MAC", e.seq);
        }
        returned.extend(entries);
    }
    single.await.unwrap();
    let r = s.verify_audit_chain().await.unwrap();
    assert!(r.is_ok(), "{:?}", r.fault);
    assert_eq!(r.entries, 3 + 40 + 158);
    for e in &returned {
        let stored = s.audit_entries(e.seq, e.seq).await.unwrap();
        assert_eq!(stored.len(), 1);
        let st = &stored[0];
        assert_eq!(
            (
                &st.actor,
                &st.action,
                &st.subject,
                &st.details,
                &st.prev_hash,
                &st.hash,
                &st.mac,
                st.at_ms
            ),
            (
                &e.actor,
                &e.action,
                &e.subject,
                &e.details,
                &e.prev_hash,
                &e.hash,
                &e.mac,
                e.at_ms
            )
        );
        let prev = s.audit_entries(e.seq - 1, e.seq - 1).await.unwrap();
        assert_eq!(
            prev[0].hash, e.prev_hash,
            "entry {} is not chained to its predecessor",
            e.seq
        );
    }
}

async fn r_7_2_2b_edited_entry_is_detected(env: Env) {
    let s = &env.store;
    fill(s, 10).await;
    drop_guard(&env).await;
    assert!(s.verify_audit_chain().await.unwrap().is_ok());
    exec(
        s,
        "UPDATE audit_log SET details = '{\"i\":4,\"status\":200}' WHERE seq = 5",
    )
    .await;
    let f = fault(s).await;
    assert_eq!(
        f,
        AuditFault {
            seq: 5,
            problem: AuditProblem::HashMismatch
        }
    );
    assert!(f.to_string().contains("audit entry 5"), "{f}");
    // Editing the actor or the time is caught just the same.
    exec(s, "UPDATE audit_log SET at = at + 1 WHERE seq = 3").await;
    assert_eq!(fault(s).await.seq, 3);
}

async fn r_7_2_2b_removed_entry_is_detected(env: Env) {
    let s = &env.store;
    fill(s, 10).await;
    drop_guard(&env).await;
    exec(s, "DELETE FROM audit_log WHERE seq = 7").await;
    assert_eq!(
        fault(s).await,
        AuditFault {
            seq: 7,
            problem: AuditProblem::Missing
        }
    );
}

async fn r_7_2_2b_removed_last_entry_is_detected(env: Env) {
    let s = &env.store;
    fill(s, 10).await;
    drop_guard(&env).await;
    exec(s, "DELETE FROM audit_log WHERE seq = 10").await;
    assert_eq!(
        fault(s).await,
        AuditFault {
            seq: 10,
            problem: AuditProblem::Missing
        }
    );
    // Also moving the head back does not hide it: the head's hash is that of entry 10.
    exec(s, "UPDATE audit_head SET seq = 9").await;
    assert_eq!(
        fault(s).await,
        AuditFault {
            seq: 9,
            problem: AuditProblem::HeadMismatch
        }
    );
}

async fn r_7_2_2b_inserted_entries_are_detected(env: Env) {
    let s = &env.store;
    fill(s, 10).await;
    drop_guard(&env).await;
    let e4 = s.audit_entries(4, 4).await.unwrap().remove(0);
    // Beyond the head.
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash) \
         VALUES (11, 0, 'x', 'x', 'x', '{}', $1, $1)",
    )
    .bind(vec![7u8; 32])
    .execute(s.pool())
    .await
    .unwrap();
    assert_eq!(
        fault(s).await,
        AuditFault {
            seq: 11,
            problem: AuditProblem::BeyondHead
        }
    );
    exec(s, "DELETE FROM audit_log WHERE seq = 11").await;
    assert!(s.verify_audit_chain().await.unwrap().is_ok());

    // In the middle, shifting later entries up, with a correctly computed hash for the
    // inserted entry: the link from the next entry breaks.
    exec(s, "UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 5").await;
    exec(s, "UPDATE audit_log SET seq = seq - 999 WHERE seq >= 1000").await;
    let at = e4.at_ms + 1;
    let h = audit_entry_hash(
        &e4.hash,
        5,
        at,
        "mallory",
        "certificate.issue",
        "FAKE-1",
        "{}",
    );
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash) \
         VALUES (5, $1, 'mallory', 'certificate.issue', 'FAKE-1', '{}', $2, $3)",
    )
    .bind(at)
    .bind(e4.hash.clone())
    .bind(h.to_vec())
    .execute(s.pool())
    .await
    .unwrap();
    assert_eq!(
        fault(s).await,
        AuditFault {
            seq: 6,
            problem: AuditProblem::BrokenLink
        }
    );
    // With a made-up hash it is named itself.
    exec(s, "UPDATE audit_log SET subject = 'FAKE-2' WHERE seq = 5").await;
    assert_eq!(
        fault(s).await,
        AuditFault {
            seq: 5,
            problem: AuditProblem::HashMismatch
        }
    );
}

async fn r_7_2_2b_reordered_entries_are_detected(env: Env) {
    let s = &env.store;
    fill(s, 10).await;
    drop_guard(&env).await;
    exec(s, "UPDATE audit_log SET seq = -1 WHERE seq = 3").await;
    exec(s, "UPDATE audit_log SET seq = 3 WHERE seq = 4").await;
    exec(s, "UPDATE audit_log SET seq = 4 WHERE seq = -1").await;
    assert_eq!(
        fault(s).await,
        AuditFault {
            seq: 3,
            problem: AuditProblem::BrokenLink
        }
    );
}

async fn r_7_2_2b_rewritten_chain_is_detected_against_an_anchor(env: Env) {
    let s = &env.store;
    fill(s, 10).await;
    drop_guard(&env).await;
    let anchor = s.audit_head().await.unwrap();
    // An attacker who knows the (public) hash rule rewrites entry 6 and every later hash,
    // and the head.
    let entries = s.audit_entries(1, 10).await.unwrap();
    let mut prev = entries[4].hash.clone();
    for e in &entries[5..] {
        let details = if e.seq == 6 {
            "{\"forged\":true}".to_owned()
        } else {
            e.details.clone()
        };
        let h = audit_entry_hash(
            &prev, e.seq, e.at_ms, &e.actor, &e.action, &e.subject, &details,
        );
        sqlx::query("UPDATE audit_log SET details = $1, prev_hash = $2, hash = $3 WHERE seq = $4")
            .bind(details)
            .bind(prev.clone())
            .bind(h.to_vec())
            .bind(e.seq)
            .execute(s.pool())
            .await
            .unwrap();
        prev = h.to_vec();
    }
    sqlx::query("UPDATE audit_head SET hash = $1")
        .bind(prev)
        .execute(s.pool())
        .await
        .unwrap();
    // The chain alone is consistent (documented limit of an unkeyed chain) …
    assert!(s.verify_audit_chain().await.unwrap().is_ok());
    // … the anchor kept elsewhere is not.
    let r = s.verify_audit_chain_against(&anchor).await.unwrap();
    assert_eq!(
        r.fault,
        Some(AuditFault {
            seq: 10,
            problem: AuditProblem::AnchorMismatch
        })
    );
}

async fn r_7_2_2b_python_hashlib_sm3_recomputes_the_chain(env: Env) {
    let s = &env.store;
    fill(s, 20).await;
    s.append_audit(&AuditEvent {
        actor: "张三",
        action: "seal.use",
        subject: "校准专用章",
        details: &json!({"说明": "中文 details", "n": 1}),
    })
    .await
    .unwrap();
    let entries = s.audit_entries(1, 1000).await.unwrap();
    let dump: Vec<_> = entries
        .iter()
        .map(|e| {
            json!({"seq": e.seq, "at": e.at_ms, "actor": e.actor, "action": e.action,
                   "subject": e.subject, "details": e.details, "prev": hex(&e.prev_hash),
                   "hash": hex(&e.hash)})
        })
        .collect();
    let script = r#"
import hashlib, json, struct, sys
prev = bytes(32)
for e in json.load(sys.stdin):
    assert bytes.fromhex(e["prev"]) == prev, ("link", e["seq"])
    m = hashlib.new("sm3")
    m.update(prev + b"ecert-audit-v1\0" + struct.pack(">qq", e["seq"], e["at"]))
    for f in ("actor", "action", "subject", "details"):
        b = e[f].encode("utf-8")
        m.update(struct.pack(">Q", len(b)) + b)
    assert m.hexdigest() == e["hash"], ("hash", e["seq"])
    prev = bytes.fromhex(e["hash"])
print("ok", prev.hex())
"#;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("this test needs python3 (Debian package python3): {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&dump).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let head = s.audit_head().await.unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        format!("ok {}", hex(&head.hash))
    );
}
