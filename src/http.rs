//! The HTTP client for exchanges: rustls with the OS trust store (loaded
//! on the first certificate to verify, [`roots`]), no
//! redirects, a 30 s timeout, capped response bodies, a fresh connection per
//! request, and proxies from the environment except for loopback.
//!
//! Built only on the miss path: the cache-hit path never reaches this module,
//! so it pays for no TLS setup and no runtime.

use std::path::Path;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::time::Duration;

use crate::error::{Error, Result};

pub mod api;
mod body;
mod env_proxy;
pub(crate) mod framing;
mod h1answer;
mod h1conn;
mod h2conn;
mod idle;
pub mod pool;

use env_proxy::env_proxies;
pub use env_proxy::may_use_proxy;
mod roots;

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

/// Proxies come from the environment ([`env_proxies`]).
pub fn client() -> Result<reqwest::Client> {
    client_with_ca(None)
}

/// A client that also trusts the certificates in `ca_file` (PEM) and in
/// `KEYLESS_CA_FILE`, for endpoints behind a private CA. TLS verification is
/// never off.
pub fn client_with_ca(ca_file: Option<&Path>) -> Result<reqwest::Client> {
    build(builder(ca_file)?)
}

/// [`client_with_ca`], calling `on_connect` each time a connection to an
/// endpoint is established (TCP, and TLS when https): from then on a request
/// may reach the server. The single-use ledger marks a JWT `sent` there.
pub fn client_observed(
    ca_file: Option<&Path>,
    on_connect: impl Fn() -> std::io::Result<()> + Send + Sync + 'static,
) -> Result<reqwest::Client> {
    build(builder(ca_file)?.connector_layer(observe::OnConnect::new(on_connect)))
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

fn builder(ca_file: Option<&Path>) -> Result<reqwest::ClientBuilder> {
    builder_with_alpn(ca_file, vec![b"http/1.1".to_vec()])
}

/// [`builder`] offering the protocols `alpn` in TLS.
fn builder_with_alpn(ca_file: Option<&Path>, alpn: Vec<Vec<u8>>) -> Result<reqwest::ClientBuilder> {
    let tls = tls_config(ca_file, alpn)?;
    let mut b = reqwest::Client::builder().tls_backend_preconfigured(tls);
    b = b.no_proxy();
    for proxy in env_proxies() {
        b = b.proxy(proxy);
    }
    // No idle connection is kept: a server may close one just as it is
    // reused, and the request then fails after it was sent, so it cannot be
    // retried safely (a spent code, a rotated refresh token). A command makes
    // a handful of requests; one handshake each is cheap.
    Ok(b.pool_max_idle_per_host(0)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .user_agent(USER_AGENT))
}

/// The longest a TCP connection (and its TLS handshake) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Every client's TLS: the OS trust store plus `ca_file` and
/// `KEYLESS_CA_FILE`, offering the protocols `alpn`.
fn tls_config(ca_file: Option<&Path>, alpn: Vec<Vec<u8>>) -> Result<rustls::ClientConfig> {
    // reqwest is built without a provider; ring is ours. Err = already installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut extra_roots = Vec::new();
    if let Some(path) = ca_file {
        extra_roots.extend(ca_certs(path, "--ca-file")?);
    }
    if let Some(path) = crate::env_vars::path(crate::env_vars::KEYLESS_CA_FILE) {
        extra_roots.extend(ca_certs(
            Path::new(&path),
            crate::env_vars::KEYLESS_CA_FILE,
        )?);
    }
    let mut tls = roots::client_config(extra_roots)
        .map_err(|e| Error::failure(format!("cannot configure TLS: {e}")))?;
    tls.alpn_protocols = alpn;
    Ok(tls)
}

/// A tower layer around reqwest's connector that reports established
/// connections.
mod observe {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::task::{Context, Poll};

    type Hook = Arc<dyn Fn() -> std::io::Result<()> + Send + Sync>;

    #[derive(Clone)]
    pub struct OnConnect(Hook);

    impl OnConnect {
        pub fn new(f: impl Fn() -> std::io::Result<()> + Send + Sync + 'static) -> Self {
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
        on_connect: Hook,
    }

    type Boxed<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

    impl<S, R> tower_service::Service<R> for Observed<S>
    where
        S: tower_service::Service<R>,
        S::Future: Send + 'static,
        S::Error: From<std::io::Error>,
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
                let conn = connecting.await?;
                // A hook that fails fails the connection: nothing is sent.
                on_connect()?;
                Ok(conn)
            })
        }
    }
}

/// The certificates of a CA file, which `origin` (a flag or variable) named,
/// each checked as a trust anchor now: the trust store itself is loaded only
/// when a server's certificate is verified.
pub fn ca_certs(path: &Path, origin: &str) -> Result<Vec<CertificateDer<'static>>> {
    let pem = crate::private_fs::read_outside(path, MAX_BODY as u64)
        .and_then(|p| p.ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound)))
        .map_err(|e| {
            Error::config(format!(
                "cannot read the CA file {} ({origin}): {}",
                path.display(),
                crate::error::io_reason(&e)
            ))
        })?;
    let anchors = |certs: Vec<CertificateDer<'static>>| {
        let mut store = rustls::RootCertStore::empty();
        certs
            .iter()
            .all(|c| store.add(c.clone()).is_ok())
            .then_some(certs)
    };
    let certs = (pem.len() <= MAX_BODY)
        .then(|| {
            CertificateDer::pem_slice_iter(&pem)
                .collect::<Result<Vec<_>, _>>()
                .ok()
        })
        .flatten()
        .filter(|c| !c.is_empty())
        .and_then(anchors)
        .ok_or_else(|| {
            Error::config(format!(
                "{} ({origin}) holds no usable PEM certificate",
                path.display()
            ))
            .hint("give a PEM file of one or more CA certificates (-----BEGIN CERTIFICATE-----)")
        })?;
    Ok(certs)
}

