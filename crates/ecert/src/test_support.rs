//! Helpers for unit tests.

/// A CJK font for tests: the shipped default (`assets/fonts`), else Debian's WenQuanYi Micro Hei.
pub(crate) fn cjk_font() -> Vec<u8> {
    let assets = concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/fonts");
    let mut candidates: Vec<std::path::PathBuf> = std::fs::read_dir(assets)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "ttf") && p.to_string_lossy().contains("Sans")
        })
        .collect();
    candidates.sort();
    candidates.push("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc".into());
    for path in &candidates {
        if let Ok(bytes) = std::fs::read(path) {
            return bytes;
        }
    }
    panic!(
        "no CJK font for the tests: expected a *Sans*.ttf in assets/fonts or \
         /usr/share/fonts/truetype/wqy/wqy-microhei.ttc (apt-get install fonts-wqy-microhei; scripts/setup does it)"
    )
}
