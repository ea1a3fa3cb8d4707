//! An API stand-in that counts the connections it accepts, for the tests
//! that pin `exec --proxy`'s connection reuse: plain HTTP/1.1 on
//! loopback, or TLS with a private CA (rcgen) offering `h2` and
//! `http/1.1` in ALPN, as the real APIs do. Every request is answered
//! after a short pause (so that concurrent calls overlap) with a small
//! JSON body; the protocol version of each is recorded.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};

/// Each answer waits this long, so concurrent calls are in flight together
/// (long enough that, on a loaded machine, no connection of a burst is
/// still being opened when the burst's first answers come back).
const PAUSE: Duration = Duration::from_millis(150);

pub struct Counting {
    /// `http://127.0.0.1:PORT` or `https://localhost:PORT`.
    pub url: String,
    /// The PEM of the CA that signed the TLS server's certificate.
    pub ca_pem: Option<String>,
    connections: Arc<AtomicUsize>,
    versions: Arc<Mutex<Vec<hyper::Version>>>,
}

impl Counting {
    /// Plain HTTP/1.1 on 127.0.0.1.
    pub fn plain() -> Self {
        Self::start(None, PAUSE)
    }

    /// Plain HTTP/1.1, answering at once: calls follow each other as fast
    /// as the proxy lets them.
    pub fn plain_quick() -> Self {
        Self::start(None, Duration::ZERO)
    }

    /// TLS with a private CA, ALPN `h2` and `http/1.1`.
    pub fn tls() -> Self {
        let pki = crate::common::Pki::new(&["localhost"]);
        let cfg = pki.server_config(&[b"h2", b"http/1.1"]);
        Self::start(Some((pki.ca_pem, cfg)), PAUSE)
    }

    /// TLS with a private CA, ALPN `http/1.1` only.
    pub fn tls_http1() -> Self {
        let pki = crate::common::Pki::new(&["localhost"]);
        let cfg = pki.server_config(&[b"http/1.1"]);
        Self::start(Some((pki.ca_pem, cfg)), Duration::ZERO)
    }

    fn start(tls: Option<(String, rustls::ServerConfig)>, pause: Duration) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let versions = Arc::new(Mutex::new(Vec::new()));
        let (n, seen) = (connections.clone(), versions.clone());
        let (ca_pem, acceptor) = match tls {
            Some((pem, cfg)) => (
                Some(pem),
                Some(tokio_rustls::TlsAcceptor::from(Arc::new(cfg))),
            ),
            None => (None, None),
        };
        let url = match acceptor {
            Some(_) => format!("https://localhost:{port}"),
            None => format!("http://127.0.0.1:{port}"),
        };
        super::upstream::serve_in_background(listener, move |l| async move {
            loop {
                let Ok((tcp, _)) = l.accept().await else {
                    continue;
                };
                n.fetch_add(1, Ordering::SeqCst);
                let (seen, acceptor) = (seen.clone(), acceptor.clone());
                tokio::spawn(async move {
                    let svc =
                        hyper::service::service_fn(move |req| answer(req, seen.clone(), pause));
                    let server = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    match acceptor {
                        Some(a) => {
                            let Ok(tls) = a.accept(tcp).await else {
                                return;
                            };
                            let _ = server.serve_connection(TokioIo::new(tls), svc).await;
                        }
                        None => {
                            let _ = server.serve_connection(TokioIo::new(tcp), svc).await;
                        }
                    }
                });
            }
        });
        Counting {
            url,
            ca_pem,
            connections,
            versions,
        }
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// The protocol version of each request answered so far.
    pub fn versions(&self) -> Vec<hyper::Version> {
        self.versions.lock().unwrap().clone()
    }
}

async fn answer(
    req: hyper::Request<Incoming>,
    seen: Arc<Mutex<Vec<hyper::Version>>>,
    pause: Duration,
) -> Result<hyper::Response<axum::body::Body>, Infallible> {
    let version = req.version();
    let echo = req.uri().path().ends_with("/echo");
    let chunked = req.uri().path().ends_with("/chunked");
    // Read to the end, counting (any size: nothing is kept).
    let mut body = req.into_body();
    let mut len = 0usize;
    while let Some(Ok(frame)) =
        std::future::poll_fn(|cx| hyper::body::Body::poll_frame(std::pin::Pin::new(&mut body), cx))
            .await
    {
        len += frame.data_ref().map_or(0, |d| d.len());
    }
    if !pause.is_zero() {
        tokio::time::sleep(pause).await;
    }
    seen.lock().unwrap().push(version);
    if chunked {
        // `/chunked`: an answer of unknown length, in three frames (chunked
        // over HTTP/1.1).
        let parts = ["{\"len\":", &len.to_string(), "}"]
            .map(|p| Ok::<_, Infallible>(Bytes::from(p.to_string())));
        let body = axum::body::Body::from_stream(futures_util::stream::iter(parts));
        return Ok(hyper::Response::new(body));
    }
    // `/echo`: how many body bytes arrived.
    let reply = match echo {
        true => Bytes::from(format!("{{\"len\":{len}}}")),
        false => Bytes::from_static(b"{\"ok\":true}"),
    };
    Ok(hyper::Response::builder()
        .header("content-type", "application/json")
        .body(axum::body::Body::from(reply))
        .unwrap())
}
