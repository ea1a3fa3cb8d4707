//! The on-disk token cache: one 0600 JSON file per cache key, a `.lock` file
//! of its own, and a ledger of assertions already exchanged.
//!
//! The protocol is: read; on a miss, lock, read again, exchange, write, unlock.
//! N processes on a cold cache therefore make one exchange. Anything odd about
//! a cache file (corrupt, foreign, unsafe mode) makes it a miss that the next
//! write replaces. An unusable cache directory degrades to no caching with one
//! warning. The read path makes no network call, no keyring call and no lock.

use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[cfg(unix)]
use std::os::unix::fs::OpenOptionsExt;

use crate::error::{Error, Result};
use crate::output;
use crate::private_fs::{self, Read0600};
use crate::secret::Secret;

const CACHE_VERSION: u32 = 1;
/// Longest a caller waits for another process's exchange (or sign-in).
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(330);

/// A digest of configuration only: never of a token or assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheKey {
    pub provider: &'static str,
    pub hex: String,
}

impl CacheKey {
    /// `parts` are the configuration fields that decide which token comes out:
    /// profile, base URL, organization, rule, service account, workspace,
    /// identity source. Order matters and is fixed by the caller.
    pub fn new(provider: &'static str, parts: &[(&str, &str)]) -> Self {
        let mut h = Sha256::new();
        h.update(b"keyless-cache-v1\0");
        h.update(provider.as_bytes());
        for (k, v) in parts {
            h.update(b"\0");
            h.update(k.as_bytes());
            h.update(b"=");
            h.update(v.as_bytes());
        }
        CacheKey {
            provider,
            hex: crate::jwt::hex(&h.finalize()[..16]),
        }
    }
    fn stem(&self) -> String {
        format!("{}-{}", self.provider, self.hex)
    }
}

#[derive(Serialize, Deserialize)]
struct EntryFile {
    version: u32,
    cache_key: String,
    provider: String,
    access_token: String,
    token_type: String,
    expires_at: i64,
    obtained_at: i64,
}

/// A cached token.
#[derive(Debug, Clone)]
pub struct Entry {
    pub access_token: Secret<String>,
    pub token_type: String,
    pub expires_at: i64,
    pub obtained_at: i64,
}

impl Entry {
    pub fn lifetime(&self) -> i64 {
        self.expires_at - self.obtained_at
    }
    /// Served while remaining life exceeds min(min_ttl, lifetime / 2).
    pub fn is_fresh(&self, now: i64, min_ttl: i64) -> bool {
        let needed = min_ttl.min(self.lifetime() / 2).max(0);
        self.expires_at - now > needed
    }
}

/// The state of one cache file.
pub enum Inspection {
    Missing,
    /// A symlink, not ours, or readable by others.
    Unsafe(String),
    /// Corrupt, foreign, or unreadable.
    Unreadable(String),
    Valid(Entry),
}

pub struct TokenCache {
    dir: PathBuf,
}

static WARNED_UNUSABLE: AtomicBool = AtomicBool::new(false);

/// Holds the per-key lock; writes take it as proof.
pub struct LockGuard {
    _file: Option<File>,
}

/// What the single-use ledger says about an assertion.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// Never exchanged before; now recorded.
    Fresh,
    /// Already exchanged at this Unix time.
    AlreadyExchanged(i64),
    /// No ledger (neither the cache dir nor the temp dir is usable): cannot tell.
    Unknown,
}

/// Where the ledger goes when the cache dir is unusable: a private per-user
/// dir under the system temp dir.
fn fallback_ledger_dir() -> PathBuf {
    #[cfg(unix)]
    let user = private_fs::euid().to_string();
    #[cfg(not(unix))]
    let user = std::env::var("USERNAME").unwrap_or_default();
    std::env::temp_dir()
        .join(format!("keyless-{user}"))
        .join("exchanged")
}

