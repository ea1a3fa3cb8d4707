//! Which profile a command uses, decided in one place. In order:
//! `--profile`, `KEYLESS_PROFILE`, a per-directory choice (a
//! `.keyless-profile` file found from the working directory upward,
//! stopping at the home directory), the active profile (`keyless profile
//! use`, remembered in config.json), and `default`.
//!
//! The per-directory file only names a profile: one line, a profile name.
//! It can never define or change one, and a name it gives that is not among
//! the user's profiles is an error listing those that are.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::redact;

/// The per-directory file's name.
pub const DIRECTORY_FILE: &str = ".keyless-profile";
/// The profile used when nothing chooses another.
pub const DEFAULT_PROFILE: &str = "default";
/// The per-directory file is a name (and perhaps a comment line); anything
/// longer is not one, and is refused rather than cut.
const DIRECTORY_FILE_MAX: u64 = 1024;

/// Which rule chose the profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Flag,
    Env,
    Directory(PathBuf),
    Active(PathBuf),
    Default,
}

impl Source {
    /// What `auth status` and `-v` say: the rule, and the file it read.
    pub fn describe(&self) -> String {
        match self {
            Source::Flag => "--profile".into(),
            Source::Env => format!("the {} variable", crate::env_vars::KEYLESS_PROFILE),
            Source::Directory(p) => format!("the per-directory file {}", redact::path(p)),
            Source::Active(p) => format!("the active profile in {}", p.display()),
            Source::Default => "the default (nothing chose another)".into(),
        }
    }
    /// The rule alone, without its file.
    pub fn rule(&self) -> Rule {
        match self {
            Source::Flag => Rule::Flag,
            Source::Env => Rule::Env,
            Source::Directory(_) => Rule::Directory,
            Source::Active(_) => Rule::Active,
            Source::Default => Rule::Default,
        }
    }
    /// The file the choice was read from, if any.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Source::Directory(p) | Source::Active(p) => Some(p),
            _ => None,
        }
    }
    /// Was the profile named on purpose (so that an unknown name is a slip)?
    pub fn explicit(&self) -> bool {
        !matches!(self, Source::Default)
    }
}

/// Which rule chose the profile, without the file it read: what `auth
/// status --json` reports as `profile_rule` (serialized as `flag`, `env`,
/// `directory`, `active` or `default`) and, with [`Rule::explain`], what its
/// text says. The one place either is spelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Rule {
    Flag,
    Env,
    Directory,
    Active,
    Default,
}

impl Rule {
    /// `auth status`'s "profile from" line: the rule, and the file it read
    /// (as the caller shows paths).
    pub fn explain(self, file: Option<&str>) -> String {
        match (self, file) {
            (Rule::Flag, _) => "--profile".into(),
            (Rule::Env, _) => crate::env_vars::KEYLESS_PROFILE.into(),
            (Rule::Directory, Some(f)) => format!("the per-directory file {f}"),
            (Rule::Active, Some(f)) => {
                format!("the active profile (keyless profile use) in {f}")
            }
            _ => "the default: no flag, variable, per-directory file or active profile".into(),
        }
    }
}

/// The choice before the config is read: `Some` when a flag, the variable
/// or a per-directory file decides.
pub fn choose_early(
    flag: Option<&str>,
    env: Option<String>,
    cwd: Option<PathBuf>,
    home: Option<PathBuf>,
) -> Result<Option<(String, Source)>> {
    if let Some(f) = flag {
        return Ok(Some((f.to_string(), Source::Flag)));
    }
    if let Some(e) = env.filter(|e| !e.is_empty()) {
        return Ok(Some((e, Source::Env)));
    }
    if let Some(cwd) = cwd
        && let Some(found) = find_directory_file(&cwd, home.as_deref())
    {
        let name = read_directory_file(&found)?;
        return Ok(Some((name, Source::Directory(found))));
    }
    Ok(None)
}

/// The nearest `.keyless-profile` from `cwd` upward: the home directory is
/// the last one looked in (when `cwd` is below it). Outside home (a
/// checkout in /srv, /tmp, a CI workspace) the walk stops at the top of
/// the user's own tree: the first directory another account owns ends it,
/// unread, since a file there or above (even root's) would choose for
/// every user working below it. Only a regular file of this user's (or
/// root's) that no one else may write counts: another user's file in a
/// shared directory must not choose for you. Costs one or two `lstat`s per
/// level, no open.
pub fn find_directory_file(cwd: &Path, home: Option<&Path>) -> Option<PathBuf> {
    let below_home = home.is_some_and(|h| cwd.starts_with(h));
    let mut dir = Some(cwd);
    while let Some(d) = dir {
        if !below_home && !own_directory(d, d == cwd) {
            return None;
        }
        let candidate = d.join(DIRECTORY_FILE);
        if let Ok(meta) = std::fs::symlink_metadata(&candidate)
            && trusted(&meta)
        {
            return Some(candidate);
        }
        if home.is_some_and(|h| h == d) {
            return None;
        }
        dir = d.parent();
    }
    None
}

#[cfg(unix)]
fn trusted(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    meta.is_file()
        && (meta.uid() == crate::private_fs::euid() || meta.uid() == 0)
        && meta.mode() & 0o022 == 0
}

#[cfg(not(unix))]
fn trusted(meta: &std::fs::Metadata) -> bool {
    meta.is_file()
}

/// Is `dir` one of this user's own directories (for the walk outside home)?
#[cfg(unix)]
fn own_directory(dir: &Path, _is_cwd: bool) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(dir).is_ok_and(|m| m.uid() == crate::private_fs::euid())
}

