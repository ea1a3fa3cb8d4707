//! The client `exec --proxy` forwards API calls with: the same trust and
//! proxy rules as every client of keyless's, but connections are kept, as
//! many as calls run at once, and an API that offers HTTP/2 in ALPN (the
//! real ones do) gets every call as a stream on one connection.
//!
//! Until the first connection has told which protocol the API speaks,
//! calls start one at a time (each waits for a TCP and TLS handshake, not
//! for an answer): otherwise a first burst of calls would open a
//! connection each. Then calls go through [`ApiClient::h2`] (HTTP/2 only:
//! one connection, shared) or [`ApiClient::auto`] (HTTP/1.1, pooled).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::client::legacy::connect::Connection;
use tokio::sync::watch;

use crate::error::Result;

/// The longest gap between two reads of a forwarded API response.
pub const API_READ_TIMEOUT: Duration = Duration::from_secs(600);
/// The longest a forwarded API call may take in all (a long streamed answer).
pub const API_TOTAL_TIMEOUT: Duration = Duration::from_secs(6 * 3600);
/// How long an idle connection to the API is kept.
const IDLE: Duration = Duration::from_secs(90);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Proto {
    Unknown,
    Http1,
    Http2,
}

pub struct ApiClient {
    /// Offers `h2` and `http/1.1`; learns which one the API picks.
    auto: reqwest::Client,
    /// HTTP/2 only: all calls share one connection.
    h2: reqwest::Client,
    proto: watch::Receiver<Proto>,
    /// Held by the one call that may open a connection while the protocol
    /// is unknown.
    first: tokio::sync::Mutex<()>,
}

/// A client for `exec --proxy` that keeps up to `pool` idle connections
/// (as many as the listener has connections) and trusts `ca_file` too.
pub fn client_for_api(ca_file: Option<&Path>, pool: usize) -> Result<ApiClient> {
    let (tx, proto) = watch::channel(Proto::Unknown);
    let tune = |b: reqwest::ClientBuilder| {
        b.timeout(API_TOTAL_TIMEOUT)
            .read_timeout(API_READ_TIMEOUT)
            .pool_max_idle_per_host(pool)
            .pool_idle_timeout(IDLE)
            .tcp_nodelay(true)
    };
    let both = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let auto = super::build(
        tune(super::builder_with_alpn(ca_file, both)?).connector_layer(Learn(Arc::new(tx))),
    )?;
    let h2 = super::build(
        tune(super::builder_with_alpn(ca_file, vec![b"h2".to_vec()])?)
            .http2_prior_knowledge()
            .http2_adaptive_window(true)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .http2_keep_alive_timeout(Duration::from_secs(20)),
    )?;
    Ok(ApiClient {
        auto,
        h2,
        proto,
        first: tokio::sync::Mutex::new(()),
    })
}

impl ApiClient {
    fn known(&self) -> Option<&reqwest::Client> {
        match *self.proto.borrow() {
            Proto::Unknown => None,
            Proto::Http1 => Some(&self.auto),
            Proto::Http2 => Some(&self.h2),
        }
    }

    /// Send `req` (redirects are not followed; the answer is the API's).
    pub async fn execute(&self, req: reqwest::Request) -> reqwest::Result<reqwest::Response> {
        if let Some(c) = self.known() {
            return c.execute(req).await;
        }
        let first = self.first.lock().await;
        if let Some(c) = self.known() {
            drop(first);
            return c.execute(req).await;
        }
        let mut proto = self.proto.clone();
        let learned = async move { proto.wait_for(|p| *p != Proto::Unknown).await.is_ok() };
        let call = self.auto.execute(req);
        tokio::pin!(call, learned);
        tokio::select! {
            r = &mut call => r,
            _ = &mut learned => {
                // The connection is up: the others may go (over h2, they
                // share the one the h2 client opens).
                drop(first);
                call.await
            }
        }
    }
}

/// A connector layer that records the protocol of the first connection.
#[derive(Clone)]
struct Learn(Arc<watch::Sender<Proto>>);

impl<S> tower_layer::Layer<S> for Learn {
    type Service = Learning<S>;
    fn layer(&self, inner: S) -> Learning<S> {
        Learning {
            inner,
            tx: self.0.clone(),
        }
    }
}

#[derive(Clone)]
struct Learning<S> {
    inner: S,
    tx: Arc<watch::Sender<Proto>>,
}

type Boxed<T, E> =
    std::pin::Pin<Box<dyn std::future::Future<Output = std::result::Result<T, E>> + Send>>;

impl<S, R> tower_service::Service<R> for Learning<S>
where
    S: tower_service::Service<R>,
    S::Future: Send + 'static,
    S::Response: Connection,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Boxed<S::Response, S::Error>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::result::Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: R) -> Self::Future {
        let connecting = self.inner.call(req);
        let tx = self.tx.clone();
        Box::pin(async move {
            let conn = connecting.await?;
            let p = if conn.connected().is_negotiated_h2() {
                Proto::Http2
            } else {
                Proto::Http1
            };
            tx.send_if_modified(|now| {
                let first = *now == Proto::Unknown;
                if first {
                    *now = p;
                }
                first
            });
            Ok(conn)
        })
    }
}
