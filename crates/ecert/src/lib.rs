//! ecert: issue, seal, store and verify electronic certificates in metrology (T/CMA draft
//! "计量电子证书通用技术规范"). The binary `ecert` is a thin shell over this library.
//!
//! # Brief overview
//!
//! Four layers, each using only the ones below it:
//!
//! * [`domain`] — what a certificate is, with no I/O: kinds and type codes, the identifier
//!   file names, the content and its rules (by JSON pointer), the issuer
//!   rule, verification tokens and check codes, our custom tags ([`domain::tag`], R-4.5.2).
//! * [`service`] — what the institute does, the one place every interface calls:
//!   [`service::Instance`] opens an instance (configuration, store, master key, fonts) and
//!   issues, revises, supplements, seals handed-over files, judges uploaded files
//!   ([`service::Instance::verify_file`]), reads records and keeps the seal library, API
//!   clients, disposal and the audit chain. Every refusal is a [`service::Error`] variant with
//!   its context, an HTTP status and a machine code.
//! * [`web`] — `ecert serve`: the public verification pages, `POST /verify` and the signed
//!   business-system API; it reads requests, calls the service and renders its answers (one
//!   error type answering JSON or HTML; internal failures shown only by an id).
//! * `cli` (in the binary) — the commands, printing what the service returns; [`cli_common`]
//!   holds what it shares with `ecert-verify`, the standalone verifier.
//!
//! Beside them: [`config`] (`ecert.toml`), [`seal_image`] (the round red seal and R-4.2.1's
//! title rule), [`preview`] (page PNGs with their seals). The format crates — `ofd`,
//! `gridmatrix`, `ses`, `ecert-store`, `ecert-layout` — know nothing of this crate.
//!
//! # The path of a request
//!
//! **A scan of the 2D code.** A phone opens `{base_url}/v/{token}` (the URL the Grid Matrix code
//! holds, R-4.3.4). `web::pages` parses the token ([`domain::VerifyToken`]) and asks
//! [`service::Instance::scan`], which looks the token up among certificates, then among
//! supplements (a supplement has a code of its own, R-6.4.2), and returns the certificate's
//! status view (revision, supplements). The page shows it with the exact statements of
//! and R-6.5h ([`service::status_messages`]), as HTML or JSON, Chinese first;
//! an unknown token gets the one plain 404 every unknown token gets. The preview and the
//! download go through [`service::Instance::file`] and [`service::Instance::download`] (the
//! latter logged, R-7.2.3b).
//!
//! **An API issue call.** `POST /api/v1/certificates` reaches `web::api`: the request's
//! signature is checked (HMAC-SM3 or the client's SM2 key, R-7.2.2c), its `Idempotency-Key`
//! claimed, and it waits for an issuing turn (`issue_workers`, `issue_queue`). Then
//! [`service::Instance::issue`] runs: the content is parsed and checked
//! ([`domain::Content`]), the issuer resolved from the configuration, the identifier, token
//! and check code made; the async part refuses a taken number and fetches the newest active
//! seal of the kind (checked once, with its decrypted signer). The CPU part — Typst layout →
//! OFD → Grid Matrix code → custom tag → seal (stamp, riding seam) → our own verifier over the
//! sealed bytes with the instance's trust roots — is one plain function on a blocking thread;
//! only a file the verifier PASSED carries a `ses::verify::Verified`, and only that proof
//! builds the record. The store then writes the file to every replica and the record with its
//! audit entry in one transaction. The API answers 201 with the record; the exchange, refusals
//! included, is in the SM3-chained audit log before the answer leaves (R-7.2.2d). A refusal
//! anywhere is a [`service::Error`]: `web` answers its status and code, and logs an internal
//! failure with an id the client sees.
//!
//! **An uploaded file.** `POST /verify` (or `ecert verify FILE --records`) hands the bytes to
//! [`service::Instance::verify_file`]: the full signature report with the instance's trust
//! roots, the file's SM3 against every certificate and supplement stored, the identifier and
//! number the file claims (our custom tag read by [`domain::tag`], else `DocInfo`), ending in
//! one [`service::Outcome`] — the page renders it, the CLI prints it with its exit code.
#![forbid(unsafe_code)]

pub mod cli_common;
pub mod config;
pub mod domain;
pub mod preview;
pub mod seal_image;
pub mod service;
pub mod web;

#[cfg(test)]
mod test_support;
