//! ecert: issue, seal, store and verify electronic certificates in metrology (T/CMA draft
//! "计量电子证书通用技术规范"). The binary `ecert` is a thin shell over this library.
#![forbid(unsafe_code)]

pub mod config;
pub mod domain;
pub mod preview;
pub mod seal_image;
pub mod service;
pub mod web;

#[cfg(test)]
mod test_support;
