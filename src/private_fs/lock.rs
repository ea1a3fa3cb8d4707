//! The one cross-process lock of keyless: an exclusive lock on a SEPARATE,
//! empty lock file (never on the data it protects), opened as every lock
//! file is ([`open_lock`]: no symlink, ours, private), held until the
//! [`FileLock`] is dropped, and waited for at most a given time.
//!
//! Why a separate file: Windows locks (`LockFileEx`) are mandatory, so a
//! lock on a data file makes every other process's read of it fail with
//! "Access denied" / "lock violation"; on Unix `flock` is advisory and a
//! lock file costs nothing. The cache's per-key and per-profile locks, the
//! config writer lock, the secrets file lock, the served-token record and
//! the single-use ledger all lock through here.
//!
//! A waiter blocks on a helper thread, so the wait is bounded without
//! polling and ends the moment the holder lets go. When the bound passes
//! the helper is abandoned: if it gets the lock later it drops it at once.

use std::fs::File;
use std::io;
use std::path::Path;
use std::time::Duration;

use super::{Unsafe, open_lock};

/// A held lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

/// Why a lock was not taken.
#[derive(Debug)]
pub enum LockError {
    /// The lock file is a link, another user's, or not a regular file.
    Refused(Unsafe),
    /// The lock file cannot be opened or created.
    Open(io::Error),
    /// The lock call itself failed.
    Lock(io::Error),
    /// Another process holds it and the wait was zero.
    Busy,
    /// Another process held it for the whole wait.
    TimedOut(Duration),
}

/// Take the exclusive lock on the lock file `path` (created, private, if
/// missing), waiting at most `wait` for another holder; `on_wait` runs once
/// when a wait begins (to tell the user why nothing happens).
pub fn lock(path: &Path, wait: Duration, on_wait: impl FnOnce()) -> Result<FileLock, LockError> {
    let file = match open_lock(path) {
        Ok(Ok(f)) => f,
        Ok(Err(u)) => return Err(LockError::Refused(u)),
        Err(e) => return Err(LockError::Open(e)),
    };
    match file.try_lock() {
        Ok(()) => return Ok(FileLock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => {}
        Err(std::fs::TryLockError::Error(e)) => return Err(LockError::Lock(e)),
    }
    if wait.is_zero() {
        return Err(LockError::Busy);
    }
    on_wait();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let r = file.lock().map(|()| file);
        // A waiter that gave up is gone: the lock is dropped with `r`.
        let _ = tx.send(r);
    });
    match rx.recv_timeout(wait) {
        Ok(Ok(file)) => Ok(FileLock { _file: file }),
        Ok(Err(e)) => Err(LockError::Lock(e)),
        Err(_) => Err(LockError::TimedOut(wait)),
    }
}

/// [`lock`] without waiting: `Err(LockError::Busy)` when another holds it.
pub fn try_lock(path: &Path) -> Result<FileLock, LockError> {
    lock(path, Duration::ZERO, || {})
}

impl LockError {
    /// The reason as one phrase, for messages that name the lock file.
    pub fn reason(&self, path: &Path) -> String {
        match self {
            LockError::Refused(u) => u.describe(path),
            LockError::Open(e) => format!(
                "cannot open {}: {}",
                path.display(),
                crate::error::io_reason(e)
            ),
            LockError::Lock(e) => format!(
                "cannot lock {}: {}",
                path.display(),
                crate::error::io_reason(e)
            ),
            LockError::Busy => format!("{} is held by another process", path.display()),
            LockError::TimedOut(d) => format!(
                "gave up after {}s waiting for another keyless process holding {}",
                d.as_secs(),
                path.display()
            ),
        }
    }

    /// The error for a command that cannot go on without the lock: a planted
    /// lock file is a config problem ([`super::refused_lock`]), a timeout a
    /// failure with `busy_hint`, the rest I/O failures.
    pub fn into_error(self, path: &Path, busy_hint: &str) -> crate::error::Error {
        use crate::error::Error;
        match &self {
            LockError::Refused(u) => super::refused_lock(path, u),
            LockError::Open(e) => Error::io("cannot open the lock file", path, e),
            LockError::Lock(e) => Error::io("cannot lock", path, e),
            LockError::Busy | LockError::TimedOut(_) => {
                Error::failure(self.reason(path)).hint(busy_hint.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_busy_then_waits_then_gets_it() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("x.lock");
        let held = try_lock(&p).unwrap();
        assert!(matches!(try_lock(&p), Err(LockError::Busy)));
        let mut told = false;
        let r = lock(&p, Duration::from_millis(150), || told = true);
        assert!(matches!(r, Err(LockError::TimedOut(_))));
        assert!(told, "the waiter is told why it waits");
        let t0 = std::time::Instant::now();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            drop(held);
        });
        lock(&p, Duration::from_secs(10), || {}).expect("the lock once released");
        assert!(t0.elapsed() < Duration::from_secs(5));
        releaser.join().unwrap();
    }

    /// The data file beside a lock stays readable and replaceable while the
    /// lock is held: what Windows' mandatory locks broke when the ledger
    /// locked its record itself. (Under Wine, the scenario in
    /// tests/cli/windows.rs shows the same end to end.)
    #[test]
    fn the_data_file_is_never_the_locked_one() {
        let t = tempfile::tempdir().unwrap();
        let data = t.path().join("record");
        std::fs::write(&data, b"v1").unwrap();
        let _held = try_lock(&t.path().join("record.lock")).unwrap();
        assert_eq!(std::fs::read(&data).unwrap(), b"v1");
        super::super::write_atomic(&data, b"v2").unwrap();
        assert_eq!(std::fs::read(&data).unwrap(), b"v2");
    }
}
