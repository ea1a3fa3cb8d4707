//! Where long-lived secrets live: refresh tokens and client secrets.
//!
//! The OS keyring (Secret Service, Keychain, Credential Manager) when one is
//! usable, else a 0600 file in the config dir with a one-line warning.
//! `KEYLESS_SECRET_STORE=auto|keyring|file` chooses. Every keyring call runs
//! on its own thread under a timeout, because a locked collection or a stalled
//! D-Bus activation can otherwise hang forever. The keyring crate's in-memory
//! mock store is never used: only real platform stores are compiled in.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::env_vars;
use crate::error::{Error, Result};
use crate::output;
use crate::private_fs::{self, Read0600};
use crate::secret::Secret;

pub const SERVICE: &str = "keyless";
const KEYRING_TIMEOUT: Duration = Duration::from_secs(3);
const FILE: &str = "secrets.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Auto,
    Keyring,
    File,
}

impl Choice {
    pub fn from_env() -> Result<Self> {
        match std::env::var(crate::env_vars::KEYLESS_SECRET_STORE)
            .ok()
            .as_deref()
        {
            None | Some("") | Some("auto") => Ok(Choice::Auto),
            Some("keyring") => Ok(Choice::Keyring),
            Some("file") => Ok(Choice::File),
            Some(other) => Err(Error::config(format!(
                "{}={other:?} is not auto, keyring or file",
                crate::env_vars::KEYLESS_SECRET_STORE
            ))),
        }
    }
}

pub enum SecretStore {
    Keyring,
    File(PathBuf),
}

static WARNED: AtomicBool = AtomicBool::new(false);

/// Run a keyring operation on its own thread, bounded by the timeout.
fn bounded<T: Send + 'static>(
    what: &str,
    f: impl FnOnce() -> keyring_core::Result<T> + Send + 'static,
) -> std::result::Result<T, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(KEYRING_TIMEOUT) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{what}: {e}")),
        Err(_) => Err(format!(
            "{what}: no answer within {}s",
            KEYRING_TIMEOUT.as_secs()
        )),
    }
}

/// Install the platform store as keyring-core's default, once.
fn platform_store() -> std::result::Result<(), String> {
    if keyring_core::get_default_store().is_some() {
        return Ok(());
    }
    #[cfg(target_os = "linux")]
    {
        // Without a session bus there is no Secret Service to talk to.
        if std::env::var_os(env_vars::DBUS_SESSION_BUS_ADDRESS).is_none() {
            return Err("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset)".into());
        }
        let store = bounded("opening the Secret Service", || {
            zbus_secret_service_keyring_store::Store::new()
        })?;
        keyring_core::set_default_store(store);
        Ok(())
    }
    #[cfg(target_os = "macos")]
    {
        let store = bounded("opening the Keychain", || {
            apple_native_keyring_store::keychain::Store::new()
        })?;
        keyring_core::set_default_store(store);
        Ok(())
    }
    #[cfg(windows)]
    {
        let store = bounded("opening the Credential Manager", || {
            windows_native_keyring_store::Store::new()
        })?;
        keyring_core::set_default_store(store);
        Ok(())
    }
    #[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
    Err("no keyring is supported on this platform".into())
}

/// Is the keyring usable: store opens and a lookup answers (absent is fine)?
fn probe_keyring() -> std::result::Result<(), String> {
    platform_store()?;
    bounded("reading the keyring", || {
        let e = keyring_core::Entry::new(SERVICE, "probe")?;
        match e.get_password() {
            Ok(_) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(e),
        }
    })
}

/// Which store `open` would pick, judged without calling the keyring (for
/// `auth status`, which must stay fast): `(description, file path if a file)`.
pub fn likely_store(config_dir: &Path) -> (String, Option<PathBuf>) {
    let file = config_dir.join(FILE);
    let keyring_possible = !cfg!(target_os = "linux")
        || std::env::var_os(env_vars::DBUS_SESSION_BUS_ADDRESS).is_some();
    match Choice::from_env() {
        Ok(Choice::File) => (
            format!("file {} (KEYLESS_SECRET_STORE=file)", file.display()),
            Some(file),
        ),
        Ok(Choice::Keyring) => ("the OS keyring (KEYLESS_SECRET_STORE=keyring)".into(), None),
        _ if keyring_possible => (
            "the OS keyring if it answers, else the file (auto)".into(),
            None,
        ),
        _ => (
            format!("file {} (auto: no keyring here)", file.display()),
            Some(file),
        ),
    }
}

/// Does the file store hold `name`? (No keyring call.)
pub fn file_has(path: &Path, name: &str) -> bool {
    SecretStore::read_file(path).is_ok_and(|m| m.contains_key(name))
}

