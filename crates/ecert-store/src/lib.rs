//! ecert storage: certificate records on SQLite or PostgreSQL, files as replicated blobs, and an
//! SM3 hash-chained audit log.
#![forbid(unsafe_code)]
