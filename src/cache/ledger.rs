//! The single-use ledger: a record per identity JWT already presented to a
//! provider, so that keyless never sends one twice (the provider would deny
//! it as `jti_reused` and blame the rule).
//!
//! A claim is an `O_EXCL` create, so two processes can never both spend one
//! JWT, even under different cache keys. The ledger lives in the cache dir,
//! else in a private per-user dir under the system temp dir.

use std::fs::OpenOptions;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

#[cfg(unix)]
use std::os::unix::fs::OpenOptionsExt;

use super::TokenCache;
use crate::private_fs;

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
    let user = std::env::var(crate::env_vars::USERNAME).unwrap_or_default();
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
}
