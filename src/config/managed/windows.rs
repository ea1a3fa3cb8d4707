//! The managed file on Windows: `<ProgramData>\keyless\config.json`, the
//! folder found with `SHGetKnownFolderPath(FOLDERID_ProgramData)` (not the
//! `ProgramData` variable, which any process can set), honoured only when
//! Administrators or SYSTEM own it and no one else may change it
//! ([`crate::private_fs::acl::judge_machine`], the rule; the descriptor is
//! read in `private_fs`, from the open handle). The folder is judged too
//! ([`crate::private_fs::acl::judge_machine_folder`], whether or not the
//! file is there), as Unix judges the directory: ProgramData lets users
//! create folders below it, and a user who made `keyless` there before the
//! administrator placed the file could delete that file later, leaving
//! keyless without its policy. Such a folder is ignored with a warning
//! that names it. (Creating files in an administrator's folder is allowed
//! by ProgramData's defaults and harmless: a user's file is refused.)

use std::path::{Path, PathBuf};

use windows_sys::Win32::System::Com::CoTaskMemFree;
use windows_sys::Win32::UI::Shell::{FOLDERID_ProgramData, SHGetKnownFolderPath};

use super::{Read, read_bounded};
use crate::private_fs;

pub fn path() -> Option<PathBuf> {
    let mut p: windows_sys::core::PWSTR = std::ptr::null_mut();
    // SAFETY: the out-pointer receives a string freed with CoTaskMemFree,
    // also on failure (documented).
    unsafe {
        let hr = SHGetKnownFolderPath(&FOLDERID_ProgramData, 0, std::ptr::null_mut(), &mut p);
        let out = if hr >= 0 && !p.is_null() {
            let len = (0..).take_while(|&i| *p.add(i) != 0).count();
            let s = String::from_utf16_lossy(std::slice::from_raw_parts(p, len));
            Some(PathBuf::from(s).join("keyless").join("config.json"))
        } else {
            None
        };
        CoTaskMemFree(p.cast());
        out
    }
}

/// Why the managed file's folder is not the system's, if it is there.
fn judge_folder(path: &Path) -> Option<String> {
    let dir = path.parent()?;
    let why = match std::fs::symlink_metadata(dir) {
        Err(_) => return None,
        Ok(m) if m.file_type().is_symlink() => {
            format!("{} is a symbolic link or junction", dir.display())
        }
        Ok(_) => private_fs::machine_owned_folder(dir).err()?.describe(dir),
    };
    Some(format!(
        "{why} (the folder must be owned by Administrators or SYSTEM, and only they may delete or replace what it holds: a user who can could remove the policy)"
    ))
}

pub fn read_trusted(path: &Path, max: u64) -> Read {
    if let Some(why) = judge_folder(path) {
        return Read::Untrusted(why);
    }
    // Windows opens through a link: look at the name itself first.
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Read::Missing,
        Ok(m) if m.file_type().is_symlink() => {
            return Read::Untrusted(format!(
                "{} is a symbolic link (place the file itself there)",
                path.display()
            ));
        }
        _ => {}
    }
    let file = match private_fs::open_nofollow(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Read::Missing,
        Err(e) => {
            return Read::Untrusted(format!(
                "cannot read {}: {}",
                path.display(),
                crate::error::io_reason(&e)
            ));
        }
    };
    match file.metadata() {
        Ok(m) if m.is_file() && !m.file_type().is_symlink() => {}
        _ => return Read::Untrusted(format!("{} is not a regular file", path.display())),
    }
    if let Err(u) = private_fs::machine_owned(&file) {
        return Read::Untrusted(format!(
            "{} (it must be owned by Administrators or SYSTEM, and only they may change it)",
            u.describe(path)
        ));
    }
    read_bounded(file, path, max)
}
