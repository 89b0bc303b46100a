//! `ecert seal create` (R-4.2, R-5.2.2), `ecert supplement` refusals (R-6.4.2) and the disposal
//! workflow (R-6.5c, R-6.5h, R-6.5i), end to end through the binary on a demo instance.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ses::demo::{DemoCa, Role};
use ses::pki::Cert;

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");

struct Instance {
    dir: tempfile::TempDir,
}

impl Instance {
    fn new() -> Instance {
        let dir = tempfile::tempdir().expect("tempdir");
        let i = Instance { dir };
        i.ok(&["init", "--demo"]);
        i
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecert"));
        cmd.arg("--dir").arg(self.path()).args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("run ecert")
    }

    fn ok(&self, args: &[&str]) -> String {
        self.ok_env(args, &[])
    }

    fn ok_env(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let out = self.run_env(args, env);
        assert!(
            out.status.success(),
            "ecert {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn fails(&self, args: &[&str], env: &[(&str, &str)], needle: &str) -> String {
        let out = self.run_env(args, env);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "ecert {args:?} should fail");
        assert!(
            err.contains(needle),
            "ecert {args:?}: expected {needle:?} in:\n{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
        err
    }

    fn example(&self, name: &str) -> String {
        format!("{EXAMPLES}/{name}")
    }
}

fn write(dir: &Path, name: &str, data: impl AsRef<[u8]>) -> String {
    let p = dir.join(name);
    std::fs::write(&p, data).expect("write");
    p.to_string_lossy().into_owned()
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

/// Adds `root` to the instance's trust roots (`[server] trust_roots` in ecert.toml).
fn trust(dir: &Path, root: &str) {
    let path = dir.join("ecert.toml");
    let text = std::fs::read_to_string(&path).expect("ecert.toml");
    assert!(text.contains("trust_roots = []"), "{text}");
    std::fs::write(
        &path,
        text.replace("trust_roots = []", &format!("trust_roots = [{root:?}]")),
    )
    .expect("write ecert.toml");
}

fn seal_names(i: &Instance) -> Vec<String> {
    i.ok(&["seal", "list"]).lines().map(str::to_owned).collect()
}

/// R-4.2, R-5.2.2: seals from the institute's own key material — PEM pair and PKCS#12 —
/// with a generated or an imported picture; the next certificate is sealed with the new seal
/// and verifies against the institute's own CA.
#[test]
fn r_4_2_seal_create_from_pem_and_pkcs12() {
    let i = Instance::new();
    let work = tempfile::tempdir().expect("tempdir");
    let w = work.path();
    let ca = DemoCa::new("本院 CA").expect("ca");
    let signer = ca.issue("校准签章人", Role::Signer, 365).expect("signer");
    let maker = ca.issue("本院制章者", Role::SealMaker, 365).expect("maker");
    let key = write(w, "k.pem", signer.key.to_pkcs8_pem().expect("pem"));
    let cert = write(
        w,
        "c.pem",
        Cert::from_der(&signer.cert_der).expect("cert").to_pem(),
    );
    let mkey = write(w, "mk.pem", maker.key.to_pkcs8_pem().expect("pem"));
    let mcert = write(
        w,
        "mc.pem",
        Cert::from_der(&maker.cert_der).expect("cert").to_pem(),
    );
    let before = seal_names(&i).len();
    // The instance trusts the institute's CA, or what its seals seal fails the self-check.
    let root = write(w, "root.pem", ca.root_cert().expect("root").to_pem());
    trust(i.path(), &root);

    // PEM pair with the institute's maker; generated picture.
    let out = i.ok(&[
        "seal",
        "create",
        "--kind",
        "校准",
        "--title",
        "示例计量院校准电子证书专用章",
        "--key",
        &key,
        "--cert",
        &cert,
        "--maker-key",
        &mkey,
        "--maker-cert",
        &mcert,
    ]);
    assert!(out.contains("校准"), "{out}");
    assert_eq!(seal_names(&i).len(), before + 1);

    // The next calibration certificate is sealed with it and verifies against the own CA.
    let certs = tempfile::tempdir().expect("out");
    i.ok(&[
        "issue",
        &i.example("calibration.json"),
        "-o",
        &certs.path().to_string_lossy(),
    ]);
    let file = std::fs::read_dir(certs.path())
        .expect("out")
        .next()
        .expect("a file")
        .expect("entry")
        .path();
    let v = Command::new(env!("CARGO_BIN_EXE_ecert"))
        .args(["verify", "--json", "--trust", &root])
        .arg(&file)
        .output()
        .expect("verify");
    let report: serde_json::Value = serde_json::from_slice(&v.stdout).expect("json");
    assert_eq!(report["indication"], "PASSED", "{report:#}");
    assert!(
        report.to_string().contains("校准签章人"),
        "sealed by the new signer: {report:#}"
    );

    // PKCS#12 (made by OpenSSL), imported picture, trial maker (demo instance).
    openssl(
        w,
        &[
            "pkcs12",
            "-export",
            "-inkey",
            "k.pem",
            "-in",
            "c.pem",
            "-passout",
            "pass:s3cret",
            "-name",
            "sealer",
            "-out",
            "s.p12",
        ],
    );
    let mut png = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png, 64, 64);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let mut wr = enc.write_header().expect("png header");
        let px: Vec<u8> = (0..64 * 64).flat_map(|_| [230u8, 0, 18, 255]).collect();
        wr.write_image_data(&px).expect("png data");
    }
    let image = write(w, "seal.png", &png);
    let p12 = w.join("s.p12").to_string_lossy().into_owned();
    i.ok_env(
        &[
            "seal",
            "create",
            "--kind",
            "检测",
            "--title",
            "示例计量院检测电子证书专用章",
            "--p12",
            &p12,
            "--password-env",
            "SEAL_PW",
            "--image",
            &image,
        ],
        &[("SEAL_PW", "s3cret")],
    );
    assert_eq!(seal_names(&i).len(), before + 2);
    // The same name twice is refused.
    i.fails(
        &[
            "seal",
            "create",
            "--kind",
            "检测",
            "--title",
            "示例计量院检测电子证书专用章",
            "--p12",
            &p12,
            "--password-env",
            "SEAL_PW",
        ],
        &[("SEAL_PW", "s3cret")],
        "无法保存印章",
    );
}

