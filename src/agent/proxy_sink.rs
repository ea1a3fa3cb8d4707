//! The `proxy:PROVIDER=ADDR` sinks: the `exec --proxy` gate
//! ([`crate::proxy::serve_sink`]) on a loopback port or a Unix socket,
//! shared by every program that has the capability file.
//! A Unix socket is [`write::bind_socket`]'s (Unix only).

use std::path::PathBuf;
use std::sync::Arc;

use super::sink::ProxyAddr;
use super::write::{self, Access};
use crate::error::{Error, Result};
use crate::handoff::renewal::Renewer;
use crate::provider::Configured;
use crate::proxy::{self, SinkListener};

/// The running listeners: their runtime, and the sockets to remove.
pub struct Proxies {
    rt: tokio::runtime::Runtime,
    sockets: Vec<PathBuf>,
}

impl Proxies {
    pub fn start(
        sinks: &[(Configured, ProxyAddr, Arc<Renewer<'static>>)],
        capability: &str,
        access: Access,
    ) -> Result<Proxies> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("keyless-agent-proxy")
            .enable_all()
            .build()
            .map_err(|e| Error::failure(format!("cannot start the async runtime: {e}")))?;
        let mut p = Proxies {
            rt,
            sockets: Vec::new(),
        };
        for (target, addr, renewer) in sinks {
            let listener = match addr {
                ProxyAddr::Tcp(a) => {
                    SinkListener::Tcp(std::net::TcpListener::bind(a).map_err(|e| {
                        Error::failure(format!(
                            "cannot listen on {a} for the {} proxy sink: {}",
                            target.provider().title(),
                            crate::error::io_reason(&e)
                        ))
                        .hint("another program holds the port: pick another, or stop it")
                    })?)
                }
                ProxyAddr::Unix(path) => {
                    let l = write::bind_socket(path, access)?;
                    p.sockets.push(path.clone());
                    l
                }
            };
            proxy::serve_sink(
                &p.rt,
                target,
                listener,
                capability.to_string(),
                renewer.clone(),
            )?;
        }
        Ok(p)
    }

    /// Stop listening and remove the sockets.
    pub fn stop(self) {
        self.rt
            .shutdown_timeout(std::time::Duration::from_millis(500));
        for s in &self.sockets {
            let _ = std::fs::remove_file(s);
        }
    }
}
