//! Cross-process locks in the cache dir: one per cache key (an exchange)
//! and one per profile (a sign-in or refresh), each a `.lock` file held with
//! `flock` for as long as its guard lives.
//!
//! The wait is bounded ([`private_fs::lock`]). An unusable cache dir gives an empty guard (no caching, no
//! lock) except where [`TokenCache::lock_required`] says a lock is a must.
//! The guard is the proof the write APIs ask for.

use std::time::Duration;

use super::{CacheKey, TokenCache, WARNED_UNUSABLE};
use crate::error::{Error, Result};
use crate::output;
use crate::private_fs;

use std::sync::atomic::Ordering;

/// Longest a caller waits for another process's exchange (or sign-in).
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(330);

/// Holds a lock; writes take it as proof.
pub struct LockGuard {
    pub(super) file: Option<private_fs::FileLock>,
}

impl LockGuard {
    /// False when the cache dir is unusable and nothing is locked (or cached).
    pub fn is_held(&self) -> bool {
        self.file.is_some()
    }
}

impl TokenCache {
    /// Take the lock for `key`, waiting for another process's exchange.
    pub fn lock(&self, key: &CacheKey) -> Result<LockGuard> {
        self.lock_named(&key.stem())
    }

    /// Take the lock `<dir>/<name>.lock` (per cache key, or per profile for sign-in).
    pub fn lock_named(&self, name: &str) -> Result<LockGuard> {
        if !self.usable_dir() {
            return Ok(LockGuard { file: None });
        }
        self.lock_file(name)
    }

    /// Like [`TokenCache::lock_named`], but without a usable cache dir it
    /// fails instead of going on unlocked: refresh-token rotation must never
    /// run twice at once.
    pub fn lock_required(&self, name: &str) -> Result<LockGuard> {
        if let Err(m) = private_fs::ensure_dir(&self.dir) {
            return Err(
                Error::config(format!("cannot lock the sign-in session: {m}")).hint(
                    "fix KEYLESS_CACHE_DIR or its permissions; the session's lock lives there",
                ),
            );
        }
        let g = self.lock_file(name)?;
        if !g.is_held() {
            return Err(Error::config("cannot open the sign-in session's lock file"));
        }
        Ok(g)
    }

    fn lock_file(&self, name: &str) -> Result<LockGuard> {
        let path = self.dir.join(format!("{name}.lock"));
        let waiting = || output::info("another keyless process is exchanging; waiting for it");
        match private_fs::lock(&path, LOCK_TIMEOUT, waiting) {
            Ok(l) => Ok(LockGuard { file: Some(l) }),
            Err(e @ private_fs::LockError::Open(_)) => {
                if !WARNED_UNUSABLE.swap(true, Ordering::Relaxed) {
                    output::warn(&format!("token cache disabled: {}", e.reason(&path)));
                }
                Ok(LockGuard { file: None })
            }
            Err(e) => Err(e.into_error(
                &path,
                "another keyless is still exchanging or signing in; let it finish (a lock is released when its process ends), then retry",
            )),
        }
    }
}
