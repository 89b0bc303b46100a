//! Batch issuing draws a progress bar on a terminal and none when the output is piped
//! (`script` from util-linux gives the command a pseudo-terminal).
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

#[test]
fn batch_issue_shows_progress_on_a_terminal_only() {
    let dir = tempfile::tempdir().unwrap();
    let inst = dir.path().join("inst");
    let ok = Command::new(ECERT)
        .args(["--dir", inst.to_str().unwrap(), "init", "--demo"])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    // On a pseudo-terminal: the bar is drawn and counts up to the batch size.
    let folder = batch(dir.path(), "TTY", 3);
    let typescript = dir.path().join("typescript");
    let cmd = format!(
        "{ECERT} --dir {} issue {} -o {}",
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
