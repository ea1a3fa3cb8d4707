//! The single-use ledger: a record per identity JWT presented to a provider,
//! so that keyless never sends one twice (the provider would deny it as
//! `jti_reused` and blame the rule), and never refuses one it did not send.
//!
//! A record is `claimed` from the moment a process decides to exchange the
//! JWT, and `sent` once a connection to the token endpoint is established
//! for it (see [`crate::http::client_observed`]); before that, the JWT
//! provably has not left. Records appear whole: their lock file
//! (`<digest>.lock`, never the record: Windows locks are mandatory) taken,
//! written to a temp file, then hard-linked into place, which fails if one exists, so two
//! processes can never both claim a JWT. The claimer holds the lock until
//! the record says `sent` or is released; a `claimed` record whose lock is
//! free was left by a process that died before connecting, and is taken
//! over. A record that cannot be read (torn by an older keyless, or
//! corrupt) is "unknown", never "spent". Expired records are pruned, at most
//! every few minutes.
//!
//! The ledger lives in the cache dir, else in a private per-user dir under
//! the system temp dir.

mod record;

use std::fs::File;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use record::{Found, Place, Record, State, inspect, ledger_lock, write_record};

use super::TokenCache;
use crate::private_fs;

/// How often the ledger is swept for expired records.
const PRUNE_EVERY: Duration = Duration::from_secs(600);
/// A record is kept this long past its JWT's expiry (clock skew).
const KEEP_PAST_EXPIRY_SECS: i64 = 60;
/// An unreadable record, or a temp file, older than this is swept too: no
/// identity JWT lives longer.
const STALE_SECS: u64 = 86_400;

/// What the single-use ledger says about an assertion.
#[derive(Debug)]
pub enum Claim {
    /// Not sent before; now claimed by this process until [`Pending`] says
    /// `sent` or releases it.
    Fresh(Pending),
    /// Sent at this Unix time, or being sent by another process right now.
    AlreadyExchanged(i64),
    /// No ledger (neither the cache dir nor the temp dir is usable): cannot tell.
    Unknown,
    /// The ledger could not record a claim (full disk, a filesystem without
    /// hard links) and holds no record that the JWT was sent.
    Unwritable(String),
    /// A record exists but cannot be read: keyless cannot tell whether the
    /// JWT was sent, so it does not risk sending it again.
    Unreadable(String),
}

/// A claim this process holds: the record's lock, and where to mark it.
#[derive(Debug)]
pub struct Pending {
    inner: Arc<Mutex<Option<PendingRecord>>>,
}

#[derive(Debug)]
struct PendingRecord {
    path: PathBuf,
    record: Record,
    /// The claimed record's lock: held says "in flight".
    _lock: private_fs::FileLock,
}

impl Pending {
    /// Mark the JWT sent: a connection to the token endpoint is up, so the
    /// request may reach it from now on. Idempotent; the record is replaced
    /// atomically, so it reads `claimed` or `sent`, never torn.
    ///
    /// When the record cannot be written, the error goes back to the
    /// connection hook, which fails the connection: a request whose `sent`
    /// mark is not on disk never leaves.
    pub fn mark_sent(&self) -> std::io::Result<()> {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = g.as_mut()
            && p.record.state == State::Claimed
        {
            let mut sent = p.record;
            sent.state = State::Sent;
            sent.sent_at = Some(crate::clock::now());
            let dir = p.path.parent().unwrap_or(Path::new("."));
            write_record(dir, &p.path, &sent, Place::Replace)?;
            p.record = sent;
        }
        Ok(())
    }

    /// A callback for the HTTP client's connection hook.
    pub fn on_connect(&self) -> impl Fn() -> std::io::Result<()> + Send + Sync + 'static {
        let me = Pending {
            inner: self.inner.clone(),
        };
        move || me.mark_sent()
    }

    /// The request never left (connection refused, TLS failed): forget the
    /// claim, unless a connection was made after all.
    pub fn release(self) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = g.take()
            && p.record.state == State::Claimed
        {
            let _ = std::fs::remove_file(&p.path);
        }
    }
}

/// Where the ledger goes when the cache dir is unusable: a private per-user
/// dir under the system temp dir.
fn fallback_ledger_dir() -> PathBuf {
    private_fs::user_temp_dir().join("exchanged")
}

/// The ledger's name for `assertion` spent at `provider`. Each provider
/// tracks the JWTs it has seen on its own, so one JWT may be spent once per
/// provider: the ledger records (provider, assertion).
pub fn ledger_name(provider: &str, assertion: &str) -> String {
    format!("{provider}-{}", crate::digest::sha256_hex(assertion))
}

impl TokenCache {
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

