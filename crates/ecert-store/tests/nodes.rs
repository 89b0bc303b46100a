//! What several nodes over one PostgreSQL learn of each other through it: whether a process is
//! alive (its liveness lock), and every change of a certificate when it commits (`NOTIFY`).
//! SQLite (one server) has neither.

#![allow(clippy::unwrap_used)]
#[macro_use]
mod common;

use std::time::{Duration, Instant};

use common::{Backend, Env, cert, file};
use ecert_store::{AuditEvent, Change};
use serde_json::json;

both_backends!(
    r_6_5b_a_process_is_alive_exactly_while_it_holds_its_lock,
    r_6_5b_every_change_of_a_certificate_is_announced_when_it_commits,
);

async fn r_6_5b_a_process_is_alive_exactly_while_it_holds_its_lock(env: Env) {
    let s = &env.store;
    let lock = s.hold_process_lock("node-a:1").await.unwrap();
    if env.backend == Backend::Sqlite {
        assert!(!s.process_alive("node-a:1").await.unwrap(), "one server");
        return;
    }
    assert!(s.process_alive("node-a:1").await.unwrap());
    assert!(!s.process_alive("node-b:1").await.unwrap(), "never started");
    // Looking does not take the lock away.
    assert!(s.process_alive("node-a:1").await.unwrap());
    // The process ends (its connection closes): gone, at once or within moments.
    drop(lock);
    let deadline = Instant::now() + Duration::from_secs(5);
    while s.process_alive("node-a:1").await.unwrap() {
        assert!(Instant::now() < deadline, "still alive 5 s after its end");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn r_6_5b_every_change_of_a_certificate_is_announced_when_it_commits(env: Env) {
    let s = &env.store;
    let Some(mut listener) = s.listen_changes().await.unwrap() else {
        assert_eq!(env.backend, Backend::Sqlite);
        return;
    };
    let c = cert(21);
    s.issue_certificate(&c, file(21, 1000), "u", &json!(null))
        .await
        .unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), listener.next())
        .await
        .expect("announced within 5 s")
        .unwrap();
    assert_eq!(got, Change::Certificate(c.number.clone()));
    // An audit entry that changes no certificate is not announced.
    s.append_audit(&AuditEvent {
        actor: "u",
        action: "verify.upload",
        subject: "x",
        details: &json!(null),
    })
    .await
    .unwrap();
    let quiet = tokio::time::timeout(Duration::from_millis(300), listener.next()).await;
    assert!(quiet.is_err(), "nothing announced: {quiet:?}");
}
