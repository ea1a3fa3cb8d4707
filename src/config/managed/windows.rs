//! The managed file on Windows: `<ProgramData>\keyless\config.json`, the
//! folder found with `SHGetKnownFolderPath(FOLDERID_ProgramData)` (not the
//! `ProgramData` variable, which any process can set), honoured only when
//! Administrators or SYSTEM own it and no one else may change it
//! ([`crate::private_fs::acl::judge_machine`], the rule; the descriptor is
//! read in `private_fs`). The folder is not judged: ProgramData lets users
//! create files in folders below it, but not replace or delete an
//! administrator's file, and one a user creates is theirs, so ignored.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use windows_sys::Win32::System::Com::CoTaskMemFree;
use windows_sys::Win32::UI::Shell::{FOLDERID_ProgramData, SHGetKnownFolderPath};

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

pub enum Read {
    Missing,
    Untrusted(String),
    Data(Vec<u8>),
}

pub fn read_trusted(path: &Path, max: u64) -> Read {
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
    if let Err(u) = private_fs::machine_owned(path) {
        return Read::Untrusted(format!(
            "{} (it must be owned by Administrators or SYSTEM, and only they may change it)",
            u.describe(path)
        ));
    }
    let mut buf = Vec::new();
    match file.take(max + 1).read_to_end(&mut buf) {
        Ok(n) if n as u64 > max => {
            Read::Untrusted(format!("{} is larger than {max} bytes", path.display()))
        }
        Ok(_) => Read::Data(buf),
        Err(e) => Read::Untrusted(format!(
            "cannot read {}: {}",
            path.display(),
            crate::error::io_reason(&e)
        )),
    }
}
