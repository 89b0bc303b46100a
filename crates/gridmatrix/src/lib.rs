//! Grid Matrix (GB/T 27766-2011) two-dimensional code encoder.
#![forbid(unsafe_code)]
