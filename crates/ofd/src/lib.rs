//! OFD 1.0 (GB/T 33190-2016) packages: typed model, writer and strict reader.
#![forbid(unsafe_code)]
