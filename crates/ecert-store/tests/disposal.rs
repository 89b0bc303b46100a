//! Disposal past retention (R-6.5c, R-6.5h, R-6.5i) and supplement tokens, on both
//! backends.

#![allow(clippy::unwrap_used)]
#[macro_use]
mod common;

use common::{Env, cert, file};
use ecert_store::{CertificateStatus, DisposalState, NewSupplement, StoreError};
use serde_json::json;

both_backends!(
    r_6_5c_nothing_within_six_years_is_proposed,
    r_6_5h_r_6_5i_two_people_then_files_destroyed_everywhere,
    r_6_4_2_a_supplement_is_found_by_its_own_token,
);

fn old_cert(n: u32, issued: &str) -> ecert_store::NewCertificate {
    let mut c = cert(n);
    c.issue_date = issued.into();
    c.retention_until = Some(format!(
        "{}{}",
        issued[..4].parse::<i32>().unwrap() + 6,
        &issued[4..]
    ));
    c
}

async fn r_6_5c_nothing_within_six_years_is_proposed(env: Env) {
    let s = &env.store;
    let young = s
        .issue_certificate(&old_cert(1, "2021-06-01"), file(1, 10), "u", &json!(null))
        .await
        .unwrap();
    let old = s
        .issue_certificate(&old_cert(2, "2020-05-31"), file(2, 10), "u", &json!(null))
        .await
        .unwrap();
    // On 2026-06-01 only the certificate of 2020 is past six years.
    let c = s.disposal_candidates("2026-06-01", 6).await.unwrap();
    assert_eq!(
        c.iter().map(|c| &c.number).collect::<Vec<_>>(),
        [&old.number]
    );
    // A configured retention below six years still means six (R-6.5c).
    let c = s.disposal_candidates("2026-06-01", 2).await.unwrap();
    assert_eq!(c.len(), 1);
    // A longer configured retention keeps both.
    assert!(
        s.disposal_candidates("2026-06-01", 10)
            .await
            .unwrap()
            .is_empty()
    );
    let e = s
        .propose_disposal(&young.id, "alice", "2026-06-01", 6)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("retention"), "{e}");
    assert!(s.disposals(None).await.unwrap().is_empty());
}

async fn r_6_5h_r_6_5i_two_people_then_files_destroyed_everywhere(env: Env) {
    let s = &env.store;
    let c = s
        .issue_certificate(&old_cert(1, "2019-01-10"), file(1, 100), "u", &json!(null))
        .await
        .unwrap();
    s.add_supplement(
        &c.id,
        &NewSupplement {
            number: "JZ2026-00001-B1".into(),
            file_name: "补充文件.ofd".into(),
            verify_token: None,
        },
        file(9, 100),
        "u",
        &json!(null),
    )
    .await
    .unwrap();
    assert_eq!(env.blob_files().len(), 4, "two files on two replicas");

    // Not approved: nothing is executed.
    let d = s
        .propose_disposal(&c.id, "alice", "2026-11-26", 6)
        .await
        .unwrap();
    assert_eq!(d.state, DisposalState::Proposed);
    assert!(s.execute_disposal(&c.id, "ops").await.is_err());
    let e = s
        .propose_disposal(&c.id, "bob", "2026-11-26", 6)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("already"), "{e}");
    // The proposer cannot approve.
    let e = s.approve_disposal(&c.id, " Alice ").await.unwrap_err();
    assert!(e.to_string().contains("different person"), "{e}");
    let d = s.approve_disposal(&c.id, "bob").await.unwrap();
    assert_eq!(d.state, DisposalState::Approved);
    assert_eq!(d.approved_by.as_deref(), Some("bob"));
    assert_eq!(env.blob_files().len(), 4, "approval alone destroys nothing");
    // R-6.5i: a second name (hard link) for every stored file's disk blocks, to see what
    // destruction leaves in them.
    let links = env.dir.path().join("links");
    std::fs::create_dir_all(&links).unwrap();
    let mut kept = Vec::new();
    for (n, f) in env.blob_files().iter().enumerate() {
        let (i, rel) = f.split_once('/').unwrap();
        let real = env.replica_dir(i[1..].parse().unwrap()).join(rel);
        let link = links.join(n.to_string());
        std::fs::hard_link(&real, &link).unwrap();
        kept.push((link, std::fs::read(&real).unwrap()));
    }

    let d = s.execute_disposal(&c.id, "ops").await.unwrap();
    assert_eq!(d.state, DisposalState::Executed);
    assert!(env.blob_files().is_empty(), "{:?}", env.blob_files());
    // R-6.5i: the blocks that held each file were overwritten before the file was deleted.
    for (link, before) in &kept {
        let after = std::fs::read(link).unwrap();
        assert_eq!(after.len(), before.len(), "overwritten in place");
        assert_ne!(
            &after,
            before,
            "{} still holds the certificate",
            link.display()
        );
        let same = after.iter().zip(before).filter(|(a, b)| a == b).count();
        assert!(
            same < before.len() / 16,
            "{same} of {} bytes unchanged",
            before.len()
        );
    }
    let rec = s.certificate(&c.id).await.unwrap().unwrap();
    assert_eq!(rec.status, CertificateStatus::Disposed, "the record stays");
    assert!(matches!(
        s.certificate_file(&c.id).await.unwrap_err(),
        StoreError::NoIntactCopy { .. }
    ));
    // Scrub does not report destroyed files as lost; nothing is orphaned.
    let scrub = s.scrub(false).await.unwrap();
    assert!(
        scrub.lost.is_empty() && scrub.problems.is_empty(),
        "{scrub:?}"
    );
    assert!(s.orphan_blobs().await.unwrap().is_empty());
    // Executed once only; the audit chain records all three steps.
    assert!(s.execute_disposal(&c.id, "ops").await.is_err());
    let audit = s.verify_audit_chain().await.unwrap();
    assert!(audit.is_ok());
    let actions: Vec<String> = s
        .audit_entries(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    for a in [
        "disposal.propose",
        "disposal.approve",
        "certificate.dispose",
        "disposal.execute",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
    assert_eq!(
        s.disposals(Some(DisposalState::Executed))
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn r_6_4_2_a_supplement_is_found_by_its_own_token(env: Env) {
    let s = &env.store;
    let c = cert(1);
    let orig = s
        .issue_certificate(&c, file(1, 10), "u", &json!(null))
        .await
        .unwrap();
    let token = "supplement-token-0123456789abcdef";
    let supp = s
        .add_supplement(
            &orig.id,
            &NewSupplement {
                number: "JZ2026-00001-B1".into(),
                file_name: "补充文件.ofd".into(),
                verify_token: Some(token.into()),
            },
            file(2, 10),
            "u",
            &json!(null),
        )
        .await
        .unwrap();
    let (found, view) = s.supplement_by_token(token).await.unwrap().unwrap();
    assert_eq!(found.id, supp.id);
    assert_eq!(view.certificate.id, orig.id);
    assert!(
        s.supplement_by_token("nope-nope-nope-nope-nope")
            .await
            .unwrap()
            .is_none()
    );
    // The original's token cannot be reused for a supplement.
    let e = s
        .add_supplement(
            &orig.id,
            &NewSupplement {
                number: "JZ2026-00001-B2".into(),
                file_name: "补充文件2.ofd".into(),
                verify_token: Some(c.verify_token.clone()),
            },
            file(3, 10),
            "u",
            &json!(null),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::DuplicateToken), "{e}");
}
