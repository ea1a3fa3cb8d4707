//! The config file's writer lock: `<config dir>/config.lock`, held with
//! `flock` while a command loads, updates and saves `config.json`, so
//! parallel `setup` runs each apply their change to the other's result
//! instead of overwriting it.
//!
//! Self-contained on purpose (the cache's locks live in its own dir and
//! degrade to "no lock"; a config rewrite must not run unlocked).

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[cfg(unix)]
use std::os::unix::fs::OpenOptionsExt;

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
    _file: File,
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
    let mut o = OpenOptions::new();
    o.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    o.mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    let file = o
        .open(&path)
        .map_err(|e| Error::io("cannot open the config lock", &path, &e).kind_config())?;
    let meta = file
        .metadata()
        .map_err(|e| Error::io("cannot inspect the config lock", &path, &e).kind_config())?;
    if let Err(u) = private_fs::check(&meta, 0o022) {
        return Err(Error::config(format!(
            "refusing to use the config lock: {}",
            u.describe(&path)
        ))
        .hint(format!("remove {} and retry", path.display())));
    }
    match file.try_lock() {
        Ok(()) => return Ok(held(file, dir)),
        Err(std::fs::TryLockError::WouldBlock) => {}
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(Error::io("cannot lock", &path, &e).kind_config());
        }
    }
    output::info("another keyless process is saving the config; waiting for it");
    // A blocking lock on a helper thread, so the wait is bounded without polling.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let r = file.lock().map(|()| file);
        let _ = tx.send(r);
    });
    match rx.recv_timeout(LOCK_TIMEOUT) {
        Ok(Ok(file)) => Ok(held(file, dir)),
        Ok(Err(e)) => Err(Error::io("cannot lock", &path, &e).kind_config()),
        Err(_) => Err(Error::failure(format!(
            "gave up after {}s waiting for another keyless process holding {}",
            LOCK_TIMEOUT.as_secs(),
            path.display()
        ))
        .hint("another keyless is still saving the config; let it finish, then retry")),
    }
}

fn held(file: File, dir: &Path) -> ConfigLock {
    ConfigLock {
        _file: file,
        dir: dir.to_path_buf(),
    }
}