/// Clear errors: wrong PKCS#12 password, key and certificate that do not belong together, an
/// expired certificate, a title without "电子证书" (R-4.2.1), a title of another kind, a picture
/// that is not PNG. Nothing is stored.
#[test]
fn r_4_2_1_seal_create_refuses_bad_material() {
    let i = Instance::new();
    let work = tempfile::tempdir().expect("tempdir");
    let w = work.path();
    let ca = DemoCa::new("本院 CA").expect("ca");
    let signer = ca.issue("签章人", Role::Signer, 365).expect("signer");
    let other = ca.issue("别人", Role::Signer, 365).expect("other");
    let now = ses::pki::now();
    let expired = ca
        .issue_with_validity("过期", Role::Signer, now - 400 * 86_400, now - 86_400)
        .expect("expired");
    let key = write(w, "k.pem", signer.key.to_pkcs8_pem().expect("pem"));
    let cert = write(
        w,
        "c.pem",
        Cert::from_der(&signer.cert_der).expect("c").to_pem(),
    );
    let other_cert = write(
        w,
        "o.pem",
        Cert::from_der(&other.cert_der).expect("c").to_pem(),
    );
    let old_key = write(w, "ek.pem", expired.key.to_pkcs8_pem().expect("pem"));
    let old_cert = write(
        w,
        "ec.pem",
        Cert::from_der(&expired.cert_der).expect("c").to_pem(),
    );
    openssl(
        w,
        &[
            "pkcs12",
            "-export",
            "-inkey",
            "k.pem",
            "-in",
            "c.pem",
            "-passout",
            "pass:right",
            "-out",
            "s.p12",
        ],
    );
    let p12 = w.join("s.p12").to_string_lossy().into_owned();
    let title = "示例市计量测试研究院校准电子证书专用章";
    let before = seal_names(&i);

    i.fails(
        &[
            "seal",
            "create",
            "--kind",
            "校准",
            "--title",
            title,
            "--p12",
            &p12,
            "--password-env",
            "PW",
        ],
        &[("PW", "wrong")],
        "密码错误",
    );
    i.fails(
        &[
            "seal",
            "create",
            "--kind",
            "校准",
            "--title",
            title,
            "--key",
            &key,
            "--cert",
            &other_cert,
        ],
        &[],
        "不匹配",
    );
    i.fails(
        &[
            "seal", "create", "--kind", "校准", "--title", title, "--key", &old_key, "--cert",
            &old_cert,
        ],
        &[],
        "已过期",
    );
    i.fails(
        &[
            "seal",
            "create",
            "--kind",
            "校准",
            "--title",
            "示例市计量测试研究院校准专用章",
            "--key",
            &key,
            "--cert",
            &cert,
        ],
        &[],
        "电子证书",
    );
    i.fails(
        &[
            "seal", "create", "--kind", "检定", "--title", title, "--key", &key, "--cert", &cert,
        ],
        &[],
        "不符",
    );
    let jpeg = write(w, "x.jpg", [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]);
    i.fails(
        &[
            "seal", "create", "--kind", "校准", "--title", title, "--key", &key, "--cert", &cert,
            "--image", &jpeg,
        ],
        &[],
        "PNG",
    );
    assert_eq!(seal_names(&i), before, "nothing stored");
}

