//! One forwarded request: checked by [`gate`], its credentials replaced by
//! the current token and the headers the provider needs for OAuth tokens,
//! sent with http.rs's client, and its response streamed back as it
//! arrives. Bodies are never logged. A request body up to [`HOLD_CAP`] is
//! held so that a 401 can be retried once with a renewed token; a larger
//! one is streamed through and not retried.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use futures_util::StreamExt;
use hyper::body::Incoming;

use super::gate::{self, Capability, Refusal};
use super::listen::Conn;
use super::tokens::{Current, Tokens};
use crate::http::api::ApiClient;
use crate::output;
use crate::provider::{Configured, Provider};

/// Request bodies up to this size are held for a retry.
pub const HOLD_CAP: usize = 32 << 20;
/// The part of a 401 body kept while the request is retried.
const ERROR_BODY_CAP: usize = 64 << 10;

/// Everything a request handler needs.
pub struct Shared {
    pub provider: Provider,
    pub port: u16,
    pub capability: Capability,
    /// The real API base, without a trailing slash (`https://api.anthropic.com`,
    /// `https://api.openai.com/v1`).
    pub upstream: url::Url,
    pub headers: &'static [(&'static str, &'static str)],
    pub client: ApiClient,
    pub tokens: Tokens,
}

impl Shared {
    pub fn new(
        target: &Configured,
        port: u16,
        capability: Capability,
        upstream: url::Url,
        client: ApiClient,
        tokens: Tokens,
    ) -> Self {
        Shared {
            provider: target.provider(),
            port,
            capability,
            upstream,
            headers: target.api_headers(),
            client,
            tokens,
        }
    }
}

enum Held {
    /// The whole body, kept for a retry.
    All(Bytes),
    /// Too large to hold: what was read, and the rest still to come.
    Streaming(Vec<Bytes>, axum::body::BodyDataStream),
}

/// Set once the program keyless ran has exited: what it left running keeps
/// the port reserved until it exits too, but is not served.
pub static CLOSING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub async fn handle(shared: Arc<Shared>, req: hyper::Request<Incoming>, conn: Conn) -> Response {
    let p = shared.provider;
    let path = match check(&shared, &req, &conn) {
        Ok(path) => path,
        Err(refused) => return *refused,
    };
    if CLOSING.load(std::sync::atomic::Ordering::SeqCst) {
        return Refusal::NoToken.respond(
            p,
            Some("keyless proxy: the program keyless ran has exited; what it left running is not served"),
        );
    }
    let mut url = shared.upstream.clone();
    url.set_path(&path);
    url.set_query(req.uri().query());
    if output::verbosity() >= 2 {
        output::debug(&format!(
            "proxy: {} {}",
            req.method(),
            crate::redact::terminal(req.uri().path())
        ));
    }
    let (parts, body) = req.into_parts();
    let headers = outgoing_headers(&parts.headers, shared.headers);
    let method = parts.method;
    let held = match hold(Body::new(body)).await {
        Ok(h) => h,
        Err(why) => return Refusal::Upstream.respond(p, Some(&why)),
    };
    let token = match shared.tokens.get().await {
        Ok(t) => t,
        Err(e) => return no_token(p, &e),
    };
    let send = |token: &Current, body: reqwest::Body, headers: HeaderMap| {
        let mut r = reqwest::Request::new(method.clone(), url.clone());
        *r.headers_mut() = headers;
        if let Some(auth) = bearer(token) {
            r.headers_mut().insert(header::AUTHORIZATION, auth);
        }
        *r.body_mut() = Some(body);
        shared.client.execute(r)
    };
    let bytes = match held {
        Held::All(b) => b,
        Held::Streaming(prefix, rest) => {
            let stream = futures_util::stream::iter(prefix.into_iter().map(Ok)).chain(rest);
            let resp = send(&token, reqwest::Body::wrap_stream(stream), headers).await;
            if resp
                .as_ref()
                .is_ok_and(|r| r.status() == StatusCode::UNAUTHORIZED)
            {
                // Not retried (the body is gone), but the next call gets a new token.
                let _ = shared.tokens.rejected(&token.token).await;
            }
            return respond(p, resp);
        }
    };
    let first = send(&token, reqwest::Body::from(bytes.clone()), headers.clone()).await;
    let first = match first {
        Ok(r) if r.status() == StatusCode::UNAUTHORIZED => r,
        other => return respond(p, other),
    };
    // The API rejected the token (revoked, or expired early): keep its
    // answer, renew once, retry once.
    let saved = Saved::read(first).await;
    match shared.tokens.rejected(&token.token).await {
        Ok(renewed) if renewed.token.expose() != token.token.expose() => {
            output::info("proxy: the API rejected the token; retrying once with a new one");
            respond(p, send(&renewed, reqwest::Body::from(bytes), headers).await)
        }
        _ => saved.into_response(),
    }
}