/// The hint for a request that got no answer: the setting that names the
/// endpoint (`fix`), proxies, and how to trust a private CA.
pub fn no_answer_hint(fix: &str) -> String {
    use crate::env_vars as ev;
    format!(
        "check the network, {}/{}, and {fix}; a private CA needs the profile's --ca-file or {}",
        ev::HTTPS_PROXY,
        ev::NO_PROXY,
        ev::KEYLESS_CA_FILE
    )
}

/// A response read in full, up to [`MAX_BODY`].
pub struct Response {
    pub status: u16,
    pub request_id: Option<String>,
    pub location: Option<String>,
    pub content_type: String,
    pub headers: reqwest::header::HeaderMap,
    /// A successful (2xx) answer exactly as received: it is parsed, and a
    /// provider may rightly send back a value the request carried (a
    /// non-rotating refresh token). Any other answer is only ever shown, so
    /// it is already scrubbed of the secret values the request carried.
    pub body: Vec<u8>,
    /// Those values ([`sent_secrets`]), scrubbed from headers shown too.
    sent: Vec<crate::secret::Secret<String>>,
}

impl Response {
    /// A response header, scrubbed like any server text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| crate::redact::server_text(&crate::redact::exact(v, &self.sent)))
    }
}

/// Request headers whose value is a credential, besides those reqwest marks
/// sensitive (`bearer_auth`, `basic_auth`).
const SECRET_HEADERS: [&str; 6] = [
    "authorization",
    "proxy-authorization",
    "x-identity-header",
    "secret",
    "x-aws-ec2-metadata-token",
    "cookie",
];

/// Form and JSON fields of a request body whose value is a credential.
const SECRET_FIELDS: [&str; 10] = [
    "subject_token",
    "assertion",
    "client_assertion",
    "client_secret",
    "code",
    "code_verifier",
    "refresh_token",
    "device_code",
    "password",
    "actor_token",
];

/// The exact secret values `req` carries: credential headers (and the
/// token after `Bearer `), and the credential fields of a JSON or form body.
/// A server may echo any of them in an error (App Service echoes
/// `X-IDENTITY-HEADER`, a GUID no shape rule catches); they are scrubbed
/// from everything shown about its answer.
fn sent_secrets(req: &reqwest::Request) -> Vec<crate::secret::Secret<String>> {
    let mut out: Vec<String> = Vec::new();
    for (name, v) in req.headers() {
        if (v.is_sensitive() || SECRET_HEADERS.contains(&name.as_str()))
            && let Ok(s) = v.to_str()
        {
            out.push(s.to_string());
            if let Some((_, rest)) = s.split_once(' ') {
                out.push(rest.trim().to_string());
            }
        }
    }
    if let Some(body) = req.body().and_then(|b| b.as_bytes()) {
        match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(serde_json::Value::Object(m)) => out.extend(
                SECRET_FIELDS
                    .iter()
                    .filter_map(|f| m.get(*f).and_then(|v| v.as_str()).map(str::to_string)),
            ),
            _ => out.extend(
                url::form_urlencoded::parse(body)
                    .filter(|(k, _)| SECRET_FIELDS.contains(&k.as_ref()))
                    .map(|(_, v)| v.into_owned()),
            ),
        }
    }
    // Short values ("true", a flag) would blank out ordinary words.
    out.retain(|s| s.len() >= 8);
    out.into_iter().map(crate::secret::Secret::new).collect()
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

/// `limit` is the request's own timeout (a probe's is shorter than
/// [`TIMEOUT`]), so the message names the time that actually ran out.
fn describe(e: &reqwest::Error, url: &str, limit: Duration) -> Failure {
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
            limit.as_secs().max(1)
        ))
    } else {
        Failure::Ambiguous(format!("request to {url} failed: {root}"))
    }
}

pub async fn send(
    req: reqwest::RequestBuilder,
    url: &str,
) -> std::result::Result<Response, Failure> {
    let (client, req) = req.build_split();
    let req = req.map_err(|e| describe(&e, url, TIMEOUT))?;
    let limit = req.timeout().copied().unwrap_or(TIMEOUT);
    let sent = sent_secrets(&req);
    let mut resp = client
        .execute(req)
        .await
        .map_err(|e| describe(&e, url, limit))?;
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| crate::redact::server_text(&crate::redact::exact(v, &sent)))
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
            Err(e) => return Err(describe(&e, url, limit)),
        }
    }
    Ok(Response {
        status,
        request_id,
        location,
        content_type,
        headers,
        body: if (200..300).contains(&status) {
            body
        } else {
            crate::redact::exact_bytes(body, &sent)
        },
        sent,
    })
}
