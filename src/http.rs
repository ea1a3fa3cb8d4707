//! The HTTP client for exchanges: rustls with the OS trust store, no
//! redirects, a 30 s timeout, capped response bodies.
//!
//! Built only on the miss path: the cache-hit path never reaches this module,
//! so it pays for no TLS setup and no runtime.

use std::time::Duration;

use crate::error::{Error, Result};

pub const TIMEOUT: Duration = Duration::from_secs(30);
/// Responses larger than this are not parsed (SDK parity).
pub const MAX_BODY: usize = 1 << 20;

pub const USER_AGENT: &str = concat!("keyless/", env!("CARGO_PKG_VERSION"));

/// A single-threaded runtime for the few requests a command makes.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::failure(format!("cannot start the async runtime: {e}")))
}

/// Proxies come from `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` (reqwest's default).
pub fn client() -> Result<reqwest::Client> {
    client_with_ca(None)
}

/// A client that also trusts the certificates in `ca_file` (PEM), for
/// identity providers behind a private CA. TLS verification is never off.
pub fn client_with_ca(ca_file: Option<&std::path::Path>) -> Result<reqwest::Client> {
    build(builder(ca_file)?)
}

/// [`client`], calling `on_connect` each time a connection to an endpoint is
/// established (TCP, and TLS when https): from then on a request may reach
/// the server. The single-use ledger marks a JWT `sent` there.
pub fn client_observed(on_connect: impl Fn() + Send + Sync + 'static) -> Result<reqwest::Client> {
    build(builder(None)?.connector_layer(observe::OnConnect::new(on_connect)))
}

/// [`client`] that never uses a proxy: for metadata servers and CI token
/// endpoints, which their platforms' libraries reach directly.
pub fn client_direct() -> Result<reqwest::Client> {
    build(builder(None)?.no_proxy())
}

fn build(b: reqwest::ClientBuilder) -> Result<reqwest::Client> {
    b.build()
        .map_err(|e| Error::failure(format!("cannot build the HTTP client: {e}")))
}

fn builder(ca_file: Option<&std::path::Path>) -> Result<reqwest::ClientBuilder> {
    // reqwest is built without a provider; ring is ours. Err = already installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut b = reqwest::Client::builder();
    if let Some(path) = ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| Error::io("cannot read the CA file", path, &e).kind_config())?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
            Error::config(format!(
                "{} holds no usable PEM certificate: {e}",
                path.display()
            ))
        })?;
        b = b.tls_certs_merge(certs);
    }
    Ok(b.redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        .user_agent(USER_AGENT))
}

/// A tower layer around reqwest's connector that reports established
/// connections.
mod observe {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::task::{Context, Poll};

    #[derive(Clone)]
    pub struct OnConnect(Arc<dyn Fn() + Send + Sync>);

    impl OnConnect {
        pub fn new(f: impl Fn() + Send + Sync + 'static) -> Self {
            OnConnect(Arc::new(f))
        }
    }

    impl<S> tower_layer::Layer<S> for OnConnect {
        type Service = Observed<S>;
        fn layer(&self, inner: S) -> Observed<S> {
            Observed {
                inner,
                on_connect: self.0.clone(),
            }
        }
    }

    #[derive(Clone)]
    pub struct Observed<S> {
        inner: S,
        on_connect: Arc<dyn Fn() + Send + Sync>,
    }

    type Boxed<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

    impl<S, R> tower_service::Service<R> for Observed<S>
    where
        S: tower_service::Service<R>,
        S::Future: Send + 'static,
    {
        type Response = S::Response;
        type Error = S::Error;
        type Future = Boxed<S::Response, S::Error>;

        fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
            self.inner.poll_ready(cx)
        }

        fn call(&mut self, req: R) -> Self::Future {
            let connecting = self.inner.call(req);
            let on_connect = self.on_connect.clone();
            Box::pin(async move {
                let conn = connecting.await;
                if conn.is_ok() {
                    on_connect();
                }
                conn
            })
        }
    }
}

/// A response read in full, up to [`MAX_BODY`].
pub struct Response {
    pub status: u16,
    pub request_id: Option<String>,
    pub location: Option<String>,
    pub content_type: String,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    /// A response header, scrubbed like any server text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(crate::redact::server_text)
    }
}

/// Why a request produced no response.
pub enum Failure {
    /// Never reached the server: the request was certainly not processed.
    NotSent(String),
    /// Sent, then failed (timeout, reset, oversized body): it may have been processed.
    Ambiguous(String),
}

impl Failure {
    pub fn message(&self) -> &str {
        match self {
            Failure::NotSent(m) | Failure::Ambiguous(m) => m,
        }
    }
}

fn describe(e: &reqwest::Error, url: &str) -> Failure {
    let root = {
        let mut s: &dyn std::error::Error = e;
        while let Some(next) = s.source() {
            s = next;
        }
        s.to_string()
    };
    // reqwest flags a connect timeout as both: nothing was sent then.
    if e.is_connect() {
        Failure::NotSent(format!("cannot connect to {url}: {root}"))
    } else if e.is_timeout() {
        Failure::Ambiguous(format!(
            "no answer from {url} within {}s",
            TIMEOUT.as_secs()
        ))
    } else {
        Failure::Ambiguous(format!("request to {url} failed: {root}"))
    }
}

pub async fn send(
    req: reqwest::RequestBuilder,
    url: &str,
) -> std::result::Result<Response, Failure> {
    let mut resp = req.send().await.map_err(|e| describe(&e, url))?;
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(crate::redact::server_text)
    };
    let status = resp.status().as_u16();
    // Anthropic sends request-id; OpenAI, x-request-id.
    let request_id = header("request-id").or_else(|| header("x-request-id"));
    let location = header("location");
    let content_type = header("content-type").unwrap_or_default();
    let headers = resp.headers().clone();
    if resp.content_length().is_some_and(|n| n > MAX_BODY as u64) {
        return Err(Failure::Ambiguous(format!(
            "{url} answered {status} with a body larger than 1 MiB; not reading it"
        )));
    }
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_BODY {
                    return Err(Failure::Ambiguous(format!(
                        "{url} answered {status} with a body larger than 1 MiB; not reading it"
                    )));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => return Err(describe(&e, url)),
        }
    }
    Ok(Response {
        status,
        request_id,
        location,
        content_type,
        headers,
        body,
    })
}
