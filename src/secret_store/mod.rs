//! Where long-lived secrets live: refresh tokens and client secrets.
//!
//! The OS keyring (Secret Service, Keychain, Credential Manager) when one is
//! usable, else a 0600 file in the config dir with a one-line warning.
//! `KEYLESS_SECRET_STORE=auto|keyring|file` chooses.

mod file;
mod keyring;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::env_vars::KEYLESS_SECRET_STORE;
use crate::error::{Error, Result};
use crate::output;
use crate::secret::Secret;
use file::FileStore;

pub const SERVICE: &str = "keyless";
const FILE: &str = "secrets.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Auto,
    Keyring,
    File,
}

impl Choice {
    pub fn from_env() -> Result<Self> {
        match std::env::var(KEYLESS_SECRET_STORE).ok().as_deref() {
            None | Some("") | Some("auto") => Ok(Choice::Auto),
            Some("keyring") => Ok(Choice::Keyring),
            Some("file") => Ok(Choice::File),
            Some(other) => Err(Error::config(format!(
                "{KEYLESS_SECRET_STORE}={other:?} is not auto, keyring or file"
            ))),
        }
    }
}

/// `Keyring` carries the file as a fallback: a secret the keyring failed to
/// take (a rotated refresh token the provider already considers the only
/// valid one) is kept there, read first, and moved to the keyring by the
/// next successful save.
pub enum SecretStore {
    Keyring(FileStore),
    File(FileStore),
}

static WARNED: AtomicBool = AtomicBool::new(false);

/// Which store `open` would pick, judged without calling the keyring (for
/// `auth status`, which must stay fast): `(description, file path if a file)`.
pub fn likely_store(config_dir: &Path) -> (String, Option<PathBuf>) {
    let file = config_dir.join(FILE);
    match Choice::from_env() {
        Ok(Choice::File) => (
            format!("file {} ({KEYLESS_SECRET_STORE}=file)", file.display()),
            Some(file),
        ),
        Ok(Choice::Keyring) => (
            format!("the OS keyring ({KEYLESS_SECRET_STORE}=keyring)"),
            None,
        ),
        _ if keyring::possible() => (
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
    FileStore {
        path: path.to_path_buf(),
    }
    .has(name)
}

fn keyring_error(m: String) -> Error {
    Error::failure(m).hint(format!(
        "set {KEYLESS_SECRET_STORE}=file to avoid the keyring"
    ))
}

impl SecretStore {
    pub fn open(config_dir: &Path) -> Result<Self> {
        let path = config_dir.join(FILE);
        let file = SecretStore::File(FileStore { path: path.clone() });
        let keyring = SecretStore::Keyring(FileStore { path });
        match Choice::from_env()? {
            Choice::File => Ok(file),
            Choice::Keyring => keyring::probe()
                .map(|()| keyring)
                .map_err(|why| {
                    Error::config(format!("the OS keyring is not usable: {why}")).hint(format!(
                        "unset {KEYLESS_SECRET_STORE} (or set it to file) to keep secrets in a 0600 file"
                    ))
                }),
            Choice::Auto => match keyring::probe() {
                Ok(()) => Ok(keyring),
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
            SecretStore::Keyring(_) => "the OS keyring".to_string(),
            SecretStore::File(f) => format!("the file {} (mode 600)", f.path.display()),
        }
    }

    pub fn get(&self, name: &str) -> Result<Option<Secret<String>>> {
        match self {
            SecretStore::File(f) => Ok(f.get(name)?.map(Secret::new)),
            SecretStore::Keyring(fallback) => {
                // An unusable file cannot hold a fallback copy worth trusting.
                if fallback.path.exists()
                    && let Ok(Some(v)) = fallback.get(name)
                {
                    return Ok(Some(Secret::new(v)));
                }
                keyring::get(name)
                    .map(|v| v.map(Secret::new))
                    .map_err(keyring_error)
            }
        }
    }

    pub fn set(&self, name: &str, value: &Secret<String>) -> Result<()> {
        match self {
            SecretStore::File(f) => f.update(name, Some(value.expose())),
            SecretStore::Keyring(fallback) => match keyring::set(name, value.expose()) {
                Ok(()) => {
                    if fallback.has(name) {
                        fallback.update(name, None)?;
                    }
                    Ok(())
                }
                Err(why) => {
                    output::warn(&format!(
                        "the OS keyring did not take {name} ({why}); keeping it in {} (mode 600) until it does",
                        fallback.path.display()
                    ));
                    fallback.update(name, Some(value.expose()))
                }
            },
        }
    }

    pub fn delete(&self, name: &str) -> Result<()> {
        match self {
            SecretStore::File(f) => f.update(name, None),
            SecretStore::Keyring(fallback) => {
                if fallback.has(name) {
                    fallback.update(name, None)?;
                }
                keyring::delete(name).map_err(Error::failure)
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
