//! Issue, revise and supplement on both backends, with the lookups the
//! verification pages and the API use.

#![allow(clippy::unwrap_used)]
#[macro_use]
mod common;

use common::{Env, cert, count, file};
use ecert_store::{
    Access, CertificateQuery, CertificateStatus, NewSupplement, StoreError, sm3, token_hash,
};
use serde_json::json;

both_backends!(
    issue_stores_record_and_file_and_finds_it_by_token_number_and_customer,
    duplicate_number_identifier_and_token_are_refused_before_any_file_is_written,
    concurrent_issues_of_one_number_store_exactly_one,
    r_6_4_1_revision_voids_the_original_atomically_and_names_the_new_number,
    r_6_4_1_a_second_revision_of_a_void_original_is_refused,
    r_6_4_1_concurrent_revisions_of_one_original_only_one_wins,
    r_6_4_2_supplements_bind_to_the_original_in_order,
    r_7_2_3b_downloads_are_logged_with_time_and_identity,
    listing_by_customer_date_status_and_number_prefix_with_pagination,
    disposed_certificates_accept_no_change,
    invalid_input_is_refused_with_the_field_named,
    staging_files_of_killed_writes_are_found_and_removed,
);

/// A write killed between writing a replica's staging file and renaming it leaves
/// `<key>#<n>`: a complete sealed certificate that no record references and that
/// `object_store` never lists. The orphan scan finds it; removal deletes it and nothing else.
async fn staging_files_of_killed_writes_are_found_and_removed(env: Env) {
    let s = &env.store;
    let rec = s
        .issue_certificate(&cert(1), file(1, 1000), "alice", &json!({}))
        .await
        .unwrap();
    let dir = env.replica_dir(1).join("1/2026");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("CAL-X-abc.ofd#7"), b"sealed bytes").unwrap();
    // Not a staging name: `#` followed by something other than digits.
    std::fs::write(dir.join("note#a"), b"x").unwrap();
    let orphans = s.orphan_blobs().await.unwrap();
    let staging: Vec<_> = orphans.iter().filter(|o| o.staging).collect();
    assert_eq!(staging.len(), 1, "{orphans:?}");
    assert_eq!(staging[0].replica, "r1");
    assert_eq!(staging[0].key, "1/2026/CAL-X-abc.ofd#7");
    let removed = s.remove_orphan_blobs(i64::MAX, "ops").await.unwrap();
    assert!(removed.iter().any(|o| o.staging && o.key.ends_with("#7")));
    assert!(!dir.join("CAL-X-abc.ofd#7").exists());
    assert!(s.orphan_blobs().await.unwrap().iter().all(|o| !o.staging));
    // The certificate's own file is untouched.
    assert_eq!(
        s.certificate_file(&rec.id).await.unwrap().bytes,
        file(1, 1000)
    );
}

async fn issue_stores_record_and_file_and_finds_it_by_token_number_and_customer(env: Env) {
    let s = &env.store;
    let new = cert(1);
    let body = file(1, 4096);
    let rec = s
        .issue_certificate(&new, body.clone(), "alice", &json!({"seal": "s1"}))
        .await
        .unwrap();
    assert_eq!(rec.number, new.number);
    assert_eq!(rec.status, CertificateStatus::Valid);
    assert_eq!(rec.file_sm3, sm3(&body), "R-6.5a: SM3 of the file recorded");
    assert_eq!(rec.file_size, 4096);
    assert_eq!(rec.token_hash, token_hash(&new.verify_token));
    assert!(
        rec.blob_key.starts_with("2/2026/JZ2026-00001."),
        "{}",
        rec.blob_key
    );

    // Only the token's hash is stored, never the token.
    let raw: Vec<u8> = {
        use sqlx::Row;
        sqlx::query("SELECT token_hash FROM certificates")
            .fetch_one(s.pool())
            .await
            .unwrap()
            .get("token_hash")
    };
    assert_eq!(raw, token_hash(&new.verify_token).to_vec());
    assert_ne!(raw, new.verify_token.as_bytes());

    let by_token = s.status_by_token(&new.verify_token).await.unwrap().unwrap();
    assert_eq!(by_token.certificate, rec);
    assert!(by_token.replaced_by.is_none() && by_token.supplements.is_empty());
    assert!(
        s.status_by_token("tok-unknown-000000000000000")
            .await
            .unwrap()
            .is_none()
    );

    assert_eq!(
        s.certificate_by_number_and_check_code(&new.number, &new.check_code)
            .await
            .unwrap()
            .unwrap()
            .id,
        rec.id
    );
    assert!(
        s.certificate_by_number_and_check_code(&new.number, "000000")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        s.certificate_by_identifier(&new.identifier)
            .await
            .unwrap()
            .unwrap()
            .id,
        rec.id
    );
    let got = s.certificate_file(&rec.id).await.unwrap();
    assert_eq!(got.bytes, body);
    assert_eq!(got.replica, "r0");
    assert!(got.problems.is_empty());

    // R-7.2.2b: the issuing is in the audit chain with its context.
    let entries = s.audit_entries_for(&new.number).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].action, "certificate.issue");
    assert_eq!(entries[0].actor, "alice");
    let d: serde_json::Value = serde_json::from_str(&entries[0].details).unwrap();
    assert_eq!(d["context"]["seal"], "s1");
    assert_eq!(d["file_sm3"], ecert_store::hex(&sm3(&body)));
    assert!(s.verify_audit_chain().await.unwrap().is_ok());
}

