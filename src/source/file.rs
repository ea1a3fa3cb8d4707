//! The `file:PATH` source (Kubernetes projected tokens, SPIFFE helper
//! files): the file is re-read on every exchange, since its writer rotates
//! it. The `env` source's `*_IDENTITY_TOKEN_FILE` and `auth status` read
//! through here too.

use std::path::{Path, PathBuf};

use super::{IdentityToken, Origin};
use crate::error::{Error, Kind, Result};
use crate::jwt::MAX_ASSERTION_BYTES;
use crate::provider::TokenKind;
use crate::secret::Secret;

/// `~/…` relative to `$HOME`, as a shell would expand it.
pub fn expand_home(path: &str) -> PathBuf {
    if let Some(rest) = path.strip_prefix("~/")
        && let Some(home) = crate::clients::places::home()
    {
        return home.join(rest);
    }
    PathBuf::from(path)
}

/// The JWT in the file at `path`, trimmed. The file is opened once,
/// without blocking (a FIFO nobody writes returns at once), must be a
/// regular file on the open descriptor (not `/dev/zero`, not a FIFO, and no
/// race between a size check and the read), and is read to at most the
/// assertion limit plus one byte. Symlinks are followed: Kubernetes mounts
/// projected tokens as `token -> ..data/token`.
pub fn read(path: &Path) -> Result<IdentityToken> {
    let cannot = |e: &std::io::Error| Error::io("cannot read", path, e);
    let file = crate::private_fs::open_nonblocking(path).map_err(|e| {
        // "cannot read PATH: reason" is what `auth status` shows as well.
        let err = cannot(&e);
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
    let meta = file.metadata().map_err(|e| cannot(&e))?;
    if !meta.is_file() {
        return Err(Error::config(format!(
            "the identity token file {} is not a regular file",
            path.display()
        ))
        .hint("point the source at the file that holds the JWT, not a device, FIFO or directory"));
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(&file, MAX_ASSERTION_BYTES as u64 + 1),
        &mut bytes,
    )
    .map_err(|e| cannot(&e))?;
    if bytes.len() > MAX_ASSERTION_BYTES {
        return Err(Error::config(format!(
            "the identity token file {} is larger than the {} KiB limit",
            path.display(),
            MAX_ASSERTION_BYTES / 1024
        ))
        .hint("the path may point at a key or certificate rather than the token"));
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::config(format!(
            "the identity token file {} is not UTF-8 text",
            path.display()
        ))
    })?;
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