/// The ledger's name for `assertion` spent at `provider`. Each provider
/// tracks the JWTs it has seen on its own, so one JWT may be spent once per
/// provider: the ledger records (provider, assertion).
pub fn ledger_name(provider: &str, assertion: &str) -> String {
    format!("{provider}-{}", crate::jwt::digest(assertion))
}

impl TokenCache {
    pub fn new(dir: PathBuf) -> Self {
        TokenCache { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn entry_path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(format!("{}.json", key.stem()))
    }

    /// The fast path: one open, one fstat, one read, one parse.
    pub fn read(&self, key: &CacheKey) -> Option<Entry> {
        match self.inspect(key) {
            Inspection::Valid(e) => Some(e),
            Inspection::Missing => None,
            Inspection::Unsafe(msg) => {
                output::warn(&format!(
                    "ignoring the cached token: {msg}; it will be replaced"
                ));
                None
            }
            Inspection::Unreadable(msg) => {
                output::info(&format!("{msg}; treating it as a miss"));
                None
            }
        }
    }

    /// What the cache file for `key` holds, without side effects.
    pub fn inspect(&self, key: &CacheKey) -> Inspection {
        let path = self.entry_path(key);
        let bytes = match private_fs::read_private(&path, 0o077, 64 * 1024) {
            Ok(Read0600::Data(b)) => b,
            Ok(Read0600::Missing) => return Inspection::Missing,
            Ok(Read0600::Unsafe(u)) => return Inspection::Unsafe(u.describe(&path)),
            Err(e) => {
                return Inspection::Unreadable(format!(
                    "cannot read the cache file {}: {}",
                    path.display(),
                    crate::error::io_reason(&e)
                ));
            }
        };
        let parsed: EntryFile = match serde_json::from_slice(&bytes) {
            Ok(p) => p,
            Err(e) => {
                // serde's message can quote values (a token): position only.
                return Inspection::Unreadable(format!(
                    "cache file {} is corrupt (line {}, column {})",
                    path.display(),
                    e.line(),
                    e.column()
                ));
            }
        };
        if parsed.version != CACHE_VERSION
            || parsed.cache_key != key.hex
            || parsed.provider != key.provider
            || parsed.access_token.is_empty()
        {
            return Inspection::Unreadable(format!(
                "cache file {} belongs to another configuration or version",
                path.display()
            ));
        }
        Inspection::Valid(Entry {
            access_token: Secret::new(parsed.access_token),
            token_type: parsed.token_type,
            expires_at: parsed.expires_at,
            obtained_at: parsed.obtained_at,
        })
    }

    fn usable_dir(&self) -> bool {
        match private_fs::ensure_dir(&self.dir) {
            Ok(()) => true,
            Err(msg) => {
                if !WARNED_UNUSABLE.swap(true, Ordering::Relaxed) {
                    output::warn(&format!(
                        "token cache disabled: {msg}; every call will exchange a new token"
                    ));
                }
                false
            }
        }
    }

    /// Take the lock for `key`, waiting for another process's exchange.
    pub fn lock(&self, key: &CacheKey) -> Result<LockGuard> {
        self.lock_named(&key.stem())
    }

    /// Take the lock `<dir>/<name>.lock` (per cache key, or per profile for sign-in).
    pub fn lock_named(&self, name: &str) -> Result<LockGuard> {
        if !self.usable_dir() {
            return Ok(LockGuard { _file: None });
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
        if g._file.is_none() {
            return Err(Error::config("cannot open the sign-in session's lock file"));
        }
        Ok(g)
    }

    fn lock_file(&self, name: &str) -> Result<LockGuard> {
        let path = self.dir.join(format!("{name}.lock"));
        let mut o = OpenOptions::new();
        o.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        o.mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
        let file = match o.open(&path) {
            Ok(f) => f,
            Err(e) => {
                if !WARNED_UNUSABLE.swap(true, Ordering::Relaxed) {
                    output::warn(&format!(
                        "token cache disabled: cannot open {}: {}",
                        path.display(),
                        crate::error::io_reason(&e)
                    ));
                }
                return Ok(LockGuard { _file: None });
            }
        };
        match file.try_lock() {
            Ok(()) => return Ok(LockGuard { _file: Some(file) }),
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Error::io("cannot lock", &path, &e));
            }
        }
        output::info("another keyless process is exchanging; waiting for it");
        // A blocking lock on a helper thread, so the wait is bounded without polling.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let r = file.lock().map(|()| file);
            let _ = tx.send(r);
        });
        match rx.recv_timeout(LOCK_TIMEOUT) {
            Ok(Ok(file)) => Ok(LockGuard { _file: Some(file) }),
            Ok(Err(e)) => Err(Error::io("cannot lock", &path, &e)),
            Err(_) => Err(Error::failure(format!(
                "gave up after {}s waiting for another keyless process holding {}",
                LOCK_TIMEOUT.as_secs(),
                path.display()
            ))
            .hint("another keyless is still exchanging or signing in; let it finish (a lock is released when its process ends), then retry")),
        }
    }

    /// Write `entry` for `key`. Failures degrade to a warning: the token is
    /// still good for this caller.
    pub fn write(&self, _guard: &LockGuard, key: &CacheKey, entry: &Entry) {
        if _guard._file.is_none() {
            return;
        }
        let file = EntryFile {
            version: CACHE_VERSION,
            cache_key: key.hex.clone(),
            provider: key.provider.to_string(),
            access_token: entry.access_token.expose().clone(),
            token_type: entry.token_type.clone(),
            expires_at: entry.expires_at,
            obtained_at: entry.obtained_at,
        };
        let path = self.entry_path(key);
        let bytes = serde_json::to_vec(&file).unwrap_or_default();
        if let Err(e) = private_fs::write_atomic(&path, &bytes) {
            output::warn(&format!(
                "cannot write the token cache {}: {}",
                path.display(),
                crate::error::io_reason(&e)
            ));
        }
    }

    /// Remove the cached token for `key` (under its lock).
    pub fn remove(&self, _guard: &LockGuard, key: &CacheKey) {
        let _ = std::fs::remove_file(self.entry_path(key));
    }

    fn ledger_dir(&self) -> PathBuf {
        self.dir.join("exchanged")
    }

    /// The ledger lives in the cache dir; when that is unusable, in a private
    /// per-user dir under the system temp dir, so single-use still holds.
    fn usable_ledger_dir(&self) -> Option<PathBuf> {
        let primary = self.ledger_dir();
        if self.usable_dir() && private_fs::ensure_dir(&primary).is_ok() {
            return Some(primary);
        }
        let fallback = fallback_ledger_dir();
        let parent_ok = fallback
            .parent()
            .is_some_and(|p| private_fs::ensure_dir(p).is_ok());
        (parent_ok && private_fs::ensure_dir(&fallback).is_ok()).then_some(fallback)
    }

    /// Record that an assertion with this digest is about to be exchanged.
    /// Creating the record is atomic (O_EXCL), so two processes can never
    /// both spend one JWT, even under different cache keys.
    pub fn claim_assertion(&self, digest: &str, exp: i64, now: i64) -> Claim {
        let Some(dir) = self.usable_ledger_dir() else {
            return Claim::Unknown;
        };
        self.prune_ledger(&dir, now);
        let path = dir.join(digest);
        let mut o = OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        o.mode(0o600);
        match o.open(&path) {
            Ok(mut f) => {
                use std::io::Write;
                let _ = write!(f, "{{\"exp\":{exp},\"exchanged_at\":{now}}}");
                Claim::Fresh
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                let at = std::fs::read(&path)
                    .ok()
                    .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                    .and_then(|v| v.get("exchanged_at").and_then(|x| x.as_i64()))
                    .unwrap_or(0);
                Claim::AlreadyExchanged(at)
            }
            Err(_) => Claim::Unknown,
        }
    }

    /// When an assertion with this digest was exchanged, if the ledger (in
    /// the cache dir or its temp-dir fallback) knows.
    pub fn exchanged_at(&self, digest: &str) -> Option<i64> {
        [self.ledger_dir(), fallback_ledger_dir()]
            .iter()
            .find_map(|dir| {
                let bytes = std::fs::read(dir.join(digest)).ok()?;
                let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
                Some(v.get("exchanged_at").and_then(|x| x.as_i64()).unwrap_or(0))
            })
    }

    /// Forget a claim whose exchange never reached the server (connection refused).
    pub fn release_claim(&self, digest: &str) {
        if let Some(dir) = self.usable_ledger_dir() {
            let _ = std::fs::remove_file(dir.join(digest));
        }
    }

    /// Drop records of assertions that expired more than a minute ago: they
    /// can never be presented again.
    fn prune_ledger(&self, dir: &Path, now: i64) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            let exp = std::fs::read(&p)
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .and_then(|v| v.get("exp").and_then(|x| x.as_i64()));
            if matches!(exp, Some(x) if x + 60 < now) {
                let _ = std::fs::remove_file(&p);
            }
        }
    }

    /// Every cache file for `provider` (for logout and status).
    pub fn entries_for(&self, provider: &str) -> Vec<PathBuf> {
        let prefix = format!("{provider}-");
        std::fs::read_dir(&self.dir)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| {
                        p.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".json"))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn entry(exp: i64, obtained: i64) -> Entry {
        Entry {
            access_token: Secret::new("sk-ant-oat01-test".into()),
            token_type: "Bearer".into(),
            expires_at: exp,
            obtained_at: obtained,
        }
    }

    #[test]
    fn freshness_uses_min_of_min_ttl_and_half_life() {
        // 600 s token, min-ttl 300: fresh while more than 300 s remain.
        let e = entry(1600, 1000);
        assert!(e.is_fresh(1299, 300));
        assert!(!e.is_fresh(1300, 300));
        // 120 s token: half-life (60) wins over min-ttl 300.
        let e = entry(1120, 1000);
        assert!(e.is_fresh(1059, 300));
        assert!(!e.is_fresh(1060, 300));
    }

    #[test]
    fn round_trip_and_foreign_files() {
        let t = tempfile::tempdir().unwrap();
        let c = TokenCache::new(t.path().join("c"));
        let k = CacheKey::new("anthropic", &[("profile", "default")]);
        let other = CacheKey::new("anthropic", &[("profile", "other")]);
        assert!(c.read(&k).is_none());
        let g = c.lock(&k).unwrap();
        c.write(&g, &k, &entry(2000, 1000));
        let got = c.read(&k).unwrap();
        assert_eq!(got.expires_at, 2000);
        let mode = std::fs::metadata(c.entry_path(&k))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        // a file copied under another key's name is foreign: a miss
        std::fs::copy(c.entry_path(&k), c.entry_path(&other)).unwrap();
        assert!(c.read(&other).is_none());
        // corrupt: a miss
        std::fs::write(c.entry_path(&k), b"{not json").unwrap();
        assert!(c.read(&k).is_none());
    }

    #[test]
    fn ledger_claims_once() {
        let t = tempfile::tempdir().unwrap();
        let c = TokenCache::new(t.path().to_path_buf());
        assert_eq!(c.claim_assertion("abc", 2000, 1000), Claim::Fresh);
        assert_eq!(
            c.claim_assertion("abc", 2000, 1001),
            Claim::AlreadyExchanged(1000)
        );
        // expired records are pruned
        assert_eq!(c.claim_assertion("def", 2000, 5000), Claim::Fresh);
        assert_eq!(c.claim_assertion("abc", 2000, 5001), Claim::Fresh);
    }
}