async fn duplicate_number_identifier_and_token_are_refused_before_any_file_is_written(env: Env) {
    let s = &env.store;
    let a = cert(1);
    s.issue_certificate(&a, file(1, 100), "u", &json!(null))
        .await
        .unwrap();
    let files_before = env.blob_files().len();

    let mut dup_number = cert(2);
    dup_number.number = a.number.clone();
    let e = s
        .issue_certificate(&dup_number, file(2, 100), "u", &json!(null))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, StoreError::DuplicateNumber(n) if *n == a.number),
        "{e}"
    );
    assert!(e.to_string().contains("JZ2026-00001"), "{e}");

    let mut dup_ident = cert(3);
    dup_ident.identifier = a.identifier.clone();
    let e = s
        .issue_certificate(&dup_ident, file(3, 100), "u", &json!(null))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::DuplicateIdentifier(_)), "{e}");

    let mut dup_token = cert(4);
    dup_token.verify_token = a.verify_token.clone();
    let e = s
        .issue_certificate(&dup_token, file(4, 100), "u", &json!(null))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::DuplicateToken), "{e}");

    assert_eq!(count(s, "certificates").await, 1);
    assert_eq!(env.blob_files().len(), files_before);
    assert!(s.orphan_blobs().await.unwrap().is_empty());
    assert_eq!(s.audit_head().await.unwrap().seq, 1);
}

async fn r_6_4_1_revision_voids_the_original_atomically_and_names_the_new_number(env: Env) {
    let s = &env.store;
    let a = cert(1);
    let orig = s
        .issue_certificate(&a, file(1, 200), "u", &json!(null))
        .await
        .unwrap();
    let mut b = cert(2);
    b.revision = 1;
    let rev = s
        .revise_certificate(&orig.id, &b, file(2, 300), "u", &json!({"reason": "typo"}))
        .await
        .unwrap();
    assert_eq!(rev.revises.as_deref(), Some(orig.id.as_str()));
    assert_eq!(rev.status, CertificateStatus::Valid);
    assert_eq!(rev.revision, 1);

    let view = s.status_by_token(&a.verify_token).await.unwrap().unwrap();
    assert_eq!(view.certificate.status, CertificateStatus::Revised);
    assert_eq!(
        view.certificate.superseded_by.as_deref(),
        Some(rev.id.as_str())
    );
    // What the page formats into "该证书作废，按照证书修改处置要求，修改后的证书号为{new number}".
    assert_eq!(view.replaced_by.as_ref().unwrap().number, b.number);
    assert!(view.current.is_none());

    // The old file still reads (verification of the void certificate needs it).
    assert_eq!(
        s.certificate_file(&orig.id).await.unwrap().bytes,
        file(1, 200)
    );

    // Revise the revision: the first original's view now also names the current end.
    let mut c = cert(3);
    c.revision = 2;
    let rev2 = s
        .revise_certificate(&rev.id, &c, file(3, 300), "u", &json!(null))
        .await
        .unwrap();
    let view = s.status_by_token(&a.verify_token).await.unwrap().unwrap();
    assert_eq!(view.replaced_by.unwrap().number, b.number);
    assert_eq!(view.current.unwrap().id, rev2.id);
    let view2 = s.status_by_token(&c.verify_token).await.unwrap().unwrap();
    assert_eq!(view2.revises.unwrap().id, rev.id);

    // Revision count must be the original's plus one: checked before anything is written.
    let mut bad = cert(4);
    bad.revision = 1;
    let files_before = env.blob_files().len();
    let e = s
        .revise_certificate(&rev2.id, &bad, file(4, 10), "u", &json!(null))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::RevisionCount {
                expected: 3,
                got: 1,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(env.blob_files().len(), files_before);

    let actions: Vec<String> = s
        .audit_entries(1, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "certificate.issue",
            "certificate.revise",
            "certificate.revise"
        ]
    );
    assert!(s.verify_audit_chain().await.unwrap().is_ok());
}

