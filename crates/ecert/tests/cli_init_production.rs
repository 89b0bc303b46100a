//! From nothing to a production instance: `ecert init` from flags or from an ecert.toml
//! written by hand, the master key made owner-only, `ecert config check` naming every
//! problem at once, seal material from a CA made by OpenSSL (SM2) imported with
//! `ecert seal create` (material from another CA refused), and a certificate that
//! `ecert verify --trust ca.pem` passes.

mod ntp_support;

use std::path::Path;
use std::process::{Command, Output};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");
const DISTID: &str = "distid:1234567812345678";

fn ecert(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecert"))
        .env_remove("ECERT_DIR")
        .arg("--dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("run ecert")
}

fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = ecert(dir, args);
    assert!(out.status.success(), "ecert {args:?}:\n{}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl is required (apt-get install openssl)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An SM2 root CA made by OpenSSL (`NAME-ca.key`, `NAME-ca.pem`) and, signed by it, a signer
/// and a seal maker (`NAME-signer.*`, `NAME-maker.*`).
fn openssl_ca(dir: &Path, name: &str) {
    let ca_key = format!("{name}-ca.key");
    let ca_pem = format!("{name}-ca.pem");
    openssl(dir, &["genpkey", "-algorithm", "SM2", "-out", &ca_key]);
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-x509",
            "-key",
            &ca_key,
            "-sm3",
            "-sigopt",
            DISTID,
            "-subj",
            &format!("/CN={name} Root CA/O={name}"),
            "-days",
            "3650",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-out",
            &ca_pem,
        ],
    );
    for role in ["signer", "maker"] {
        let key = format!("{name}-{role}.key");
        let csr = format!("{name}-{role}.csr");
        let pem = format!("{name}-{role}.pem");
        let ext = format!("{name}-{role}.ext");
        std::fs::write(
            dir.join(&ext),
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n",
        )
        .expect("ext");
        openssl(dir, &["genpkey", "-algorithm", "SM2", "-out", &key]);
        openssl(
            dir,
            &[
                "req",
                "-new",
                "-key",
                &key,
                "-sm3",
                "-sigopt",
                DISTID,
                "-subj",
                &format!("/CN={name} {role}/O={name}"),
                "-out",
                &csr,
            ],
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                &ca_pem,
                "-CAkey",
                &ca_key,
                "-CAcreateserial",
                "-sm3",
                "-sigopt",
                DISTID,
                "-vfyopt",
                DISTID,
                "-days",
                "365",
                "-extfile",
                &ext,
                "-out",
                &pem,
            ],
        );
    }
}

fn seal_create(inst: &Path, work: &Path, ca: &str) -> Output {
    let f = |s: &str| {
        work.join(format!("{ca}-{s}"))
            .to_string_lossy()
            .into_owned()
    };
    ecert(
        inst,
        &[
            "seal",
            "create",
            "--kind",
            "校准",
            "--title",
            "示例市计量测试研究院校准电子证书专用章",
            "--key",
            &f("signer.key"),
            "--cert",
            &f("signer.pem"),
            "--maker-key",
            &f("maker.key"),
            "--maker-cert",
            &f("maker.pem"),
        ],
    )
}

/// `ecert init` without `--demo` and without the flags names every missing flag at once.
#[test]
fn init_without_flags_names_every_missing_one() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = ecert(dir.path(), &["init"]);
    assert!(!out.status.success());
    let said = text(&out);
    for flag in [
        "--name",
        "--org-code",
        "--root-oid",
        "--base-url",
        "--accreditation",
    ] {
        assert!(said.contains(flag), "{flag} not named: {said}");
    }
    assert!(said.contains("docs/setup.md"), "{said}");
    assert!(!dir.path().join("ecert.toml").exists(), "nothing written");
}

