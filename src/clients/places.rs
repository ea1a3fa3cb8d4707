//! Where a user's shells and AI clients keep their files, per platform: the
//! home directory as Claude Code (Node's `os.homedir()`) and Codex
//! (`dirs::home_dir`) find it, Claude Code's and Codex's files in it, and
//! the startup files and PowerShell profiles where a static key may be set.
//! (Windows' registry environment is [`super::registry`]'s.)
//!
//! The choices are functions of their inputs, so that each platform's are
//! tested on every platform; [`home`] and [`WindowsDirs::here`] read this
//! machine.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::env_vars;

/// The home directory here: `USERPROFILE` on Windows (as Claude Code and
/// Codex find it there), `HOME` elsewhere and as Windows' fallback.
pub fn home() -> Option<PathBuf> {
    home_from(&|n| std::env::var_os(n), cfg!(windows))
}

/// The variable [`home`] reads first here, for messages.
pub fn home_variable() -> &'static str {
    if cfg!(windows) {
        env_vars::USERPROFILE
    } else {
        env_vars::HOME
    }
}

/// [`home`] from the variables `var` reads, for Windows or not.
pub fn home_from(var: &dyn Fn(&str) -> Option<OsString>, windows: bool) -> Option<PathBuf> {
    let get = |n: &str| {
        var(n)
            .filter(|v| !v.to_string_lossy().trim().is_empty())
            .map(PathBuf::from)
    };
    if windows && let Some(p) = get(env_vars::USERPROFILE) {
        return Some(p);
    }
    get(env_vars::HOME)
}

/// Codex's home: `CODEX_HOME` when set and not blank, else `.codex` in the
/// home directory.
pub fn codex_home(codex_home_var: Option<String>, home: Option<&Path>) -> Option<PathBuf> {
    match env_vars::non_blank(codex_home_var) {
        Some(h) => Some(PathBuf::from(h)),
        None => home.map(|h| h.join(".codex")),
    }
}

/// Claude Code's user settings, `.claude/settings.json` in the home.
pub fn claude_user_settings(home: &Path) -> PathBuf {
    home.join(".claude").join("settings.json")
}

/// Claude Code's own state, `.claude.json` in the home.
pub fn claude_state(home: &Path) -> PathBuf {
    home.join(".claude.json")
}

/// The Windows folders PowerShell's profiles live in.
#[derive(Debug, Clone, Default)]
pub struct WindowsDirs {
    /// The user's Documents folder (it may be redirected, to OneDrive say).
    pub documents: Option<PathBuf>,
    /// `%ProgramFiles%`: PowerShell 7 is in `PowerShell\7` under it.
    pub program_files: Option<PathBuf>,
    /// `%SystemRoot%`: Windows PowerShell is in `System32\WindowsPowerShell\v1.0`.
    pub system_root: Option<PathBuf>,
}

impl WindowsDirs {
    /// This machine's, on Windows; None elsewhere.
    pub fn here() -> Option<Self> {
        #[cfg(windows)]
        {
            let var = |n: &str| {
                std::env::var_os(n)
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
            };
            Some(WindowsDirs {
                documents: directories::UserDirs::new()
                    .and_then(|u| u.document_dir().map(Path::to_path_buf)),
                program_files: var(env_vars::PROGRAMFILES),
                system_root: var(env_vars::SYSTEMROOT),
            })
        }
        #[cfg(not(windows))]
        None
    }
}

/// PowerShell's two profile names, for the current host and all hosts.
const PS_PROFILES: [&str; 2] = ["Microsoft.PowerShell_profile.ps1", "profile.ps1"];

