//! Issue 19, through the issuing service: bidirectional controls, issue dates in the future and
//! certificate numbers outside the character set are refused for certificates, handed-over
//! files and supplements alike, at their JSON pointers, and nothing is stored.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ecert::config::Config;
use ecert::domain::dates::{format_date, latest_issue_date, today_beijing};
use ecert::domain::{ContentErrors, Rule};
use ecert::service::Instance;
use serde_json::{Value, json};

const CALIBRATION: &str = include_str!("../../../examples/calibration.json");

fn with(number: &str, pointer: &str, value: Value) -> String {
    let mut v: Value = serde_json::from_str(CALIBRATION).unwrap();
    v["certificateNo"] = number.into();
    *v.pointer_mut(pointer).expect("pointer") = value;
    v.to_string()
}

fn errors(e: &ecert::service::Error) -> &ContentErrors {
    match e {
        ecert::service::Error::ContentInvalid(c) => c,
        other => panic!("a content error, not {other:?}"),
    }
}

#[test]
fn refused_content_is_never_stored() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let instance = Instance::init(dir.path(), Config::demo()).await.unwrap();
        instance.create_trial_seals().await.unwrap();
        let day_after_tomorrow = {
            let tomorrow = latest_issue_date(today_beijing());
            format_date(latest_issue_date(tomorrow))
        };
        let cases = [
            (
                "BIDI-1",
                "/customer/name",
                json!("示例电子\u{202E}gpj.exe"),
                Rule::Bidi,
            ),
            (
                "BIDI-2",
                "/results/0/rows/0/3",
                json!("1.000\u{2067}02"),
                Rule::Bidi,
            ),
            (
                "FUTURE-1",
                "/issueDate",
                json!(day_after_tomorrow),
                Rule::FutureDate,
            ),
        ];
        for (number, pointer, value, rule) in cases {
            let err = instance
                .issue(
                    &with(number, pointer, value),
                    &ecert::service::Actor::local("test"),
                )
                .await
                .expect_err(number);
            assert!(errors(&err).has(pointer, rule), "{number}: {err:?}");
            assert!(
                instance
                    .certificate_by_number(number)
                    .await
                    .unwrap()
                    .is_none()
            );
        }
        let err = instance
            .issue(
                &with("x", "/certificateNo", json!("JZ/../1")),
                &ecert::service::Actor::local("test"),
            )
            .await
            .expect_err("number with / and ..");
        assert!(errors(&err).has("/certificateNo", Rule::Number), "{err:?}");

        // Handed-over metadata: the same checks on every string, before the file is read.
        let err = instance
            .issue_ofd(
                b"not read",
                &with("HO-BIDI-1", "/instrument/serialNo", json!("SN\u{200F}1")),
                &ecert::service::Actor::local("test"),
            )
            .await
            .expect_err("bidi in handed-over metadata");
        assert!(
            errors(&err).has("/instrument/serialNo", Rule::Bidi),
            "{err:?}"
        );

        // Supplements: bidi in a table cell, a future date, a number outside the set.
        instance
            .issue(
                &with("SUPP-BASE-1", "/remarks", json!([])),
                &ecert::service::Actor::local("test"),
            )
            .await
            .unwrap();
        let supplement = json!({
            "supplementNo": "SUPP/1",
            "issueDate": day_after_tomorrow,
            "reason": "补充",
            "results": [{"columns": ["项目"], "rows": [["\u{2066}x"]]}],
        });
        let err = instance
            .supplement(
                "SUPP-BASE-1",
                &supplement.to_string(),
                &ecert::service::Actor::local("test"),
            )
            .await
            .expect_err("bad supplement");
        let e = errors(&err);
        assert!(e.has("/supplementNo", Rule::Number), "{e}");
        assert!(e.has("/issueDate", Rule::FutureDate), "{e}");
        assert!(e.has("/results/0/rows/0/0", Rule::Bidi), "{e}");
        let base = instance.status_of("SUPP-BASE-1").await.unwrap();
        assert!(base.supplements.is_empty());
    });
}
