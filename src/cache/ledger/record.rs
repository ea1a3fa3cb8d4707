//! A ledger record on disk: its format (`claimed` or `sent`; version-1
//! records read as `sent`), writing it so that it appears whole (a temp
//! file, locked first when it is a new claim, then hard-linked or renamed
//! into place), and reading what one says, including whether a `claimed`
//! record's lock is still held. The claim policy is in the parent module.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::Path;
use std::time::SystemTime;

#[cfg(unix)]
use std::os::unix::fs::OpenOptionsExt;

use serde::{Deserialize, Serialize};

use crate::private_fs;

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "kebab-case")]
pub(super) enum State {
    Claimed,
    Sent,
}

/// A record's content. Version-1 records (`{"exp","exchanged_at"}`, written
/// before sending) read as `sent`.
#[derive(Debug, Serialize, Deserialize, Clone, Copy)]
pub(super) struct Record {
    #[serde(default = "legacy_state")]
    pub(super) state: State,
    pub(super) exp: i64,
    #[serde(alias = "exchanged_at")]
    pub(super) claimed_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) sent_at: Option<i64>,
}

fn legacy_state() -> State {
    State::Sent
}

/// What is on disk for a digest.
pub(super) enum Found {
    Missing,
    /// Sent (at), or claimed by a live process.
    Spent(i64),
    /// Claimed by a process that died before connecting.
    Abandoned,
    /// Empty, torn or corrupt.
    Unreadable,
    /// Present but could not be read (permissions, EMFILE, EIO): nobody
    /// can tell, so it is not taken over.
    Io(String),
}

pub(super) enum Place {
    /// Appear only if no record exists (hard link: EEXIST otherwise).
    New,
    /// Replace whatever is there (rename).
    Replace,
}

/// Write `record` at `path` through a temp file in `dir`, so that it
/// appears whole. With `Place::New`, the temp file is locked first and the
/// lock is handed back: the record is never visible unlocked while claimed.
pub(super) fn write_record(
    dir: &Path,
    path: &Path,
    record: &Record,
    place: Place,
) -> std::io::Result<Option<File>> {
    let tmp = dir.join(format!(
        ".claim-{}-{}.tmp",
        std::process::id(),
        crate::digest::sha256_hex(&format!("{:?}{:?}", path, SystemTime::now()))
    ));
    let mut o = OpenOptions::new();
    o.read(true).write(true).create_new(true);
    #[cfg(unix)]
    o.mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    let mut f = o.open(&tmp)?;
    let result = (|| {
        if matches!(place, Place::New) {
            f.try_lock().map_err(|e| match e {
                std::fs::TryLockError::Error(e) => e,
                std::fs::TryLockError::WouldBlock => std::io::Error::from(ErrorKind::WouldBlock),
            })?;
        }
        // No fsync: the link or rename makes the record whole for every
        // other process, and a killed one loses nothing from the page
        // cache. Only a power loss could leave it torn, which reads as
        // "unknown", not "spent"; two fsyncs would cost every cold exchange
        // milliseconds on the request path.
        f.write_all(&serde_json::to_vec(record).unwrap_or_default())?;
        match place {
            Place::New => std::fs::hard_link(&tmp, path),
            Place::Replace => std::fs::rename(&tmp, path),
        }
    })();
    let _ = std::fs::remove_file(&tmp);
    result.map(|()| matches!(place, Place::New).then_some(f))
}

/// What the record at `path` says. A `claimed` record's lock is tried:
/// held means in flight, free means abandoned.
pub(super) fn inspect(path: &Path) -> Found {
    // A record replaced while we looked (claimed → sent) is looked at again.
    for _ in 0..3 {
        match inspect_once(path) {
            Some(found) => return found,
            None => continue,
        }
    }
    Found::Io("the record kept changing while it was read".into())
}

/// One look; None when the file at `path` is no longer the one locked.
fn inspect_once(path: &Path) -> Option<Found> {
    let file = match private_fs::open_nofollow(path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Some(Found::Missing),
        Err(e) => return Some(Found::Io(crate::error::io_reason(&e))),
    };
    let mut bytes = Vec::new();
    if let Err(e) = std::io::Read::read_to_end(&mut std::io::Read::take(&file, 4096), &mut bytes) {
        return Some(Found::Io(crate::error::io_reason(&e)));
    }
    let Ok(r) = serde_json::from_slice::<Record>(&bytes) else {
        return Some(Found::Unreadable);
    };
    Some(match r.state {
        State::Sent => Found::Spent(r.sent_at.unwrap_or(r.claimed_at)),
        State::Claimed => match file.try_lock() {
            // We got it: nobody holds the claim any more, unless the claimer
            // marked it sent (a new file renamed over this one) meanwhile.
            Ok(()) if same_file(&file, path) => Found::Abandoned,
            Ok(()) => return None,
            Err(_) => Found::Spent(r.claimed_at),
        },
    })
}

/// Is `file` still the file at `path`?
fn same_file(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), std::fs::symlink_metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        false
    }
}

/// The ledger-wide lock, for taking over a record: opened as every lock
/// file is ([`private_fs::open_lock`]: no symlink, 0600, ours).
pub(super) fn ledger_lock(dir: &Path) -> std::io::Result<File> {
    let f = private_fs::open_lock(&dir.join(".lock"))?
        .map_err(|_| std::io::Error::from(ErrorKind::PermissionDenied))?;
    f.lock()?;
    Ok(f)
}