/// Without owners to compare, outside home only the working directory
/// itself is looked in.
#[cfg(not(unix))]
fn own_directory(_dir: &Path, is_cwd: bool) -> bool {
    is_cwd
}

/// The name in the file the walk found. What the walk's `lstat` saw may
/// have changed since: the file is opened never through a link and without
/// blocking, and the open descriptor must pass the walk's rule (a regular
/// file of this user's or root's that no one else may write) before a
/// bounded read.
fn read_directory_file(path: &Path) -> Result<String> {
    let cannot = |e: &std::io::Error| {
        Error::io("cannot read the per-directory profile file", path, e).kind_config()
    };
    let file = crate::private_fs::open_nofollow_nonblocking(path).map_err(|e| cannot(&e))?;
    let meta = file.metadata().map_err(|e| cannot(&e))?;
    if !trusted(&meta) {
        return Err(Error::config(format!(
            "{} is not a regular file of yours (or root's) that no others may write, so it cannot choose the profile",
            redact::path(path)
        ))
        .hint("remove it, or make it your own file that only you may change (chmod go-w)"));
    }
    let bytes =
        crate::private_fs::read_capped(&file, DIRECTORY_FILE_MAX).map_err(|e| cannot(&e))?;
    let text = String::from_utf8_lossy(&bytes);
    let name = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'));
    let Some(name) = name else {
        return Err(
            Error::config(format!("{} names no profile", redact::path(path)))
                .hint("write one profile name in it (see `keyless profile list`), or remove it"),
        );
    };
    super::checks::validate_profile_name(name).map_err(|e| {
        Error::config(format!("{}: {}", redact::path(path), e.message))
            .hint("write one profile name in it (see `keyless profile list`), or remove it")
    })?;
    Ok(name.to_string())
}

/// "an unknown profile" as an error that lists the known ones.
pub fn unknown(name: &str, source: &Source, known: &[String], config: &Path) -> Error {
    let list = if known.is_empty() {
        "there are none yet".to_string()
    } else {
        format!("known profiles: {}", known.join(", "))
    };
    let from = match source {
        Source::Flag => String::new(),
        other => format!(" (chosen by {})", other.describe()),
    };
    Error::config(format!(
        "no profile named {name:?}{from} in {}; {list}",
        config.display()
    ))
    .hint(if known.is_empty() {
        format!("create it with `keyless --profile {name} setup anthropic …` (or `setup openai …`)")
    } else {
        format!(
            "choose one with --profile (see `keyless profile list`), or create it with `keyless --profile {name} setup anthropic …`"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins_then_the_variable_then_the_directory_file() {
        let d = tempfile::tempdir().unwrap();
        let home = d.path().to_path_buf();
        let work = home.join("src/app");
        std::fs::create_dir_all(&work).unwrap();
        std::fs::write(home.join("src").join(DIRECTORY_FILE), "work\n").unwrap();
        let early = |f: Option<&str>, e: Option<&str>| {
            choose_early(
                f,
                e.map(String::from),
                Some(work.clone()),
                Some(home.clone()),
            )
            .unwrap()
            .map(|(n, s)| (n, s.rule()))
        };
        assert_eq!(early(Some("a"), Some("b")), Some(("a".into(), Rule::Flag)));
        assert_eq!(early(None, Some("b")), Some(("b".into(), Rule::Env)));
        assert_eq!(early(None, None), Some(("work".into(), Rule::Directory)));
        std::fs::remove_file(home.join("src").join(DIRECTORY_FILE)).unwrap();
        assert_eq!(early(None, None), None);
    }

    #[test]
    fn the_walk_stops_at_home() {
        let d = tempfile::tempdir().unwrap();
        let home = d.path().join("home");
        let work = home.join("w");
        std::fs::create_dir_all(&work).unwrap();
        std::fs::write(d.path().join(DIRECTORY_FILE), "above\n").unwrap();
        assert_eq!(find_directory_file(&work, Some(&home)), None);
        std::fs::write(home.join(DIRECTORY_FILE), "home\n").unwrap();
        assert_eq!(
            find_directory_file(&work, Some(&home)),
            Some(home.join(DIRECTORY_FILE))
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_file_others_may_write_is_not_a_choice() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join(DIRECTORY_FILE);
        std::fs::write(&f, "x\n").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert_eq!(find_directory_file(d.path(), Some(d.path())), None);
    }

    /// What the walk's lstat saw can change before the read: the read
    /// judges the file it opened (never through a link, never blocking on
    /// a FIFO), not the name.
    #[cfg(unix)]
    #[test]
    fn the_read_judges_the_opened_file_not_the_name() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("elsewhere");
        std::fs::write(&target, "work\n").unwrap();
        let f = d.path().join(DIRECTORY_FILE);
        std::os::unix::fs::symlink(&target, &f).unwrap();
        assert!(read_directory_file(&f).is_err(), "read through a link");
        std::fs::remove_file(&f).unwrap();
        std::fs::write(&f, "work\n").unwrap();
        assert_eq!(read_directory_file(&f).unwrap(), "work");
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o666)).unwrap();
        let e = read_directory_file(&f).unwrap_err();
        assert!(e.message.contains("others"), "{}", e.message);
        std::fs::remove_file(&f).unwrap();
        let fifo = std::ffi::CString::new(f.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        assert!(read_directory_file(&f).is_err(), "a FIFO (and no hang)");
        std::fs::remove_file(&f).unwrap();
        std::fs::write(
            &f,
            format!("work\n#{}\n", "x".repeat(DIRECTORY_FILE_MAX as usize)),
        )
        .unwrap();
        let e = read_directory_file(&f).unwrap_err();
        assert!(e.message.contains("larger"), "{}", e.message);
    }
}
