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
    /// A supplementary file bound to an issued certificate; not a certificate kind.
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
        if !map.contains_key(main) {
            return Err(LayoutError::Template(format!(
                "{name}: no main file {main}"
            )));
        }
        Ok(Self {
            name: name.into(),
            main: main.into(),
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
