//! The `file:PATH` source (Kubernetes projected tokens, SPIFFE helper
//! files): the file is re-read on every exchange, since its writer rotates
//! it. The `env` source's `*_IDENTITY_TOKEN_FILE` and `auth status` read
//! through here too.

use std::path::{Path, PathBuf};

use super::{IdentityToken, Origin};
use crate::env_vars;
use crate::error::{Error, Kind, Result};
use crate::jwt::MAX_ASSERTION_BYTES;
use crate::provider::TokenKind;
use crate::secret::Secret;

/// `~/…` relative to `$HOME`, as a shell would expand it.
pub fn expand_home(path: &str) -> PathBuf {
    if let Some(rest) = path.strip_prefix("~/")
        && let Some(home) = std::env::var_os(env_vars::HOME)
    {
        return PathBuf::from(home).join(rest);
    }
    PathBuf::from(path)
}

/// The JWT in the file at `path`, trimmed.
pub fn read(path: &Path) -> Result<IdentityToken> {
    // "cannot read PATH: reason" is what `auth status` shows as well.
    let meta = std::fs::metadata(path).map_err(|e| {
        let err = Error::io("cannot read", path, &e);
        if e.kind() == std::io::ErrorKind::NotFound {
            Error {
                kind: Kind::SignIn,
                ..err
            }
            .hint("check that the identity token is mounted or written at that path")
        } else {
            err
        }
    })?;
    if meta.len() > MAX_ASSERTION_BYTES as u64 {
        return Err(Error::config(format!(
            "the identity token file {} is {} bytes, above the {} KiB limit",
            path.display(),
            meta.len(),
            MAX_ASSERTION_BYTES / 1024
        ))
        .hint("the path may point at a key or certificate rather than the token"));
    }
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("cannot read", path, &e))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(Error::sign_in(format!(
            "the identity token file {} is empty",
            path.display()
        ))
        .hint("wait for its writer to fill it, or check the mount"));
    }
    Ok(IdentityToken {
        token: Secret::new(token.to_string()),
        origin: Origin::File(path.to_path_buf()),
        kind: TokenKind::Jwt,
    })
}
