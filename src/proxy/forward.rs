//! One forwarded request: checked by [`gate`], its credentials replaced by
//! the current token and the headers the provider needs for OAuth tokens,
//! sent with http.rs's client, and its response streamed back as it
//! arrives. Bodies are never logged. A request body up to [`HOLD_CAP`] is
//! held so that a 401 can be retried once with a renewed token; a larger
//! one is streamed through and not retried.

use std::sync::Arc;

use std::pin::Pin;

use axum::body::{Body, Bytes};
use axum::http::request::Parts;
use axum::http::uri::PathAndQuery;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use bytes::BytesMut;
use futures_util::StreamExt;
use hyper::body::Body as _;

use super::gate::{self, Capability, Refusal};
use super::headers::{copy_response_headers, outgoing_headers, set_auth, strip};
use super::listen::{ChildBody, Conn};
use super::tokens::{Current, Tokens};
use crate::http::api::ApiClient;
use crate::http::pool::{Failed, ReqBody};
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
    /// The provider's headers for OAuth tokens, parsed once.
    pub headers: Vec<(HeaderName, HeaderValue)>,
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
            headers: target
                .api_headers()
                .iter()
                .map(|(n, v)| (HeaderName::from_static(n), HeaderValue::from_static(v)))
                .collect(),
            client,
            tokens,
        }
    }
}

/// Set once the program keyless ran has exited: what it left running keeps
/// the port reserved until it exits too, but is not served.
pub static CLOSING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub async fn handle(shared: Arc<Shared>, req: hyper::Request<ChildBody>, conn: Conn) -> Response {
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
    if output::verbosity() >= 2 {
        output::debug(&format!(
            "proxy: {} {}",
            req.method(),
            crate::redact::terminal(req.uri().path())
        ));
    }
    let (mut parts, body) = req.into_parts();
    if let Some(path) = path {
        match target_uri(path, parts.uri.query()) {
            Some(u) => parts.uri = u,
            None => return Refusal::Path.respond(p, None),
        }
    }
    outgoing_headers(&mut parts.headers, &shared.headers);
    let held = match hold(body).await {
        Ok(h) => h,
        Err(why) => return Refusal::Upstream.respond(p, Some(&why)),
    };
    let token = match shared.tokens.get().await {
        Ok(t) => t,
        Err(e) => return no_token(p, &e),
    };
    // `keep`: a copy of the request's head comes back with the answer,
    // for a retry after a 401.
    let send = |token: &Current, body: ReqBody, mut parts: Parts, keep: bool| {
        set_auth(&mut parts.headers, token.auth.as_ref());
        let req = hyper::Request::from_parts(parts, body);
        shared.client.execute(&shared.upstream, req, keep)
    };
    let bytes = match held {
        Held::All(b) => b,
        Held::Streaming(body) => {
            let resp = Box::pin(send(&token, ReqBody::Streaming(body), parts, false))
                .await
                .map(|(r, _)| r);
            if resp
                .as_ref()
                .is_ok_and(|r| r.status() == StatusCode::UNAUTHORIZED)
            {
                // Not retried (the body is gone), but the next call gets a new token.
                let _ = Box::pin(shared.tokens.rejected(&token.token)).await;
            }
            return respond(p, resp);
        }
    };
    let first = send(&token, ReqBody::Held(Some(bytes.clone())), parts, true).await;
    match first {
        Ok((r, Some(again))) if r.status() == StatusCode::UNAUTHORIZED => {
            // Boxed: rare, and it would make every request's future larger.
            Box::pin(retry(&shared, token, r, bytes, again)).await
        }
        other => respond(p, other.map(|(r, _)| r)),
    }
}

/// The API rejected the token (revoked, or expired early): keep its
/// answer, renew once, retry once.
async fn retry(
    shared: &Shared,
    token: Current,
    first: Response,
    bytes: Bytes,
    mut parts: Parts,
) -> Response {
    let p = shared.provider;
    let saved = Saved::read(first).await;
    match shared.tokens.rejected(&token.token).await {
        Ok(renewed) if renewed.token.expose() != token.token.expose() => {
            output::info("proxy: the API rejected the token; retrying once with a new one");
            set_auth(&mut parts.headers, renewed.auth.as_ref());
            let req = hyper::Request::from_parts(parts, ReqBody::Held(Some(bytes)));
            let again = shared.client.execute(&shared.upstream, req, false).await;
            respond(p, again.map(|(r, _)| r))
        }
        _ => saved.into_response(),
    }
}

