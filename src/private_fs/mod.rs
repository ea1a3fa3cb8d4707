//! Private files: 0700 directories, 0600 files, atomic writes, no symlinks.
//! On Windows: an owner-only, protected DACL instead of the mode
//! ([`acl`] says what that is and how a descriptor is judged; `windows`
//! makes the Win32 calls), refused like a loose mode when another account
//! may change (or, for secrets, read) the file.
//!
//! Config, cache and secret files all go through here. Writes go to a temporary
//! file in the same directory, are fsynced, then renamed over the target, so a
//! crash mid-write leaves either the old file or the new one, never half of one.
//! Reads refuse symlinks and files that others can write.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

pub mod acl;
mod lock;
#[cfg(windows)]
mod windows;
pub use lock::{FileLock, LockError, lock, try_lock};

/// Give a file or directory keyless just created the owner-only protection
/// of its platform: on Unix the mode it was created with already is (so
/// nothing to do), on Windows a protected owner-only DACL.
#[cfg(not(windows))]
fn restrict(_path: &Path, _is_dir: bool) -> io::Result<()> {
    Ok(())
}
#[cfg(windows)]
use windows::restrict;

/// The access-list half of [`check_path`]: on Unix the mode says it all.
#[cfg(not(windows))]
fn check_acl(_path: &Path, _forbidden: u32) -> Result<(), Unsafe> {
    Ok(())
}
#[cfg(windows)]
use windows::check as check_acl;
/// A machine-wide file's (by its handle) and its folder's owner and DACL,
/// judged by [`acl::judge_machine`] and [`acl::judge_machine_folder`].
#[cfg(windows)]
pub use windows::{machine_owned, machine_owned_folder};

/// [`check`] plus, on Windows, the path's owner and DACL judged like a mode
/// (`forbidden` 0o022: no other account may change it; 0o077: nor read it).
pub fn check_path(path: &Path, meta: &fs::Metadata, forbidden: u32) -> Result<(), Unsafe> {
    check(meta, forbidden)?;
    check_acl(path, forbidden)
}

/// A new private temporary directory (0700; owner-only DACL on Windows),
/// removed when the handle drops.
pub fn private_tempdir(prefix: &str) -> io::Result<tempfile::TempDir> {
    let mut b = tempfile::Builder::new();
    b.prefix(prefix);
    #[cfg(unix)]
    b.permissions(fs::Permissions::from_mode(0o700));
    let dir = b.tempdir()?;
    restrict(dir.path(), true)?;
    Ok(dir)
}

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};

/// The problem found with a file or directory's ownership or mode.
#[derive(Debug, PartialEq, Eq)]
pub enum Unsafe {
    Symlink,
    NotOwned,
    /// Group or others have the bits in `mask`.
    Loose(u32),
    WrongType,
    /// (Windows) the access list lets `who` change (`write`) or read it.
    Shared {
        who: String,
        write: bool,
    },
}

impl Unsafe {
    pub fn describe(&self, path: &Path) -> String {
        match self {
            Unsafe::Symlink => format!("{} is a symbolic link", path.display()),
            Unsafe::NotOwned => format!("{} is owned by another user", path.display()),
            Unsafe::Loose(mode) => format!(
                "{} has mode {:o}, so other users can {}",
                path.display(),
                mode & 0o777,
                if mode & 0o022 != 0 {
                    "change it"
                } else {
                    "read it"
                }
            ),
            Unsafe::WrongType => format!("{} is not a regular file or directory", path.display()),
            Unsafe::Shared { who, write } => format!(
                "{}'s access list lets {who} {} it",
                path.display(),
                if *write { "change" } else { "read" }
            ),
        }
    }
}

/// A per-user directory under the system temp dir (`keyless-UID`), for
/// what every keyless of this user must find whatever its cache directory
/// (the single-use ledger's fallback, the agent's locks); create it with
/// [`ensure_dir`], which refuses one another user made.
pub fn user_temp_dir() -> std::path::PathBuf {
    #[cfg(unix)]
    let user = euid().to_string();
    #[cfg(not(unix))]
    let user = std::env::var(crate::env_vars::USERNAME).unwrap_or_default();
    std::env::temp_dir().join(format!("keyless-{user}"))
}

/// The user's runtime directory for keyless (`$XDG_RUNTIME_DIR/keyless`,
/// which only the user can create), else [`user_temp_dir`].
pub fn user_runtime_dir() -> std::path::PathBuf {
    match std::env::var_os(crate::env_vars::XDG_RUNTIME_DIR).map(std::path::PathBuf::from) {
        Some(d) if d.is_absolute() => d.join("keyless"),
        _ => user_temp_dir(),
    }
}

