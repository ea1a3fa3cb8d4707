//! One agent per sink: each place a sink writes (a file, a socket, a TCP
//! address; resolved, so two names of a file are one place) has a lock
//! file in one per-user directory (not the cache directory: two agents
//! may have different ones),
//! `agent-<sha256 of the place>.lock`, held with `flock` for the agent's
//! life and holding its pid. A second agent on any of the same places
//! exits naming the first one's pid; `keyless agent --rejected` finds the
//! running agent the same way and signals it. The kernel drops the lock
//! when its holder dies, even by SIGKILL, so a restarted agent takes over.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::private_fs;

/// The locks of a running agent, released when this drops.
pub struct Instance {
    _files: Vec<File>,
}

fn lock_path(cache_dir: &Path, place: &Path) -> PathBuf {
    let digest = Sha256::digest(place.as_os_str().as_encoded_bytes());
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    cache_dir.join(format!("agent-{hex}.lock"))
}

fn open(cache_dir: &Path, place: &Path) -> Result<File> {
    private_fs::ensure_dir(cache_dir).map_err(|m| {
        Error::config(format!("cannot keep the agent's lock: {m}"))
            .hint("the agent's one-instance locks live there: it must be yours and private")
    })?;
    let path = lock_path(cache_dir, place);
    match private_fs::open_lock(&path) {
        Ok(Ok(f)) => Ok(f),
        Ok(Err(u)) => Err(private_fs::refused_lock(&path, &u)),
        Err(e) => Err(Error::io("cannot open the agent's lock", &path, &e)),
    }
}

/// Try to take `f`'s lock without waiting.
fn try_lock(f: &File) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor we own.
    unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

fn holder(f: &mut File) -> Option<i32> {
    let mut s = String::new();
    f.rewind().ok()?;
    f.take(32).read_to_string(&mut s).ok()?;
    s.trim().parse().ok().filter(|p: &i32| *p > 0)
}

impl Instance {
    /// Lock every place, or fail naming the agent that holds one.
    pub fn claim(cache_dir: &Path, places: &[PathBuf]) -> Result<Instance> {
        let mut files = Vec::new();
        for place in places {
            let mut f = open(cache_dir, place)?;
            if !try_lock(&f) {
                let who = holder(&mut f)
                    .map(|p| format!("pid {p}"))
                    .unwrap_or_else(|| "a process that is just starting".into());
                return Err(Error::usage(format!(
                    "another keyless agent ({who}) already serves {}",
                    place.display()
                ))
                .hint("stop it first, or give this agent sinks of its own"));
            }
            let pid = std::process::id().to_string();
            let written = f
                .set_len(0)
                .and_then(|()| f.rewind())
                .and_then(|()| f.write_all(pid.as_bytes()));
            if let Err(e) = written {
                return Err(Error::io(
                    "cannot record the agent's pid",
                    &lock_path(cache_dir, place),
                    &e,
                ));
            }
            files.push(f);
        }
        Ok(Instance { _files: files })
    }

    /// The pids of the agents holding any of `places` (none running: empty).
    pub fn holders(cache_dir: &Path, places: &[PathBuf]) -> Result<Vec<i32>> {
        let mut pids = Vec::new();
        for place in places {
            let path = lock_path(cache_dir, place);
            if !path.exists() {
                continue;
            }
            let mut f = open(cache_dir, place)?;
            if try_lock(&f) {
                continue; // nobody holds it; ours drops with `f`
            }
            if let Some(p) = holder(&mut f)
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

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_second_claim_names_the_first_and_a_drop_frees_it() {
        let t = tempfile::tempdir().unwrap();
        let places = [PathBuf::from("/x/a"), PathBuf::from("/x/b")];
        let first = Instance::claim(t.path(), &places).unwrap();
        // flock is per open file description: a second open conflicts even
        // within one process, as a second agent would.
        let e = Instance::claim(t.path(), &places[1..]).err().unwrap();
        let me = std::process::id();
        assert!(e.message.contains(&format!("pid {me}")), "{}", e.message);
        assert_eq!(Instance::holders(t.path(), &places).unwrap(), [me as i32]);
        drop(first);
        assert!(Instance::holders(t.path(), &places).unwrap().is_empty());
        Instance::claim(t.path(), &places).unwrap();
    }
}
