//! Key roll-over: an institute renews its signer key and makes a new seal
//! with the same title once the old seal is retired; the next certificate is sealed with the
//! new seal and what the old seal sealed still verifies. Two active seals with one title are
//! refused. End to end through the binary on a demo instance.

use std::path::Path;
use std::process::{Command, Output};

use ses::demo::{DemoCa, Role};
use ses::pki::Cert;

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");
const TITLE: &str = "示例计量院校准电子证书专用章";

fn ecert(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecert"))
        .arg("--dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("run ecert")
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = ecert(dir, args);
    assert!(
        out.status.success(),
        "ecert {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn write(dir: &Path, name: &str, data: impl AsRef<[u8]>) -> String {
    let p = dir.join(name);
    std::fs::write(&p, data).expect("write");
    p.to_string_lossy().into_owned()
}

/// The id printed by `ecert seal create`: "已创建印章 (seal created): ID  KIND  NAME".
fn created_id(out: &str) -> String {
    out.split("(seal created):")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no seal id in {out:?}"))
        .to_owned()
}

/// `ecert seal list` lines of seals with this title: (id, status).
fn listed(dir: &Path, title: &str) -> Vec<(String, String)> {
    ok(dir, &["seal", "list"])
        .lines()
        .filter(|l| l.ends_with(title))
        .map(|l| {
            let id = l.split_whitespace().next().unwrap_or_default().to_owned();
            let status = if l.contains("在用 (active)") {
                "active"
            } else if l.contains("已停用 (retired)") {
                "retired"
            } else {
                panic!("no status in {l:?}")
            };
            (id, status.to_owned())
        })
        .collect()
}

/// Issues `content` into a fresh folder; returns the file.
fn issue(dir: &Path, content: &str, out: &Path) -> std::path::PathBuf {
    ok(dir, &["issue", content, "-o", &out.to_string_lossy()]);
    let mut files: Vec<_> = std::fs::read_dir(out)
        .expect("out")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "ofd"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.remove(0)
}

/// `ecert verify --json --trust ROOT FILE`.
fn verify(file: &Path, root: &str) -> serde_json::Value {
    let v = Command::new(env!("CARGO_BIN_EXE_ecert"))
        .args(["verify", "--json", "--trust", root])
        .arg(file)
        .output()
        .expect("verify");
    serde_json::from_slice(&v.stdout).expect("verify --json prints JSON")
}

/// Every signature of a passed report: (seal name, seal esID, signer subject).
fn sealed_by(report: &serde_json::Value) -> Vec<(String, String, String)> {
    assert_eq!(report["indication"], "PASSED", "{report:#}");
    let sigs = report["signatures"].as_array().expect("signatures");
    assert!(!sigs.is_empty(), "{report:#}");
    sigs.iter()
        .map(|s| {
            let text = |v: &serde_json::Value| v.as_str().expect("text").to_owned();
            (
                text(&s["seal_name"]),
                text(&s["seal_id"]),
                text(&s["signer"]["subject"]),
            )
        })
        .collect()
}

#[test]
fn a_retired_seal_s_title_goes_to_the_renewed_seal_and_old_certificates_still_verify() {
    let instance = tempfile::tempdir().expect("tempdir");
    let i = instance.path();
    ok(i, &["init", "--demo"]);
    let work = tempfile::tempdir().expect("tempdir");
    let w = work.path();
    let ca = DemoCa::new("本院 CA").expect("ca");
    let maker = ca.issue("本院制章者", Role::SealMaker, 365).expect("maker");
    let mkey = write(w, "mk.pem", maker.key.to_pkcs8_pem().expect("pem"));
    let mcert = write(
        w,
        "mc.pem",
        Cert::from_der(&maker.cert_der).expect("cert").to_pem(),
    );
    let root = write(w, "root.pem", ca.root_cert().expect("root").to_pem());
    // The instance trusts the institute's CA (`[server] trust_roots`): the self-check passes
    // only what chains to one of its roots.
    let config = i.join("ecert.toml");
    let text = std::fs::read_to_string(&config).expect("ecert.toml");
    assert!(text.contains("trust_roots = []"), "{text}");
    std::fs::write(
        &config,
        text.replace("trust_roots = []", &format!("trust_roots = [{root:?}]")),
    )
    .expect("write ecert.toml");
    // The signer's key and certificate of 2025, and the renewed ones.
    let mut signers = Vec::new();
    for who in ["旧签章人", "新签章人"] {
        let s = ca.issue(who, Role::Signer, 365).expect("signer");
        let key = write(
            w,
            &format!("{who}.key.pem"),
            s.key.to_pkcs8_pem().expect("pem"),
        );
        let cert = write(
            w,
            &format!("{who}.cert.pem"),
            Cert::from_der(&s.cert_der).expect("cert").to_pem(),
        );
        signers.push((key, cert));
    }
    let create = |(key, cert): &(String, String)| {
        ecert(
            i,
            &[
                "seal",
                "create",
                "--kind",
                "校准",
                "--title",
                TITLE,
                "--key",
                key,
                "--cert",
                cert,
                "--maker-key",
                &mkey,
                "--maker-cert",
                &mcert,
            ],
        )
    };
    let refused_while_active = |active: &str| {
        let out = create(&signers[1]);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "a second active seal titled {TITLE}");
        assert!(!err.contains("panicked"), "{err}");
        // Chinese first, then English; both name the title and the seal to retire.
        let zh = format!("无法保存印章“{TITLE}”：同名印章 {active} 仍在使用");
        let en = format!(
            "(cannot store the seal “{TITLE}”: the seal {active} with this title is still active"
        );
        let (at_zh, at_en) = (err.find(&zh), err.find(&en));
        assert!(
            matches!((at_zh, at_en), (Some(a), Some(b)) if a < b),
            "expected {zh:?} then {en:?} in:\n{err}"
        );
        assert!(
            err.contains(&format!("ecert seal retire {active}")),
            "{err}"
        );
    };

    // The first seal, and a certificate sealed with it.
    let out = create(&signers[0]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let old = created_id(&String::from_utf8_lossy(&out.stdout));
    let first_dir = tempfile::tempdir().expect("out");
    let first = issue(i, &format!("{EXAMPLES}/calibration.json"), first_dir.path());
    let before = sealed_by(&verify(&first, &root));
    assert!(
        before
            .iter()
            .all(|(name, _, signer)| name.ends_with(TITLE) && signer.contains("旧签章人")),
        "{before:?}"
    );

    // While it is active, its title cannot be given to another seal; nothing is stored.
    refused_while_active(&old);
    assert_eq!(listed(i, TITLE), [(old.clone(), "active".to_owned())]);

    // Retired, its title goes to the seal of the renewed key.
    ok(i, &["seal", "retire", &old, "--by", "张三"]);
    let out = create(&signers[1]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let new = created_id(&String::from_utf8_lossy(&out.stdout));
    assert_ne!(new, old);
    assert_eq!(
        listed(i, TITLE),
        [
            (old.clone(), "retired".to_owned()),
            (new.clone(), "active".to_owned())
        ]
    );
    // The renewed seal is active now: a third one is refused naming it.
    refused_while_active(&new);

    // The next certificate is sealed with the renewed seal: same title, other seal, new signer.
    let mut content: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{EXAMPLES}/calibration.json")).expect("read"),
    )
    .expect("json");
    content["certificateNo"] = "JZ2024-000124".into();
    let second_dir = tempfile::tempdir().expect("out");
    let json = write(second_dir.path(), "second.json", content.to_string());
    let issued_dir = tempfile::tempdir().expect("out");
    let second = issue(i, &json, issued_dir.path());
    let after = sealed_by(&verify(&second, &root));
    assert!(
        after.iter().all(|(name, id, signer)| name.ends_with(TITLE)
            && signer.contains("新签章人")
            && before.iter().all(|(_, old_id, _)| old_id != id)),
        "{after:?} (first certificate: {before:?})"
    );

    // What the retired seal sealed still verifies, as it did, and is still the current record.
    assert_eq!(sealed_by(&verify(&first, &root)), before);
    let show = ok(i, &["show", "JZ2024-000123"]);
    let status: Vec<&str> = show
        .lines()
        .filter_map(|l| l.strip_prefix("状态 (status):"))
        .map(str::trim)
        .collect();
    assert_eq!(status, ["valid"], "{show}");
    ok(i, &["audit", "verify"]);
}
