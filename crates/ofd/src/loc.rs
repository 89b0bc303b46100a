//! `ST_Loc` resolution (GB/T 33190-2016 clause 7.2, table 2).
//!
//! An `ST_Loc` starting with `/` is absolute in the package; anything else is relative to the
//! directory of the XML file that contains it. `.` and `..` segments are allowed but must not
//! climb above the package root. Resolution is case-sensitive, like the package itself.

/// Why an `ST_Loc` could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LocError {
    /// The location is empty or only whitespace.
    #[error("empty ST_Loc in {file:?}")]
    Empty {
        /// The file holding the location.
        file: String,
    },
    /// `..` climbs above the package root.
    #[error("ST_Loc {loc:?} in {file:?} escapes the package root")]
    EscapesRoot {
        /// The location as written.
        loc: String,
        /// The file holding the location.
        file: String,
    },
    /// Backslashes, control characters, URLs, drive letters, or a result naming a directory.
    #[error("ST_Loc {loc:?} in {file:?} is not a package path: {why}")]
    Invalid {
        /// The location as written.
        loc: String,
        /// The file holding the location.
        file: String,
        /// What is wrong.
        why: &'static str,
    },
}

/// Resolves `loc`, found in the package file `containing_file` (e.g. `Doc_0/Document.xml`), to
/// a package path without leading `/` (e.g. `Doc_0/Pages/Page_0/Content.xml`).
///
/// Leading/trailing whitespace is trimmed and empty segments (`a//b`) are ignored, as real files
/// contain both; `..` above the root, backslashes, `scheme://` URLs and drive letters are errors.
pub fn resolve(containing_file: &str, loc: &str) -> Result<String, LocError> {
    let t = loc.trim();
    let invalid = |why| LocError::Invalid {
        loc: loc.to_string(),
        file: containing_file.to_string(),
        why,
    };
    if t.is_empty() {
        return Err(LocError::Empty {
            file: containing_file.to_string(),
        });
    }
    if t.contains('\\') {
        return Err(invalid("contains a backslash"));
    }
    if t.chars().any(char::is_control) {
        return Err(invalid("contains a control character"));
    }
    if t.contains("://") {
        return Err(invalid("a URL, not a package path"));
    }
    let b = t.as_bytes();
    if b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic() {
        return Err(invalid("a drive letter, not a package path"));
    }
    if t.ends_with('/') {
        return Err(invalid("names a directory"));
    }
    let mut parts: Vec<&str> = Vec::new();
    let rest = if let Some(abs) = t.strip_prefix('/') {
        abs
    } else {
        let base = containing_file.trim_start_matches('/');
        if let Some((dir, _)) = base.rsplit_once('/') {
            parts.extend(dir.split('/').filter(|s| !s.is_empty() && *s != "."));
        }
        t
    };
    for seg in rest.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(LocError::EscapesRoot {
                        loc: loc.to_string(),
                        file: containing_file.to_string(),
                    });
                }
            }
            s => parts.push(s),
        }
    }
    if parts.is_empty() {
        return Err(invalid("resolves to the package root"));
    }
    Ok(parts.join("/"))
}

/// The directory part of a package path (`Doc_0/Document.xml` → `Doc_0`), `""` at the root.
pub fn dir_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// Resolves `loc` relative to a directory (such as a `Res` file's `BaseLoc` directory) rather
/// than to a file: `resolve_in_dir("Doc_0/Res", "a.png") == "Doc_0/Res/a.png"`.
pub fn resolve_in_dir(dir: &str, loc: &str) -> Result<String, LocError> {
    let pseudo = if dir.is_empty() {
        "_".to_string()
    } else {
        format!("{}/_", dir.trim_end_matches('/'))
    };
    resolve(&pseudo, loc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_and_absolute() {
        assert_eq!(
            resolve("Doc_0/Document.xml", "Pages/Page_0/Content.xml").unwrap(),
            "Doc_0/Pages/Page_0/Content.xml"
        );
        assert_eq!(
            resolve("OFD.xml", "Doc_0/Document.xml").unwrap(),
            "Doc_0/Document.xml"
        );
        assert_eq!(
            resolve("Doc_0/Pages/Page_0/Content.xml", "/Doc_0/Res/a.png").unwrap(),
            "Doc_0/Res/a.png"
        );
        assert_eq!(
            resolve("/OFD.xml", "./Doc_0//x.xml ").unwrap(),
            "Doc_0/x.xml"
        );
        assert_eq!(
            resolve("Doc_0/Signs/Sign_0/Signature.xml", "../../Document.xml").unwrap(),
            "Doc_0/Document.xml"
        );
    }

    #[test]
    fn case_is_kept() {
        // v4signed.ofd: Document.xml says TPLS/… while the entry is Tpls/… — resolution must not
        // paper over it; the lookup then fails or finds the case variant explicitly.
        assert_eq!(
            resolve("Doc_0/Document.xml", "TPLS/Tpl_0/Content.xml").unwrap(),
            "Doc_0/TPLS/Tpl_0/Content.xml"
        );
    }

    #[test]
    fn refuses_escape_and_garbage() {
        assert!(matches!(
            resolve("Doc_0/Document.xml", "../../etc/passwd"),
            Err(LocError::EscapesRoot { .. })
        ));
        assert!(matches!(
            resolve("OFD.xml", "/../x"),
            Err(LocError::EscapesRoot { .. })
        ));
        assert!(matches!(
            resolve("OFD.xml", " "),
            Err(LocError::Empty { .. })
        ));
        for bad in ["a\\b", "http://x/y", "C:/x", "Doc_0/", "a/..", "x\u{1}"] {
            assert!(
                matches!(resolve("OFD.xml", bad), Err(LocError::Invalid { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn in_dir() {
        assert_eq!(
            resolve_in_dir("Doc_0/Res", "f.ttf").unwrap(),
            "Doc_0/Res/f.ttf"
        );
        assert_eq!(resolve_in_dir("", "f.ttf").unwrap(), "f.ttf");
        assert_eq!(dir_of("Doc_0/Document.xml"), "Doc_0");
        assert_eq!(dir_of("OFD.xml"), "");
    }
}
