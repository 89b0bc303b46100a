//! The certificate domain: kinds, identifiers, file names.

pub mod charset;
pub mod content;
pub mod dates;
pub mod filename;
pub mod identifier;
pub mod issuer;
pub mod kind;
pub mod rules;
pub mod supplement;
pub mod tag;
pub mod token;
pub mod uscc;

pub use content::{Content, ContentErrors, Problem, Rule};
pub use filename::{FileNameError, FileNameParts, file_name};
pub use identifier::{Identifier, IdentifierError};
pub use kind::CertificateKind;
pub use supplement::SupplementContent;
pub use tag::{CertificateTag, SupplementTag, Tag, TagError};
pub use token::{CheckCode, VerifyToken};
pub use uscc::{Uscc, UsccError};
