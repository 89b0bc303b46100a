//! The typst `World` of one certificate: the template's files, the content as a virtual
//! `/data.json`, the application's extras as `/ecert.json`, the configured fonts, and the
//! issue date as the only clock.
//!
//! Defended against: templates or content reaching the network (there is no package
//! download: `@preview/…` imports are "package not found") or the filesystem (nothing is read
//! from disk during a compile; only the files loaded into the [`Template`] exist, and typst
//! refuses paths that escape the project root); nondeterminism (`today()` is the issue date).

use std::collections::HashMap;
use std::sync::LazyLock;

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

pub(crate) struct CertWorld<'a> {
    fonts: &'a Fonts,
    main: FileId,
    sources: HashMap<FileId, Source>,
    files: HashMap<FileId, Bytes>,
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
        files.insert(file_id(crate::DATA_PATH)?, data);
        files.insert(file_id(crate::EXTRAS_PATH)?, extras);
        let main = file_id(template.main())?;
        if !sources.contains_key(&main) {
            return Err(LayoutError::Template(format!(
                "the main file {} is missing",
                template.main()
            )));
        }
        Ok(Self {
            fonts,
            main,
            sources,
            files,
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
                        let src = self.sources.get(&id)?;
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
        self.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        self.sources
            .get(&id)
            .cloned()
            .ok_or_else(|| match self.files.get(&id) {
                Some(_) => FileError::NotSource,
                None => Self::not_here(id),
            })
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        self.files
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
