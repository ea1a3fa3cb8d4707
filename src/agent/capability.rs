//! The proxy sinks' key: a random capability in a file of its own
//! (`--capability-file`), never on a command line. The file is written
//! like every file sink (atomic, the sinks' mode and group, refused through
//! a symlink or in a directory others can write) and reused when it is
//! already there, so a restarted agent keeps its clients' key.

use std::path::Path;

use super::write::{self, Access};
use crate::error::{Error, Result};
use crate::private_fs::{self, Read0600};

/// The prefix every capability keyless makes starts with.
const PREFIX: &str = "keyless-proxy-";
/// The longest capability file read.
const MAX: u64 = 256;

/// The capability in `path`, or a new one written there by `fresh`.
pub fn load_or_create(
    path: &Path,
    access: Access,
    fresh: impl FnOnce() -> String,
) -> Result<String> {
    write::check_place(path, access)?;
    // Group read is allowed when the sinks are shared; nobody else writes.
    let forbidden = if access.is_shared() { 0o022 } else { 0o077 };
    match private_fs::read_private(path, forbidden, MAX + 1) {
        Ok(Read0600::Data(b)) => {
            let text = String::from_utf8(b).unwrap_or_default();
            let key = text.trim();
            if key.starts_with(PREFIX)
                && key.len() as u64 <= MAX
                && key[PREFIX.len()..]
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
            {
                return Ok(key.to_string());
            }
            Err(Error::config(format!(
                "{} does not hold a capability keyless wrote",
                crate::redact::path(path)
            ))
            .hint("remove it: keyless writes a new one there"))
        }
        Ok(Read0600::Missing) => {
            let key = fresh();
            write::replace(path, key.as_bytes(), access)?;
            Ok(key)
        }
        Ok(Read0600::Unsafe(u)) => Err(Error::config(format!(
            "refusing the capability file: {}",
            u.describe(path)
        ))),
        Err(e) => Err(Error::io("cannot read the capability file", path, &e)),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn created_once_then_reused_and_a_foreign_file_refused() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("d/cap");
        let a = load_or_create(&f, Access::default(), || "keyless-proxy-abc_-1".into()).unwrap();
        let b = load_or_create(&f, Access::default(), || unreachable!()).unwrap();
        assert_eq!(a, b);
        std::fs::write(&f, "sk-ant-api03-not-ours").unwrap();
        assert!(load_or_create(&f, Access::default(), || unreachable!()).is_err());
    }

    #[test]
    fn a_refused_files_path_is_shown_scrubbed() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("d\x1b]0;owned\x07/cap");
        load_or_create(&f, Access::default(), || "keyless-proxy-abc".into()).unwrap();
        std::fs::write(&f, "sk-ant-api03-not-ours").unwrap();
        let e = load_or_create(&f, Access::default(), || unreachable!()).unwrap_err();
        assert!(
            !e.message.contains('\x1b') && !e.message.contains('\x07'),
            "{:?}",
            e.message
        );
    }
}
