//! OFD 1.0 (GB/T 33190-2016) packages: typed model, writer and strict reader.
//!
//! This crate is being built up; see [`package`] (the ZIP container) and [`loc`] (`ST_Loc`
//! resolution).
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod loc;
pub mod package;

pub use loc::{LocError, resolve};
pub use package::{Limits, Package, PackageError};
