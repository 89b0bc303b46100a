//! Batch issuing and scrubbing draw a progress bar on a terminal and none when the output is piped
//! (`script` from util-linux gives the command a pseudo-terminal); it issues `--jobs` files side
//! by side and reports them in the order given.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

const ECERT: &str = env!("CARGO_BIN_EXE_ecert");
const CALIBRATION: &str = include_str!("../../../examples/calibration.json");

fn batch(dir: &Path, prefix: &str, n: usize) -> std::path::PathBuf {
    let folder = dir.join(prefix);
    std::fs::create_dir_all(&folder).unwrap();
    for i in 1..=n {
        let mut v: serde_json::Value = serde_json::from_str(CALIBRATION).unwrap();
        v["certificateNo"] = format!("{prefix}-{i:04}").into();
        std::fs::write(folder.join(format!("c{i:02}.json")), v.to_string()).unwrap();
    }
    folder
}

/// A demo instance in `dir`/inst.
fn demo_instance(dir: &Path) -> std::path::PathBuf {
    let inst = dir.join("inst");
    let ok = Command::new(ECERT)
        .args(["--dir", inst.to_str().unwrap(), "init", "--demo"])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    inst
}

#[test]
fn batch_issue_shows_progress_on_a_terminal_only() {
    let dir = tempfile::tempdir().unwrap();
    let inst = demo_instance(dir.path());

    // On a pseudo-terminal: the bar is drawn and counts up to the batch size.
    let folder = batch(dir.path(), "TTY", 3);
    let typescript = dir.path().join("typescript");
    // One at a time, so that every count is drawn (the bar redraws at most 20 times a second).
    let cmd = format!(
        "{ECERT} --dir {} issue -j 1 {} -o {}",
        inst.display(),
        folder.display(),
        dir.path().join("out").display()
    );
    let out = Command::new("script")
        .args(["-qfec", &cmd, typescript.to_str().unwrap()])
        .output()
        .expect("script (util-linux) is needed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let screen = String::from_utf8_lossy(&std::fs::read(&typescript).unwrap()).into_owned();
    for n in 0..3 {
        assert!(
            screen.contains(&format!("] {n}/3")),
            "no progress {n}/3 on the terminal:\n{screen}"
        );
    }
    assert!(screen.contains("签发 (issuing) ["), "{screen}");
    assert_eq!(
        std::fs::read_dir(dir.path().join("out")).unwrap().count(),
        3
    );

    // R-6.5g: `ecert scrub` draws its bar on a terminal too, then the report with its rates.
    let typescript = dir.path().join("typescript-scrub");
    let cmd = format!("{ECERT} --dir {} scrub", inst.display());
    let out = Command::new("script")
        .args(["-qfec", &cmd, typescript.to_str().unwrap()])
        .output()
        .expect("script (util-linux) is needed");
    let screen = String::from_utf8_lossy(&std::fs::read(&typescript).unwrap()).into_owned();
    assert!(out.status.success(), "{screen}");
    assert!(screen.contains("存储校验 (scrubbing) ["), "{screen}");
    assert!(screen.contains("MB/秒"), "{screen}");
    let piped = Command::new(ECERT)
        .args(["--dir", inst.to_str().unwrap(), "scrub"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&piped.stdout).into_owned()
        + &String::from_utf8_lossy(&piped.stderr);
    assert!(piped.status.success(), "{text}");
    assert!(
        text.contains("问题 0") && text.contains("copies/s"),
        "{text}"
    );
    assert!(!text.contains("存储校验 (scrubbing) ["), "{text}");

    // Piped: the same report, no bar.
    let folder = batch(dir.path(), "PIPE", 3);
    let out = Command::new(ECERT)
        .args(["--dir", inst.to_str().unwrap(), "issue"])
        .arg(&folder)
        .arg("-o")
        .arg(dir.path().join("out2"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("PIPE-0003"), "{all}");
    assert!(
        !all.contains("签发 (issuing) [") && !all.contains("/3 "),
        "{all}"
    );
}

#[test]
fn batch_issue_runs_side_by_side_and_reports_in_file_order() {
    let dir = tempfile::tempdir().unwrap();
    let inst = demo_instance(dir.path());

    // Six files: four good ones, one with invalid content, one repeating an earlier number.
    let folder = batch(dir.path(), "PAR", 6);
    std::fs::write(folder.join("c03.json"), r#"{"typeCode": 2}"#).unwrap();
    let mut dup: serde_json::Value = serde_json::from_str(CALIBRATION).unwrap();
    dup["certificateNo"] = "PAR-0001".into();
    std::fs::write(folder.join("c04.json"), dup.to_string()).unwrap();

    let out_dir = dir.path().join("out");
    let out = Command::new(ECERT)
        .args(["--dir", inst.to_str().unwrap(), "issue", "--jobs", "2"])
        .arg(&folder)
        .arg("-o")
        .arg(&out_dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "two files fail: {stdout}{stderr}");
    assert!(stderr.contains("2/6 份未签发"), "{stderr}");
    // The bad file is named with its problem; the repeated number loses to the earlier file,
    // whichever of the two a job reached first.
    assert!(
        stderr.contains("c03.json") && stderr.contains("/certificateNo"),
        "{stderr}"
    );
    assert!(
        stderr.contains("c04.json") && stderr.contains("证书编号 PAR-0001 与同批的"),
        "{stderr}"
    );
    // Reported in the order of the files, whatever order the jobs finished in.
    let at = |number: &str| {
        stdout
            .find(&format!("证书编号 (number):      {number}"))
            .unwrap_or_else(|| panic!("{number} not reported:\n{stdout}"))
    };
    let order = ["PAR-0001", "PAR-0002", "PAR-0005", "PAR-0006"].map(at);
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{stdout}");
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 4);
    // Every reported certificate is in the store.
    for number in ["PAR-0001", "PAR-0002", "PAR-0005", "PAR-0006"] {
        let show = Command::new(ECERT)
            .args(["--dir", inst.to_str().unwrap(), "show", number])
            .output()
            .unwrap();
        assert!(show.status.success(), "{number}");
    }
    let audit = Command::new(ECERT)
        .args(["--dir", inst.to_str().unwrap(), "audit", "verify"])
        .output()
        .unwrap();
    assert!(
        audit.status.success(),
        "{}",
        String::from_utf8_lossy(&audit.stderr)
    );

    // No jobs at all is refused, naming the option.
    let zero = Command::new(ECERT)
        .args(["--dir", inst.to_str().unwrap(), "issue", "--jobs", "0"])
        .arg(&folder)
        .output()
        .unwrap();
    assert!(!zero.status.success());
    assert!(
        String::from_utf8_lossy(&zero.stderr).contains("--jobs"),
        "{}",
        String::from_utf8_lossy(&zero.stderr)
    );
}
