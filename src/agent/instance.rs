//! One agent per sink: each place a sink writes (a file, a socket, a TCP
//! address; resolved, so two names of a file are one place) has a lock
//! file in one per-user directory ([`lock_dir`], not the cache directory:
//! two agents may have different ones),
//! `agent-<sha256 of the place>.lock`, held for the agent's life through
//! keyless's one cross-process lock ([`private_fs::try_lock`]: `flock` on
//! Unix, `LockFileEx` on Windows), and beside it `agent-<…>.pid`, the
//! holder's pid (a separate file: Windows locks are mandatory, so nobody
//! could read a pid kept in the locked file). A second agent on any of the
//! same places exits naming the first one's pid; `keyless agent
//! --rejected`/`--reload` finds the running agent the same way. The system
//! drops the lock when its holder dies, even when killed, so a restarted
//! agent takes over.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::private_fs::{self, FileLock, LockError, Read0600};

/// The locks of a running agent, released when this drops.
pub struct Instance {
    _locks: Vec<FileLock>,
}

/// The lock file of `place` and its pid file.
fn paths(dir: &Path, place: &Path) -> (PathBuf, PathBuf) {
    let digest = Sha256::digest(place.as_os_str().as_encoded_bytes());
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    (
        dir.join(format!("agent-{hex}.lock")),
        dir.join(format!("agent-{hex}.pid")),
    )
}

/// Try to take `place`'s lock: `Ok(None)` when another process holds it.
fn try_lock(dir: &Path, place: &Path) -> Result<Option<FileLock>> {
    private_fs::ensure_dir(dir).map_err(|m| {
        Error::config(format!("cannot keep the agent's lock: {m}"))
            .hint("the agent's one-instance locks live there: it must be yours and private")
    })?;
    let (lock, _) = paths(dir, place);
    match private_fs::try_lock(&lock) {
        Ok(l) => Ok(Some(l)),
        Err(LockError::Busy) => Ok(None),
        Err(e) => Err(e.into_error(&lock, "")),
    }
}

/// The pid recorded for `place` (None: not yet written, or unreadable).
fn holder(dir: &Path, place: &Path) -> Option<u32> {
    let (_, pid) = paths(dir, place);
    match private_fs::read_private(&pid, 0o022, 32) {
        Ok(Read0600::Data(b)) => String::from_utf8(b).ok()?.trim().parse().ok(),
        _ => None,
    }
    .filter(|p: &u32| *p > 0)
}

impl Instance {
    /// Lock every place, or fail naming the agent that holds one.
    pub fn claim(dir: &Path, places: &[PathBuf]) -> Result<Instance> {
        let mut locks = Vec::new();
        for place in places {
            let Some(l) = try_lock(dir, place)? else {
                let who = holder(dir, place)
                    .map(|p| format!("pid {p}"))
                    .unwrap_or_else(|| "a process that is just starting".into());
                return Err(Error::usage(format!(
                    "another keyless agent ({who}) already serves {}",
                    place.display()
                ))
                .hint("stop it first, or give this agent sinks of its own"));
            };
            let (_, pid) = paths(dir, place);
            private_fs::write_atomic(&pid, std::process::id().to_string().as_bytes())
                .map_err(|e| Error::io("cannot record the agent's pid", &pid, &e))?;
            locks.push(l);
        }
        Ok(Instance { _locks: locks })
    }

    /// The pids of the agents holding any of `places` (none running: empty).
    pub fn holders(dir: &Path, places: &[PathBuf]) -> Result<Vec<u32>> {
        let mut pids = Vec::new();
        for place in places {
            if !paths(dir, place).0.exists() {
                continue;
            }
            if try_lock(dir, place)?.is_some() {
                continue; // nobody holds it; ours drops at once
            }
            if let Some(p) = holder(dir, place)
                && !pids.contains(&p)
            {
                pids.push(p);
            }
        }
        Ok(pids)
    }
}

/// Where the one-agent locks live: one directory for every agent of this
/// user, whatever its cache directory (`KEYLESS_CACHE_DIR` may differ
/// between two agents on the same sinks).
pub fn lock_dir() -> PathBuf {
    crate::private_fs::user_runtime_dir().join("agents")
}

/// `p` with its nearest existing ancestor resolved and the rest as given
/// (a sink's directory may not exist yet); a place that is not a path
/// (`tcp:ADDR`) as it is.
pub fn resolved(p: &std::path::Path) -> PathBuf {
    if !p.is_absolute() {
        return p.to_path_buf();
    }
    let mut rest = Vec::new();
    let mut base = p;
    loop {
        if let Ok(mut r) = std::fs::canonicalize(base) {
            r.extend(rest.iter().rev());
            return r;
        }
        match (base.parent(), base.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name);
                base = parent;
            }
            _ => return p.to_path_buf(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_claim_names_the_first_and_a_drop_frees_it() {
        let t = tempfile::tempdir().unwrap();
        let places = [PathBuf::from("/x/a"), PathBuf::from("/x/b")];
        let first = Instance::claim(t.path(), &places).unwrap();
        // The lock is per open file: a second open conflicts even within
        // one process, as a second agent would.
        let e = Instance::claim(t.path(), &places[1..]).err().unwrap();
        let me = std::process::id();
        assert!(e.message.contains(&format!("pid {me}")), "{}", e.message);
        assert_eq!(Instance::holders(t.path(), &places).unwrap(), [me]);
        drop(first);
        assert!(Instance::holders(t.path(), &places).unwrap().is_empty());
        Instance::claim(t.path(), &places).unwrap();
    }
}
