//! Recovery after a crash (R-5.2.1, R-7.2.2d): idempotency keys that a dead `ecert serve`
//! process left pending are resolved when the next one starts, before it answers requests. A
//! key whose certificate had been committed answers a retry with the issue response and gets
//! its missing `api.exchange` audit entry; a key whose request stored nothing is released.
//!
//! A test binary of its own: recovery takes every foreign pending key for a dead process's,
//! which a shared server running other tests' requests must not see.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod serve_support;

use ecert::service::request::{RequestOrigin, for_request};
use serde_json::Value;
use serve_support::*;

const ISSUE: &str = "/api/v1/certificates";

fn new_content(number: &str) -> String {
    let mut v: Value = serde_json::from_str(CALIBRATION).unwrap();
    v["certificateNo"] = number.into();
    v.to_string()
}

/// SM3 of a request as the API claims its key: scope, newline, body.
fn request_sm3(body: &str) -> [u8; 32] {
    ecert_store::sm3(format!("POST {ISSUE}\n{body}").as_bytes())
}

fn api_to(addr: std::net::SocketAddr, body: &[u8], key: &str) -> Resp {
    api_at(addr, ISSUE, body, key)
}

fn api_at(addr: std::net::SocketAddr, path: &str, body: &[u8], key: &str) -> Resp {
    let h = signed_headers(SECRET, "POST", path, body, now(), &nonce());
    let mut all: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    all.push(("Idempotency-Key", key));
    all.push(("Content-Type", "application/json"));
    request(addr, "POST", path, &all, body)
}

/// The supplements route of the certificate the test issues.
const SUPPLEMENTS: &str = "/api/v1/certificates/JZ-REC-0001/supplements";

