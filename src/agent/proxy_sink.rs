//! The `proxy:PROVIDER=ADDR` sinks: the `exec --proxy` gate
//! ([`crate::proxy::serve_sink`]) on a loopback port or a Unix socket,
//! shared by every program that has the capability file.
//!
//! A Unix socket is created with the sinks' mode, write added wherever
//! read is given (connecting needs write), and group; a stale socket left
//! by an agent that died is replaced (the single-instance lock says nobody
//! serves it), anything else at that path is refused.

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::sink::ProxyAddr;
use super::write::{self, Access};
use crate::error::{Error, Result};
use crate::handoff::renewal::Renewer;
use crate::private_fs;
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
                    let l = bind_unix(path, access)?;
                    b.sockets.push(path.clone());
                    SinkListener::Unix(l)
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

fn bind_unix(path: &Path, access: Access) -> Result<std::os::unix::net::UnixListener> {
    if let Ok(m) = std::fs::symlink_metadata(path) {
        if m.file_type().is_socket() && m.uid() == private_fs::euid() {
            std::fs::remove_file(path)
                .map_err(|e| Error::io("cannot replace the stale socket", path, &e))?;
        } else {
            return Err(Error::config(format!(
                "refusing the proxy sink {}: something else is there",
                path.display()
            ))
            .hint("name a path of its own; keyless replaces only a socket it left"));
        }
    }
    write::check_place(path, access)?;
    let l = std::os::unix::net::UnixListener::bind(path)
        .map_err(|e| Error::io("cannot listen on", path, &e))?;
    let mode = access.mode | ((access.mode & 0o044) >> 1);
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io("cannot set the mode of", path, &e))?;
    if let Some(g) = access.gid {
        std::os::unix::fs::lchown(path, None, Some(g))
            .map_err(|e| Error::io("cannot set the group of", path, &e))?;
    }
    Ok(l)
}
