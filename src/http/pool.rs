//! `exec --proxy`'s own connections to the API when no HTTP proxy is in
//! the way, pooled here so that their number is bounded by construction
//! (issue 21).
//!
//! - HTTP/1.1: a call with a held body (nearly all) is written and read
//!   on the call's own task ([`super::h1conn`]); one whose body streams
//!   goes through hyper's client, which sends the body while it reads the
//!   answer, and its connection stays hyper's from then on.
//! - HTTP/1.1: a connection goes back to the idle list the moment the end
//!   of its response is read ([`ApiBody`]), before the proxy writes that
//!   end to its client (a request whose body streams: once that body's
//!   end is sent too, as the API may answer before the upload is over).
//!   So when the client's next request arrives the
//!   connection is already there, and a new one is opened only when every
//!   open one carries a response not yet read to its end: never more
//!   connections than calls in flight. (hyper-util's pool put a
//!   connection back from a task of its own, which could run after the
//!   client's next request had arrived and opened a 65th connection under
//!   64 concurrent calls.)
//! - HTTP/2 (the API chose `h2` in ALPN): one connection, every call a
//!   stream on it; a replacement is opened by one call at a time. The
//!   calls use the h2 crate themselves, each in its own task (hyper's h2
//!   client relayed each through its dispatcher and spawned a task per call).
//! - Until the first connection has told which protocol the API speaks,
//!   calls open connections one at a time (each waits for a TCP and TLS
//!   handshake, not for an answer).
//! - A request that never left (its connection had closed) is sent again
//!   on another one; one that left is not, whatever happened next, unless
//!   the API provably did not process it over HTTP/2 (a refused stream, a
//!   stream above a GOAWAY's last_stream_id) and its body is held. An idle
//!   connection that cannot take a request within [`READY_TIMEOUT`] (the
//!   API stopped reading the body of the call before) is left.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::http::request::Parts;
use axum::http::{HeaderValue, Request, Response, Uri, header, uri};
use hyper::body::Incoming;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;

use super::api::{API_READ_TIMEOUT, IDLE, MAX_ANSWER_HEAD};

/// Tries for a request that never left ([`Pool::send`]).
const ATTEMPTS: usize = 4;
/// The longest a call waits for an idle HTTP/1.1 connection to finish
/// sending the body of the call before (an API that answered early and
/// stopped reading it, neither draining nor closing); then another is used.
const READY_TIMEOUT: Duration = Duration::from_secs(5);
use super::body::Handoff;
pub use super::body::{ApiBody, ReqBody};
use super::h1conn::{CallError, H1, Io};
use super::h2conn::{H2, Sent};
use super::idle::{Idle, IdleList};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Proto {
    Unknown,
    Http1,
    Http2,
}

struct State {
    proto: Proto,
    /// Idle HTTP/1.1 connections, the most recently used last.
    idle: IdleList,
    h2: Option<H2>,
}

/// The connections to one API origin.
pub struct Pool {
    host: String,
    port: u16,
    /// `Host` of HTTP/1.1 requests.
    host_header: HeaderValue,
    scheme: uri::Scheme,
    authority: uri::Authority,
    tls: Option<(
        tokio_rustls::TlsConnector,
        rustls::pki_types::ServerName<'static>,
    )>,
    state: Mutex<State>,
    /// Held by the one call that may open a connection while the protocol
    /// is unknown, or the HTTP/2 connection is being replaced.
    opening: tokio::sync::Mutex<()>,
}

enum Conn {
    /// keyless's own ([`super::h1conn`]), for a call with a held body.
    Own(H1),
    /// hyper's, for a call whose body streams.
    H1(http1::SendRequest<ReqBody>),
    H2(H2),
}

/// Why a call got no response.
pub struct Failed {
    pub timed_out: bool,
    pub reason: String,
}