/// R-6.4.2: a supplement to an unknown, a void (revised) certificate, or with bad content is
/// refused with a clear message and nothing is stored.
#[test]
fn r_6_4_2_supplement_refusals() {
    let i = Instance::new();
    let out = tempfile::tempdir().expect("out");
    let o = out.path().to_string_lossy().into_owned();
    i.ok(&["issue", &i.example("verification.json"), "-o", &o]);
    let supp = i.example("supplement.json");
    i.fails(
        &["supplement", "NOPE-1", &supp, "-o", &o],
        &[],
        "找不到证书",
    );
    let bad = write(out.path(), "bad.json", r#"{"reason": "", "items": []}"#);
    i.fails(
        &["supplement", "JD2024-000456", &bad, "-o", &o],
        &[],
        "/reason",
    );
    // Revise, then the void original takes no supplement.
    let mut revised: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(i.example("verification.json")).expect("read"),
    )
    .expect("json");
    revised["certificateNo"] = "JD2024-000999".into();
    let rev = write(out.path(), "rev.json", revised.to_string());
    i.ok(&["revise", "JD2024-000456", &rev, "-o", &o]);
    i.fails(
        &["supplement", "JD2024-000456", &supp, "-o", &o],
        &[],
        "修改后的证书号为JD2024-000999",
    );
    // The current one takes it; twice gives two numbers.
    let a = i.ok(&["supplement", "JD2024-000999", &supp, "-o", &o]);
    assert!(a.contains("JD2024-000999-BC1"), "{a}");
    assert!(
        a.contains("对序号为JD2024-000999的证书/报告的补充文件"),
        "{a}"
    );
    let b = i.ok(&["supplement", "JD2024-000999", &supp, "-o", &o]);
    assert!(b.contains("JD2024-000999-BC2"), "{b}");
    let show = i.ok(&["show", "JD2024-000999"]);
    assert!(
        show.contains("JD2024-000999-BC1") && show.contains("JD2024-000999-BC2"),
        "{show}"
    );
    i.ok(&["audit", "verify"]);
}