async fn r_6_4_1_a_second_revision_of_a_void_original_is_refused(env: Env) {
    let s = &env.store;
    let orig = s
        .issue_certificate(&cert(1), file(1, 10), "u", &json!(null))
        .await
        .unwrap();
    let mut b = cert(2);
    b.revision = 1;
    s.revise_certificate(&orig.id, &b, file(2, 10), "u", &json!(null))
        .await
        .unwrap();
    let mut c = cert(3);
    c.revision = 1;
    let files_before = env.blob_files();
    let e = s
        .revise_certificate(&orig.id, &c, file(3, 10), "u", &json!(null))
        .await
        .unwrap_err();
    match &e {
        StoreError::AlreadyRevised {
            number,
            replaced_by,
        } => {
            assert_eq!(number, "JZ2026-00001");
            assert_eq!(replaced_by, "JZ2026-00002");
        }
        other => panic!("expected AlreadyRevised, got {other}"),
    }
    assert!(e.to_string().contains("already revised"), "{e}");
    assert_eq!(env.blob_files(), files_before);
    assert_eq!(count(s, "certificates").await, 2);
    // A supplement to the void original is refused too.
    let e = s
        .add_supplement(
            &orig.id,
            &NewSupplement {
                number: "BC-1".into(),
                file_name: "补充.ofd".into(),
                verify_token: None,
            },
            file(9, 10),
            "u",
            &json!(null),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("void"), "{e}");
}

async fn r_6_4_1_concurrent_revisions_of_one_original_only_one_wins(env: Env) {
    let s = env.store.clone();
    let orig = s
        .issue_certificate(&cert(1), file(1, 10), "u", &json!(null))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..6u32 {
        let s = s.clone();
        let id = orig.id.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = cert(100 + i);
            n.revision = 1;
            s.revise_certificate(&id, &n, file(100 + i, 64), "u", &json!(null))
                .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::AlreadyRevised { .. }) => {}
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(count(&s, "certificates").await, 2);
    // The losers removed their files: no orphans, and every record's file is intact.
    assert!(s.orphan_blobs().await.unwrap().is_empty());
    let scrub = s.scrub(false).await.unwrap();
    assert!(scrub.problems.is_empty(), "{:?}", scrub.problems);
    assert!(s.verify_audit_chain().await.unwrap().is_ok());
}