/// The files a user's shells run at startup, where a static key may be
/// exported: the POSIX shells' and fish's (Git Bash reads `~/.bashrc` on
/// Windows too), and PowerShell's profiles: on Windows the user's in
/// Documents (PowerShell 7 and Windows PowerShell 5.1) and every user's in
/// the installation folders; elsewhere PowerShell 7's under `config`.
pub fn startup_files(home: &Path, config: &Path, windows: Option<&WindowsDirs>) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = [
        ".bashrc",
        ".bash_profile",
        ".profile",
        ".zshrc",
        ".zprofile",
        ".zshenv",
    ]
    .iter()
    .map(|f| home.join(f))
    .collect();
    files.push(config.join("fish").join("config.fish"));
    let mut ps_dirs = Vec::new();
    match windows {
        None => {
            ps_dirs.push(config.join("powershell"));
            ps_dirs.push(home.join("Documents").join("PowerShell"));
        }
        Some(w) => {
            if let Some(d) = &w.documents {
                ps_dirs.push(d.join("PowerShell"));
                ps_dirs.push(d.join("WindowsPowerShell"));
            }
            if let Some(p) = &w.program_files {
                ps_dirs.push(p.join("PowerShell").join("7"));
            }
            if let Some(s) = &w.system_root {
                ps_dirs.push(s.join("System32").join("WindowsPowerShell").join("v1.0"));
            }
        }
    }
    for d in ps_dirs {
        files.extend(PS_PROFILES.iter().map(|p| d.join(p)));
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_home_is_userprofile_and_home_its_fallback() {
        let both = |n: &str| match n {
            "USERPROFILE" => Some(OsString::from(r"C:\Users\ada")),
            "HOME" => Some(OsString::from("/home/ada")),
            _ => None,
        };
        assert_eq!(home_from(&both, true), Some(PathBuf::from(r"C:\Users\ada")));
        assert_eq!(home_from(&both, false), Some(PathBuf::from("/home/ada")));
        let home_only = |n: &str| (n == "HOME").then(|| OsString::from("/h"));
        assert_eq!(home_from(&home_only, true), Some(PathBuf::from("/h")));
        let empty = |_: &str| Some(OsString::new());
        assert_eq!(home_from(&empty, true), None, "empty is unset");
    }

    #[test]
    fn codex_home_is_its_variable_else_dot_codex() {
        let h = Path::new("/h");
        assert_eq!(
            codex_home(Some("/c".into()), Some(h)),
            Some(PathBuf::from("/c"))
        );
        assert_eq!(
            codex_home(Some(String::new()), Some(h)),
            Some(h.join(".codex"))
        );
        assert_eq!(codex_home(None, None), None);
    }

    #[test]
    fn powershell_profiles_on_windows_and_elsewhere() {
        let home = Path::new("/u");
        let win = WindowsDirs {
            documents: Some(PathBuf::from("/u/OneDrive/Documents")),
            program_files: Some(PathBuf::from("/pf")),
            system_root: Some(PathBuf::from("/win")),
        };
        let files = startup_files(home, &home.join(".config"), Some(&win));
        for want in [
            "/u/.bashrc",
            "/u/OneDrive/Documents/PowerShell/Microsoft.PowerShell_profile.ps1",
            "/u/OneDrive/Documents/PowerShell/profile.ps1",
            "/u/OneDrive/Documents/WindowsPowerShell/Microsoft.PowerShell_profile.ps1",
            "/u/OneDrive/Documents/WindowsPowerShell/profile.ps1",
            "/pf/PowerShell/7/profile.ps1",
            "/pf/PowerShell/7/Microsoft.PowerShell_profile.ps1",
            "/win/System32/WindowsPowerShell/v1.0/profile.ps1",
        ] {
            assert!(files.contains(&PathBuf::from(want)), "{want}: {files:?}");
        }
        let unix = startup_files(home, Path::new("/xdg"), None);
        assert!(unix.contains(&PathBuf::from(
            "/xdg/powershell/Microsoft.PowerShell_profile.ps1"
        )));
        assert!(unix.contains(&PathBuf::from("/xdg/fish/config.fish")));
        assert!(!unix.iter().any(|p| p.starts_with("/pf")));
    }
}
