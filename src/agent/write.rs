//! Where the agent's file sinks land and how they are replaced.
//!
//! Every file is replaced atomically ([`private_fs`]: a temporary file in
//! the same directory, its mode and group set, fsynced, renamed over the
//! old one), so a reader sees the old content or the new, never a torn or
//! empty file. Files are 0600 unless `--sink-mode`/`--sink-group` say
//! otherwise. Refused, at start and before every write:
//! - a sink that is a symbolic link, a directory, or another user's file;
//! - a sink whose directory is a symbolic link, another user's (root
//!   aside), or writable by group or others (they could swap the file);
//!   a missing directory is created 0700 (0750 when the group may read).

use std::fs;
use std::io;
use std::path::Path;

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, MetadataExt};

use crate::error::{Error, Result};
use crate::private_fs;

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
        let gid = group.map(group_id).transpose()?;
        Ok(Access { mode, gid })
    }

    /// Any access for users other than the owner.
    pub fn is_shared(&self) -> bool {
        self.mode & 0o077 != 0
    }
}

#[cfg(unix)]
fn group_id(g: &str) -> Result<u32> {
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

#[cfg(not(unix))]
fn group_id(g: &str) -> Result<u32> {
    Err(Error::usage(format!(
        "--sink-group {g}: groups are a Unix feature"
    )))
}

/// Make sure `path`'s directory exists and is safe, and that `path` itself
/// is a file keyless may replace (or absent).
pub fn check_place(path: &Path, access: Access) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::usage(format!("{} has no directory", path.display())))?;
    check_dir(dir, access)?;
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("cannot inspect the sink", path, &e)),
        Ok(m) if m.file_type().is_symlink() => Err(refused(
            path,
            "is a symbolic link: keyless writes a sink only where it is",
        )),
        Ok(m) if !m.is_file() => Err(refused(path, "is not a regular file")),
        #[cfg(unix)]
        Ok(m) if m.uid() != private_fs::euid() => Err(refused(path, "belongs to another user")),
        Ok(_) => Ok(()),
    }
}

fn check_dir(dir: &Path, access: Access) -> Result<()> {
    match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let mut b = fs::DirBuilder::new();
            b.recursive(true);
            #[cfg(unix)]
            b.mode(0o700 | if access.mode & 0o040 != 0 { 0o050 } else { 0 });
            b.create(dir)
                .map_err(|e| Error::io("cannot create the sink's directory", dir, &e))
        }
        Err(e) => Err(Error::io("cannot inspect the sink's directory", dir, &e)),
        Ok(m) if m.file_type().is_symlink() => Err(refused(
            dir,
            "is a symbolic link: name the directory it points to",
        )),
        Ok(m) if !m.is_dir() => Err(refused(dir, "is not a directory")),
        #[cfg(unix)]
        Ok(m) if m.uid() != private_fs::euid() && m.uid() != 0 => Err(refused(
            dir,
            "belongs to another user, who could replace the sink",
        )),
        #[cfg(unix)]
        Ok(m) if m.mode() & 0o022 != 0 => Err(refused(
            dir,
            &format!(
                "has mode {:o}: other users can write to it and swap the sink for their own file",
                m.mode() & 0o7777
            ),
        )
        .hint("give the sink a directory of its own: keyless creates a missing one 0700")),
        Ok(_) => Ok(()),
    }
}

fn refused(path: &Path, why: &str) -> Error {
    Error::config(format!("refusing the sink {}: it {why}", path.display()))
}

/// Replace `path` with `bytes` atomically, with `access`.
pub fn replace(path: &Path, bytes: &[u8], access: Access) -> Result<()> {
    check_place(path, access)?;
    #[cfg(unix)]
    let r = private_fs::write_atomic_shared(path, bytes, access.mode, access.gid);
    #[cfg(not(unix))]
    let r = private_fs::write_atomic(path, bytes);
    r.map_err(|e| Error::io("cannot write the sink", path, &e))
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
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().mode() & 0o777
    }

    #[test]
    fn default_is_0600_and_a_mode_is_kept() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("d/tok");
        replace(&f, b"a", Access::default()).unwrap();
        assert_eq!(mode(&f), 0o600);
        assert_eq!(mode(&t.path().join("d")), 0o700);
        let shared = Access::parse(Some("0640"), None).unwrap();
        replace(&f, b"b", shared).unwrap();
        assert_eq!(mode(&f), 0o640);
        assert_eq!(fs::read(&f).unwrap(), b"b");
        assert_eq!(fs::read_dir(t.path().join("d")).unwrap().count(), 1);
    }

    #[test]
    fn links_loose_dirs_and_dirs_are_refused() {
        let t = tempfile::tempdir().unwrap();
        let loose = t.path().join("loose");
        fs::create_dir(&loose).unwrap();
        fs::set_permissions(&loose, fs::Permissions::from_mode(0o777)).unwrap();
        let e = replace(&loose.join("t"), b"x", Access::default()).unwrap_err();
        assert!(e.message.contains("other users can write"), "{}", e.message);
        let target = t.path().join("real");
        fs::write(&target, b"old").unwrap();
        let link = t.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let e = replace(&link, b"x", Access::default()).unwrap_err();
        assert!(e.message.contains("symbolic link"), "{}", e.message);
        assert_eq!(fs::read(&target).unwrap(), b"old");
        let sub = t.path().join("sub");
        fs::create_dir(&sub).unwrap();
        let e = replace(&sub, b"x", Access::default()).unwrap_err();
        assert!(e.message.contains("not a regular file"), "{}", e.message);
    }

    #[test]
    fn modes_that_would_leak_or_let_others_write_are_refused() {
        for m in ["0666", "0700", "0400", "0620", "x"] {
            assert!(Access::parse(Some(m), None).is_err(), "{m}");
        }
        assert_eq!(Access::parse(Some("0644"), None).unwrap().mode, 0o644);
        assert!(Access::parse(None, Some("no-such-group-here")).is_err());
        assert_eq!(Access::parse(None, Some("0")).unwrap().gid, Some(0));
    }
}
