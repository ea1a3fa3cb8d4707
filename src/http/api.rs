//! The client `exec --proxy` forwards API calls with: the same trust and
//! proxy rules as every client of keyless's, but connections are kept, as
//! many as calls run at once, and an API that offers HTTP/2 in ALPN (the
//! real ones do) gets every call as a stream on one connection.
//!
//! Direct to the API (the usual case, and always for loopback), the
//! connections are keyless's own ([`super::pool`]): their number is
//! bounded by construction. Through an HTTP proxy of the environment,
//! reqwest's client carries the calls (it speaks CONNECT and the proxy's
//! exemptions), pooled too.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::http::request::Parts;
use axum::http::{Request, Response, Uri};

use super::pool::{Failed, Pool, ReqBody};
use crate::error::{Error, Result};

/// The longest gap between two reads of a forwarded API response.
pub const API_READ_TIMEOUT: Duration = Duration::from_secs(600);
/// The longest a forwarded API call may take in all (a long streamed answer).
pub const API_TOTAL_TIMEOUT: Duration = Duration::from_secs(6 * 3600);
/// The largest answer head taken from the API, over either protocol:
/// bytes as read over HTTP/1.1; over HTTP/2, the header list's size as
/// RFC 9113 counts it (each field's name and value and 32 bytes more).
pub const MAX_ANSWER_HEAD: usize = 64 << 10;
/// The most headers an answer may carry, over either protocol (hyper's
/// limit).
pub const MAX_ANSWER_HEADERS: usize = 100;
/// How long an idle connection to the API is kept.
pub const IDLE: Duration = Duration::from_secs(90);

pub enum ApiClient {
    Direct(Arc<Pool>),
    Proxied(reqwest::Client),
}

/// A client for `exec --proxy` to the API at `base` that keeps up to
/// `pool` idle connections (as many as the listener has connections) and
/// trusts `ca_file` too.
pub fn client_for_api(base: &url::Url, ca_file: Option<&Path>, pool: usize) -> Result<ApiClient> {
    let both = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    if !super::may_use_proxy(base) {
        let tls = super::tls_config(ca_file, both)?;
        let pool = Pool::new(base, tls)
            .map_err(|e| Error::failure(format!("cannot use the API base {base}: {e}")))?;
        return Ok(ApiClient::Direct(Arc::new(pool)));
    }
    let b = super::builder_with_alpn(ca_file, both)?
        .timeout(API_TOTAL_TIMEOUT)
        .read_timeout(API_READ_TIMEOUT)
        .pool_max_idle_per_host(pool)
        .pool_idle_timeout(IDLE)
        .tcp_nodelay(true);
    Ok(ApiClient::Proxied(super::build(b)?))
}

impl ApiClient {
    /// Send `req` (its URI: path and query; redirects are not followed,
    /// the answer is the API's); with a copy of its head when `keep`
    /// (for a second try: [`Pool::send`]).
    pub async fn execute(
        &self,
        base: &url::Url,
        req: Request<ReqBody>,
        keep: bool,
    ) -> std::result::Result<(Response<axum::body::Body>, Option<Parts>), Failed> {
        match self {
            ApiClient::Direct(pool) => pool
                .send(req, keep)
                .await
                .map(|(r, head)| (r.map(axum::body::Body::new), head)),
            ApiClient::Proxied(client) => {
                let (parts, body) = req.into_parts();
                let kept = keep.then(|| head_copy(&parts));
                let mut url = base.clone();
                url.set_path(parts.uri.path());
                url.set_query(parts.uri.query());
                let mut r = reqwest::Request::new(parts.method, url);
                *r.headers_mut() = parts.headers;
                *r.body_mut() = Some(match body {
                    ReqBody::Held(b) => reqwest::Body::from(b.unwrap_or_default()),
                    ReqBody::Streaming(b) | ReqBody::Tracked(b, _) => {
                        reqwest::Body::wrap_stream(b.into_data_stream())
                    }
                });
                match Box::pin(client.execute(r)).await {
                    Ok(resp) => Ok((Response::from(resp).map(axum::body::Body::new), kept)),
                    Err(e) => Err(failed(&e)),
                }
            }
        }
    }
}

fn failed(e: &reqwest::Error) -> Failed {
    let mut root: &dyn std::error::Error = e;
    while let Some(next) = root.source() {
        root = next;
    }
    Failed {
        timed_out: e.is_timeout(),
        reason: if e.is_timeout() {
            "timed out".to_string()
        } else {
            root.to_string()
        },
    }
}

/// A copy of a request's head: method, URI, version and headers (its
/// extensions are hyper's, and stay).
pub fn head_copy(parts: &Parts) -> Parts {
    head_of(&parts.method, &parts.uri, parts.version, &parts.headers)
}

pub(super) fn head_of(
    method: &axum::http::Method,
    uri: &Uri,
    version: axum::http::Version,
    headers: &axum::http::HeaderMap,
) -> Parts {
    let mut r = Request::new(());
    *r.method_mut() = method.clone();
    *r.uri_mut() = uri.clone();
    *r.version_mut() = version;
    *r.headers_mut() = headers.clone();
    r.into_parts().0
}
