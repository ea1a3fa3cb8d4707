//! A ledger record on disk: its format (`claimed` or `sent`; version-1
//! records read as `sent`), writing it so that it appears whole (a temp
//! file, its lock file `<digest>.lock` taken first when it is a new claim,
//! then hard-linked or renamed into place), and reading what one says,
//! including whether a `claimed` record's lock is still held. The claim policy is in the parent module.

use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

#[cfg(unix)]
use std::os::unix::fs::OpenOptionsExt;

use serde::{Deserialize, Serialize};

use crate::private_fs::{self, FileLock, LockError};

/// How long a new claim waits for a record's lock another process holds
/// for a moment (looking at the record) before it counts as a claimer's.
const CLAIM_WAIT: Duration = Duration::from_millis(200);
/// How long a takeover waits for the ledger-wide lock (held for a moment).
const LEDGER_WAIT: Duration = Duration::from_secs(30);

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

/// The lock file of the record at `path`: `<digest>.lock` beside it. A
/// claim is held by locking it, never the record itself (Windows locks are
/// mandatory: a locked record could not be read by anyone else).
pub(super) fn claim_lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Write `record` at `path` through a temp file in `dir`, so that it
/// appears whole. With `Place::New`, the record's lock is taken first and
/// handed back: the record is never visible unlocked while claimed. A lock
/// held by another claimer reads as `AlreadyExists`.
pub(super) fn write_record(
    dir: &Path,
    path: &Path,
    record: &Record,
    place: Place,
) -> std::io::Result<Option<FileLock>> {
    let held = match place {
        // Brief: an inspector holds it for a moment; a claimer for the
        // whole exchange.
        Place::New => match private_fs::lock(&claim_lock_path(path), CLAIM_WAIT, || {}) {
            Ok(l) => Some(l),
            Err(LockError::Busy | LockError::TimedOut(_)) => {
                return Err(std::io::Error::from(ErrorKind::AlreadyExists));
            }
            Err(LockError::Open(e) | LockError::Lock(e)) => return Err(e),
            Err(LockError::Refused(_)) => {
                return Err(std::io::Error::from(ErrorKind::PermissionDenied));
            }
        },
        Place::Replace => None,
    };
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
        // No fsync: the link or rename makes the record whole for every
        // other process, and a killed one loses nothing from the page
        // cache. Only a power loss could leave it torn, which reads as
        // "unknown", not "spent"; two fsyncs would cost every cold exchange
        // milliseconds on the request path.
        f.write_all(&serde_json::to_vec(record).unwrap_or_default())?;
        drop(f);
        match place {
            Place::New => std::fs::hard_link(&tmp, path),
            Place::Replace => std::fs::rename(&tmp, path),
        }
    })();
    let _ = std::fs::remove_file(&tmp);
    result.map(|()| held)
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
        State::Claimed => match private_fs::try_lock(&claim_lock_path(path)) {
            // We got it: nobody holds the claim any more, unless the claimer
            // marked it sent (or released it) meanwhile: look again, now that
            // no claimer can change it.
            Ok(_held) => match read_record(path) {
                Some(again) if again.state == State::Claimed => Found::Abandoned,
                _ => return None,
            },
            Err(LockError::Busy) => Found::Spent(r.claimed_at),
            Err(e) => Found::Io(e.reason(&claim_lock_path(path))),
        },
    })
}

fn read_record(path: &Path) -> Option<Record> {
    let file = private_fs::open_nofollow(path).ok()?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(&file, 4096), &mut bytes).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The ledger-wide lock, for taking over a record (held for a moment).
pub(super) fn ledger_lock(dir: &Path) -> Result<FileLock, LockError> {
    private_fs::lock(&dir.join(".lock"), LEDGER_WAIT, || {})
}