    /// Claim an assertion with this digest for an exchange.
    pub fn claim_assertion(&self, digest: &str, exp: i64, now: i64) -> Claim {
        let Some(dir) = self.usable_ledger_dir() else {
            return Claim::Unknown;
        };
        self.prune_ledger(&dir, now);
        let path = dir.join(digest);
        let record = Record {
            state: State::Claimed,
            exp,
            claimed_at: now,
            sent_at: None,
        };
        let pending = |lock: private_fs::FileLock| {
            Claim::Fresh(Pending {
                inner: Arc::new(Mutex::new(Some(PendingRecord {
                    path: path.clone(),
                    record,
                    _lock: lock,
                }))),
            })
        };
        // The fast path: no record yet.
        match write_record(&dir, &path, &record, Place::New) {
            Ok(Some(lock)) => return pending(lock),
            Ok(None) => return Claim::Unknown,
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            // Cannot write a claim (full disk, read-only, no hard links):
            // a record that says sent still counts.
            Err(e) => {
                return match inspect(&path) {
                    Found::Spent(at) => Claim::AlreadyExchanged(at),
                    Found::Io(why) => Claim::Unreadable(why),
                    _ => Claim::Unwritable(crate::error::io_reason(&e)),
                };
            }
        }
        // A record exists. Taking over an abandoned or unreadable one is
        // done under the ledger's lock, so two processes never both do.
        let guard = match ledger_lock(&dir) {
            Ok(g) => g,
            Err(e) => {
                return match inspect(&path) {
                    Found::Spent(at) => Claim::AlreadyExchanged(at),
                    _ => Claim::Unreadable(format!(
                        "cannot take the ledger's lock: {}",
                        e.reason(&dir.join(".lock"))
                    )),
                };
            }
        };
        let _guard = guard;
        match inspect(&path) {
            Found::Spent(at) => Claim::AlreadyExchanged(at),
            Found::Io(why) => Claim::Unreadable(why),
            found @ (Found::Abandoned | Found::Unreadable | Found::Missing) => {
                if matches!(found, Found::Unreadable) {
                    crate::output::warn(
                        "the single-use ledger held an unreadable record for this identity token (left by a crash?); treating the token as unsent",
                    );
                }
                let _ = std::fs::remove_file(&path);
                match write_record(&dir, &path, &record, Place::New) {
                    Ok(Some(lock)) => pending(lock),
                    Err(e) if e.kind() == ErrorKind::AlreadyExists => Claim::AlreadyExchanged(now),
                    _ => Claim::Unknown,
                }
            }
        }
    }

    /// When an assertion with this digest was sent (or is being sent by a
    /// live process), if the ledger in the cache dir or its temp-dir
    /// fallback knows. Abandoned and unreadable records count as unsent.
    pub fn exchanged_at(&self, digest: &str) -> Option<i64> {
        [self.ledger_dir(), fallback_ledger_dir()]
            .iter()
            .find_map(|dir| match inspect(&dir.join(digest)) {
                Found::Spent(at) => Some(at),
                _ => None,
            })
    }

    /// Drop records of assertions that expired more than a minute ago (they
    /// can never be presented again), unreadable records and temp files a
    /// day old. At most every [`PRUNE_EVERY`], so that a large ledger does
    /// not slow every exchange.
    fn prune_ledger(&self, dir: &Path, now: i64) {
        let stamp = dir.join(".pruned");
        let recent = std::fs::metadata(&stamp)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age < PRUNE_EVERY);
        if recent {
            return;
        }
        let _ = File::create(&stamp);
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name == ".pruned" || name == ".lock" {
                continue;
            }
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > STALE_SECS);
            let expired = std::fs::read(&p)
                .ok()
                .and_then(|b| serde_json::from_slice::<Record>(&b).ok())
                .map(|r| r.exp + KEEP_PAST_EXPIRY_SECS < now);
            match expired {
                Some(true) => {
                    let _ = std::fs::remove_file(&p);
                }
                None if old => {
                    let _ = std::fs::remove_file(&p);
                }
                _ => {}
            }
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn claims_are_exclusive_and_released_claims_are_free() {
        let t = tempfile::tempdir().unwrap();
        let c = TokenCache::new(t.path().to_path_buf());
        let Claim::Fresh(p) = c.claim_assertion("abc", 2000, 1000) else {
            panic!("first claim")
        };
        // in flight: another process (here: another claim) is refused
        assert!(matches!(
            c.claim_assertion("abc", 2000, 1001),
            Claim::AlreadyExchanged(1000)
        ));
        assert_eq!(c.exchanged_at("abc"), Some(1000));
        p.release();
        assert_eq!(c.exchanged_at("abc"), None);
        let Claim::Fresh(p) = c.claim_assertion("abc", 2000, 1002) else {
            panic!("claim after release")
        };
        p.mark_sent().unwrap();
        drop(p);
        // sent: spent for good, though nobody holds it
        assert!(matches!(
            c.claim_assertion("abc", 2000, 1003),
            Claim::AlreadyExchanged(_)
        ));
    }

    #[test]
    fn a_sent_mark_that_cannot_be_written_is_an_error() {
        let t = tempfile::tempdir().unwrap();
        let c = TokenCache::new(t.path().to_path_buf());
        let Claim::Fresh(p) = c.claim_assertion("abc", 2000, 1000) else {
            panic!("first claim")
        };
        // the directory goes away: the record cannot be replaced
        std::fs::remove_dir_all(t.path().join("exchanged")).unwrap();
        assert!(p.mark_sent().is_err());
        assert!((p.on_connect())().is_err(), "the hook fails the connection");
    }

    #[test]
    fn an_abandoned_claim_is_taken_over() {
        let t = tempfile::tempdir().unwrap();
        let c = TokenCache::new(t.path().to_path_buf());
        let Claim::Fresh(p) = c.claim_assertion("abc", 2000, 1000) else {
            panic!("first claim")
        };
        // The claimer dies without marking or releasing: its lock goes.
        drop(p);
        assert_eq!(c.exchanged_at("abc"), None);
        assert!(matches!(
            c.claim_assertion("abc", 2000, 1001),
            Claim::Fresh(_)
        ));
    }

    #[test]
    fn legacy_records_read_as_sent_and_expired_ones_are_pruned() {
        let t = tempfile::tempdir().unwrap();
        let c = TokenCache::new(t.path().to_path_buf());
        let dir = t.path().join("exchanged");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("old"), r#"{"exp":2000,"exchanged_at":1000}"#).unwrap();
        assert_eq!(c.exchanged_at("old"), Some(1000));
        assert!(matches!(
            c.claim_assertion("new", 9000, 5000),
            Claim::Fresh(_)
        ));
        assert!(!dir.join("old").exists(), "expired at 2000, pruned at 5000");
    }
}
