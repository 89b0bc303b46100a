//! What the public handlers take as arguments (axum extractors), so that each handler says
//! what it needs instead of digging it out of the request:
//!
//! - [`Want`]: HTML or JSON (`Accept: application/json`) and the language (`?lang=en`).
//! - [`Resolved`]: the certificate a request is about, found by its token (`/v/{token}/…`, where
//!   the 2D code leads) or by number + check code (`/lookup…?number=&code=`); an unknown or
//!   malformed token, number or code is the one plain 404 (nothing tells which part was wrong).
//! - [`ClientIp`]: the client's address, as the rate limits and the download log see it.

use std::convert::Infallible;
use std::net::IpAddr;

use axum::extract::{FromRequestParts, Query, RawPathParams};
use axum::http::StatusCode;
use axum::http::request::Parts;
use ecert_store::{StatusView, SupplementRecord};
use serde::Deserialize;

use super::view::{Locator, Want};
use super::{App, Error};
use crate::domain::{CheckCode, VerifyToken};

impl<S: Send + Sync> FromRequestParts<S> for Want {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(Want::of(&parts.headers, &parts.uri))
    }
}

/// The client's address: the connection's peer, or — when the peer is one of `[server]
/// trusted_proxies` — the address that proxy names (see [`super::security::client_ip`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientIp(pub(crate) Option<IpAddr>);

impl FromRequestParts<App> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Infallible> {
        Ok(ClientIp(super::security::client_ip(
            app,
            &parts.headers,
            &parts.extensions,
        )))
    }
}

#[derive(Debug, Deserialize, Default)]
struct LookupQuery {
    number: Option<String>,
    code: Option<String>,
}

/// The certificate a public request is about, with its status (revisions, supplements).
pub(crate) struct Resolved {
    pub(crate) view: StatusView,
    /// Set when the token scanned was a supplement's own: previews and downloads are
    /// then the supplement's file.
    pub(crate) supplement: Option<SupplementRecord>,
    /// Where the certificate's files are reached from its page.
    pub(crate) at: Locator,
}

impl Resolved {
    /// By token; `None` for malformed and unknown tokens alike.
    pub(crate) async fn by_token(app: &App, token: &str) -> Result<Option<Resolved>, Error> {
        let Some(t) = VerifyToken::parse(token) else {
            return Ok(None);
        };
        Ok(app.inner.instance.scan(&t).await?.map(|s| Resolved {
            view: s.view,
            supplement: s.supplement,
            at: Locator::Token(t.as_str().to_owned()),
        }))
    }

    /// By number + check code; `None` for malformed and unknown ones alike.
    async fn by_lookup(app: &App, number: &str, code: &str) -> Result<Option<Resolved>, Error> {
        let number = number.trim();
        let Some(code) = CheckCode::parse(code) else {
            return Ok(None);
        };
        if number.is_empty() || number.len() > 200 {
            return Ok(None);
        }
        let view = app.inner.instance.look_up(number, &code).await?;
        Ok(view.map(|view| Resolved {
            view,
            supplement: None,
            at: Locator::Lookup {
                number: number.to_owned(),
                code: code.as_str().to_owned(),
            },
        }))
    }
}

impl FromRequestParts<App> for Resolved {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Error> {
        let params = RawPathParams::from_request_parts(parts, app)
            .await
            .map_err(|_| Error::not_found())?;
        if let Some((_, token)) = params.iter().find(|(k, _)| *k == "token") {
            return Resolved::by_token(app, token)
                .await?
                .ok_or_else(Error::not_found);
        }
        let q = Query::<LookupQuery>::try_from_uri(&parts.uri)
            .map(|Query(q)| q)
            .unwrap_or_default();
        let (Some(number), Some(code)) = (
            q.number.as_deref().filter(|n| !n.trim().is_empty()),
            q.code.as_deref().filter(|c| !c.trim().is_empty()),
        ) else {
            return Err(Error::new(
                StatusCode::BAD_REQUEST,
                "missing_fields",
                "请输入证书编号和校验码",
                "Enter the certificate number and the check code",
            ));
        };
        Resolved::by_lookup(app, number, code)
            .await?
            .ok_or_else(Error::not_found)
    }
}
