//! Another tool's settings file, as `setup claude-code` and `setup codex`
//! read and replace it: read capped and non-blocking, written atomically
//! (through a user's dotfile link, to the file it points to) with the old
//! contents backed up beside the file actually written, and at project
//! scope never outside the project.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::output;

/// At `--scope project` the settings file is inside the checkout, which a
/// stranger may have written: a link there (`.claude/settings.json ->
/// ../../../.docker/config.json`), or a `.claude` directory that resolves
/// outside the project, would make keyless rewrite (and copy into the
/// checkout) a file of the user's elsewhere. Both are refused, as is a file
/// with a second hard link.
pub fn contain_in_project(path: &Path) -> Result<()> {
    let refuse = |why: String| {
        Error::config(format!(
            "{} {why}; not touching it",
            path.display()
        ))
        .hint("at --scope project keyless writes only a regular file inside the project; replace the link with a regular file, then run this again")
    };
    let project = std::env::current_dir()
        .and_then(std::fs::canonicalize)
        .map_err(|e| {
            Error::failure(format!(
                "cannot resolve the current directory: {}",
                crate::error::io_reason(&e)
            ))
        })?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if let Ok(real_dir) = std::fs::canonicalize(dir)
        && !real_dir.starts_with(&project)
    {
        return Err(refuse(format!(
            "is in {}, which resolves to {}, outside the project",
            dir.display(),
            real_dir.display()
        )));
    }
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            let to = std::fs::read_link(path)
                .map(|t| t.display().to_string())
                .unwrap_or_default();
            Err(refuse(format!(
                "is a symbolic link (to {to}); at project scope a link may lead outside the project"
            )))
        }
        #[cfg(unix)]
        Ok(m) if std::os::unix::fs::MetadataExt::nlink(&m) > 1 => Err(refuse(
            "has another hard link, which may be a file outside the project".to_string(),
        )),
        _ => Ok(()),
    }
}

/// Where to write `path`: itself, or, for a symlink (dotfile managers link
/// settings into a repository), the regular file the user owns it points
/// to, so the link survives and both sides stay the same file.
fn write_target(path: &Path) -> Result<PathBuf> {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if !is_link {
        return Ok(path.to_path_buf());
    }
    let refuse = |why: String| {
        Error::config(format!(
            "{} is a symbolic link {why}; not replacing it",
            path.display()
        ))
        .hint("fix the link or replace it with a regular file, then run this again")
    };
    let target = std::fs::canonicalize(path).map_err(|e| {
        refuse(format!(
            "whose target cannot be resolved ({})",
            crate::error::io_reason(&e)
        ))
    })?;
    let meta = std::fs::symlink_metadata(&target).map_err(|e| {
        refuse(format!(
            "to {} ({})",
            target.display(),
            crate::error::io_reason(&e)
        ))
    })?;
    if !meta.is_file() {
        return Err(refuse(format!(
            "to {}, which is not a regular file",
            target.display()
        )));
    }
    if let Err(u) = crate::private_fs::check_path(&target, &meta, 0) {
        return Err(refuse(format!("({})", u.describe(&target))));
    }
    Ok(target)
}

/// A tool's settings file as text, `None` when absent: read with the capped,
/// non-blocking, regular-file-only reader, so a FIFO or a link to a device
/// planted there neither hangs nor exhausts keyless.
pub fn read(path: &Path, what: &str) -> Result<Option<String>> {
    let bytes = crate::private_fs::read_outside(path, crate::clients::scan::MAX_BYTES).map_err(
        |e| match e.kind() {
            std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData => {
                Error::config(format!(
                    "{what} at {} is {}; not touching it",
                    path.display(),
                    crate::error::io_reason(&e)
                ))
                .hint("replace it with a regular file (or remove it), then run this again")
            }
            _ => Error::io(&format!("cannot read {what}"), path, &e),
        },
    )?;
    bytes
        .map(|b| {
            String::from_utf8(b).map_err(|_| {
                Error::config(format!("{what} at {} is not UTF-8 text", path.display()))
            })
        })
        .transpose()
}

/// Write a tool's settings file atomically, backing up what was there
/// (`<name>.keyless-backup-<unix time>` beside it).
pub fn replace_with_backup(
    path: &Path,
    existing: Option<&str>,
    text: &str,
    what: &str,
) -> Result<PathBuf> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create", dir, &e))?;
    let target = write_target(path)?;
    if let Some(old) = existing {
        // Beside the file actually written: a link's target, never the
        // directory of the link (which may be a checkout).
        let ext = target.extension().and_then(|e| e.to_str()).unwrap_or("bak");
        let backup = target.with_extension(format!("{ext}.keyless-backup-{}", crate::clock::now()));
        // The old file may hold keys (an `env` block): keep its copy private.
        crate::private_fs::write_atomic(&backup, old.as_bytes())
            .map_err(|e| Error::io("cannot back up", &backup, &e))?;
        output::note(&format!(
            "Backed up the previous file to {}.",
            backup.display()
        ));
    }
    crate::private_fs::write_atomic(&target, text.as_bytes())
        .map_err(|e| Error::io(&format!("cannot write {what}"), &target, &e))?;
    Ok(target)
}
