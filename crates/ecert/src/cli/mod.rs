//! Command-line interface: argument types and the thin commands over the library.

pub mod gm;
pub mod id;
pub mod verify;