#[cfg(unix)]
pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Check a path's own metadata (not following links): not a symlink, owned by
/// us, and no group/other bits from `forbidden` (0o022 = writable by others,
/// 0o077 = any access by others).
#[cfg(unix)]
pub fn check(meta: &fs::Metadata, forbidden: u32) -> Result<(), Unsafe> {
    if meta.file_type().is_symlink() {
        return Err(Unsafe::Symlink);
    }
    if !meta.is_file() && !meta.is_dir() {
        return Err(Unsafe::WrongType);
    }
    if meta.uid() != euid() {
        return Err(Unsafe::NotOwned);
    }
    if meta.mode() & forbidden != 0 {
        return Err(Unsafe::Loose(meta.mode()));
    }
    Ok(())
}

#[cfg(not(unix))]
pub fn check(meta: &fs::Metadata, _forbidden: u32) -> Result<(), Unsafe> {
    if meta.file_type().is_symlink() {
        return Err(Unsafe::Symlink);
    }
    Ok(())
}

/// Create `dir` (and parents) with mode 0700 if missing. An existing directory
/// that we own with loose bits is tightened to 0700; one that is a symlink or
/// owned by someone else is refused.
pub fn ensure_dir(dir: &Path) -> Result<(), String> {
    match fs::symlink_metadata(dir) {
        Ok(meta) => match check_path(dir, &meta, 0o077) {
            Ok(()) if meta.is_dir() => Ok(()),
            Ok(()) => Err(format!("{} is not a directory", dir.display())),
            Err(Unsafe::Loose(_) | Unsafe::Shared { .. }) if meta.is_dir() => tighten(dir),
            Err(u) => Err(u.describe(dir)),
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let mut b = fs::DirBuilder::new();
            b.recursive(true);
            #[cfg(unix)]
            b.mode(0o700);
            b.create(dir)
                .and_then(|()| restrict(dir, true))
                .map_err(|e| {
                    format!(
                        "cannot create {}: {}",
                        dir.display(),
                        crate::error::io_reason(&e)
                    )
                })
        }
        Err(e) => Err(format!(
            "cannot inspect {}: {}",
            dir.display(),
            crate::error::io_reason(&e)
        )),
    }
}

/// Make a directory of ours that others can reach private: mode 0700, or
/// an owner-only DACL on Windows.
fn tighten(dir: &Path) -> Result<(), String> {
    #[cfg(unix)]
    let r = fs::set_permissions(dir, fs::Permissions::from_mode(0o700));
    #[cfg(not(unix))]
    let r = restrict(dir, true);
    r.map_err(|e| {
        format!(
            "cannot make {} private: {}",
            dir.display(),
            crate::error::io_reason(&e)
        )
    })
}

/// Atomically replace `path` with `bytes`, mode 0600. The parent must exist.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    replace(path, bytes, true)
}

/// [`write_atomic`] without the two fsyncs, for a cache entry: readers see
/// the old file or the new one whole, but after a crash the entry may be
/// old or empty, which its reader takes for a miss. The syncs were most of
/// the cost of a cold exchange on loopback (issue 12).
pub fn write_atomic_volatile(path: &Path, bytes: &[u8]) -> io::Result<()> {
    replace(path, bytes, false)
}

/// [`write_atomic`] for a file other users must read (a sidecar's shared
/// volume): created with `mode` and, when given, owned by group `gid`, both set on the
/// temporary file before it is renamed into place, so no reader ever sees
/// it with other permissions.
#[cfg(unix)]
pub fn write_atomic_shared(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    gid: Option<u32>,
) -> io::Result<()> {
    replace_with(path, bytes, true, |f| {
        if let Some(g) = gid {
            use std::os::fd::AsRawFd;
            // SAFETY: fchown on a descriptor we own; uid -1 leaves the owner.
            if unsafe { libc::fchown(f.as_raw_fd(), u32::MAX, g) } != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        f.set_permissions(fs::Permissions::from_mode(mode))
    })
}

fn replace(path: &Path, bytes: &[u8], durable: bool) -> io::Result<()> {
    replace_with(path, bytes, durable, |_| Ok(()))
}

fn replace_with(
    path: &Path,
    bytes: &[u8],
    durable: bool,
    prepare: impl FnOnce(&File) -> io::Result<()>,
) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no parent"))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    // tempfile creates the file with O_EXCL and mode 0600 on Unix.
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)?;
    restrict(tmp.path(), false)?;
    prepare(tmp.as_file())?;
    tmp.write_all(bytes)?;
    if durable {
        tmp.as_file().sync_all()?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    if durable {
        sync_dir(dir);
    }
    Ok(())
}

