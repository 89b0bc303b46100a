//! Certificate templates: Typst files that read the content from `/data.json` and the
//! application's extras from `/ecert.json` (R-4.3.1: one uniform style per certificate kind).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use crate::error::LayoutError;

const LIB: &str = include_str!("../templates/ecert.typ");
const CALIBRATION: &str = include_str!("../templates/calibration.typ");
const VERIFICATION: &str = include_str!("../templates/verification.typ");
const NOTICE: &str = include_str!("../templates/verification-notice.typ");
const REPORT: &str = include_str!("../templates/report.typ");
const SUPPLEMENT: &str = include_str!("../templates/supplement.typ");

/// Most files a template directory may hold.
const MAX_FILES: usize = 256;
/// Most bytes a template directory may hold.
const MAX_BYTES: u64 = 32 << 20;

/// The templates shipped with ecert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Builtin {
    /// 校准证书 (type code 7).
    Calibration,
    /// 检定证书 and 仲裁检定证书 (type codes 1, 3).
    Verification,
    /// 检定结果通知书 (type code 2).
    VerificationNotice,
    /// A generic report: 型式评价报告, 检验报告, 其他 (type codes 4, 5, 6, 8).
    Report,
    /// A supplementary file bound to an issued certificate (R-6.4.2); not a certificate kind.
    Supplement,
}

impl Builtin {
    /// Every shipped template.
    pub const ALL: [Builtin; 4] = [
        Builtin::Calibration,
        Builtin::Verification,
        Builtin::VerificationNotice,
        Builtin::Report,
    ];

    /// The template for a certificate type code of R-4.5.5 (1–8), or `None` for another code.
    pub fn for_type_code(code: u8) -> Option<Self> {
        match code {
            1 | 3 => Some(Self::Verification),
            2 => Some(Self::VerificationNotice),
            7 => Some(Self::Calibration),
            4 | 5 | 6 | 8 => Some(Self::Report),
            _ => None,
        }
    }

    /// A short name (`calibration`, `verification`, `verification-notice`, `report`,
    /// `supplement`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Calibration => "calibration",
            Self::Verification => "verification",
            Self::VerificationNotice => "verification-notice",
            Self::Report => "report",
            Self::Supplement => "supplement",
        }
    }

    /// The shipped template of this name (see [`Builtin::name`]).
    pub fn by_name(name: &str) -> Option<Self> {
        [
            Self::Calibration,
            Self::Verification,
            Self::VerificationNotice,
            Self::Report,
            Self::Supplement,
        ]
        .into_iter()
        .find(|b| b.name() == name)
    }

    fn source(self) -> &'static str {
        match self {
            Self::Calibration => CALIBRATION,
            Self::Verification => VERIFICATION,
            Self::VerificationNotice => NOTICE,
            Self::Report => REPORT,
            Self::Supplement => SUPPLEMENT,
        }
    }
}

/// A template: its files by virtual path (`/main.typ`, `/ecert.typ`, `/logo.png`, …).
///
/// Nothing outside these files is visible to the template while it is laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    name: String,
    main: String,
    /// The certificate type codes it declares to serve ([`Template::kinds`]).
    kinds: Vec<u8>,
    files: BTreeMap<String, Vec<u8>>,
    /// The files parsed for typst, made on first use and shared by clones.
    prepared: crate::world::PreparedCell,
}

impl Template {
    /// A shipped template, with the shared helpers at `/ecert.typ`. (One per process: its
    /// clones share the files typst parsed.)
    pub fn builtin(which: Builtin) -> Self {
        static SHIPPED: [OnceLock<Template>; 5] = [const { OnceLock::new() }; 5];
        let slot = match which {
            Builtin::Calibration => 0,
            Builtin::Verification => 1,
            Builtin::VerificationNotice => 2,
            Builtin::Report => 3,
            Builtin::Supplement => 4,
        };
        SHIPPED[slot]
            .get_or_init(|| {
                let mut files = BTreeMap::new();
                files.insert("/main.typ".to_string(), which.source().as_bytes().to_vec());
                files.insert("/ecert.typ".to_string(), LIB.as_bytes().to_vec());
                Self {
                    name: which.name().into(),
                    main: "/main.typ".into(),
                    // The shipped declarations are checked by a test.
                    kinds: declared_kinds(which.name(), which.source().as_bytes())
                        .unwrap_or_default(),
                    files,
                    prepared: Default::default(),
                }
            })
            .clone()
    }

    /// A template from files given by virtual path (each starting with `/`). `main` names the
    /// entry file. The shipped helpers are added as `/ecert.typ` unless given.
    pub fn from_files(
        name: &str,
        main: &str,
        files: impl IntoIterator<Item = (String, Vec<u8>)>,
    ) -> Result<Self, LayoutError> {
        let mut map = BTreeMap::new();
        for (path, data) in files {
            if !path.starts_with('/') || path.contains("..") || path.contains('\\') {
                return Err(LayoutError::Template(format!(
                    "{name}: file path {path:?} must be absolute within the template, without .."
                )));
            }
            map.insert(path, data);
        }
        map.entry("/ecert.typ".to_string())
            .or_insert_with(|| LIB.as_bytes().to_vec());
        let Some(main_file) = map.get(main) else {
            return Err(LayoutError::Template(format!(
                "{name}: no main file {main}"
            )));
        };
        let kinds = declared_kinds(name, main_file)?;
        Ok(Self {
            name: name.into(),
            main: main.into(),
            kinds,
            files: map,
            prepared: Default::default(),
        })
    }

