//! `ecert demo` never removes what it did not write: a folder that is not empty is refused
//! unless it holds the manifest of an earlier demo, and then, with `--yes`, only the files the
//! manifest lists go; everything else in the folder stays.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ecert() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ecert"));
    c.env_remove("ECERT_DIR");
    c
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ecert-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("tmp");
    dir
}

fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A folder named by `ECERT_DIR` whose ecert.toml says `demo = true`, with a file of the
/// user's beside it: the demo refuses and leaves both (it used to remove the whole folder).
#[test]
fn a_demo_config_without_manifest_is_refused_and_nothing_is_removed() {
    let dir = tmp("demo-foreign");
    let config = "[instance]\ndemo = true\nbase_url = \"http://127.0.0.1:8080\"\nroot_oid = \"1.3.6.1.4.1.32473.1\"\n";
    std::fs::write(dir.join("ecert.toml"), config).expect("write");
    std::fs::write(dir.join("notes.txt"), "mine").expect("write");
    for yes in [false, true] {
        let mut cmd = ecert();
        cmd.env("ECERT_DIR", &dir).arg("demo");
        if yes {
            cmd.arg("--yes");
        }
        let out = cmd.output().expect("run");
        assert!(!out.status.success(), "{}", text(&out));
        assert!(
            text(&out).contains("ecert-demo.manifest") && text(&out).contains("未做任何改动"),
            "{}",
            text(&out)
        );
        assert_eq!(read(&dir.join("notes.txt")), "mine");
        assert_eq!(read(&dir.join("ecert.toml")), config);
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// A manifest line that leads out of the folder is refused before anything is removed.
#[test]
fn a_manifest_naming_files_outside_the_folder_is_refused() {
    let dir = tmp("demo-escape");
    let outside = dir.with_extension("outside.txt");
    std::fs::write(&outside, "outside").expect("write");
    std::fs::write(dir.join("ecert.toml"), "x").expect("write");
    std::fs::write(
        dir.join("ecert-demo.manifest"),
        format!(
            "ecert.toml\n../{}\n",
            outside.file_name().expect("name").to_string_lossy()
        ),
    )
    .expect("write");
    let out = ecert()
        .args(["demo", "--yes", "--dir"])
        .arg(&dir)
        .output()
        .expect("run");
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("不是本目录内的文件"), "{}", text(&out));
    assert_eq!(read(&outside), "outside");
    assert_eq!(read(&dir.join("ecert.toml")), "x");
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_file(&outside).ok();
}

/// A demo writes its manifest; a second run without `--yes` changes nothing; with `--yes` it
/// removes only the listed files and runs again, the user's files (beside and inside the demo's
/// folders) untouched and out of the new manifest.
#[test]
fn a_second_demo_removes_only_the_files_of_the_first() {
    let dir = tmp("demo-again");
    let dir = dir.join("demo");
    let out = ecert()
        .args(["demo", "--dir"])
        .arg(&dir)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", text(&out));
    // The revised certificate's own URL is printed with the revision.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let revision = stdout
        .split("修改 (revision):")
        .nth(1)
        .expect("the revision is printed");
    let url = revision
        .lines()
        .take(5)
        .find_map(|l| l.split("验证网址 (URL):").nth(1))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no URL printed with the revision:\n{stdout}"));
    assert!(url.starts_with("http://127.0.0.1:8080/v/"), "{url}");
    let manifest = read(&dir.join("ecert-demo.manifest"));
    let listed: Vec<&str> = manifest.lines().filter(|l| !l.starts_with('#')).collect();
    assert!(listed.contains(&"ecert.toml"), "{manifest}");
    assert!(listed.contains(&"trial-ca/root.pem"), "{manifest}");
    assert!(
        listed
            .iter()
            .filter(|l| l.starts_with("certificates/") && l.ends_with(".ofd"))
            .count()
            == 9,
        "{manifest}"
    );
    for f in &listed {
        assert!(dir.join(f).is_file(), "{f} listed but absent");
    }

    std::fs::write(dir.join("notes.txt"), "mine").expect("write");
    std::fs::write(dir.join("certificates/mine.txt"), "also mine").expect("write");
    let out = ecert()
        .args(["demo", "--dir"])
        .arg(&dir)
        .output()
        .expect("run");
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("--yes"), "{}", text(&out));
    assert_eq!(
        read(&dir.join("ecert-demo.manifest")),
        manifest,
        "nothing changed"
    );

    let out = ecert()
        .args(["demo", "--yes", "--dir"])
        .arg(&dir)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(read(&dir.join("notes.txt")), "mine");
    assert_eq!(read(&dir.join("certificates/mine.txt")), "also mine");
    let again = read(&dir.join("ecert-demo.manifest"));
    assert!(
        !again.contains("notes.txt") && !again.contains("mine.txt"),
        "{again}"
    );
    assert!(again.lines().any(|l| l == "ecert.toml"), "{again}");
    std::fs::remove_dir_all(dir.parent().expect("parent")).ok();
}
