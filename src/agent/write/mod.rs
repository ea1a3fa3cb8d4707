//! Where the agent's file sinks land and how they are replaced.
//!
//! Every file is replaced atomically ([`private_fs`]: a temporary file in
//! the same directory, protected, fsynced, renamed over the old one), so a
//! reader sees the old content or the new, never a torn or empty file.
//! Refused, at start and before every write:
//! - a sink that is a symbolic link, a directory, or another user's file;
//! - a sink whose directory is a symbolic link, another user's (the
//!   system's aside), or writable by other users (they could swap the file).
//!
//! What "protected" and "writable by others" mean is the platform's
//! ([`unix`]: modes, `--sink-mode`/`--sink-group`, Unix-socket proxy sinks;
//! [`windows`]: owner-only access lists, and neither of those).

use std::fs;
use std::io;
use std::path::Path;

use crate::error::{Error, Result};
use crate::{private_fs, redact};

#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as platform;
#[cfg(windows)]
mod windows;
pub use platform::{bind_socket, check_socket};
#[cfg(windows)]
use windows as platform;

/// The mode and group file sinks are written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    pub mode: u32,
    pub gid: Option<u32>,
}

impl Default for Access {
    fn default() -> Self {
        Access {
            mode: 0o600,
            gid: None,
        }
    }
}

impl Access {
    /// `--sink-mode` (octal) and `--sink-group` (a name or a number).
    pub fn parse(mode: Option<&str>, group: Option<&str>) -> Result<Access> {
        platform::allow_sharing(mode, group)?;
        let mode = match mode {
            None => 0o600,
            Some(m) => {
                let v = u32::from_str_radix(m.trim_start_matches("0o"), 8).map_err(|_| {
                    Error::usage(format!("--sink-mode {m:?} is not an octal mode"))
                        .hint("for example --sink-mode 0640")
                })?;
                if v & !0o777 != 0 || v & 0o600 != 0o600 || v & 0o133 != 0 {
                    return Err(Error::usage(format!(
                        "--sink-mode {m} is not a mode for a token file: it must give the owner read and write, and nobody execute, or write but the owner"
                    ))
                    .hint("0600 (the default), 0640 with --sink-group, or 0644"));
                }
                v
            }
        };
        let gid = group.map(platform::group_id).transpose()?;
        Ok(Access { mode, gid })
    }

    /// Any access for users other than the owner.
    pub fn is_shared(&self) -> bool {
        self.mode & 0o077 != 0
    }
}

/// Make sure `path`'s directory exists and is safe, and that `path` itself
/// is a file keyless may replace (or absent).
pub fn check_place(path: &Path, access: Access) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::usage(format!("{} has no directory", redact::path(path))))?;
    check_dir(dir, access)?;
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("cannot inspect the sink", path, &e)),
        Ok(m) if m.file_type().is_symlink() => Err(refused(
            path,
            "is a symbolic link: keyless writes a sink only where it is",
        )),
        Ok(m) if !m.is_file() => Err(refused(path, "is not a regular file")),
        Ok(m) if !platform::is_mine(path, &m) => Err(refused(path, "belongs to another user")),
        Ok(_) => Ok(()),
    }
}

fn check_dir(dir: &Path, access: Access) -> Result<()> {
    match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => platform::create_dir(dir, access)
            .map_err(|e| Error::io("cannot create the sink's directory", dir, &e)),
        Err(e) => Err(Error::io("cannot inspect the sink's directory", dir, &e)),
        Ok(m) if m.file_type().is_symlink() => Err(refused(
            dir,
            "is a symbolic link: name the directory it points to",
        )),
        Ok(m) if !m.is_dir() => Err(refused(dir, "is not a directory")),
        Ok(m) => platform::judge_dir(dir, &m).map_err(|why| {
            refused(dir, &why)
                .hint("give the sink a directory of its own: keyless creates a missing one private")
        }),
    }
}

fn refused(path: &Path, why: &str) -> Error {
    Error::config(format!(
        "refusing the sink {}: it {why}",
        redact::path(path)
    ))
}

/// Replace `path` with `bytes` atomically, with `access`.
pub fn replace(path: &Path, bytes: &[u8], access: Access) -> Result<()> {
    check_place(path, access)?;
    platform::write(path, bytes, access).map_err(|e| Error::io("cannot write the sink", path, &e))
}

/// Remove `path` if it is there (nothing valid is left to put in it).
pub fn remove(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_file() => fs::remove_file(path)
            .map_err(|e| Error::io("cannot remove the sink", path, &e))
            .map(|()| {
                if let Some(d) = path.parent() {
                    private_fs::sync_dir(d);
                }
            }),
        _ => Ok(()),
    }
}

#[cfg(all(test, unix))]
mod tests;
