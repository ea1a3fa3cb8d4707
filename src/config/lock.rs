//! The config file's writer lock: `<config dir>/config.lock`, held
//! ([`private_fs::lock`]) while a command loads, updates and saves `config.json`, so
//! parallel `setup` runs each apply their change to the other's result
//! instead of overwriting it.
//!
//! Self-contained on purpose (the cache's locks live in its own dir and
//! degrade to "no lock"; a config rewrite must not run unlocked).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{LoadedConfig, load};
use crate::error::{Error, Result};
use crate::output;
use crate::private_fs;

pub const LOCK_FILE: &str = "config.lock";

/// Longest a writer waits for another one: rewrites take milliseconds, but
/// `setup issuer` may wait on the OS keyring while it holds the lock.
const LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// Proof that this process holds the config's writer lock; saving asks for it.
pub struct ConfigLock {
    _lock: private_fs::FileLock,
    dir: PathBuf,
}

impl ConfigLock {
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Take the writer lock, then load the config under it: the only way to get
/// a config that can be saved.
pub fn load_for_update(dir: &Path) -> Result<(ConfigLock, LoadedConfig)> {
    let lock = lock(dir)?;
    let loaded = load(dir)?;
    Ok((lock, loaded))
}

fn lock(dir: &Path) -> Result<ConfigLock> {
    private_fs::ensure_dir(dir)
        .map_err(|m| Error::config(format!("cannot prepare the config directory: {m}")))?;
    let path = dir.join(LOCK_FILE);
    let waiting = || output::info("another keyless process is saving the config; waiting for it");
    match private_fs::lock(&path, LOCK_TIMEOUT, waiting) {
        Ok(l) => Ok(ConfigLock {
            _lock: l,
            dir: dir.to_path_buf(),
        }),
        Err(e @ (private_fs::LockError::Open(_) | private_fs::LockError::Lock(_))) => {
            Err(e.into_error(&path, "").kind_config())
        }
        Err(e) => Err(e.into_error(
            &path,
            "another keyless is still saving the config; let it finish, then retry",
        )),
    }
}