/// The gate: the listener's `Host`, the capability (the connection is
/// then the child's), and the upstream path of an API path.
#[cfg(not(feature = "bench-no-gate"))]
fn check(
    shared: &Shared,
    req: &hyper::Request<Incoming>,
    conn: &Conn,
) -> Result<String, Box<Response>> {
    let p = shared.provider;
    if !gate::host_is_ours(req.headers(), shared.port) {
        return Err(Box::new(closing(Refusal::Host.respond(p, None))));
    }
    if !shared.capability.presented_in(req.headers()) {
        return Err(Box::new(closing(Refusal::Capability.respond(p, None))));
    }
    conn.prove();
    gate::upstream_path(req.uri().path(), shared.upstream.path())
        .ok_or_else(|| Box::new(Refusal::Path.respond(p, None)))
}

/// bench.sh's build only, to measure what the gate costs: every request
/// passes, its path unchanged (the bench's API base has no path).
#[cfg(feature = "bench-no-gate")]
fn check(_: &Shared, req: &hyper::Request<Incoming>, conn: &Conn) -> Result<String, Box<Response>> {
    conn.prove();
    Ok(req.uri().path().to_string())
}

/// `Authorization: Bearer TOKEN`, marked sensitive.
fn bearer(token: &Current) -> Option<HeaderValue> {
    let mut v = HeaderValue::try_from(format!("Bearer {}", token.token.expose())).ok()?;
    v.set_sensitive(true);
    Some(v)
}

/// A refusal to someone without the capability closes the connection:
/// refused requests cannot keep one open.
fn closing(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

/// The request's headers minus its credentials, hop-by-hop headers and
/// `Host`, plus the provider's headers for OAuth tokens: `anthropic-beta`
/// values are merged into the client's, others are added when absent.
fn outgoing_headers(incoming: &HeaderMap, extra: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (name, value) in incoming {
        if !dropped(name) {
            h.append(name.clone(), value.clone());
        }
    }
    for (name, value) in extra {
        let name = HeaderName::from_static(name);
        if name == "anthropic-beta" {
            let mut values: Vec<String> = h
                .get_all(&name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect();
            if !values.iter().any(|v| v == value) {
                values.push(value.to_string());
            }
            if let Ok(v) = HeaderValue::from_str(&values.join(",")) {
                h.insert(name, v);
            }
        } else if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    }
    h
}

fn dropped(name: &HeaderName) -> bool {
    const HOP: [&str; 9] = [
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    ];
    name == header::HOST
        || name == header::AUTHORIZATION
        || name == "x-api-key"
        || HOP.contains(&name.as_str())
}

/// Read the body up to [`HOLD_CAP`]; past it, keep what was read and the rest.
async fn hold(body: Body) -> Result<Held, String> {
    let mut stream = body.into_data_stream();
    let mut chunks = Vec::new();
    let mut size = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| format!("keyless proxy: reading the request failed: {e}"))?;
        size = size.saturating_add(chunk.len());
        chunks.push(chunk);
        if size > HOLD_CAP {
            return Ok(Held::Streaming(chunks, stream));
        }
    }
    if chunks.len() == 1 {
        return Ok(Held::All(chunks.swap_remove(0)));
    }
    let mut all = Vec::with_capacity(size);
    for c in chunks {
        all.extend_from_slice(&c);
    }
    Ok(Held::All(Bytes::from(all)))
}

