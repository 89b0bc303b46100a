//! Security headers, access logs and metrics for every response; per-address rate limits.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{App, Error};

/// The Content-Security-Policy of every response: nothing runs, nothing loads from elsewhere,
/// no framing (clickjacking), forms post only to us.
pub(crate) const CSP: &str = "default-src 'none'; img-src 'self'; style-src 'self'; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// [`CSP`] with pictures in the page itself (`data:`), for the console's drafts, whose pages
/// are kept nowhere else. A handler that sets its own policy keeps it.
pub(crate) const CSP_DATA_IMAGES: &str = "default-src 'none'; img-src 'self' data:; \
     style-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The connection's peer address.
fn peer(extensions: &Extensions) -> Option<IpAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// The client's address: the connection's peer, unless the peer is one of `[server]
/// trusted_proxies`; then the hops the proxies name (`Forwarded: for=…`, RFC 7239, else
/// `X-Forwarded-For`) are walked from the nearest, and the first that is not itself a trusted
/// proxy is the client. A header from any other peer is ignored: anyone can send one, and a
/// client could otherwise pick a fresh address for every request to escape the rate limits.
pub(crate) fn client_ip(app: &App, headers: &HeaderMap, extensions: &Extensions) -> Option<IpAddr> {
    let peer = peer(extensions)?;
    let trusted = &app.inner.server.trusted_proxies;
    Some(forwarded_client(peer, trusted, headers))
}

fn forwarded_client(peer: IpAddr, trusted: &[IpAddr], headers: &HeaderMap) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops = forwarded_hops(headers);
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop {
            Some(ip) => {
                client = *ip;
                if !trusted.contains(ip) {
                    break;
                }
            }
            // A hop that names no address (`unknown`, obfuscated, garbage): the last address
            // known is as far as the chain can be believed.
            None => break,
        }
    }
    client
}

/// The hops a request passed, nearest last: `Forwarded`'s `for=` when the request has one,
/// else `X-Forwarded-For`.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<&str> = headers
        .get_all(header::FORWARDED)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (k, v) = pair.trim().split_once('=')?;
                    k.trim()
                        .eq_ignore_ascii_case("for")
                        .then(|| node_ip(v.trim()))
                })
            })
            .collect();
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|a| node_ip(a.trim()))
        .collect()
}

/// The address of a node: `192.0.2.1`, `192.0.2.1:4711`, `"[2001:db8::1]:4711"`, `2001:db8::1`.
fn node_ip(node: &str) -> Option<IpAddr> {
    let node = node.trim_matches('"');
    if let Ok(ip) = node.parse() {
        return Some(ip);
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    node.parse::<SocketAddr>().ok().map(|a| a.ip())
}

/// The rate limit of the number + check-code lookup (`lookup_per_minute`), as the lookup
/// routes' `route_layer`.
pub(crate) async fn limit_lookups(State(app): State<App>, req: Request, next: Next) -> Response {
    let who = client_ip(&app, req.headers(), req.extensions());
    if !app.inner.lookup_limit.allow(who) {
        return Error::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "查询过于频繁，请一分钟后再试",
            "Too many requests; please wait a minute",
        )
        .into_response();
    }
    next.run(req).await
}

/// The rate limit of uploads (`verify_per_minute`), as `POST /verify`'s `route_layer`.
pub(crate) async fn limit_uploads(State(app): State<App>, req: Request, next: Next) -> Response {
    let who = client_ip(&app, req.headers(), req.extensions());
    if !app.inner.verify_limit.allow(who) {
        return Error::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "上传过于频繁，请一分钟后再试",
            "Too many uploads; please wait a minute",
        )
        .into_response();
    }
    next.run(req).await
}

/// Adds the security headers, counts the response and writes one access-log line (the route
/// pattern, never the token: tokens are secrets).
pub(crate) async fn observe(State(app): State<App>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "(unmatched)".to_owned());
    let method = req.method().clone();
    let remote = client_ip(&app, req.headers(), req.extensions());
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    let status = resp.status().as_u16();
    let elapsed = started.elapsed();
    app.inner
        .metrics
        .observe(method.as_str(), &route, status, elapsed);
    let ms = elapsed.as_secs_f64() * 1000.0;
    let remote = remote.map(|r| r.to_string()).unwrap_or_default();
    if status >= 500 {
        tracing::error!(target: "ecert::access", %method, %route, status, ms, %remote, "request");
    } else if status >= 400 {
        tracing::warn!(target: "ecert::access", %method, %route, status, ms, %remote, "request");
    } else {
        tracing::info!(target: "ecert::access", %method, %route, status, ms, %remote, "request");
    }
    resp
}

/// A fixed-window limit of requests per minute and client address.
pub(crate) struct RateLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<IpAddr, (u64, u32)>>,
}

impl RateLimiter {
    /// `per_minute == 0`: no limit.
    pub(crate) fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// True when `who` may make one more request now.
    pub(crate) fn allow(&self, who: Option<IpAddr>) -> bool {
        if self.per_minute == 0 {
            return true;
        }
        let Some(ip) = who else { return true };
        let minute = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() / 60)
            .unwrap_or(0);
        let Ok(mut map) = self.windows.lock() else {
            return true;
        };
        if map.len() > 100_000 {
            map.retain(|_, (m, _)| *m == minute);
        }
        let entry = map.entry(ip).or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        entry.1 += 1;
        entry.1 <= self.per_minute
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                *k,
                HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static("")),
            );
        }
        h
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let proxy: IpAddr = [127, 0, 0, 1].into();
        let inner: IpAddr = [10, 0, 0, 2].into();
        let client: IpAddr = [203, 0, 113, 7].into();
        let xff = headers(&[("x-forwarded-for", "198.51.100.1, 203.0.113.7")]);
        // From a peer that is not trusted, the header is ignored.
        assert_eq!(forwarded_client(proxy, &[], &xff), proxy);
        // Behind one trusted proxy: its nearest hop is the client (the left one could be
        // anything the client wrote).
        assert_eq!(forwarded_client(proxy, &[proxy], &xff), client);
        // Two trusted proxies in a row.
        let two = headers(&[("x-forwarded-for", "203.0.113.7, 10.0.0.2")]);
        assert_eq!(forwarded_client(proxy, &[proxy, inner], &two), client);
        // RFC 7239, with IPv6, a port and quotes; it wins over X-Forwarded-For.
        let fwd = headers(&[
            (
                "forwarded",
                r#"for=192.0.2.60;proto=http, for="[2001:db8:cafe::17]:4711""#,
            ),
            ("x-forwarded-for", "198.51.100.9"),
        ]);
        assert_eq!(
            forwarded_client(proxy, &[proxy], &fwd),
            "2001:db8:cafe::17".parse::<IpAddr>().unwrap_or(proxy)
        );
        // A hop without an address stops the walk at the last one known.
        let unknown = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(forwarded_client(proxy, &[proxy], &unknown), proxy);
    }

    #[test]
    fn limiter_counts_per_address() {
        let l = RateLimiter::new(2);
        let a = Some(IpAddr::from([127, 0, 0, 1]));
        let b = Some(IpAddr::from([127, 0, 0, 2]));
        assert!(l.allow(a) && l.allow(a));
        assert!(!l.allow(a), "third request in the minute");
        assert!(l.allow(b));
        assert!(RateLimiter::new(0).allow(a));
    }
}
