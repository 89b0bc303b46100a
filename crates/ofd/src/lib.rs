//! OFD 1.0 (GB/T 33190-2016) packages: ZIP container, typed model, deterministic writer with
//! embedded font subsets, and a strict reader for untrusted files.
//!
//! # Brief overview
//! - [`package::Package`]: the ZIP container (path → bytes, stored order). Reading refuses
//!   every ZIP ambiguity (duplicate or case-variant names, `..`, absolute names, local header
//!   vs central directory disagreement, hidden entries, bombs); writing is byte-deterministic.
//! - [`loc::resolve`]: `ST_Loc` resolution (clause 7.2).
//! - [`model`]: the document as data — [`Ofd`] → [`DocBody`] → [`Document`] → [`Page`] →
//!   [`Layer`] → [`GraphicObject`] (text with positions, `DeltaX`, CTM; paths with parsed
//!   `AbbreviatedData`; images), plus fonts and images **as bytes**, templates, annotations,
//!   custom tags and attachments. Millimetres, y down. This is what a renderer consumes.
//! - [`write::DocumentWriter`]: the typed writer: pages (A4 by default) → layers → text,
//!   paths, images; IDs and `MaxUnitID` managed; fonts subset; custom tags; attachments.
//! - [`read::OfdFile`]: the reader, with [`OfdFile::loaded_parts`] for signature coverage
//!   checks and [`Warning`]s for every leniency it applied.
//! - [`edit::set_signatures_loc`]: adds the `Signatures` pointer to `OFD.xml` for sealing.
//! - [`overlay::Overlay`]: adds objects (text with embedded font subsets, paths), custom tags
//!   and `CustomDatas` to a file someone else wrote, keeping its own objects and bytes, and
//!   finds free room on its pages ([`extent::page_object_boxes`]: where a page is painted).
//! - `render` (cargo feature `render`, off by default): a page to an RGBA raster and PNG
//!   (tiny-skia, PNG and JPEG decoders), and `render::inspect`, a serialisable structural
//!   summary. Reading, writing and overlaying need none of it, so `ses` and `ecert-layout` do
//!   not compile a rasteriser; `ecert` enables it.
//! - [`sample`]: the three-page demonstration document (`cargo run -p ofd --example sample`).
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let file = ofd::OfdFile::read(&std::fs::read("cert.ofd")?)?;
//! for (i, page) in file.ofd.docs[0].document.pages.iter().enumerate() {
//!     println!("page {} ({}): {}", i + 1, page.content_path, file.page_text(0, i).unwrap_or_default());
//! }
//! # Ok(()) }
//! ```
//!
//! # What the reader defends against
//! The reader is meant for files from anyone (a verification page accepts uploads). It never
//! panics (proptest and a `cargo fuzz` target, `fuzz/`), never executes or follows anything
//! (no actions, no URLs, no external entities), and bounds every resource:
//!
//! | threat | defence | error |
//! |---|---|---|
//! | zip slip: `/abs`, `C:x`, `a/../b`, `a\b` | names validated before anything is read | [`PackageError::AbsolutePath`], `ParentTraversal`, `Backslash` |
//! | two readers seeing different files: duplicate names, names equal up to case, local header ≠ central directory, entries hidden between or before listed ones | own ZIP walk of both structures | `DuplicateName`, `CaseVariant`, `HeaderMismatch` ([`PackageError::is_ambiguity`]) |
//! | ZIP bombs | entry count, entry size, total size, compression ratio checked on declared sizes, inflation capped at the declared size | `TooManyEntries`, `EntryTooLarge`, `TotalTooLarge`, `RatioTooHigh` |
//! | encrypted or exotic entries | only stored/deflate; no ZIP64, multi-disk, encryption | `Encrypted`, `UnsupportedMethod` |
//! | XML entity expansion, external entities | roxmltree with DTDs refused | [`ReadError::Xml`] |
//! | deep or huge XML | size, node count and depth limits ([`ReadOptions`]) | [`ReadError::Limit`] |
//! | `ST_Loc` escaping the package | `..` above the root, URLs, drive letters refused | [`ReadError::Loc`] |
//! | `g N v` in `DeltaX` with huge N | expansion capped at the character count | — |
//!
//! # Strict versus lenient
//! Real files (ofdrw's, Suwell's, tax vendors') are sloppy. The reader accepts what is merely
//! sloppy and records a [`Warning`]; it refuses what is ambiguous or dangerous.
//!
//! | situation | reader | seen in |
//! |---|---|---|
//! | namespace other than `http://www.ofdspec.org/2016` (old `http://www.ofdspec.org`, none, unprefixed children) | **lenient**: elements matched by local name; `Warning::ForeignNamespace` | pre-2016 files, v4signed.ofd `<Parameters>` |
//! | `Version` 1.1/1.2 | **lenient**: kept as written | v4signed.ofd, ofdrw ≥ 2023 |
//! | `MaxUnitID` missing or out of XSD order | **lenient**: found anywhere in `CommonData`; `Warning::MissingRequired` if absent | v4signed.ofd, helloworld.ofd |
//! | `PageArea` missing | **lenient**: page `Area`, else A4 | invoice-suwell.ofd |
//! | `Res` without `BaseLoc` | **lenient**: relative to the Res file; `Warning::MissingRequired` | invoice-suwell.ofd |
//! | reference matching an entry only up to case (`TPLS/…` for `Tpls/…`) | **lenient**: the unique case variant is used (the ZIP layer guarantees there is at most one) and `Warning::CaseMismatch` names both; `loaded_parts` lists the entry really used | v4signed.ofd |
//! | missing font, image, template, annotation, tag or attachment file | **lenient**: object kept without data; `Warning::MissingFile` | — |
//! | missing `OFD.xml`, `Document.xml` or page content | **strict**: [`ReadError::Missing`] | — |
//! | duplicate IDs, objects without IDs | **lenient**: `Warning::DuplicateId` | invoice-suwell.ofd, v4signed.ofd |
//! | `DeltaX="g 19 1.5875"` | **lenient**: expanded | invoice-suwell.ofd |
//! | `DeltaX` shorter than the text | **lenient**: kept; [`TextCode::positions`] pads with the last value (ofdrw's rule) | — |
//! | non-ISO attachment dates, numeric xs:ID | **lenient**: kept as written | v4signed.ofd |
//! | malformed numbers, boxes, path data | **lenient**: skipped or default; `Warning::BadValue` | — |
//! | `Actions` (R-4.1.4) | read as data only, never run; `Warning::Dynamic` | — |
//! | bytes before the ZIP (self-extractor stub) | **lenient** when all offsets agree | seen in files from the field |
//! | non-UTF-8 XML or ZIP names, DTDs, ZIP ambiguities, limits | **strict**: error | — |
//!
//! # What the writer guarantees
//! See [`mod@write`]: schema element order, `Version="1.0"`, IDs and `MaxUnitID`, xs:ID values
//! starting with a letter, embedded TrueType/CFF subsets with cmap and exact `DeltaX`
//! (R-4.1.6), images as `MultiMedia` with `CTM="w 0 0 h 0 0"`, custom tags with both
//! `TypeID` and `NameSpace` (R-4.5.2), attachments (R-4.1.5 via
//! [`write::DocumentWriter::add_ofd_attachment`]), nothing dynamic (R-4.1.4), A4 pages by
//! default (R-4.3.3), and byte-identical output for identical input.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod arc;
pub mod edit;
pub mod extent;
pub mod font;
pub mod loc;
pub mod model;
pub mod overlay;
pub mod package;
pub mod read;
#[cfg(feature = "render")]
pub mod render;
pub mod sample;
pub mod write;
pub mod xml_out;

pub use edit::{EditError, set_signatures_loc};
pub use font::{FontError, FontSource};
pub use loc::{LocError, resolve};
pub use model::*;
pub use overlay::{Overlay, OverlayError};
pub use package::{Limits, Package, PackageError};
pub use read::{OfdFile, ReadError, ReadModel, ReadOptions};
pub use write::{DocumentWriter, WriteError};
