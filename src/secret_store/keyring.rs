//! The OS keyring (Secret Service, Keychain, Credential Manager) through
//! keyring-core with explicit platform stores. Every call runs on its own
//! thread under a timeout, because a locked collection or a stalled D-Bus
//! activation can otherwise hang forever. The keyring crate's in-memory mock
//! store is never used: only real platform stores are compiled in.

use std::time::Duration;

use super::SERVICE;
use crate::env_vars;

const KEYRING_TIMEOUT: Duration = Duration::from_secs(3);

/// Run a keyring operation on its own thread, bounded by the timeout.
fn bounded<T: Send + 'static>(
    what: &str,
    f: impl FnOnce() -> keyring_core::Result<T> + Send + 'static,
) -> Result<T, String> {
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
fn platform_store() -> Result<(), String> {
    if keyring_core::get_default_store().is_some() {
        return Ok(());
    }
    #[cfg(target_os = "linux")]
    {
        // Without a session bus there is no Secret Service to talk to.
        if std::env::var_os(env_vars::DBUS_SESSION_BUS_ADDRESS).is_none() {
            return Err(format!(
                "no D-Bus session bus ({} is unset)",
                env_vars::DBUS_SESSION_BUS_ADDRESS
            ));
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
pub fn probe() -> Result<(), String> {
    platform_store()?;
    get("probe").map(|_| ())
}

/// Is a keyring worth probing here? (No keyring call.)
pub fn possible() -> bool {
    !cfg!(target_os = "linux") || std::env::var_os(env_vars::DBUS_SESSION_BUS_ADDRESS).is_some()
}

pub fn get(name: &str) -> Result<Option<String>, String> {
    let n = name.to_string();
    bounded(
        "reading the keyring",
        move || match keyring_core::Entry::new(SERVICE, &n)?.get_password() {
            Ok(v) => Ok(Some(v)),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(e),
        },
    )
}

pub fn set(name: &str, value: &str) -> Result<(), String> {
    let (n, v) = (name.to_string(), value.to_string());
    bounded("writing the keyring", move || {
        keyring_core::Entry::new(SERVICE, &n)?.set_password(&v)
    })
}

pub fn delete(name: &str) -> Result<(), String> {
    let n = name.to_string();
    bounded(
        "deleting from the keyring",
        move || match keyring_core::Entry::new(SERVICE, &n)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(e),
        },
    )
}