/// The upstream request's path and query.
fn target_uri(path: String, query: Option<&str>) -> Option<Uri> {
    let pq = match query {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    PathAndQuery::try_from(pq).ok().map(Uri::from)
}

/// The gate: the listener's `Host`, the capability (the connection is
/// then the child's), and the upstream path of an API path (None: the
/// request's own, whose URI is then sent as it is).
#[cfg(not(feature = "bench-no-gate"))]
fn check(
    shared: &Shared,
    req: &hyper::Request<ChildBody>,
    conn: &Conn,
) -> Result<Option<String>, Box<Response>> {
    let p = shared.provider;
    if !gate::host_is_ours(req.headers(), shared.port) {
        return Err(Box::new(closing(Refusal::Host.respond(p, None))));
    }
    if !shared.capability.presented_in(req.headers()) {
        return Err(Box::new(closing(Refusal::Capability.respond(p, None))));
    }
    conn.prove();
    match gate::upstream_path(req.uri().path(), shared.upstream.path()) {
        Some(std::borrow::Cow::Borrowed(_)) => Ok(None),
        Some(std::borrow::Cow::Owned(path)) => Ok(Some(path)),
        None => Err(Box::new(Refusal::Path.respond(p, None))),
    }
}

/// bench.sh's build only, to measure what the gate costs: every request
/// passes, its path unchanged (the bench's API base has no path).
#[cfg(feature = "bench-no-gate")]
fn check(
    _: &Shared,
    _: &hyper::Request<ChildBody>,
    conn: &Conn,
) -> Result<Option<String>, Box<Response>> {
    conn.prove();
    Ok(None)
}

/// A refusal to someone without the capability closes the connection:
/// refused requests cannot keep one open.
fn closing(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

enum Held {
    /// The whole body, kept for a retry.
    All(Bytes),
    /// Too large to hold: what was read, then the rest as it comes.
    Streaming(Body),
}

/// Read the body up to [`HOLD_CAP`]; past it, keep what was read and the
/// rest. One piece is kept as it came; more are copied into one buffer, so
/// a body of tiny chunks costs its size, not a buffer per chunk.
async fn hold(mut body: ChildBody) -> Result<Held, String> {
    let mut first: Option<Bytes> = None;
    let mut joined = BytesMut::new();
    while !body.is_end_stream() {
        let frame = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        let Some(frame) = frame else { break };
        let frame = frame.map_err(|e| format!("keyless proxy: reading the request failed: {e}"))?;
        let Ok(chunk) = frame.into_data() else {
            continue; // trailers are not forwarded
        };
        match first.take() {
            None if joined.is_empty() => first = Some(chunk),
            earlier => {
                if let Some(e) = earlier {
                    // Room for the whole body when its length is known:
                    // no doubling past it (a body near the cap would
                    // otherwise hold twice its size).
                    let rest = usize::try_from(body.size_hint().lower()).unwrap_or(usize::MAX);
                    let whole = e.len().saturating_add(chunk.len()).saturating_add(rest);
                    joined.reserve(whole.min(HOLD_CAP + 1));
                    joined.extend_from_slice(&e);
                }
                joined.extend_from_slice(&chunk);
            }
        }
        let size = first.as_ref().map_or(joined.len(), Bytes::len);
        if size > HOLD_CAP {
            let read = first.unwrap_or_else(|| joined.freeze());
            let read = futures_util::stream::iter([Ok::<_, axum::Error>(read)]);
            let rest = Body::new(body).into_data_stream();
            return Ok(Held::Streaming(Body::from_stream(read.chain(rest))));
        }
    }
    Ok(Held::All(first.unwrap_or_else(|| joined.freeze())))
}

/// An upstream response, streamed back frame by frame as it arrives.
fn respond(p: Provider, resp: Result<Response, Failed>) -> Response {
    let mut resp = match resp {
        Ok(r) => r,
        Err(e) => return upstream_failed(p, &e),
    };
    // The child speaks HTTP/1.1 to the listener, whatever the API spoke.
    *resp.version_mut() = axum::http::Version::HTTP_11;
    strip(resp.headers_mut());
    resp
}

fn upstream_failed(p: Provider, e: &Failed) -> Response {
    let msg = format!("keyless proxy: the API could not be reached: {}", e.reason);
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
    async fn read(r: Response) -> Self {
        let (parts, mut stream) = r.into_parts();
        let mut body = Vec::new();
        while let Some(Ok(frame)) =
            std::future::poll_fn(|cx| Pin::new(&mut stream).poll_frame(cx)).await
        {
            let Ok(chunk) = frame.into_data() else {
                continue;
            };
            if body.len() + chunk.len() > ERROR_BODY_CAP {
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Saved {
            status: parts.status,
            headers: parts.headers,
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
