//! One agent per sink: each place a sink writes (a file, a socket, a TCP
//! address; resolved, so two names of a file are one place) has a lock
//! file in one per-user directory ([`lock_dir`], not the cache directory:
//! two agents may have different ones),
//! `agent-<sha256 of the place>.lock`, held for the agent's life through
//! keyless's one cross-process lock ([`private_fs::try_lock`]: `flock` on
//! Unix, `LockFileEx` on Windows), and beside it `agent-<…>.pid`, the
//! holder's pid (a separate file: Windows locks are mandatory, so nobody
//! could read a pid kept in the locked file), with the agent's key: random
//! bytes that name its Windows events ([`super::control`]), so no other
//! process can guess them and make them first. A second agent on any of the
//! same places exits naming the first one's pid; `keyless agent
//! --rejected`/`--reload` finds the running agent the same way. The lock is
//! the truth: a pid file whose lock nobody holds is stale (its agent was
//! killed; the pid may now be anyone's) and is never signalled, and the
//! caller checks that the pid holds the lock where it can
//! ([`super::control::ask`]). The system drops the lock when its holder
//! dies, even when killed, so a restarted agent takes over; an agent that
//! ends normally removes its pid files.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::private_fs::{self, FileLock, LockError, Read0600};

/// The locks of a running agent, released when this drops (its pid files
/// removed first).
pub struct Instance {
    _locks: Vec<FileLock>,
    pid_files: Vec<PathBuf>,
    /// The agent's key, recorded in its pid files (hex, 128 bits).
    pub key: String,
}

/// A running agent, as its pid file records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    pub key: String,
    /// The lock file it holds.
    pub lock: PathBuf,
}

impl Drop for Instance {
    fn drop(&mut self) {
        for f in &self.pid_files {
            let _ = std::fs::remove_file(f);
        }
    }
}

/// 16 random bytes, hex.
fn new_key() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b.iter().map(|b| format!("{b:02x}")).collect()
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

/// The pid and key recorded for `place` (None: not yet written, or
/// unreadable).
fn holder(dir: &Path, place: &Path) -> Option<Holder> {
    let (lock, pid) = paths(dir, place);
    let Ok(Read0600::Data(b)) = private_fs::read_private(&pid, 0o022, 128) else {
        return None;
    };
    let text = String::from_utf8(b).ok()?;
    let mut words = text.split_whitespace();
    let pid = words.next()?.parse().ok().filter(|p: &u32| *p > 0)?;
    let key = words.next().unwrap_or_default().to_string();
    Some(Holder { pid, key, lock })
}

impl Instance {
    /// Lock every place, or fail naming the agent that holds one.
    pub fn claim(dir: &Path, places: &[PathBuf]) -> Result<Instance> {
        let mut me = Instance {
            _locks: Vec::new(),
            pid_files: Vec::new(),
            key: new_key(),
        };
        let record = format!("{} {}\n", std::process::id(), me.key);
        for place in places {
            let Some(l) = try_lock(dir, place)? else {
                let who = holder(dir, place)
                    .map(|h| format!("pid {}", h.pid))
                    .unwrap_or_else(|| "a process that is just starting".into());
                return Err(Error::usage(format!(
                    "another keyless agent ({who}) already serves {}",
                    crate::redact::path(place)
                ))
                .hint("stop it first, or give this agent sinks of its own"));
            };
            me._locks.push(l);
            let (_, pid) = paths(dir, place);
            private_fs::write_atomic(&pid, record.as_bytes())
                .map_err(|e| Error::io("cannot record the agent's pid", &pid, &e))?;
            me.pid_files.push(pid);
        }
        Ok(me)
    }

    /// The agents holding any of `places` (none running: empty); a pid
    /// file whose lock nobody holds is stale and left out.
    pub fn holders(dir: &Path, places: &[PathBuf]) -> Result<Vec<Holder>> {
        let mut pids: Vec<Holder> = Vec::new();
        for place in places {
            if !paths(dir, place).0.exists() {
                continue;
            }
            if try_lock(dir, place)?.is_some() {
                continue; // nobody holds it; ours drops at once
            }
            if let Some(p) = holder(dir, place)
                && !pids.iter().any(|h| h.pid == p.pid)
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
        let held = Instance::holders(t.path(), &places).unwrap();
        assert_eq!(held.len(), 1);
        assert_eq!((held[0].pid, &held[0].key), (me, &first.key));
        assert_eq!(first.key.len(), 32);
        drop(first);
        assert!(Instance::holders(t.path(), &places).unwrap().is_empty());
        let pids = |d: &Path| {
            std::fs::read_dir(d)
                .unwrap()
                .filter(|e| e.as_ref().unwrap().path().extension().unwrap() == "pid")
                .count()
        };
        assert_eq!(pids(t.path()), 0, "a normal end removes the pid files");
        let again = Instance::claim(t.path(), &places).unwrap();
        assert_eq!(pids(t.path()), 2);
        let other = Instance::claim(&t.path().join("x"), &places).unwrap();
        assert_ne!(again.key, other.key, "each agent has its own key");
    }
}