/// The certificate files on a replica (not the audit checkpoints beside them).
fn blob_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n == "audit-checkpoints") {
                    continue;
                }
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// R-6.5c, R-6.5h, R-6.5i: nothing younger than six years is proposed; the proposer cannot
/// approve; only approved disposals are executed; the files are gone from both replicas; the
/// record stays and says exactly "超过存储期限，不提供真伪验证"; the audit chain holds.
#[test]
fn r_6_5h_disposal_needs_two_people_and_destroys_every_copy() {
    let i = Instance::new();
    let out = tempfile::tempdir().expect("out");
    let o = out.path().to_string_lossy().into_owned();
    i.ok(&["issue", &i.example("calibration.json"), "-o", &o]); // issued 2024-03-08
    i.ok(&["issue", &i.example("verification-notice.json"), "-o", &o]); // 2024-04-03
    i.ok(&[
        "supplement",
        "JZ2024-000123",
        &i.example("supplement.json"),
        "-o",
        &o,
    ]);
    let replicas = [
        i.path().join("data/replica-a"),
        i.path().join("data/replica-b"),
    ];
    let count = || replicas.iter().map(|r| blob_files(r).len()).sum::<usize>();
    assert_eq!(count(), 6, "three files on two replicas");

    // Within six years: nothing.
    let p = i.ok(&[
        "dispose",
        "propose",
        "--by",
        "张三",
        "--as-of",
        "2030-03-07",
    ]);
    assert!(p.contains("0 份"), "{p}");
    // One day after six years for the first, not yet for the second.
    let p = i.ok(&[
        "dispose",
        "propose",
        "--by",
        "张三",
        "--as-of",
        "2030-03-08",
    ]);
    assert!(
        p.contains("JZ2024-000123") && !p.contains("JT2024-000077"),
        "{p}"
    );
    // Not approved: execute does nothing.
    let e = i.ok(&["dispose", "execute", "--by", "运维"]);
    assert!(e.contains("no approved"), "{e}");
    assert_eq!(count(), 6);
    i.fails(
        &["dispose", "approve", "JZ2024-000123", "--by", "张三"],
        &[],
        "different person",
    );
    i.ok(&["dispose", "approve", "JZ2024-000123", "--by", "李四"]);
    let e = i.ok(&["dispose", "execute", "--by", "运维"]);
    assert!(e.contains("JZ2024-000123"), "{e}");
    assert_eq!(count(), 2, "only the notice's copies remain");

    let show = i.ok(&["show", "JZ2024-000123"]);
    assert!(show.contains("disposed"), "{show}");
    let notices: Vec<&str> = show
        .lines()
        .filter_map(|l| l.split("提示 (notice):").nth(1))
        .map(str::trim)
        .collect();
    assert_eq!(notices, ["超过存储期限，不提供真伪验证"], "{show}");
    let list = i.ok(&["dispose", "list"]);
    assert!(
        list.contains("executed") && list.contains("张三") && list.contains("李四"),
        "{list}"
    );
    // A disposed certificate takes no supplement.
    i.fails(
        &[
            "supplement",
            "JZ2024-000123",
            &i.example("supplement.json"),
            "-o",
            &o,
        ],
        &[],
        "超过存储期限",
    );
    i.ok(&["audit", "verify"]);
}

