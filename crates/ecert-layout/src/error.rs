//! The one error type of this crate.

/// Why a certificate could not be laid out or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LayoutError {
    /// A font file could not be read or holds no usable face.
    #[error("font {what}: {reason}")]
    Font {
        /// The file or source of the font.
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// A template file could not be read, or a template broke a rule of this crate.
    #[error("template: {0}")]
    Template(String),
    /// Typst reported errors, or warnings (which are errors here: an unknown font family only
    /// warns in typst, and would silently change the look).
    #[error("模板排版失败 (typst layout failed):\n{}", .0.join("\n"))]
    Typst(Vec<String>),
    /// The content JSON could not be read.
    #[error("content JSON: {0}")]
    Content(String),
    /// The issue date (typst's `today()`) is neither given nor in the content's `/issueDate`.
    #[error("no issue date: give Extras::issue_date or /issueDate as YYYY-MM-DD (found {0:?})")]
    IssueDate(String),
    /// A character has no glyph in any configured font (typst silently draws glyph 0).
    #[error(
        "字符 {chars:?} 在字体 \"{font}\" 中没有字形 (no glyph for {codes} in font \"{font}\", page {page}, in \"{context}\")",
        codes = .chars.chars().map(|c| format!("U+{:04X}", c as u32)).collect::<Vec<_>>().join(" ")
    )]
    MissingGlyph {
        /// The character(s) shown by the missing glyph.
        chars: String,
        /// The font family typst chose.
        font: String,
        /// One-based page number.
        page: usize,
        /// The text run around it.
        context: String,
    },
    /// The layout uses something an OFD certificate cannot hold (gradients, SVG/PDF images).
    #[error("unsupported in a certificate: {0}")]
    Unsupported(String),
    /// A slot the application needs was not reserved by the template.
    #[error("the template reserves no \"{0}\" slot on page 1 (metadata labelled <ecert-slot>)")]
    MissingSlot(String),
    /// Writing the OFD failed.
    #[error("OFD: {0}")]
    Ofd(String),
}
