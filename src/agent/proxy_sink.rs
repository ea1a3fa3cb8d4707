//! The `proxy:PROVIDER=ADDR` sinks: the `exec --proxy` gate
//! ([`crate::proxy::serve_sink`]) on a loopback port or a Unix socket,
//! shared by every program that has the capability file. A Unix socket is
//! [`write::bind_socket`]'s (Unix only).

use std::path::PathBuf;
use std::sync::Arc;

use super::sink::ProxyAddr;
use super::write::{self, Access};
use crate::error::{Error, Result};
use crate::handoff::renewal::Renewer;
use crate::provider::{Configured, Provider};
use crate::proxy::{self, SinkListener};

/// The sinks' listeners, bound before any token is fetched (a taken port
/// fails the start before an exchange is spent); their sockets are
/// removed if they are dropped unserved.
pub struct Bound {
    listeners: Vec<(Provider, SinkListener)>,
    sockets: Vec<PathBuf>,
}

impl Bound {
    pub fn bind(sinks: &[(Provider, ProxyAddr)], access: Access) -> Result<Bound> {
        let mut b = Bound {
            listeners: Vec::new(),
            sockets: Vec::new(),
        };
        for (provider, addr) in sinks {
            let listener = match addr {
                ProxyAddr::Tcp(a) => {
                    SinkListener::Tcp(std::net::TcpListener::bind(a).map_err(|e| {
                        Error::failure(format!(
                            "cannot listen on {a} for the {} proxy sink: {}",
                            provider.title(),
                            crate::error::io_reason(&e)
                        ))
                        .hint("another program holds the port: pick another, or stop it")
                    })?)
                }
                ProxyAddr::Unix(path) => {
                    let l = write::bind_socket(path, access)?;
                    b.sockets.push(path.clone());
                    l
                }
            };
            b.listeners.push((*provider, listener));
        }
        Ok(b)
    }

    /// Serve each listener with its provider's target and renewal engine.
    pub fn serve(
        mut self,
        feeds: &[(Configured, Arc<Renewer<'static>>)],
        capability: &str,
    ) -> Result<Proxies> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("keyless-agent-proxy")
            .enable_all()
            .build()
            .map_err(|e| Error::failure(format!("cannot start the async runtime: {e}")))?;
        let p = Proxies {
            rt,
            sockets: std::mem::take(&mut self.sockets),
        };
        for (provider, listener) in std::mem::take(&mut self.listeners) {
            let Some((target, renewer)) = feeds.iter().find(|(t, _)| t.provider() == provider)
            else {
                continue;
            };
            if let Err(e) = proxy::serve_sink(
                &p.rt,
                target,
                listener,
                capability.to_string(),
                renewer.clone(),
            ) {
                p.stop();
                return Err(e);
            }
        }
        Ok(p)
    }
}

impl Drop for Bound {
    fn drop(&mut self) {
        for s in &self.sockets {
            let _ = std::fs::remove_file(s);
        }
    }
}

/// The running listeners: their runtime, and the sockets to remove.
pub struct Proxies {
    rt: tokio::runtime::Runtime,
    sockets: Vec<PathBuf>,
}

impl Proxies {
    /// Stop listening and remove the sockets.
    pub fn stop(self) {
        self.rt
            .shutdown_timeout(std::time::Duration::from_millis(500));
        for s in &self.sockets {
            let _ = std::fs::remove_file(s);
        }
    }
}
