//! The typst `World` of one certificate: the template's files, the content as a virtual
//! `/data.json`, the application's extras as `/ecert.json`, the configured fonts, and the
//! issue date as the only clock.
//!
//! Defended against: templates or content reaching the network (there is no package
//! download: `@preview/…` imports are "package not found") or the filesystem (nothing is read
//! from disk during a compile; only the files loaded into the [`Template`] exist, and typst
//! refuses paths that escape the project root); nondeterminism (`today()` is the issue date).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, OnceLock};

use typst::diag::{FileError, FileResult, PackageError, Severity, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World, WorldExt};

use crate::error::LayoutError;
use crate::fonts::Fonts;
use crate::template::Template;

/// One standard library for every compile (the data comes in as files, not as inputs).
static LIBRARY: LazyLock<LazyHash<Library>> =
    LazyLock::new(|| LazyHash::new(Library::builder().build()));

/// The file id of a project path such as `/data.json`.
pub(crate) fn file_id(path: &str) -> Result<FileId, LayoutError> {
    let vp = VirtualPath::new(path)
        .map_err(|e| LayoutError::Template(format!("bad file path {path:?}: {e:?}")))?;
    Ok(RootedPath::new(VirtualRoot::Project, vp).intern())
}

/// A template's files as typst sees them: sources parsed, bytes shared. Made once per
/// [`Template`] (and its clones) and reused by every compile, so that the template is not
/// parsed, copied and hashed again for each certificate.
pub(crate) struct Prepared {
    main: FileId,
    sources: HashMap<FileId, Source>,
    files: HashMap<FileId, Bytes>,
}

/// Where a [`Template`] keeps its [`Prepared`] files (shared by its clones; not part of its
/// identity).
#[derive(Clone, Default)]
pub(crate) struct PreparedCell(Arc<OnceLock<Arc<Prepared>>>);

impl PartialEq for PreparedCell {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for PreparedCell {}

impl std::fmt::Debug for PreparedCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "prepared"
        } else {
            "not prepared"
        })
    }
}

impl Prepared {
    /// The template's prepared files, made on first use.
    pub(crate) fn of(template: &Template) -> Result<Arc<Prepared>, LayoutError> {
        let cell = &template.prepared().0;
        if let Some(p) = cell.get() {
            return Ok(p.clone());
        }
        let mut sources = HashMap::new();
        let mut files = HashMap::new();
        for (path, bytes) in template.files() {
            let id = file_id(path)?;
            if path.ends_with(".typ") {
                let text = std::str::from_utf8(bytes)
                    .map_err(|_| LayoutError::Template(format!("{path} is not UTF-8")))?;
                sources.insert(id, Source::new(id, text.to_string()));
            }
            files.insert(id, Bytes::new(bytes.to_vec()));
        }
        let main = file_id(template.main())?;
        if !sources.contains_key(&main) {
            return Err(LayoutError::Template(format!(
                "the main file {} is missing",
                template.main()
            )));
        }
        let made = Arc::new(Prepared {
            main,
            sources,
            files,
        });
        Ok(cell.get_or_init(|| made).clone())
    }
}

pub(crate) struct CertWorld<'a> {
    fonts: &'a Fonts,
    template: Arc<Prepared>,
    /// `/data.json` and `/ecert.json`.
    inputs: [(FileId, Bytes); 2],
    today: Datetime,
}

impl<'a> CertWorld<'a> {
    pub(crate) fn new(
        template: &Template,
        data: Bytes,
        extras: Bytes,
        fonts: &'a Fonts,
        today: Datetime,
    ) -> Result<Self, LayoutError> {
        Ok(Self {
            fonts,
            template: Prepared::of(template)?,
            inputs: [
                (file_id(crate::DATA_PATH)?, data),
                (file_id(crate::EXTRAS_PATH)?, extras),
            ],
            today,
        })
    }

    fn not_here(id: FileId) -> FileError {
        match id.get().root() {
            // No network: packages are never downloaded (vendor helpers as template files).
            VirtualRoot::Package(spec) => FileError::Package(PackageError::NotFound(spec.clone())),
            VirtualRoot::Project => {
                FileError::NotFound(id.get().vpath().get_with_slash().to_string().into())
            }
        }
    }

    /// "file:line:col: error: message (hint: …)" for each diagnostic.
    pub(crate) fn describe(&self, diags: &[SourceDiagnostic]) -> Vec<String> {
        diags
            .iter()
            .map(|d| {
                let kind = match d.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning (treated as an error)",
                };
                let place = d
                    .span
                    .id()
                    .and_then(|id| {
                        let src = self.template.sources.get(&id)?;
                        let range = self.range(d.span)?;
                        let (l, c) = src.lines().byte_to_line_column(range.start)?;
                        Some(format!(
                            "{}:{}:{}: ",
                            id.get().vpath().get_with_slash(),
                            l + 1,
                            c + 1
                        ))
                    })
                    .unwrap_or_default();
                let hints: String = d
                    .hints
                    .iter()
                    .map(|h| format!(" (hint: {})", h.v))
                    .collect();
                format!("{place}{kind}: {}{hints}", d.message)
            })
            .collect()
    }
}

impl World for CertWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.fonts.book
    }

    fn main(&self) -> FileId {
        self.template.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if let Some(s) = self.template.sources.get(&id) {
            return Ok(s.clone());
        }
        match self.file(id) {
            Ok(_) => Err(FileError::NotSource),
            Err(e) => Err(e),
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if let Some((_, b)) = self.inputs.iter().find(|(i, _)| *i == id) {
            return Ok(b.clone());
        }
        self.template
            .files
            .get(&id)
            .cloned()
            .ok_or_else(|| Self::not_here(id))
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.fonts.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        Some(self.today)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Builtin;

    /// A template is parsed for typst once: its clones and every `Template::builtin` of the
    /// same kind share the prepared files; a broken template is refused every time.
    #[test]
    fn templates_are_prepared_once_and_shared() {
        let a = Template::builtin(Builtin::Calibration);
        let first = Prepared::of(&a).unwrap();
        assert!(Arc::ptr_eq(&first, &Prepared::of(&a.clone()).unwrap()));
        let again = Template::builtin(Builtin::Calibration);
        assert!(Arc::ptr_eq(&first, &Prepared::of(&again).unwrap()));
        let other = Prepared::of(&Template::builtin(Builtin::Report)).unwrap();
        assert!(!Arc::ptr_eq(&first, &other));

        let broken = Template::from_files(
            "broken",
            "/main.typ",
            [("/main.typ".to_string(), vec![0xff, 0xfe])],
        )
        .unwrap();
        for _ in 0..2 {
            let err = Prepared::of(&broken).err().unwrap();
            assert!(err.to_string().contains("not UTF-8"), "{err}");
        }
    }
}
