//! OFD 1.0 (GB/T 33190-2016) packages: typed model, writer and strict reader.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod edit;
pub mod font;
pub mod loc;
pub mod model;
pub mod package;
pub mod read;
pub mod render;
pub mod sample;
pub mod write;
pub mod xml_out;

pub use edit::{EditError, set_signatures_loc};
pub use font::{FontError, FontSource};
pub use loc::{LocError, resolve};
pub use model::*;
pub use package::{Limits, Package, PackageError};
pub use read::{OfdFile, ReadError, ReadOptions};
pub use write::{DocumentWriter, WriteError};
