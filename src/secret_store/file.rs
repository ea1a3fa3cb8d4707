//! The 0600 file store, `secrets.json`: `{"version": 1, "seq": n,
//! "secrets": {name: value}}`. The document is kept as parsed JSON, so
//! entries and keys that keyless does not know (another version's, a hand
//! edit's) survive every write; a file that is not such a document is
//! refused and never overwritten, since rewriting it would drop every
//! profile's secrets.
//!
//! Every read and write happens under `secrets.lock`. A write goes to a
//! temporary file (fsynced) renamed over the old one; a process killed in
//! between leaves the temporary file, which may hold a rotated refresh token
//! the provider already considers the only valid one. So whoever takes the
//! lock next adopts the newest complete leftover, judged by `seq` (one more
//! on every write), and removes the rest.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::output;
use crate::private_fs::{self, Read0600};

/// Longest a secrets-file update waits for another process's (they take
/// milliseconds, but a sign-in may hold the file while it refreshes).
const LOCK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Largest secret file read.
const MAX_FILE: u64 = 1 << 20;

type Doc = Map<String, Value>;

fn unusable(path: &Path, why: &str) -> Error {
    Error::config(format!(
        "cannot use the secret file {}: {why}",
        path.display()
    ))
    .hint(
        "keyless left it untouched; repair it or move it aside (it may hold other profiles' secrets), then run `keyless login` again",
    )
}

/// Parse a secret file's bytes: an object whose `secrets`, if present, is an object.
fn parse(path: &Path, bytes: &[u8]) -> Result<Doc> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| {
        unusable(
            path,
            &format!("it is not JSON (line {}, column {})", e.line(), e.column()),
        )
    })?;
    let Value::Object(doc) = v else {
        return Err(unusable(path, "it is not a JSON object"));
    };
    match doc.get("secrets") {
        None | Some(Value::Object(_)) => Ok(doc),
        Some(_) => Err(unusable(path, "its \"secrets\" is not an object")),
    }
}

fn read(path: &Path) -> Result<Doc> {
    match private_fs::read_private(path, 0o077, MAX_FILE) {
        Ok(Read0600::Missing) => Ok(Doc::new()),
        Ok(Read0600::Data(b)) => parse(path, &b),
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

/// The entry `name`: absent, a string, or refused (another type).
fn entry(path: &Path, doc: &Doc, name: &str) -> Result<Option<String>> {
    match doc.get("secrets").and_then(|s| s.get(name)) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(unusable(
            path,
            &format!("its entry {name:?} is not a string"),
        )),
    }
}

/// The write counter: one more on every write (0 in files without one).
fn seq(doc: &Doc) -> u64 {
    doc.get("seq").and_then(Value::as_u64).unwrap_or(0)
}

/// Temporary files of writes to `path` (`.NAME.XXXXXX.tmp`, as
/// [`private_fs::write_atomic`] names them) that nobody is writing: the
/// caller holds the lock every writer holds.
fn leftovers(path: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return Vec::new();
    };
    let prefix = format!(".{name}.");
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".tmp"))
        })
        .collect()
}

/// Adopt the newest complete leftover newer than the file; remove the others.
fn recover(path: &Path) -> Result<()> {
    let leftovers = leftovers(path);
    if leftovers.is_empty() {
        return Ok(());
    }
    let current = seq(&read(path)?);
    let mut best: Option<(u64, &PathBuf)> = None;
    for p in &leftovers {
        if let Ok(Read0600::Data(b)) = private_fs::read_private(p, 0o077, MAX_FILE)
            && let Ok(doc) = parse(p, &b)
            && seq(&doc) > current.max(best.map_or(0, |b| b.0))
        {
            best = Some((seq(&doc), p));
        }
    }
    if let Some((_, p)) = best {
        fs::rename(p, path).map_err(|e| Error::io("cannot recover the secret file", p, &e))?;
        output::info(&format!(
            "recovered the secret file {} from a write an interrupted keyless left",
            path.display()
        ));
    }
    for p in leftovers.iter().filter(|p| Some(*p) != best.map(|b| b.1)) {
        let _ = fs::remove_file(p);
    }
    if let Some(dir) = path.parent() {
        private_fs::sync_dir(dir);
    }
    Ok(())
}

fn write(path: &Path, doc: &Doc) -> Result<()> {
    let body = Value::Object(doc.clone()).to_string();
    private_fs::write_atomic(path, body.as_bytes())
        .map_err(|e| Error::io("cannot write the secret file", path, &e))
}

pub struct FileStore {
    pub path: PathBuf,
}

impl FileStore {
    /// Serialise read-modify-write of the secrets file across profiles and
    /// processes: a lost update could resurrect a rotated refresh token.
    fn lock(&self) -> Result<private_fs::FileLock> {
        if let Some(dir) = self.path.parent() {
            private_fs::ensure_dir(dir).map_err(Error::config)?;
        }
        let lock = self.path.with_extension("lock");
        private_fs::lock(&lock, LOCK_TIMEOUT, || {
            output::info("another keyless process is updating the secrets file; waiting for it")
        })
        .map_err(|e| {
            e.into_error(
                &lock,
                "another keyless is still updating the secrets file; let it finish, then retry",
            )
        })
    }

    /// Does the file hold `name`? Without the lock (for `auth status`).
    pub fn has(&self, name: &str) -> bool {
        read(&self.path).is_ok_and(|d| entry(&self.path, &d, name).is_ok_and(|e| e.is_some()))
    }

    pub fn get(&self, name: &str) -> Result<Option<String>> {
        let _lock = self.lock()?;
        recover(&self.path)?;
        let doc = read(&self.path)?;
        entry(&self.path, &doc, name)
    }

    /// Set (`Some`) or remove (`None`) one entry, keeping all others.
    pub fn update(&self, name: &str, value: Option<&str>) -> Result<()> {
        let _lock = self.lock()?;
        recover(&self.path)?;
        let mut doc = read(&self.path)?;
        entry(&self.path, &doc, name)?;
        let Value::Object(secrets) = doc
            .entry("secrets")
            .or_insert_with(|| Value::Object(Map::new()))
        else {
            return Err(unusable(&self.path, "its \"secrets\" is not an object"));
        };
        let changed = match value {
            Some(v) => secrets
                .insert(name.to_string(), v.into())
                .is_none_or(|old| old != v),
            None => secrets.remove(name).is_some(),
        };
        if !changed {
            return Ok(());
        }
        doc.entry("version").or_insert(1.into());
        let next = seq(&doc)
            .checked_add(1)
            .ok_or_else(|| unusable(&self.path, "its \"seq\" is at its maximum"))?;
        doc.insert("seq".into(), next.into());
        write(&self.path, &doc)
    }
}