/// `ecert issue --template`: a shipped template by name, an institute's own `.typ` file (it may
/// use the shipped helpers) declaring the kinds it serves, several files in one run; a template
/// of another kind than the certificate (R-4.3.1), one that declares no kind, one that breaks
/// R-4.3.6 and an unknown name are refused, and nothing is stored.
#[test]
fn r_4_3_1_issue_with_a_chosen_template() {
    let i = Instance::new();
    let out = tempfile::tempdir().expect("out");
    let o = out.path().to_string_lossy().into_owned();
    let a = i.ok(&[
        "issue",
        &i.example("energy-label.json"),
        "--template",
        "report",
        "-o",
        &o,
    ]);
    assert!(a.contains("NX2024-000008"), "{a}");
    // A calibration certificate is not laid out with the report template: refused, naming
    // both, nothing stored.
    let err = i.fails(
        &[
            "issue",
            &i.example("calibration.json"),
            "--template",
            "report",
            "-o",
            &o,
        ],
        &[],
        "模板“report”不用于校准证书（类型代码 7）",
    );
    assert!(err.contains("4 型式评价报告"), "{err}");
    i.fails(&["show", "JZ2024-000123"], &[], "找不到证书");
    let own = write(
        out.path(),
        "own.typ",
        "// 本院检定证书模板\n// ecert: kinds = 1, 2\n#import \"/ecert.typ\": certificate\n#certificate(json(\"/data.json\"), json(\"/ecert.json\"), kind: \"verification\")\n",
    );
    // Two files in one run, with the institute's own template.
    let b = i.ok(&[
        "issue",
        &i.example("verification.json"),
        &i.example("verification-notice.json"),
        "--template",
        &own,
        "-o",
        &o,
    ]);
    assert!(
        b.contains("JD2024-000456") && b.contains("JT2024-000077"),
        "{b}"
    );
    // The same template without its declaration serves no kind.
    let undeclared = write(
        out.path(),
        "undeclared.typ",
        "#import \"/ecert.typ\": certificate\n#certificate(json(\"/data.json\"), json(\"/ecert.json\"), kind: \"verification\")\n",
    );
    i.fails(
        &[
            "issue",
            &i.example("arbitration-verification.json"),
            "--template",
            &undeclared,
            "-o",
            &o,
        ],
        &[],
        "模板未声明所用的证书类型",
    );
    i.fails(&["show", "ZJ2024-000012"], &[], "找不到证书");
    let malformed = write(out.path(), "malformed.typ", "// ecert: kinds = 9\n= x\n");
    i.fails(
        &[
            "issue",
            &i.example("other-report.json"),
            "--template",
            &malformed,
            "-o",
            &o,
        ],
        &[],
        "ecert: kinds",
    );
    let bad = write(
        out.path(),
        "bad.typ",
        "// ecert: kinds = 8\n#set page(paper: \"a4\")\n= 没有电子证书声明\n",
    );
    i.fails(
        &[
            "issue",
            &i.example("other-report.json"),
            "--template",
            &bad,
            "-o",
            &o,
        ],
        &[],
        "R-4.3",
    );
    i.fails(
        &[
            "issue",
            &i.example("other-report.json"),
            "--template",
            "nope",
            "-o",
            &o,
        ],
        &[],
        "模板",
    );
    let show = i.run_env(&["show", "QT2024-000003"], &[]);
    assert!(
        !show.status.success(),
        "nothing stored for the refused template"
    );
}

/// R-5.2.2 seal maintenance: a retired seal is listed as retired and seals nothing more (the
/// next certificate of its kind is refused when no other seal of the kind is active, and
/// nothing is stored); certificates it sealed before still verify; retiring is audited.
#[test]
fn r_5_2_2_a_retired_seal_seals_nothing() {
    let i = Instance::new();
    let out = tempfile::tempdir().expect("out");
    let o = out.path().to_string_lossy().into_owned();
    i.ok(&["issue", &i.example("calibration.json"), "-o", &o]);
    let first = std::fs::read_dir(out.path())
        .expect("out")
        .next()
        .expect("a file")
        .expect("entry")
        .path();
    let line = seal_names(&i)
        .into_iter()
        .find(|l| l.contains("  校准  "))
        .expect("a calibration seal");
    assert!(line.contains("在用 (active)"), "{line}");
    let id = line.split_whitespace().next().expect("id").to_owned();

    i.fails(&["seal", "retire", &id], &[], "--by");
    i.fails(
        &["seal", "retire", "no-such-seal", "--by", "王五"],
        &[],
        "no such seal",
    );
    let said = i.ok(&["seal", "retire", &id, "--by", "王五"]);
    assert!(said.contains("已停用印章"), "{said}");
    let line = seal_names(&i)
        .into_iter()
        .find(|l| l.starts_with(&id))
        .expect("still listed");
    assert!(line.contains("已停用 (retired)"), "{line}");
    i.fails(
        &["seal", "retire", &id, "--by", "王五"],
        &[],
        "already retired",
    );

    // The next calibration certificate has no seal: refused, nothing stored.
    let mut v: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(i.example("calibration.json")).expect("example"),
    )
    .expect("json");
    v["certificateNo"] = "JZ-RETIRED-0001".into();
    let content = out.path().join("next.json");
    std::fs::write(&content, v.to_string()).expect("write");
    i.fails(
        &["issue", &content.to_string_lossy(), "-o", &o],
        &[],
        "印章库中没有校准",
    );
    i.fails(&["show", "JZ-RETIRED-0001"], &[], "找不到证书");
    // What it sealed before still verifies; the retirement is in the audit chain.
    let root = i.path().join("trial-ca/root.pem");
    i.ok(&[
        "verify",
        "--trust",
        &root.to_string_lossy(),
        &first.to_string_lossy(),
    ]);
    i.ok(&["audit", "verify"]);
}