impl SecretStore {
    pub fn open(config_dir: &Path) -> Result<Self> {
        let file = SecretStore::File(config_dir.join(FILE));
        match Choice::from_env()? {
            Choice::File => Ok(file),
            Choice::Keyring => probe_keyring()
                .map(|()| SecretStore::Keyring)
                .map_err(|why| {
                    Error::config(format!("the OS keyring is not usable: {why}"))
                        .hint("unset KEYLESS_SECRET_STORE (or set it to file) to keep secrets in a 0600 file")
                }),
            Choice::Auto => match probe_keyring() {
                Ok(()) => Ok(SecretStore::Keyring),
                Err(why) => {
                    if !WARNED.swap(true, Ordering::Relaxed) {
                        output::warn(&format!(
                            "no usable OS keyring ({why}); keeping secrets in {} (mode 600)",
                            config_dir.join(FILE).display()
                        ));
                    }
                    Ok(file)
                }
            },
        }
    }

    pub fn describe(&self) -> String {
        match self {
            SecretStore::Keyring => "the OS keyring".to_string(),
            SecretStore::File(p) => format!("the file {} (mode 600)", p.display()),
        }
    }

    fn read_file(path: &Path) -> Result<BTreeMap<String, String>> {
        match private_fs::read_private(path, 0o077, 1 << 20) {
            Ok(Read0600::Missing) => Ok(BTreeMap::new()),
            Ok(Read0600::Data(b)) => {
                let v: serde_json::Value = serde_json::from_slice(&b).map_err(|e| {
                    Error::config(format!(
                        "the secret file {} is corrupt (line {}, column {})",
                        path.display(),
                        e.line(),
                        e.column()
                    ))
                    .hint("remove it and run `keyless login` again")
                })?;
                Ok(v.get("secrets")
                    .and_then(|s| serde_json::from_value(s.clone()).ok())
                    .unwrap_or_default())
            }
            Ok(Read0600::Unsafe(u)) => Err(Error::config(format!(
                "refusing the secret file: {}",
                u.describe(path)
            ))
            .hint(format!(
                "chmod 600 {}, then revoke and sign in again if others could read it",
                path.display()
            ))),
            Err(e) => Err(Error::io("cannot read the secret file", path, &e)),
        }
    }

    fn write_file(path: &Path, map: &BTreeMap<String, String>) -> Result<()> {
        if let Some(dir) = path.parent() {
            private_fs::ensure_dir(dir).map_err(Error::config)?;
        }
        let body = serde_json::json!({"version": 1, "secrets": map}).to_string();
        private_fs::write_atomic(path, body.as_bytes())
            .map_err(|e| Error::io("cannot write the secret file", path, &e))
    }

    pub fn get(&self, name: &str) -> Result<Option<Secret<String>>> {
        match self {
            SecretStore::File(p) => Ok(Self::read_file(p)?.remove(name).map(Secret::new)),
            SecretStore::Keyring => {
                let n = name.to_string();
                bounded("reading the keyring", move || {
                    let e = keyring_core::Entry::new(SERVICE, &n)?;
                    match e.get_password() {
                        Ok(v) => Ok(Some(v)),
                        Err(keyring_core::Error::NoEntry) => Ok(None),
                        Err(e) => Err(e),
                    }
                })
                .map(|v| v.map(Secret::new))
                .map_err(|m| {
                    Error::failure(m).hint("set KEYLESS_SECRET_STORE=file to avoid the keyring")
                })
            }
        }
    }

    /// Serialise read-modify-write of the secrets file across profiles and
    /// processes: a lost update could resurrect a rotated refresh token.
    fn file_lock(path: &Path) -> Result<std::fs::File> {
        if let Some(dir) = path.parent() {
            private_fs::ensure_dir(dir).map_err(Error::config)?;
        }
        let lock = path.with_extension("lock");
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock)
            .map_err(|e| Error::io("cannot open", &lock, &e))?;
        f.lock().map_err(|e| Error::io("cannot lock", &lock, &e))?;
        Ok(f)
    }

    pub fn set(&self, name: &str, value: &Secret<String>) -> Result<()> {
        match self {
            SecretStore::File(p) => {
                let _lock = Self::file_lock(p)?;
                let mut m = Self::read_file(p)?;
                m.insert(name.to_string(), value.expose().clone());
                Self::write_file(p, &m)
            }
            SecretStore::Keyring => {
                let (n, v) = (name.to_string(), value.expose().clone());
                bounded("writing the keyring", move || {
                    keyring_core::Entry::new(SERVICE, &n)?.set_password(&v)
                })
                .map_err(|m| {
                    Error::failure(m).hint("set KEYLESS_SECRET_STORE=file to avoid the keyring")
                })
            }
        }
    }

    pub fn delete(&self, name: &str) -> Result<()> {
        match self {
            SecretStore::File(p) => {
                let _lock = Self::file_lock(p)?;
                let mut m = Self::read_file(p)?;
                if m.remove(name).is_some() {
                    Self::write_file(p, &m)?;
                }
                Ok(())
            }
            SecretStore::Keyring => {
                let n = name.to_string();
                bounded(
                    "deleting from the keyring",
                    move || match keyring_core::Entry::new(SERVICE, &n)?.delete_credential() {
                        Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
                        Err(e) => Err(e),
                    },
                )
                .map_err(Error::failure)
            }
        }
    }
}

/// Secret names: one refresh token and one client secret per profile.
pub fn refresh_token_name(profile: &str) -> String {
    format!("{profile}/refresh_token")
}

pub fn client_secret_name(profile: &str) -> String {
    format!("{profile}/client_secret")
}
