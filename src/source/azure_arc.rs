//! Azure Arc's managed identity: the agent's local endpoint answers a
//! first `GET $IDENTITY_ENDPOINT?api-version=2019-11-01&resource=…`
//! (`Metadata: true`) with 401 and `WWW-Authenticate: Basic realm=<path>`;
//! the file at that path holds a key only root (or the agent's group) can
//! read, and the request is repeated with `Authorization: Basic <key>`.
//!
//! The path comes from a server, so it is trusted only inside the agent's
//! key directory (`/var/opt/azcmagent/tokens` on Linux,
//! `%ProgramData%\AzureConnectedMachineAgent\Tokens` on Windows), with a
//! `.key` name, at most 4 KiB, as Azure's identity libraries check it.
//! `KEYLESS_AZURE_ARC_KEY_DIR` replaces the directory for tests. The key
//! is never shown.

use std::path::{Path, PathBuf};

use super::IdentityToken;
use super::platform::{self, Call};
use crate::env_vars;
use crate::error::{Error, Result};
use crate::secret::Secret;

const API: &str = "2019-11-01";
const WHAT: &str = "the Azure Arc agent";
const MAX_KEY: u64 = 4096;

pub fn fetch(endpoint: &str, resource: &str) -> Result<IdentityToken> {
    let mut url = platform::endpoint(endpoint, env_vars::IDENTITY_ENDPOINT)?;
    if platform::var(env_vars::AZURE_CLIENT_ID).is_some() {
        crate::output::warn(&format!(
            "Azure Arc supports only the machine's system-assigned identity; {} is ignored",
            env_vars::AZURE_CLIENT_ID
        ));
    }
    url.query_pairs_mut()
        .append_pair("api-version", API)
        .append_pair("resource", resource);
    let first = platform::send(&Call::get(&url, &[("metadata", "true")], WHAT))?;
    if first.status != 401 {
        // Not the challenge: an answer (or error) to classify as usual.
        return super::azure::token(first, WHAT, &url);
    }
    let realm = first
        .headers
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once("realm="))
        .map(|(_, p)| p.trim().trim_matches('"').to_string())
        .ok_or_else(|| {
            Error::network(format!(
                "{WHAT} answered 401 without a `WWW-Authenticate: Basic realm=<file>` challenge"
            ))
        })?;
    let key = read_key(Path::new(&realm), &key_dir()?)?;
    let basic = Secret::new(format!("Basic {}", key.expose()));
    let second = platform::send(&Call::get(
        &url,
        &[
            ("metadata", "true"),
            ("authorization", basic.expose().as_str()),
        ],
        WHAT,
    ))?;
    super::azure::token(second, WHAT, &url)
}

/// Where the agent writes its challenge keys.
fn key_dir() -> Result<PathBuf> {
    if let Some(d) = platform::var(env_vars::KEYLESS_AZURE_ARC_KEY_DIR) {
        return Ok(PathBuf::from(d));
    }
    #[cfg(windows)]
    {
        let base = platform::var(env_vars::PROGRAMDATA).ok_or_else(|| {
            Error::config(format!(
                "{} is not set; cannot find Azure Arc's key directory",
                env_vars::PROGRAMDATA
            ))
        })?;
        Ok(PathBuf::from(base)
            .join("AzureConnectedMachineAgent")
            .join("Tokens"))
    }
    #[cfg(not(windows))]
    Ok(PathBuf::from("/var/opt/azcmagent/tokens"))
}

/// The key in `path`, which must resolve to a `.key` file directly in
/// `dir` and be at most 4 KiB.
pub fn read_key(path: &Path, dir: &Path) -> Result<Secret<String>> {
    let refuse = |why: &str| {
        Error::network(format!(
            "{WHAT} named a challenge file keyless will not read ({}): {why}",
            crate::redact::terminal(&path.display().to_string())
        ))
        .hint(format!(
            "the agent's key files are in {}; check IDENTITY_ENDPOINT points at the Arc agent",
            dir.display()
        ))
    };
    let cannot = |e: std::io::Error| {
        let e2 = Error::io("cannot read", path, &e);
        if e.kind() == std::io::ErrorKind::PermissionDenied {
            e2.hint("Azure Arc's key files are readable only by root or the `himds` group (Windows: administrators or `Hybrid agent extension applications`)")
        } else {
            e2
        }
    };
    let real = path.canonicalize().map_err(cannot)?;
    let real_dir = dir
        .canonicalize()
        .map_err(|e| Error::io("cannot read", dir, &e))?;
    if real.parent() != Some(real_dir.as_path()) {
        return Err(refuse("it is not in the agent's key directory"));
    }
    if real.extension().and_then(|e| e.to_str()) != Some("key") {
        return Err(refuse("its name does not end in .key"));
    }
    let bytes = match crate::private_fs::read_outside(&real, MAX_KEY) {
        Ok(Some(b)) => b,
        Ok(None) => return Err(cannot(std::io::ErrorKind::NotFound.into())),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData
            ) =>
        {
            return Err(refuse("it is not a regular file of at most 4 KiB"));
        }
        Err(e) => return Err(cannot(e)),
    };
    let key = String::from_utf8_lossy(&bytes).trim().to_string();
    if key.is_empty() {
        return Err(refuse("it is empty"));
    }
    Ok(Secret::new(key))
}