    /// A template from a directory: every regular file in it and its subdirectories (symbolic
    /// links are refused, at most 256 files and 32 MiB); `main.typ` is the entry file.
    pub fn from_dir(dir: &Path) -> Result<Self, LayoutError> {
        let name = dir.display().to_string();
        let err = |p: &Path, e: String| LayoutError::Template(format!("{}: {e}", p.display()));
        let mut files = Vec::new();
        let mut total = 0u64;
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            let rd = std::fs::read_dir(&d).map_err(|e| err(&d, e.to_string()))?;
            for entry in rd {
                let entry = entry.map_err(|e| err(&d, e.to_string()))?;
                let p = entry.path();
                let ft = entry.file_type().map_err(|e| err(&p, e.to_string()))?;
                if ft.is_symlink() {
                    return Err(err(
                        &p,
                        "symbolic links are not allowed in a template".into(),
                    ));
                } else if ft.is_dir() {
                    stack.push(p);
                } else if ft.is_file() {
                    let data = std::fs::read(&p).map_err(|e| err(&p, e.to_string()))?;
                    total += data.len() as u64;
                    if files.len() >= MAX_FILES || total > MAX_BYTES {
                        return Err(err(dir, "template too large (256 files, 32 MiB)".into()));
                    }
                    let rel = p
                        .strip_prefix(dir)
                        .map_err(|e| err(&p, e.to_string()))?
                        .to_str()
                        .ok_or_else(|| err(&p, "file name is not UTF-8".into()))?
                        .replace(std::path::MAIN_SEPARATOR, "/");
                    files.push((format!("/{rel}"), data));
                }
            }
        }
        Self::from_files(&name, "/main.typ", files)
    }

    /// The template's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The certificate type codes (R-4.5.5, 1–8) the template declares it serves, in the
    /// order declared; empty when it declares none. A template declares them with one line
    /// among the comment lines at the top of its main file:
    ///
    /// ```typst
    /// // ecert: kinds = 1, 3
    /// ```
    ///
    /// ecert refuses to lay out a certificate of another kind with it (R-4.3.1: one uniform
    /// style per kind). The shipped templates declare theirs the same way.
    pub fn kinds(&self) -> &[u8] {
        &self.kinds
    }

    /// The entry file's virtual path.
    pub fn main(&self) -> &str {
        &self.main
    }

    /// The files by virtual path.
    pub fn files(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.files.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    pub(crate) fn prepared(&self) -> &crate::world::PreparedCell {
        &self.prepared
    }
}

/// The `// ecert: kinds = …` declaration among the comment lines that open `main`.
fn declared_kinds(name: &str, main: &[u8]) -> Result<Vec<u8>, LayoutError> {
    let bad = |why: String| LayoutError::Template(format!("{name}: {why}"));
    let text = String::from_utf8_lossy(main);
    let mut kinds: Option<Vec<u8>> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some(comment) = line.strip_prefix("//") else {
            break;
        };
        let Some(decl) = comment.trim().strip_prefix("ecert:") else {
            continue;
        };
        let Some(list) = decl
            .trim()
            .strip_prefix("kinds")
            .and_then(|r| r.trim_start().strip_prefix('='))
        else {
            return Err(bad(format!(
                "模板声明“{line}”无法识别，应为“// ecert: kinds = 1, 3” (unknown template declaration; expected `// ecert: kinds = 1, 3`, type codes 1–8)"
            )));
        };
        if kinds.is_some() {
            return Err(bad(
                "模板声明了两次 kinds (the template declares its kinds twice)".into(),
            ));
        }
        let mut codes = Vec::new();
        for part in list.split(',') {
            let part = part.trim();
            match part.parse::<u8>() {
                Ok(c @ 1..=8) if !codes.contains(&c) => codes.push(c),
                _ => {
                    return Err(bad(format!(
                        "模板声明的证书类型代码“{part}”无效，应为 1–8，各一次 (invalid type code {part:?} in `ecert: kinds`: expected 1–8, each once)"
                    )));
                }
            }
        }
        kinds = Some(codes);
    }
    Ok(kinds.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each shipped template declares exactly the type codes it is the default for.
    #[test]
    fn shipped_templates_declare_their_kinds() {
        for b in Builtin::ALL {
            let declared = Template::builtin(b).kinds().to_vec();
            let defaults: Vec<u8> = (1..=8)
                .filter(|c| Builtin::for_type_code(*c) == Some(b))
                .collect();
            assert_eq!(declared, defaults, "{}", b.name());
            declared_kinds(b.name(), b.source().as_bytes()).expect("well-formed");
        }
        assert!(Template::builtin(Builtin::Supplement).kinds().is_empty());
    }

    #[test]
    fn kinds_declarations() {
        let t = |src: &str| {
            Template::from_files("t", "/main.typ", [("/main.typ".to_string(), src.into())])
        };
        let ok = t("// my template\n//ecert: kinds = 7, 1\n#import \"/ecert.typ\": *\n")
            .expect("declared");
        assert_eq!(ok.kinds(), [7, 1]);
        assert!(t("= Title\n").expect("undeclared").kinds().is_empty());
        // Only the opening comment lines count.
        let late = t("#let x = 1\n// ecert: kinds = 7\n").expect("late line");
        assert!(late.kinds().is_empty());
        for bad in [
            "// ecert: kinds = 9\n",
            "// ecert: kinds = 1, 1\n",
            "// ecert: kinds = \n",
            "// ecert: kind = 1\n",
            "// ecert: kinds = 1\n// ecert: kinds = 2\n",
        ] {
            assert!(matches!(t(bad), Err(LayoutError::Template(_))), "{bad:?}");
        }
    }
}
