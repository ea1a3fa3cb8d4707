//! The Unix side of [`super`]: modes, groups, owners by uid, and the
//! Unix-socket proxy sinks.
//!
//! Files are 0600 unless `--sink-mode`/`--sink-group` say otherwise (set
//! on the temporary file before the rename); a missing directory is
//! created 0700 (0750 when the group may read). A directory is refused
//! when it is another user's (root aside) or writable by group or others.
//!
//! A Unix socket is created with the sinks' mode, write added wherever
//! read is given (connecting needs write), and group; a stale socket left
//! by an agent that died is replaced (the single-instance lock says nobody
//! serves it), anything else at that path is refused.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;

use super::Access;
use crate::error::{Error, Result};
use crate::private_fs;
use crate::proxy::SinkListener;

/// `--sink-mode` and `--sink-group` are this platform's own.
pub fn allow_sharing(_mode: Option<&str>, _group: Option<&str>) -> Result<()> {
    Ok(())
}

pub fn group_id(g: &str) -> Result<u32> {
    if let Ok(n) = g.parse::<u32>() {
        return Ok(n);
    }
    let name = std::ffi::CString::new(g)
        .map_err(|_| Error::usage(format!("--sink-group {g:?} is not a group name")))?;
    // SAFETY: getgrnam with a NUL-terminated name; the result is read at
    // once, before any other call that could reuse its static storage.
    let gr = unsafe { libc::getgrnam(name.as_ptr()) };
    if gr.is_null() {
        return Err(
            Error::usage(format!("--sink-group {g:?}: no such group on this system"))
                .hint("give the group's number instead (for a container, the reader's gid)"),
        );
    }
    // SAFETY: non-null result of getgrnam.
    Ok(unsafe { (*gr).gr_gid })
}

/// Is the existing sink file ours?
pub fn is_mine(_path: &Path, m: &fs::Metadata) -> bool {
    m.uid() == private_fs::euid()
}

/// Judge an existing sink directory: the reason it is refused.
pub fn judge_dir(_dir: &Path, m: &fs::Metadata) -> std::result::Result<(), String> {
    if m.uid() != private_fs::euid() && m.uid() != 0 {
        return Err("belongs to another user, who could replace the sink".into());
    }
    if m.mode() & 0o022 != 0 {
        return Err(format!(
            "has mode {:o}: other users can write to it and swap the sink for their own file",
            m.mode() & 0o7777
        ));
    }
    Ok(())
}

pub fn create_dir(dir: &Path, access: Access) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700 | if access.mode & 0o040 != 0 { 0o050 } else { 0 })
        .create(dir)
}

pub fn write(path: &Path, bytes: &[u8], access: Access) -> io::Result<()> {
    private_fs::write_atomic_shared(path, bytes, access.mode, access.gid)
}

/// Unix-socket proxy sinks are served here.
pub fn check_socket(_path: &Path) -> Result<()> {
    Ok(())
}

/// Listen on the Unix socket `path` for a proxy sink.
pub fn bind_socket(path: &Path, access: Access) -> Result<SinkListener> {
    if let Ok(m) = fs::symlink_metadata(path) {
        if m.file_type().is_socket() && m.uid() == private_fs::euid() {
            fs::remove_file(path)
                .map_err(|e| Error::io("cannot replace the stale socket", path, &e))?;
        } else {
            return Err(Error::config(format!(
                "refusing the proxy sink {}: something else is there",
                crate::redact::path(path)
            ))
            .hint("name a path of its own; keyless replaces only a socket it left"));
        }
    }
    super::check_place(path, access)?;
    let l = std::os::unix::net::UnixListener::bind(path)
        .map_err(|e| Error::io("cannot listen on", path, &e))?;
    let mode = access.mode | ((access.mode & 0o044) >> 1);
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io("cannot set the mode of", path, &e))?;
    if let Some(g) = access.gid {
        std::os::unix::fs::lchown(path, None, Some(g))
            .map_err(|e| Error::io("cannot set the group of", path, &e))?;
    }
    Ok(SinkListener::Unix(l))
}