/// An upstream response, streamed back frame by frame as it arrives.
fn respond(p: Provider, resp: reqwest::Result<reqwest::Response>) -> Response {
    let resp = match resp {
        Ok(r) => r,
        Err(e) => return upstream_failed(p, &e),
    };
    let (mut parts, body) = axum::http::Response::from(resp).into_parts();
    // The child speaks HTTP/1.1 to the listener, whatever the API spoke.
    parts.version = axum::http::Version::HTTP_11;
    let names: Vec<HeaderName> = parts
        .headers
        .keys()
        .filter(|n| dropped(n))
        .cloned()
        .collect();
    for name in names {
        parts.headers.remove(&name);
    }
    Response::from_parts(parts, Body::new(body))
}

fn copy_response_headers(from: &HeaderMap, to: &mut HeaderMap) {
    for (name, value) in from {
        if !dropped(name) {
            to.append(name.clone(), value.clone());
        }
    }
}

fn upstream_failed(p: Provider, e: &reqwest::Error) -> Response {
    let mut root: &dyn std::error::Error = e;
    while let Some(next) = root.source() {
        root = next;
    }
    let what = if e.is_timeout() {
        "timed out".to_string()
    } else {
        root.to_string()
    };
    let msg = format!("keyless proxy: the API could not be reached: {what}");
    output::info(&crate::redact::terminal(&msg));
    Refusal::Upstream.respond(p, Some(&msg))
}

fn no_token(p: Provider, e: &crate::error::Error) -> Response {
    let msg = format!("keyless proxy: no token to forward with: {}", e.message);
    Refusal::NoToken.respond(p, Some(&msg))
}

/// A 401 kept while the request is retried, returned if the retry cannot happen.
struct Saved {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Saved {
    async fn read(mut r: reqwest::Response) -> Self {
        let status = r.status();
        let headers = r.headers().clone();
        let mut body = Vec::new();
        while let Ok(Some(chunk)) = r.chunk().await {
            if body.len() + chunk.len() > ERROR_BODY_CAP {
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Saved {
            status,
            headers,
            body,
        }
    }

    fn into_response(self) -> Response {
        let mut out = Response::builder().status(self.status);
        if let Some(h) = out.headers_mut() {
            copy_response_headers(&self.headers, h);
            h.remove(header::CONTENT_LENGTH);
        }
        out.body(Body::from(self.body))
            .unwrap_or_else(|_| Response::new(Body::empty()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_replaced_and_the_oauth_beta_is_merged() {
        let mut h = HeaderMap::new();
        h.insert("authorization", HeaderValue::from_static("Bearer cap"));
        h.insert("x-api-key", HeaderValue::from_static("cap"));
        h.insert("host", HeaderValue::from_static("127.0.0.1:1"));
        h.insert("connection", HeaderValue::from_static("keep-alive"));
        h.insert(
            "anthropic-beta",
            HeaderValue::from_static("prompt-caching-2024-07-31, token-counting-2024-11-01"),
        );
        h.insert("anthropic-version", HeaderValue::from_static("2099-01-01"));
        h.insert("content-type", HeaderValue::from_static("application/json"));
        let extra = [
            ("anthropic-version", "2023-06-01"),
            ("anthropic-beta", "oauth-2025-04-20"),
        ];
        let out = outgoing_headers(&h, &extra);
        for gone in ["authorization", "x-api-key", "host", "connection"] {
            assert!(!out.contains_key(gone), "{gone}");
        }
        assert_eq!(
            out["anthropic-beta"],
            "prompt-caching-2024-07-31,token-counting-2024-11-01,oauth-2025-04-20"
        );
        assert_eq!(
            out["anthropic-version"], "2099-01-01",
            "the client's own wins"
        );
        assert_eq!(out["content-type"], "application/json");
        // a client that names the beta already gets it once
        let mut h = HeaderMap::new();
        h.insert(
            "anthropic-beta",
            HeaderValue::from_static("oauth-2025-04-20"),
        );
        let out = outgoing_headers(&h, &extra);
        assert_eq!(out["anthropic-beta"], "oauth-2025-04-20");
        assert_eq!(out["anthropic-version"], "2023-06-01");
    }
}
