//! The managed file on Unix: its fixed path, and the rule that makes it the
//! system's: a regular file (never a link) owned by root with no group or
//! other write bit, in a directory owned by root with none either (else
//! anyone who can write the directory could remove the policy).

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::{Read, read_bounded};
use crate::private_fs;

/// The managed file's path on macOS (where administrators' settings live
/// under `/Library`) or on another Unix; a choice made here, not behind a
/// `cfg`, so that both are unit-tested on Linux.
pub const fn path_for(macos: bool) -> &'static str {
    if macos {
        "/Library/Application Support/keyless/config.json"
    } else {
        "/etc/keyless/config.json"
    }
}

pub fn path() -> Option<PathBuf> {
    Some(PathBuf::from(path_for(cfg!(target_os = "macos"))))
}

/// Why a file or directory with this owner and mode is not the system's.
pub fn judge(uid: u32, mode: u32) -> Option<String> {
    if uid != 0 {
        return Some(format!("it is owned by uid {uid}, not root"));
    }
    if mode & 0o022 != 0 {
        return Some(format!(
            "it has mode {:o}, so users other than root can change it",
            mode & 0o7777
        ));
    }
    None
}

pub fn read_trusted(path: &Path, max: u64) -> Read {
    let untrusted = |what: &Path, why: String| {
        Read::Untrusted(format!(
            "{} {why} (it must be owned by root and writable by root alone: sudo chown root {} && sudo chmod go-w {})",
            what.display(),
            what.display(),
            what.display()
        ))
    };
    let file = match private_fs::open_nofollow(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Read::Missing,
        // A parent that is not a directory: nothing placed here.
        Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => return Read::Missing,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Read::Untrusted(format!(
                "{} is a symbolic link (place the file itself there)",
                path.display()
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return denied(path, &e);
        }
        Err(e) => {
            return Read::Untrusted(format!(
                "cannot read {}: {} (it must be readable by every user: sudo chmod 644 {})",
                path.display(),
                crate::error::io_reason(&e),
                path.display()
            ));
        }
    };
    let meta = match file.metadata() {
        Ok(m) => m,
        Err(e) => {
            return Read::Untrusted(format!(
                "cannot read {}: {}",
                path.display(),
                crate::error::io_reason(&e)
            ));
        }
    };
    if !meta.is_file() {
        return Read::Untrusted(format!("{} is not a regular file", path.display()));
    }
    if let Some(why) = judge(meta.uid(), meta.mode()) {
        return untrusted(path, why);
    }
    if let Some(dir) = path.parent() {
        match std::fs::metadata(dir) {
            Ok(d) => {
                if let Some(why) = judge(d.uid(), d.mode()) {
                    return untrusted(dir, why);
                }
            }
            Err(e) => {
                return Read::Untrusted(format!(
                    "cannot inspect {}: {}",
                    dir.display(),
                    crate::error::io_reason(&e)
                ));
            }
        }
    }
    read_bounded(file, path, max)
}

/// The open was denied. If what denies it is the system's by the rule (the
/// file, or the directory when even its entry cannot be looked at), the
/// administrator placed a policy this user cannot read: unreadable, not
/// ignorable. Anything else is judged as an untrusted file is.
fn denied(path: &Path, e: &std::io::Error) -> Read {
    let reason = crate::error::io_reason(e);
    let dir = path.parent().unwrap_or(Path::new("/"));
    let judged = match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_file() => judge(m.uid(), m.mode()).map(|why| (path, why)),
        Ok(_) => Some((path, "is not a regular file".to_string())),
        Err(_) => None,
    }
    .or_else(|| match std::fs::metadata(dir) {
        Ok(d) => judge(d.uid(), d.mode()).map(|why| (dir, why)),
        Err(e) => Some((dir, crate::error::io_reason(&e))),
    });
    match judged {
        None => Read::Unreadable {
            message: format!(
                "the managed configuration {} is root's, but this user cannot read it ({reason}); keyless does not run without its policy",
                path.display()
            ),
            hint: format!(
                "the administrator must let every user read it: sudo chmod 644 {} && sudo chmod 755 {}",
                path.display(),
                dir.display()
            ),
        },
        Some((what, why)) => Read::Untrusted(format!(
            "cannot read {}: {reason}, and {} {why}",
            path.display(),
            what.display()
        )),
    }
}