/// The whole path: init from flags (key 0600), config check, seal from an OpenSSL CA (another
/// CA's material refused, naming the problem), a certificate that `ecert verify --trust
/// ca.pem` passes.
#[test]
fn a_production_instance_from_scratch_issues_what_verify_trust_ca_passes() {
    let work = tempfile::tempdir().expect("tmp");
    let w = work.path();
    openssl_ca(w, "inst");
    openssl_ca(w, "other");
    let inst = w.join("instance");
    let ca = w.join("inst-ca.pem").to_string_lossy().into_owned();
    let said = ok(
        &inst,
        &[
            "init",
            "--name",
            "示例市计量测试研究院",
            "--address",
            "江苏省苏州市示例区计量路1号",
            "--phone",
            "0512-00000000",
            "--org-code",
            "123456788",
            "--accreditation",
            "CNAS L12345",
            "--root-oid",
            "1.2.156.3001.1",
            "--base-url",
            "https://verify.example.org",
            "--trust-root",
            &ca,
        ],
    );
    let key = inst.join("data/master.key");
    assert!(said.contains(&key.display().to_string()), "{said}");
    assert!(said.contains("备份") && said.contains("back"), "{said}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).expect("key").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the master key is owner-only");
    }
    let config = std::fs::read_to_string(inst.join("ecert.toml")).expect("config");
    assert!(config.contains("demo = false"), "{config}");
    assert!(config.contains("1.2.156.3001.1"), "{config}");
    ok(&inst, &["config", "check"]);
    // A second init into the same folder changes nothing.
    let again = ecert(&inst, &["init", "--name", "x"]);
    assert!(!again.status.success());

    // Seal material of a CA the instance does not trust is refused, naming the certificate.
    let out = seal_create(&inst, w, "other");
    assert!(!out.status.success());
    let said = text(&out);
    assert!(
        said.contains("trust_roots") && said.contains("other signer"),
        "{said}"
    );
    assert!(
        ok(&inst, &["seal", "list"]).trim().is_empty(),
        "nothing stored"
    );

    // R-7.2.2a: a production instance seals only on a time traced by NTP (here a chrony on
    // loopback standing in for NTSC's servers).
    let ntp = ntp_support::chrony(None);
    let config = std::fs::read_to_string(inst.join("ecert.toml")).expect("config");
    assert!(
        config.contains("\n[time]\n"),
        "init writes the [time] section: {config}"
    );
    let config = config.replace(
        "\n[time]\n",
        &format!("\n[time]\nservers = [\"127.0.0.1:{}\"]\n", ntp.port),
    );
    std::fs::write(inst.join("ecert.toml"), config).expect("config");
    ok(&inst, &["config", "check"]);
    assert!(ok(&inst, &["time", "status"]).contains("可以签章"));

    // The institute's own CA: the seal is made, a certificate issued, and it verifies.
    let out = seal_create(&inst, w, "inst");
    assert!(out.status.success(), "{}", text(&out));
    let certs = w.join("certs");
    let certs_s = certs.to_string_lossy().into_owned();
    ok(
        &inst,
        &[
            "issue",
            &format!("{EXAMPLES}/calibration.json"),
            "-o",
            &certs_s,
        ],
    );
    let file = std::fs::read_dir(&certs)
        .expect("certs")
        .next()
        .expect("a file")
        .expect("entry")
        .path();
    let v = Command::new(env!("CARGO_BIN_EXE_ecert"))
        .env_remove("ECERT_DIR")
        .args(["verify", "--trust", &ca])
        .arg(&file)
        .output()
        .expect("verify");
    assert_eq!(v.status.code(), Some(0), "PASSED: {}", text(&v));
    assert!(text(&v).contains("PASSED"), "{}", text(&v));
}

/// An ecert.toml written by hand: `ecert init` makes the master key and the database; a
/// master key given in an environment variable is the one written.
#[test]
fn init_uses_a_hand_written_config_and_a_given_key() {
    let work = tempfile::tempdir().expect("tmp");
    let w = work.path();
    openssl_ca(w, "inst");
    let inst = w.join("instance");
    std::fs::create_dir_all(&inst).expect("dir");
    std::fs::write(
        inst.join("ecert.toml"),
        format!(
            r#"[instance]
base_url = "https://verify.example.org"
root_oid = "1.2.156.3001.1"

[institute]
name = "示例市计量测试研究院"
org_code = "123456788"
accreditations = ["CNAS L12345"]

[storage]
database = "sqlite://data/ecert.db"
replicas = ["data/replica-a", "data/replica-b"]
master_key_file = "data/master.key"

[server]
trust_roots = [{:?}]
"#,
            w.join("inst-ca.pem")
        ),
    )
    .expect("write");
    let key = "00112233445566778899aabbccddeeff";
    let out = Command::new(env!("CARGO_BIN_EXE_ecert"))
        .env_remove("ECERT_DIR")
        .env("MY_KEY", key)
        .arg("--dir")
        .arg(&inst)
        .args(["init", "--master-key-env", "MY_KEY"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(inst.join("data/master.key"))
            .expect("key")
            .trim(),
        key
    );
    ok(&inst, &["config", "check"]);
    let out = seal_create(&inst, w, "inst");
    assert!(out.status.success(), "{}", text(&out));
}

/// `ecert config check` names every problem at once, each with its key: unknown and missing
/// keys, a value of the wrong type, refused values, a missing trust root file, a master key
/// readable by others.
#[test]
fn config_check_names_every_problem_with_its_key() {
    let dir = tempfile::tempdir().expect("tmp");
    let inst = dir.path();
    std::fs::create_dir_all(inst.join("data")).expect("dir");
    std::fs::write(
        inst.join("data/master.key"),
        "00112233445566778899aabbccddeeff",
    )
    .expect("key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            inst.join("data/master.key"),
            std::fs::Permissions::from_mode(0o644),
        )
        .expect("chmod");
    }
    std::fs::write(
        inst.join("ecert.toml"),
        r#"[instance]
base_url = "ftp://verify.example.org"
root_oid = "1.2.156.3001.1"
retention_years = 3
colour = "red"

[institute]
name = "示例市计量测试研究院"
accreditations = ["CNAS L12345"]

[storage]
database = "sqlite://data/ecert.db"
replicas = ["data/replica-a"]
master_key_file = "data/master.key"

[server]
trust_roots = ["missing-ca.pem"]
preview_dpi = "high"
"#,
    )
    .expect("write");
    let out = ecert(inst, &["config", "check"]);
    assert!(!out.status.success());
    let said = text(&out);
    for key in [
        "instance.colour",
        "institute.org_code",
        "server.preview_dpi",
        "instance.retention_years",
        "storage.replicas",
        "instance.base_url",
        "server.trust_roots",
        "storage.master_key_file",
    ] {
        assert!(
            said.lines()
                .any(|l| l.trim_start().starts_with(&format!("{key}:"))),
            "{key} not named:\n{said}"
        );
    }
    // The stand-in for the missing org_code is not judged.
    assert_eq!(
        said.lines()
            .filter(|l| l.trim_start().starts_with("institute"))
            .count(),
        1,
        "{said}"
    );
}
