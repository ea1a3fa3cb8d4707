//! Where `keyless agent` serves a provider's gate: a TCP port on loopback,
//! or, on Unix, a Unix socket (a file whose mode says who may connect).
//! The one place the kinds of listener differ by platform.

use crate::proxy::listen::{self, Conn, Limits};

/// A bound listener for a proxy sink.
pub enum SinkListener {
    Tcp(std::net::TcpListener),
    /// Unix only: the async runtime has no Unix sockets on Windows (a
    /// `proxy:unix:PATH` sink is refused there, docs/agent.md#platforms).
    #[cfg(unix)]
    Unix(std::os::unix::net::UnixListener),
}

impl SinkListener {
    /// The TCP port it listens on; 0 for a Unix socket.
    pub fn port(&self) -> std::io::Result<u16> {
        match self {
            SinkListener::Tcp(l) => Ok(l.local_addr()?.port()),
            #[cfg(unix)]
            SinkListener::Unix(_) => Ok(0),
        }
    }

    /// Serve `handle` on it from `rt` (whose context the caller entered).
    pub fn spawn<H, F>(
        self,
        rt: &tokio::runtime::Runtime,
        limits: Limits,
        handle: H,
    ) -> std::io::Result<()>
    where
        H: Fn(hyper::Request<listen::ChildBody>, Conn) -> F + Clone + Send + Sync + 'static,
        F: std::future::Future<Output = axum::response::Response> + Send + 'static,
    {
        match self {
            SinkListener::Tcp(l) => {
                l.set_nonblocking(true)?;
                let l = tokio::net::TcpListener::from_std(l)?;
                rt.spawn(listen::serve(l, limits, handle));
            }
            #[cfg(unix)]
            SinkListener::Unix(l) => {
                l.set_nonblocking(true)?;
                let l = tokio::net::UnixListener::from_std(l)?;
                rt.spawn(listen::serve(l, limits, handle));
            }
        }
        Ok(())
    }
}

#[cfg(unix)]
impl listen::Accept for tokio::net::UnixListener {
    type Io = tokio::net::UnixStream;
    async fn next(&self) -> std::io::Result<Self::Io> {
        Ok(self.accept().await?.0)
    }
}