async fn r_6_4_2_supplements_bind_to_the_original_in_order(env: Env) {
    let s = &env.store;
    let a = cert(1);
    let orig = s
        .issue_certificate(&a, file(1, 10), "u", &json!(null))
        .await
        .unwrap();
    let s1 = s
        .add_supplement(
            &orig.id,
            &NewSupplement {
                number: "JZ2026-00001-B1".into(),
                file_name: "补充文件1.ofd".into(),
                verify_token: None,
            },
            file(11, 500),
            "u",
            &json!(null),
        )
        .await
        .unwrap();
    let s2 = s
        .add_supplement(
            &orig.id,
            &NewSupplement {
                number: "JZ2026-00001-B2".into(),
                file_name: "补充文件2.ofd".into(),
                verify_token: None,
            },
            file(12, 500),
            "u",
            &json!(null),
        )
        .await
        .unwrap();
    assert_eq!((s1.seq, s2.seq), (1, 2));
    assert!(
        s1.blob_key.starts_with("2/2026/JZ2026-00001.s1."),
        "{}",
        s1.blob_key
    );
    let view = s.status_by_token(&a.verify_token).await.unwrap().unwrap();
    assert_eq!(view.certificate.status, CertificateStatus::Supplemented);
    // What the page formats into "对序号为{number}的证书/报告的补充文件", with links.
    let numbers: Vec<&str> = view.supplements.iter().map(|s| s.number.as_str()).collect();
    assert_eq!(numbers, ["JZ2026-00001-B1", "JZ2026-00001-B2"]);
    assert_eq!(
        s.supplement_file(&s2.id).await.unwrap().bytes,
        file(12, 500)
    );
    assert_eq!(
        s.supplement_by_number("JZ2026-00001-B1")
            .await
            .unwrap()
            .unwrap()
            .id,
        s1.id
    );
    // Duplicate supplement number.
    let e = s
        .add_supplement(
            &orig.id,
            &NewSupplement {
                number: "JZ2026-00001-B1".into(),
                file_name: "x.ofd".into(),
                verify_token: None,
            },
            file(13, 5),
            "u",
            &json!(null),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::DuplicateSupplementNumber(_)), "{e}");
    // A supplemented certificate can still be revised.
    let mut b = cert(2);
    b.revision = 1;
    s.revise_certificate(&orig.id, &b, file(2, 10), "u", &json!(null))
        .await
        .unwrap();
    assert_eq!(
        s.certificate(&orig.id).await.unwrap().unwrap().status,
        CertificateStatus::Revised
    );
    assert!(s.orphan_blobs().await.unwrap().is_empty());
}

async fn r_7_2_3b_downloads_are_logged_with_time_and_identity(env: Env) {
    let s = &env.store;
    let orig = s
        .issue_certificate(&cert(1), file(1, 10), "u", &json!(null))
        .await
        .unwrap();
    let sup = s
        .add_supplement(
            &orig.id,
            &NewSupplement {
                number: "B1".into(),
                file_name: "b.ofd".into(),
                verify_token: None,
            },
            file(2, 10),
            "u",
            &json!(null),
        )
        .await
        .unwrap();
    let who = Access {
        who: "customer:13800000000".into(),
        channel: "portal".into(),
        remote: Some("203.0.113.7".into()),
    };
    let f = s.download_certificate(&orig.id, &who).await.unwrap();
    assert_eq!(f.bytes, file(1, 10));
    s.download_supplement(&sup.id, &who).await.unwrap();
    let log = s.downloads_of(&orig.id).await.unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].who, "customer:13800000000");
    assert_eq!(log[0].channel, "portal");
    assert_eq!(log[0].remote.as_deref(), Some("203.0.113.7"));
    assert!(log[0].supplement_id.is_none());
    assert_eq!(log[1].supplement_id.as_deref(), Some(sup.id.as_str()));
    assert!(log[0].at_ms > 1_700_000_000_000);
    // R-6.5d: the access is in the audit chain too.
    let downloads: Vec<_> = s
        .audit_entries(1, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "certificate.download")
        .collect();
    assert_eq!(downloads.len(), 2);
    assert_eq!(downloads[0].actor, "customer:13800000000");
    // Each logged download names its audit entry; the entries' order is the log's order, also
    // for downloads made within the same millisecond.
    let seqs: Vec<_> = log.iter().map(|d| d.audit_seq).collect();
    assert_eq!(
        seqs,
        downloads.iter().map(|e| Some(e.seq)).collect::<Vec<_>>()
    );
    for _ in 0..20 {
        s.download_certificate(&orig.id, &who).await.unwrap();
        s.download_supplement(&sup.id, &who).await.unwrap();
    }
    let log = s.downloads_of(&orig.id).await.unwrap();
    assert_eq!(log.len(), 42);
    for (i, d) in log.iter().enumerate() {
        assert_eq!(
            d.supplement_id.is_some(),
            i % 2 == 1,
            "download {i} out of order"
        );
    }
    assert!(log.windows(2).all(|w| w[0].audit_seq < w[1].audit_seq));
}

