//! Command-line interface: argument types and the thin commands over the library.

pub mod audit;
pub mod backup;
pub mod demo;
pub mod dispose;
pub mod gm;
pub mod id;
pub mod instance;
pub mod maintenance;
pub mod ofd;
pub mod seal;
pub mod serve;
pub mod supplement;
pub mod time;
pub mod verify;
