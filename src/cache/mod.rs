//! Stage 3, the on-disk token cache: one 0600 JSON file per cache key, a
//! `.lock` file of its own ([`lock`]), and a ledger of assertions already
//! exchanged ([`ledger`]).
//!
//! This module is the only parser of cache files: `auth status`, `setup
//! claude-code` and the pipeline all read them through it, with the same
//! version, key and mode checks.
//!
//! The protocol is: read; on a miss, lock, read again, exchange, write, unlock.
//! N processes on a cold cache therefore make one exchange. Anything odd about
//! a cache file (corrupt, foreign, unsafe mode) makes it a miss that the next
//! write replaces. An unusable cache directory degrades to no caching with one
//! warning. The read path makes no network call and no keyring call, and
//! takes no lock on the entry; `credential --helper-ttl` and `--rejected`
//! add one small lock of their own ([`served`]: the record of the token last
//! printed, read and rewritten under its lock).

pub mod ledger;
pub mod lock;
pub mod served;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use ledger::{Claim, ledger_name};
pub use lock::{LOCK_TIMEOUT, LockGuard};

use crate::output;
use crate::private_fs::{self, Read0600};
use crate::secret::Secret;

const CACHE_VERSION: u32 = 1;
/// A cache file is a few hundred bytes; anything larger is not ours.
const MAX_ENTRY_BYTES: u64 = 64 * 1024;

/// A digest of configuration only: never of a token or assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheKey {
    pub provider: &'static str,
    pub hex: String,
    /// The prefix every token of this configuration has, where the
    /// provider's is known (`sk-ant-` at Anthropic's own host).
    pub token_prefix: Option<&'static str>,
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
            hex: crate::digest::hex(&h.finalize()[..16]),
            token_prefix: None,
        }
    }

    /// The same configuration plus `field`, when it has a value: a field
    /// added later leaves the keys of older configurations unchanged.
    pub fn extend_if(self, field: &str, value: Option<&str>) -> Self {
        match value {
            None => self,
            Some(v) => {
                let mut h = Sha256::new();
                h.update(self.hex.as_bytes());
                h.update(b"\0");
                h.update(field.as_bytes());
                h.update(b"=");
                h.update(v.as_bytes());
                CacheKey {
                    hex: crate::digest::hex(&h.finalize()[..16]),
                    ..self
                }
            }
        }
    }

    /// The same key, with the token prefix its entries must have.
    pub fn with_token_prefix(mut self, prefix: Option<&'static str>) -> Self {
        self.token_prefix = prefix;
        self
    }
    fn stem(&self) -> String {
        format!("{}-{}", self.provider, self.hex)
    }
}

/// The file format, one definition for reading (owned) and writing
/// (borrowed, so that writing leaves no copy of the token behind).
#[derive(Serialize, Deserialize)]
struct EntryFile<S> {
    version: u32,
    cache_key: S,
    provider: S,
    access_token: S,
    token_type: S,
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

/// How long a token must outlive a caller's own keep time: the SDKs count
/// a token with 30 s left as expired, and a turn of calls takes that long.
pub const KEEP_MARGIN_SECS: i64 = 30;

impl Entry {
    pub fn lifetime(&self) -> i64 {
        self.expires_at.saturating_sub(self.obtained_at)
    }
    /// Served while remaining life exceeds min(min_ttl, lifetime / 2).
    pub fn is_fresh(&self, now: i64, min_ttl: i64) -> bool {
        self.is_fresh_for(now, min_ttl, 0)
    }
    /// [`Entry::is_fresh`] for a caller that keeps the token `keep_for`
    /// seconds without asking again (Claude Code's helper TTL): it must also
    /// outlive that by [`KEEP_MARGIN_SECS`] (a turn's calls), capped at three
    /// quarters of its lifetime so that a just-exchanged token always serves.
    pub fn is_fresh_for(&self, now: i64, min_ttl: i64, keep_for: i64) -> bool {
        let life = self.lifetime();
        let mut needed = min_ttl.min(life / 2).max(0);
        if keep_for > 0 {
            needed = needed.max(keep_for.saturating_add(KEEP_MARGIN_SECS).min(life / 4 * 3));
        }
        self.expires_at.saturating_sub(now) > needed
    }
    /// Could keyless have written this entry? Its lifetime is within the
    /// providers' range and not ahead of the clock, and its token is one
    /// (with `prefix`, when known). Anything else is a miss.
    pub fn is_plausible(&self, now: i64, prefix: Option<&str>) -> bool {
        let life = self.expires_at.checked_sub(self.obtained_at);
        life.is_some_and(|l| l > 0 && l <= MAX_TOKEN_LIFETIME_SECS)
            && self.obtained_at <= now.saturating_add(CLOCK_SKEW_SECS)
            && plausible_token(self.access_token.expose())
            && prefix.is_none_or(|p| self.access_token.expose().starts_with(p))
    }