async fn listing_by_customer_date_status_and_number_prefix_with_pagination(env: Env) {
    let s = &env.store;
    for i in 1..=12u32 {
        let mut c = cert(i);
        c.issue_date = format!("2026-{:02}-15", (i % 6) + 1);
        if i % 3 == 0 {
            c.customer_name = "另一家公司".into();
        }
        if i > 10 {
            c.number = format!("XY-{i}");
        }
        s.issue_certificate(&c, file(i, 16), "u", &json!(null))
            .await
            .unwrap();
    }
    let all = s
        .list_certificates(&CertificateQuery::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 12);
    assert!(
        all.windows(2)
            .all(|w| (&w[0].issue_date, &w[0].number) < (&w[1].issue_date, &w[1].number))
    );
    let other = s
        .list_certificates(&CertificateQuery {
            customer: Some("另一家公司".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(other.len(), 4);
    let spring = s
        .list_certificates(&CertificateQuery {
            issued_from: Some("2026-03-01".into()),
            issued_to: Some("2026-04-30".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(spring.iter().all(|c| c.issue_date.as_str() >= "2026-03-01" && c.issue_date.as_str() <= "2026-04-30"));
    assert_eq!(spring.len(), 4);
    let xy = s
        .list_certificates(&CertificateQuery {
            number_prefix: Some("XY-".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(xy.len(), 2);
    // Keyset pages of 5 cover everything once, in order.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = s
            .list_certificates(&CertificateQuery {
                after: after.clone(),
                limit: 5,
                ..Default::default()
            })
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        let last = page.last().unwrap();
        after = Some((last.issue_date.clone(), last.number.clone()));
        seen.extend(page.into_iter().map(|c| c.id));
    }
    assert_eq!(seen, all.iter().map(|c| c.id.clone()).collect::<Vec<_>>());
    // R-6.5c/h: certificates whose retention ends before a date.
    s.issue_certificate(
        &{
            let mut c = cert(50);
            c.retention_until = Some("2027-01-01".into());
            c
        },
        file(50, 16),
        "u",
        &json!(null),
    )
    .await
    .unwrap();
    let expiring = s
        .list_certificates(&CertificateQuery {
            retention_before: Some("2030-01-01".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(expiring.len(), 1);
    assert_eq!(expiring[0].number, cert(50).number);
    let valid = s
        .list_certificates(&CertificateQuery {
            status: Some(CertificateStatus::Revised),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(valid.is_empty());
}

async fn disposed_certificates_accept_no_change(env: Env) {
    let s = &env.store;
    let c = s
        .issue_certificate(&cert(1), file(1, 10), "u", &json!(null))
        .await
        .unwrap();
    let d = s
        .mark_disposed(&c.id, "approver", &json!({"proposal": 7}))
        .await
        .unwrap();
    assert_eq!(d.status, CertificateStatus::Disposed);
    let mut b = cert(2);
    b.revision = 1;
    let e = s
        .revise_certificate(&c.id, &b, file(2, 10), "u", &json!(null))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Disposed { .. }), "{e}");
}

async fn invalid_input_is_refused_with_the_field_named(env: Env) {
    let s = &env.store;
    type Breaker = fn(&mut ecert_store::NewCertificate);
    let cases: Vec<(Breaker, &str)> = vec![
        (|c| c.issue_date = "2026-13-01".into(), "issue date"),
        (|c| c.number = " ".into(), "certificate number"),
        (|c| c.verify_token = "short".into(), "verification token"),
        (|c| c.kind = 0, "kind"),
        (|c| c.customer_name = "a\u{0}b".into(), "customer name"),
        (|c| c.revision = 1, "revision"),
    ];
    for (i, (break_it, field)) in cases.into_iter().enumerate() {
        let mut c = cert(i as u32);
        break_it(&mut c);
        let e = s
            .issue_certificate(&c, file(1, 10), "u", &json!(null))
            .await
            .unwrap_err();
        assert!(
            matches!(&e, StoreError::Invalid { field: f, .. } if *f == field),
            "{field}: {e}"
        );
    }
    assert_eq!(count(s, "certificates").await, 0);
    assert!(env.blob_files().is_empty(), "{:?}", env.blob_files());
}

async fn concurrent_issues_of_one_number_store_exactly_one(env: Env) {
    let s = env.store.clone();
    let mut tasks = Vec::new();
    for i in 0..6u32 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut c = cert(100 + i);
            c.number = "JZ2026-RACE".into();
            s.issue_certificate(&c, file(100 + i, 2048), "u", &json!(null))
                .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::DuplicateNumber(n)) => assert_eq!(n, "JZ2026-RACE"),
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(count(&s, "certificates").await, 1);
    assert!(s.orphan_blobs().await.unwrap().is_empty());
    assert_eq!(env.blob_files().len(), 2);
    assert_eq!(s.audit_head().await.unwrap().seq, 1);
}