/// Make a rename or removal in `dir` durable (best effort: not every
/// filesystem can sync a directory).
pub fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Open `path` for reading without following a final symlink.
pub fn open_nofollow(path: &Path) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    o.custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    o.open(path)
}

/// Open `path` for reading, never through a final symlink and without
/// blocking (a FIFO nobody writes opens at once): the caller judges the
/// open descriptor (its type, owner, mode), not the name it looked at.
pub fn open_nofollow_nonblocking(path: &Path) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    o.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC);
    o.open(path)
}

/// Open `path` for reading, following symlinks, without blocking: a FIFO
/// nobody writes or a device opens at once, so that the caller's fstat can
/// refuse what is not a regular file.
pub fn open_nonblocking(path: &Path) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    o.custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC);
    o.open(path)
}

/// Read a file keyless does not own the format of (another tool's
/// settings, an SDK's `active_config`, a CA file, a platform's key file):
/// opened without blocking (a FIFO nobody writes returns at once), required
/// to be a regular file on the open descriptor (not `/dev/zero`, not a
/// FIFO, no race between a check and the read), and read to at most `max`
/// bytes. `Ok(None)` when it does not exist; links are followed.
pub fn read_outside(path: &Path, max: u64) -> io::Result<Option<Vec<u8>>> {
    let file = match open_nonblocking(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file (a device, FIFO or directory)",
        ));
    }
    read_capped(&file, max).map(Some)
}

/// Read an open file to at most `max` bytes; a longer one is an error, not
/// a silently cut copy.
pub fn read_capped(mut file: &File, max: u64) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    (&mut file)
        .take(max.saturating_add(1))
        .read_to_end(&mut buf)?;
    if buf.len() as u64 > max {
        let limit = if max >= 1024 {
            format!("{} KiB", max / 1024)
        } else {
            format!("{max}-byte")
        };
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than the {limit} limit"),
        ));
    }
    Ok(buf)
}

/// Open (creating it 0600) a lock file, never through a symlink and only
/// if the open descriptor is a regular file we own. Group or other bits, as
/// on a lock an older keyless created 0644, are removed rather than refused:
/// a lock file holds no data, only its `flock` matters. `Ok(Err(_))` is a
/// lock file someone else planted.
pub fn open_lock(path: &Path) -> io::Result<Result<File, Unsafe>> {
    let mut o = OpenOptions::new();
    o.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    o.mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    let file = match o.open(path) {
        Ok(f) => f,
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Ok(Err(Unsafe::Symlink)),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Ok(Err(Unsafe::WrongType));
    }
    match check_path(path, &meta, 0o077) {
        Ok(()) => {}
        #[cfg(unix)]
        Err(Unsafe::Loose(_)) => file.set_permissions(fs::Permissions::from_mode(0o600))?,
        Err(Unsafe::Shared { .. }) => restrict(path, false)?,
        Err(u) => return Ok(Err(u)),
    }
    Ok(Ok(file))
}

/// The error for a lock file [`open_lock`] refused.
pub fn refused_lock(lock: &Path, u: &Unsafe) -> crate::error::Error {
    crate::error::Error::config(format!("refusing the lock file: {}", u.describe(lock))).hint(
        format!(
            "remove {} (keyless creates it again, mode 600) and check who else can write to its directory",
            lock.display()
        ),
    )
}

/// Read a private file: `Ok(None)` when absent; `Err(Unsafe)`-style message
/// when it is a symlink, not ours, or readable by others (`forbidden` bits).
pub enum Read0600 {
    Missing,
    Unsafe(Unsafe),
    Data(Vec<u8>),
}

pub fn read_private(path: &Path, forbidden: u32, max: u64) -> io::Result<Read0600> {
    let file = match open_nofollow(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Read0600::Missing),
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Ok(Read0600::Unsafe(Unsafe::Symlink));
        }
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if let Err(u) = check_path(path, &meta, forbidden) {
        return Ok(Read0600::Unsafe(u));
    }
    if !meta.is_file() {
        return Ok(Read0600::Unsafe(Unsafe::WrongType));
    }
    let mut buf = Vec::with_capacity(meta.len().min(max) as usize);
    file.take(max).read_to_end(&mut buf)?;
    Ok(Read0600::Data(buf))
}

#[cfg(all(test, unix))]
mod tests;