    /// Still worth handing out when a refresh failed: more than
    /// [`LAST_RESORT_SECS`] left.
    pub fn servable_as_last_resort(&self, now: i64) -> bool {
        self.expires_at.saturating_sub(now) > LAST_RESORT_SECS
    }
}

/// The longest lifetime either provider grants (Anthropic's rule maximum,
/// OpenAI's): a longer `expires_in` is clamped at the exchange, and a cache
/// entry claiming more is not one keyless wrote.
pub const MAX_TOKEN_LIFETIME_SECS: i64 = 86_400;

/// How far a cache entry's `obtained_at` may lie ahead of this machine's
/// clock (another machine sharing the cache dir, NTP steps).
const CLOCK_SKEW_SECS: i64 = 300;

/// A token keyless hands on (headers, variables, shell assignments) must
/// be a non-empty RFC 7235 token68: ALPHA / DIGIT / `-._~+/`, then `=`
/// padding, and at most [`MAX_TOKEN_BYTES`].
pub fn plausible_token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && token.len() <= MAX_TOKEN_BYTES
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// The longest access token keyless hands on.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Below this much remaining life a cached token is not worth handing out:
/// the SDKs' own mandatory refresh window.
pub const LAST_RESORT_SECS: i64 = 30;

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

/// One warning per process when the cache dir cannot be used.
static WARNED_UNUSABLE: AtomicBool = AtomicBool::new(false);

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

    /// Remove each key's cached token under its lock; how many were there.
    pub fn remove_locked(&self, keys: &[CacheKey]) -> usize {
        let mut removed = 0;
        for key in keys {
            let _key_lock = self.lock(key).map_err(|e| {
                output::warn(&format!(
                    "removing a cached token without its lock: {}",
                    e.message
                ))
            });
            if std::fs::remove_file(self.entry_path(key)).is_ok() {
                removed += 1;
            }
        }
        removed
    }

    /// What the cache file for `key` holds, without side effects.
    pub fn inspect(&self, key: &CacheKey) -> Inspection {
        let path = self.entry_path(key);
        match Self::inspect_path(&path, key.provider, &key.hex) {
            Inspection::Valid(e) if !e.is_plausible(crate::clock::now(), key.token_prefix) => {
                Inspection::Unreadable(format!(
                    "cache file {} holds an entry keyless did not write (lifetime or token out of range)",
                    path.display()
                ))
            }
            other => other,
        }
    }

    /// The file at `path`, which must be `provider`'s entry for the key
    /// digest `hex`: anything else is foreign.
    fn inspect_path(path: &Path, provider: &str, hex: &str) -> Inspection {
        let bytes = match private_fs::read_private(path, 0o077, MAX_ENTRY_BYTES) {
            Ok(Read0600::Data(b)) => b,
            Ok(Read0600::Missing) => return Inspection::Missing,
            Ok(Read0600::Unsafe(u)) => return Inspection::Unsafe(u.describe(path)),
            Err(e) => {
                return Inspection::Unreadable(format!(
                    "cannot read the cache file {}: {}",
                    path.display(),
                    crate::error::io_reason(&e)
                ));
            }
        };
        let parsed: EntryFile<String> = match serde_json::from_slice(&bytes) {
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
            || parsed.cache_key != hex
            || parsed.provider != provider
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

    pub(crate) fn usable_dir(&self) -> bool {
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

    /// Write `entry` for `key`. Failures degrade to a warning: the token is
    /// still good for this caller.
    pub fn write(&self, guard: &LockGuard, key: &CacheKey, entry: &Entry) {
        if !guard.is_held() {
            return;
        }
        let file = EntryFile::<&str> {
            version: CACHE_VERSION,
            cache_key: &key.hex,
            provider: key.provider,
            access_token: entry.access_token.expose(),
            token_type: &entry.token_type,
            expires_at: entry.expires_at,
            obtained_at: entry.obtained_at,
        };
        let path = self.entry_path(key);
        let bytes = serde_json::to_vec(&file).unwrap_or_default();
        // Not synced: an entry lost in a crash is a miss.
        if let Err(e) = private_fs::write_atomic_volatile(&path, &bytes) {
            output::warn(&format!(
                "cannot write the token cache {}: {}",
                path.display(),
                crate::error::io_reason(&e)
            ));
        }
    }

    /// Every valid entry for `provider`, whatever its configuration (for
    /// status and the helper intervals of `setup claude-code` and `setup
    /// codex`).
    pub fn entries(&self, provider: &str) -> Vec<Entry> {
        let prefix = format!("{provider}-");
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        rd.flatten()
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let hex = name
                    .strip_prefix(&prefix)?
                    .strip_suffix(".json")?
                    .to_string();
                match Self::inspect_path(&e.path(), provider, &hex) {
                    Inspection::Valid(entry) => Some(entry),
                    _ => None,
                }
            })
            .collect()
    }

    /// The expiry of the cached `provider` token whose digest is `digest`, if
    /// keyless minted it: how status recognises its own token in a variable.
    pub fn minted_expiry(&self, provider: &str, digest: &str) -> Option<i64> {
        self.entries(provider)
            .into_iter()
            .find(|e| crate::digest::sha256_hex(e.access_token.expose()) == digest)
            .map(|e| e.expires_at)
    }

    /// The shortest lifetime, in seconds, of the `provider` tokens in the cache.
    pub fn shortest_lifetime(&self, provider: &str) -> Option<i64> {
        self.entries(provider)
            .iter()
            .map(Entry::lifetime)
            .filter(|l| *l > 0)
            .min()
    }
}

#[cfg(all(test, unix))]
mod tests;