#[test]
fn r_5_2_1_keys_of_a_dead_process_are_resolved_at_start_up() {
    let f = fixture();
    let store = store();
    let client = f
        .block(store.api_client_by_name(CLIENT))
        .unwrap()
        .unwrap()
        .id;
    let dead = "deadhost/000000000000000000000000";

    // A process claimed two keys and died: after committing the first one's certificate (its
    // answer never left), and before the second one stored anything.
    let committed_body = new_content("JZ-REC-0001");
    let committed_sm3 = request_sm3(&committed_body);
    let released_body = new_content("JZ-REC-0002");
    let released_sm3 = request_sm3(&released_body);
    // … and a third, a supplement whose file was committed too (its number is made by the
    // service, so a retry that ran again would make a second supplement).
    let supplement_sm3 = ecert_store::sm3(format!("POST {SUPPLEMENTS}\n{SUPPLEMENT}").as_bytes());
    let issued = f.block(async {
        for (key, sm3) in [
            ("rec-committed", &committed_sm3),
            ("rec-nothing", &released_sm3),
            ("rec-supplement", &supplement_sm3),
        ] {
            assert_eq!(
                store
                    .idempotency_begin_as(&client, key, sm3, Some(dead))
                    .await
                    .unwrap(),
                ecert_store::IdempotencyState::New
            );
        }
        let origin = RequestOrigin {
            client_id: client.clone(),
            idempotency_key: "rec-committed".into(),
            request_sm3: ecert_store::hex(&committed_sm3),
        };
        let issued = for_request(
            origin,
            f.instance()
                .issue(&committed_body, &ecert::service::Actor::api_client(CLIENT)),
        )
        .await
        .unwrap();
        let origin = RequestOrigin {
            client_id: client.clone(),
            idempotency_key: "rec-supplement".into(),
            request_sm3: ecert_store::hex(&supplement_sm3),
        };
        for_request(
            origin,
            f.instance().supplement(
                "JZ-REC-0001",
                SUPPLEMENT,
                &ecert::service::Actor::api_client(CLIENT),
            ),
        )
        .await
        .unwrap();
        issued
    });
    let exchanges = |key: &str| -> Vec<Value> {
        f.block(store.audit_entries(1, i64::MAX))
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "api.exchange")
            .map(|e| serde_json::from_str::<Value>(&e.details).unwrap())
            .filter(|d| d["idempotency_key"] == key)
            .collect()
    };
    assert!(exchanges("rec-committed").is_empty());

    // Without recovery, a retry is told "in progress" (the running server does not recover:
    // it started before the crash).
    let before = api_to(f.addr, committed_body.as_bytes(), "rec-committed");
    assert_eq!(before.status, 409, "{}", before.text());
    assert_eq!(before.json()["error"]["code"], "in_progress");

    // The next process starts: it resolves the dead one's keys before serving.
    let addr = f.block(async {
        let app =
            ecert::web::App::new(ecert::service::Instance::open(&f.dir).await.unwrap()).unwrap();
        let done = app.recover_dead_requests().await.unwrap();
        assert_eq!(done.completed, 2, "{done:?}");
        assert_eq!(done.released, 1, "{done:?}");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(ecert::web::serve(app, listener, std::future::pending()));
        addr
    });

    // The committed request: a retry gets the issue answer, nothing is issued twice.
    let count = f.certificate_count();
    let retry = api_to(addr, committed_body.as_bytes(), "rec-committed");
    assert_eq!(retry.status, 201, "{}", retry.text());
    assert_eq!(retry.header("idempotency-replayed"), Some("true"));
    let answer = retry.json();
    assert_eq!(answer["number"], "JZ-REC-0001");
    assert_eq!(answer["id"], issued.record.id.as_str());
    assert_eq!(answer["identifier"], issued.identifier.to_string());
    assert_eq!(answer["verify_url"], issued.verify_url.as_str());
    assert_eq!(answer["check_code"], issued.check_code.to_string());
    assert_eq!(answer["pages"], issued.pages);
    assert_eq!(
        answer["file_sm3"],
        ecert_store::hex(&issued.record.file_sm3)
    );
    assert_eq!(answer["download"], "/api/v1/certificates/JZ-REC-0001/file");
    assert_eq!(f.certificate_count(), count);
    // Its exchange is in the audit log, marked as recovered.
    let logged = exchanges("rec-committed");
    let recovered: Vec<&Value> = logged.iter().filter(|d| d["recovered"] == true).collect();
    assert_eq!(recovered.len(), 1, "{logged:?}");
    assert_eq!(recovered[0]["status"], 201);
    assert_eq!(recovered[0]["path"], ISSUE);
    assert_eq!(recovered[0]["client"], CLIENT);
    assert_eq!(recovered[0]["dead_owner"], dead);
    assert_eq!(recovered[0]["response"], answer);

    // The request that stored nothing: released, so the retry issues (not 409), and its answer
    // has the same shape as the recovered one.
    let fresh = api_to(addr, released_body.as_bytes(), "rec-nothing");
    assert_eq!(fresh.status, 201, "{}", fresh.text());
    assert_eq!(fresh.header("idempotency-replayed"), None);
    let fresh = fresh.json();
    assert_eq!(fresh["number"], "JZ-REC-0002");
    assert_eq!(f.certificate_count(), count + 1);
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&answer), keys(&fresh));
    assert!(
        exchanges("rec-nothing")
            .iter()
            .all(|d| d["recovered"] != true)
    );
    // The supplement: the retry gets the supplement answer; no second supplement.
    let retry = api_at(addr, SUPPLEMENTS, SUPPLEMENT.as_bytes(), "rec-supplement");
    assert_eq!(retry.status, 201, "{}", retry.text());
    assert_eq!(retry.header("idempotency-replayed"), Some("true"));
    let answer = retry.json();
    assert_eq!(answer["supplements"], "JZ-REC-0001");
    assert_eq!(answer["seq"], 1);
    assert!(
        answer["verify_url"].as_str().unwrap().contains("/v/"),
        "{answer}"
    );
    let supplements = f
        .block(f.instance().find_certificate("JZ-REC-0001"))
        .map(|c| f.block(store.supplements_of(&c.id)).unwrap().len())
        .unwrap();
    assert_eq!(supplements, 1, "nothing supplemented twice");
    let logged = exchanges("rec-supplement");
    assert!(
        logged
            .iter()
            .any(|d| d["recovered"] == true && d["path"] == SUPPLEMENTS),
        "{logged:?}"
    );

    // The chain is whole after the recovery's entries.
    assert!(f.block(store.verify_audit_chain()).unwrap().is_ok());
}