impl Failed {
    pub(super) fn new(e: impl std::fmt::Display) -> Self {
        Failed {
            timed_out: false,
            reason: e.to_string(),
        }
    }

    fn timeout() -> Self {
        Failed {
            timed_out: true,
            reason: "timed out".into(),
        }
    }
}

/// The root cause of a hyper error, which names what failed.
fn root(e: &hyper::Error) -> String {
    let mut r: &dyn std::error::Error = e;
    while let Some(next) = r.source() {
        r = next;
    }
    r.to_string()
}

impl Pool {
    /// For `base` (http or https; its path is the caller's), with TLS
    /// `tls` (offering h2 and http/1.1) when https.
    pub fn new(base: &url::Url, tls: rustls::ClientConfig) -> Result<Self, String> {
        let host = match base.host() {
            Some(url::Host::Domain(d)) => d.to_string(),
            Some(url::Host::Ipv4(a)) => a.to_string(),
            Some(url::Host::Ipv6(a)) => a.to_string(),
            None => return Err(format!("{base} names no host")),
        };
        let port = base
            .port_or_known_default()
            .ok_or_else(|| format!("{base} names no port"))?;
        let authority_text = match base.port() {
            Some(p) => format!("{}:{p}", base.host_str().unwrap_or_default()),
            None => base.host_str().unwrap_or_default().to_string(),
        };
        let authority = uri::Authority::try_from(authority_text.as_str())
            .map_err(|e| format!("{base}: {e}"))?;
        let host_header = HeaderValue::try_from(authority_text).map_err(|e| e.to_string())?;
        let (scheme, tls) = match base.scheme() {
            "https" => {
                let name = rustls::pki_types::ServerName::try_from(host.clone())
                    .map_err(|e| format!("{host}: {e}"))?;
                let connector = tokio_rustls::TlsConnector::from(Arc::new(tls));
                (uri::Scheme::HTTPS, Some((connector, name)))
            }
            _ => (uri::Scheme::HTTP, None),
        };
        Ok(Pool {
            host,
            port,
            host_header,
            scheme,
            authority,
            tls,
            state: Mutex::new(State {
                proto: Proto::Unknown,
                idle: IdleList::default(),
                h2: None,
            }),
            opening: tokio::sync::Mutex::new(()),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Send `req` (its URI: path and query) and wait for the response's
    /// head; with a copy of the request's head when `keep` (one copy: the
    /// one HTTP/2 makes anyway, else one made before sending).
    pub async fn send(
        self: &Arc<Self>,
        mut req: Request<ReqBody>,
        keep: bool,
    ) -> Result<(Response<ApiBody>, Option<Parts>), Failed> {
        let started = Instant::now();
        let path = req
            .uri()
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| uri::PathAndQuery::from_static("/"));
        // A request that never left is sent again, on another connection,
        // a bounded number of times (an API that keeps refusing, e.g. a
        // connection going away, must not keep the call looping).
        let mut unsent: Option<Failed> = None;
        for _ in 0..ATTEMPTS {
            let reused = self.reuse();
            let conn = match reused {
                Some(c) => c,
                // Boxed: opening a connection is rare, and its futures
                // (TCP, TLS, the h2 handshake) would make every call's large.
                None => tokio::time::timeout(super::CONNECT_TIMEOUT, Box::pin(self.checkout()))
                    .await
                    .map_err(|_| Failed::timeout())??,
            };
            // A streamed body goes through hyper, which sends it while it
            // reads the answer.
            let conn = match conn {
                Conn::Own(h) if !matches!(req.body(), ReqBody::Held(_)) => {
                    match h1(TokioIo::new(h.into_io())).await {
                        Ok(c) => c,
                        Err(_) => continue, // its handshake writes nothing
                    }
                }
                c => c,
            };
            let sent = match conn {
                Conn::Own(h) => {
                    let (parts, body) = req.into_parts();
                    let data: &[u8] = match &body {
                        ReqBody::Held(Some(b)) => b,
                        _ => &[],
                    };
                    match wait(h.call(&parts, path.as_str(), &self.host_header, data)).await? {
                        Ok(r) => {
                            let r = r.map(|a| ApiBody::own(a, self.clone(), started));
                            return Ok((r, keep.then_some(parts)));
                        }
                        Err(CallError::NotSent(why)) => {
                            unsent = Some(why);
                            req = Request::from_parts(parts, body);
                            continue;
                        }
                        Err(CallError::Failed(f)) => return Err(f),
                    }
                }
                Conn::H1(mut s) => {
                    if !ready(&mut s).await {
                        continue; // closed while idle: the request never left
                    }
                    *req.uri_mut() = Uri::from(path.clone());
                    req.headers_mut()
                        .insert(header::HOST, self.host_header.clone());
                    *req.version_mut() = axum::http::Version::HTTP_11;
                    let (req, handoff) = super::body::track(req);
                    let kept = keep.then(|| {
                        super::api::head_of(req.method(), req.uri(), req.version(), req.headers())
                    });
                    let call = s.try_send_request(req);
                    match wait(call).await? {
                        Ok(r) => return Ok((self.body(r, Some(s), handoff, started), kept)),
                        Err(e) => e,
                    }
                }
                Conn::H2(h) => {
                    let mut parts = uri::Parts::default();
                    parts.scheme = Some(self.scheme.clone());
                    parts.authority = Some(self.authority.clone());
                    parts.path_and_query = Some(path.clone());
                    *req.uri_mut() = Uri::from_parts(parts).map_err(Failed::new)?;
                    req.headers_mut().remove(header::HOST);
                    *req.version_mut() = axum::http::Version::HTTP_2;
                    match h.call(req).await? {
                        Sent::Answered(r, head) => {
                            let r = r.map(|inner| ApiBody::h2(inner, started));
                            return Ok((r, keep.then_some(head)));
                        }
                        Sent::Unprocessed(unsent) => {
                            req = unsent;
                            continue;
                        }
                    }
                }
            };
            let mut sent = sent;
            match sent.take_message() {
                Some(unsent) => {
                    req = unsent;
                    // The shared h2 connection refused it (going away):
                    // the next attempt opens a new one.
                    self.state().h2 = None;
                }
                None => return Err(Failed::new(root(sent.error()))),
            }
        }
        Err(unsent.unwrap_or_else(|| {
            Failed::new("the API's connections closed before the request could be sent")
        }))
    }

    fn body(
        self: &Arc<Self>,
        r: Response<Incoming>,
        h1: Option<http1::SendRequest<ReqBody>>,
        handoff: Option<Arc<Handoff>>,
        started: Instant,
    ) -> Response<ApiBody> {
        let back = h1.map(|s| (s, self.clone()));
        r.map(|inner| ApiBody::new(inner, back, handoff, started))
    }

    /// A connection to send on: an idle or the shared one, else a new one.
    async fn checkout(&self) -> Result<Conn, Failed> {
        loop {
            if let Some(c) = self.reuse() {
                return Ok(c);
            }
            if self.state().proto == Proto::Http1 {
                return self.connect().await;
            }
            let _opening = self.opening.lock().await;
            if let Some(c) = self.reuse() {
                return Ok(c);
            }
            if self.state().proto == Proto::Http1 {
                continue; // learned meanwhile: connections open in parallel
            }
            let c = self.connect().await?;
            let mut st = self.state();
            match &c {
                Conn::H1(_) | Conn::Own(_) => st.proto = Proto::Http1,
                Conn::H2(h) => {
                    st.proto = Proto::Http2;
                    st.h2 = Some(h.clone());
                }
            }
            return Ok(c);
        }
    }

    /// An idle or the shared connection that can take a call (an idle one
    /// of keyless's own is checked outside the pool's lock).
    fn reuse(&self) -> Option<Conn> {
        loop {
            // Its own statement: the lock is let go before the check.
            let c = Self::pop(&mut self.state())?;
            match c {
                Conn::Own(mut h) => {
                    if h.is_usable() {
                        return Some(Conn::Own(h));
                    }
                }
                other => return Some(other),
            }
        }
    }

    fn pop(st: &mut State) -> Option<Conn> {
        match st.proto {
            Proto::Unknown => None,
            Proto::Http2 => match &st.h2 {
                Some(h) if !h.is_closed() => Some(Conn::H2(h.clone())),
                _ => {
                    st.h2 = None;
                    None
                }
            },
            Proto::Http1 => match st.idle.pop()? {
                Idle::Own(h) => Some(Conn::Own(h)),
                Idle::Hyper(s) => Some(Conn::H1(s)),
            },
        }
    }

    pub(super) fn give_back(self: &Arc<Self>, s: http1::SendRequest<ReqBody>) {
        if !s.is_closed() {
            self.idle(Idle::Hyper(s));
        }
    }

    pub(super) fn give_back_own(self: &Arc<Self>, h: H1) {
        self.idle(Idle::Own(h));
    }

    fn idle(self: &Arc<Self>, c: Idle) {
        if self.state().idle.push(c) {
            tokio::spawn(sweep(Arc::downgrade(self)));
        }
    }

    /// A new connection: TCP (no delay), TLS when https, then HTTP/2 if
    /// the API chose it in ALPN, else HTTP/1.1.
    async fn connect(&self) -> Result<Conn, Failed> {
        let tcp = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(Failed::new)?;
        let _ = tcp.set_nodelay(true);
        let Some((tls, name)) = &self.tls else {
            return Ok(Conn::Own(H1::new(Io::Plain(tcp))));
        };
        let stream = tls.connect(name.clone(), tcp).await.map_err(Failed::new)?;
        if stream.get_ref().1.alpn_protocol() == Some(b"h2") {
            H2::handshake(stream).await.map(Conn::H2)
        } else {
            Ok(Conn::Own(H1::new(Io::Tls(Box::new(stream)))))
        }
    }
}

/// Now and then, close the idle connections the API closed (each would
/// keep its socket and buffers until a call came for it) or that were
/// kept too long, while the pool lives.
async fn sweep(pool: std::sync::Weak<Pool>) {
    loop {
        tokio::time::sleep(IDLE / 3).await;
        let Some(pool) = pool.upgrade() else { return };
        pool.state().idle.retain_live();
    }
}

/// Whether the HTTP/1.1 connection `s` can take a request (at once, as a
/// rule; else within [`READY_TIMEOUT`]).
async fn ready(s: &mut http1::SendRequest<ReqBody>) -> bool {
    use std::task::Poll;
    match std::future::poll_fn(|cx| Poll::Ready(s.poll_ready(cx))).await {
        Poll::Ready(r) => r.is_ok(),
        Poll::Pending => matches!(
            tokio::time::timeout(READY_TIMEOUT, s.ready()).await,
            Ok(Ok(()))
        ),
    }
}

async fn h1<T>(io: T) -> Result<Conn, Failed>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    // Its answer's head bounded as every other's (hyper's: about 400 KiB).
    let (send, conn) = http1::Builder::new()
        .max_buf_size(MAX_ANSWER_HEAD)
        .handshake(io)
        .await
        .map_err(|e| Failed::new(root(&e)))?;
    tokio::spawn(conn);
    Ok(Conn::H1(send))
}

/// A response head within [`API_READ_TIMEOUT`].
pub(super) async fn wait<F, T>(call: F) -> Result<T, Failed>
where
    F: std::future::Future<Output = T>,
{
    tokio::time::timeout(API_READ_TIMEOUT, call)
        .await
        .map_err(|_| Failed::timeout())
}

#[cfg(test)]
#[path = "pool_tests.rs"]
mod tests;
