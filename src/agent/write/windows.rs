//! The Windows side of [`super`]: every sink file and directory gets the
//! owner-only protected access list of [`private_fs`] (the directory's
//! entry is inherited by what keyless creates in it), and is judged by it
//! ([`private_fs::check_path`]: owned by the user, SYSTEM or the
//! Administrators; no other account may change a directory).
//!
//! Unix notions have no counterpart here and are refused with a message:
//! `--sink-mode` and `--sink-group` (an access list is not a mode: sharing
//! a token file with another account is not offered), and `proxy:unix:PATH`
//! sinks (the async runtime has no Unix sockets on Windows; a loopback
//! port, `proxy:PROVIDER=127.0.0.1:PORT`, serves instead).

use std::fs;
use std::io;
use std::path::Path;

use super::Access;
use crate::error::{Error, Result};
use crate::private_fs::{self, Unsafe};
use crate::proxy::SinkListener;

/// `--sink-mode` and `--sink-group` are Unix modes and groups: refused.
pub fn allow_sharing(mode: Option<&str>, group: Option<&str>) -> Result<()> {
    let flag = match (mode, group) {
        (Some(_), _) => "--sink-mode",
        (None, Some(_)) => "--sink-group",
        (None, None) => return Ok(()),
    };
    Err(Error::usage(format!(
        "{flag} is a Unix file mode or group, which Windows does not have"
    ))
    .hint(
        "leave it out: on Windows every sink is written with an access list for your account alone",
    ))
}

pub fn group_id(g: &str) -> Result<u32> {
    Err(Error::usage(format!(
        "--sink-group {g}: groups are a Unix feature"
    )))
}

/// Is the existing sink file ours (or the system's)?
pub fn is_mine(path: &Path, m: &fs::Metadata) -> bool {
    !matches!(private_fs::check_path(path, m, 0), Err(Unsafe::NotOwned))
}

/// Judge an existing sink directory: the reason it is refused.
pub fn judge_dir(dir: &Path, m: &fs::Metadata) -> std::result::Result<(), String> {
    match private_fs::check_path(dir, m, 0o022) {
        Ok(()) => Ok(()),
        Err(Unsafe::NotOwned) => Err("belongs to another user, who could replace the sink".into()),
        Err(u) => Err(format!(
            "is not safe: {}, and could swap the sink for their own file",
            u.describe(dir)
        )),
    }
}

pub fn create_dir(dir: &Path, _access: Access) -> io::Result<()> {
    private_fs::ensure_dir(dir).map_err(io::Error::other)
}

pub fn write(path: &Path, bytes: &[u8], _access: Access) -> io::Result<()> {
    private_fs::write_atomic(path, bytes)
}

/// `proxy:unix:PATH`: refused on Windows.
pub fn bind_socket(path: &Path, _access: Access) -> Result<SinkListener> {
    Err(socket_refused(path))
}

/// `proxy:unix:PATH` is refused on Windows (at start, before any exchange).
pub fn check_socket(path: &Path) -> Result<()> {
    Err(socket_refused(path))
}

fn socket_refused(path: &Path) -> Error {
    Error::usage(format!(
        "the proxy sink unix:{} is a Unix socket, which keyless does not serve on Windows",
        crate::redact::path(path)
    ))
    .hint("listen on a loopback port instead: proxy:anthropic=127.0.0.1:8471")
}
