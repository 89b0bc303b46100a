//! The API request an issuing call serves, named in the issue audit entry so that a request
//! whose process died after the certificate was committed can still be answered.
//!
//! Where the link is kept: in the `certificate.issue` / `certificate.revise` audit entry's
//! context (`"request"`), not in a column of its own. That entry is written in the same
//! transaction as the certificate, so it exists exactly when the certificate does; it is
//! hash-chained and carries the instance's MAC (R-7.2.2b), so nobody without the master key can
//! plant one that makes a retry answer with another request's certificate; and the
//! certificates table, which every other path reads, stays as it is. Recovery reads only the
//! entries appended since the oldest unresolved key was claimed.

use serde::{Deserialize, Serialize};

/// Which API request (client, `Idempotency-Key`, SM3 of scope and body) an issuing call serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestOrigin {
    /// The API client's id.
    pub client_id: String,
    /// The request's `Idempotency-Key`.
    pub idempotency_key: String,
    /// Hex SM3 of the request as the key was claimed for it.
    pub request_sm3: String,
}

tokio::task_local! {
    static ORIGIN: RequestOrigin;
}

/// Runs `work` (an issuing call of the service) on behalf of `origin`: the certificate's issue
/// audit entry then names the request (see the module's documentation).
pub async fn for_request<F: std::future::Future>(origin: RequestOrigin, work: F) -> F::Output {
    ORIGIN.scope(origin, work).await
}

/// The request being served, as it goes into the issue audit entry's context.
pub(crate) fn current() -> Option<serde_json::Value> {
    ORIGIN
        .try_with(|o| serde_json::to_value(o).ok())
        .ok()
        .flatten()
}

/// Adds the request being served (if any) to an issue audit entry's `context`.
pub(crate) fn mark(context: &mut serde_json::Value) {
    if let Some(o) = current()
        && let Some(obj) = context.as_object_mut()
    {
        obj.insert("request".into(), o);
    }
}
