//! Error types. Every message names what was being read and where (offset, path, element).

/// A malformed ASN.1 (BER/DER) value, with the byte offset where it was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed ASN.1 at byte {offset}: {what}")]
pub struct Asn1Error {
    /// Offset of the offending value in the input.
    pub offset: usize,
    /// What is wrong.
    pub what: String,
}

impl Asn1Error {
    /// An error at `offset`.
    pub fn at(offset: usize, what: impl Into<String>) -> Self {
        Self {
            offset,
            what: what.into(),
        }
    }
}

impl From<der::Error> for Asn1Error {
    fn from(e: der::Error) -> Self {
        let offset = e
            .position()
            .map(|p| usize::try_from(u32::from(p)).unwrap_or(usize::MAX))
            .unwrap_or(0);
        Self {
            offset,
            what: e.kind().to_string(),
        }
    }
}

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A structure could not be decoded.
    #[error("{context}: {source}")]
    Asn1 {
        /// What was being decoded ("SES_Seal", "PKCS#12 MacData", …).
        context: &'static str,
        /// The decoding error.
        source: Asn1Error,
    },
    /// A structure could not be encoded.
    #[error("encoding {context}: {source}")]
    Encode {
        /// What was being encoded.
        context: &'static str,
        /// The encoder's error.
        source: der::Error,
    },
    /// An algorithm (OID) this crate does not implement.
    #[error("unsupported {what}: {oid}")]
    UnsupportedAlgorithm {
        /// Role of the algorithm ("PBE scheme", "signature algorithm", …).
        what: &'static str,
        /// The OID seen.
        oid: String,
    },
    /// A seal or signature of a version this crate cannot read.
    #[error("unsupported {what} version {version}")]
    UnsupportedVersion {
        /// "seal" or "signature".
        what: &'static str,
        /// The version found.
        version: u64,
    },
    /// A password-protected container could not be opened.
    #[error("{what}: wrong password or corrupted data")]
    Decrypt {
        /// Which container.
        what: &'static str,
    },
    /// A key is not a usable SM2 key.
    #[error("key: {0}")]
    Key(String),
    /// An SM2 signature could not be made.
    #[error("signing failed: {0}")]
    Sign(String),
    /// A certificate is unusable.
    #[error("certificate: {0}")]
    Certificate(String),
    /// An input violates a rule of GB/T 38540 / GB/T 33190 that the caller controls.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// An XML file in the package is malformed.
    #[error("{path}: XML: {message}")]
    Xml {
        /// Package path of the file.
        path: String,
        /// Parser message.
        message: String,
    },
    /// A package-level error from `crates/ofd`.
    #[error("OFD package: {0}")]
    Package(String),
    /// File-system error.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
}

impl Error {
    /// Wraps an ASN.1 error with its context.
    pub fn asn1(context: &'static str, source: impl Into<Asn1Error>) -> Self {
        Self::Asn1 {
            context,
            source: source.into(),
        }
    }

    /// Wraps an encoding error with its context.
    pub fn encode(context: &'static str, source: der::Error) -> Self {
        Self::Encode { context, source }
    }
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
