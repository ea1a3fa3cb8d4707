//! Where static keys still live: shell startup files, `.env`/`.envrc` from
//! the current directory up to the repository root (or home), and Claude Code
//! settings. Findings are `file:line` and a description, never a value.
//!
//! The walk only goes up, at most [`MAX_LEVELS`] directories, and each file is
//! read up to [`MAX_BYTES`], so a deep tree or a huge file cannot stall it.

use super::{claude_code, places, registry};
use crate::env_vars;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub const MAX_LEVELS: usize = 32;
pub const MAX_BYTES: u64 = 1 << 20;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Finding {
    pub path: String,
    pub line: usize,
    pub what: String,
}

/// What the Claude Code settings files say about `apiKeyHelper`.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ApiKeyHelper {
    /// The settings file and line that set it, if any.
    pub path: Option<String>,
    pub line: Option<usize>,
    /// True when the helper runs `keyless credential`.
    pub is_keyless: bool,
    /// `CLAUDE_CODE_API_KEY_HELPER_TTL_MS` from the same settings, if set.
    pub ttl_ms: Option<u64>,
}

pub(crate) const VARS: [&str; 2] = [env_vars::ANTHROPIC_API_KEY, env_vars::ANTHROPIC_AUTH_TOKEN];

pub fn read_capped(path: &Path) -> Option<String> {
    // Without blocking: a FIFO named .env must not hang `auth status`.
    let bytes = crate::private_fs::read_outside(path, MAX_BYTES).ok()??;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// Does this shell/env line assign `var` (any common syntax)?
fn assigns(line: &str, var: &str) -> bool {
    let l = line.trim_start();
    let l = l
        .strip_prefix("export ")
        .or_else(|| l.strip_prefix("setenv "))
        .or_else(|| l.strip_prefix("set -gx "))
        .or_else(|| l.strip_prefix("set -x "))
        .or_else(|| l.strip_prefix("$env:"))
        .or_else(|| l.strip_prefix("$Env:"))
        .unwrap_or(l)
        .trim_start();
    match l.strip_prefix(var) {
        Some(rest) => {
            let rest = rest.trim_start();
            rest.starts_with('=')
                || rest.starts_with(' ')
                || rest.is_empty() && line.contains("set ")
                || (!rest.is_empty()
                    && line.trim_start().starts_with("set")
                    && !rest.starts_with('_'))
                || line.trim_start().starts_with("setenv") && !rest.starts_with('_')
        }
        None => false,
    }
}

/// Scan a text file line by line.
pub fn scan_text(path: &Path, shown: &str, out: &mut Vec<Finding>) {
    let Some(text) = read_capped(path) else {
        return;
    };
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('#') {
            continue;
        }
        let mut what = None;
        for var in VARS {
            if assigns(line, var) {
                what = Some(format!("sets {var}"));
                break;
            }
        }
        if what.is_none() && line.contains("sk-ant-api") {
            what = Some("contains a static sk-ant-api key".to_string());
        }
        if let Some(w) = what {
            out.push(Finding {
                path: shown.to_string(),
                line: i + 1,
                what: w,
            });
        }
    }
}

pub(crate) fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or(1)
}

/// The directory a project's files are looked for in: walking up from `cwd`
/// to the first directory holding `.git`, stopping at `home` or after
/// [`MAX_LEVELS`]. Returns every directory visited, nearest first.
pub fn upward_dirs(cwd: &Path, home: Option<&Path>) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let mut d = Some(cwd);
    while let Some(dir) = d {
        if dirs.len() >= MAX_LEVELS {
            break;
        }
        dirs.push(dir.to_path_buf());
        if dir.join(".git").exists() || Some(dir) == home {
            break;
        }
        d = dir.parent();
    }
    dirs
}

/// Show paths under home as `~/…` (`~\…` on Windows).
pub fn tilde(path: &Path, home: Option<&Path>) -> String {
    if let Some(h) = home
        && let Ok(rest) = path.strip_prefix(h)
    {
        return format!("~{}{}", std::path::MAIN_SEPARATOR, rest.display());
    }
    path.display().to_string()
}

pub struct Scan {
    pub findings: Vec<Finding>,
    pub helper: ApiKeyHelper,
    /// `env.ANTHROPIC_AUTH_TOKEN`/`env.ANTHROPIC_API_KEY` in Claude Code's
    /// settings (`what` is the variable): Claude Code uses them, not its helper.
    pub claude_shadows: Vec<Finding>,
}

pub fn scan(home: Option<&Path>, cwd: Option<&Path>, xdg_config: Option<&Path>) -> Scan {
    let mut findings = Vec::new();
    let mut helper = ApiKeyHelper::default();
    let mut shadows = Vec::new();
    if let Some(h) = home {
        let config = xdg_config
            .map(Path::to_path_buf)
            .unwrap_or_else(|| h.join(".config"));
        let windows = places::WindowsDirs::here();
        for p in places::startup_files(h, &config, windows.as_ref()) {
            scan_text(&p, &tilde(&p, home), &mut findings);
        }
        let user = places::claude_user_settings(h);
        claude_code::scan_claude_settings(
            &user,
            &tilde(&user, home),
            &mut findings,
            &mut helper,
            &mut shadows,
        );
        let state = places::claude_state(h);
        claude_code::scan_claude_state(&state, &tilde(&state, home), &mut findings);
    }
    if let Some(c) = cwd {
        let dirs = upward_dirs(c, home);
        for d in &dirs {
            for f in [".env", ".envrc"] {
                let p = d.join(f);
                scan_text(&p, &tilde(&p, home), &mut findings);
            }
        }
        // The project's Claude Code settings live at its root.
        if let Some(root) = dirs.last() {
            for f in [".claude/settings.json", ".claude/settings.local.json"] {
                let p = root.join(f);
                if Some(p.as_path()) != home.map(places::claude_user_settings).as_deref() {
                    claude_code::scan_claude_settings(
                        &p,
                        &tilde(&p, home),
                        &mut findings,
                        &mut helper,
                        &mut shadows,
                    );
                }
            }
        }
    }
    findings.extend(registry::scan());
    Scan {
        findings,
        helper,
        claude_shadows: shadows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignment_forms() {
        for l in [
            "export ANTHROPIC_API_KEY=sk",
            "ANTHROPIC_API_KEY=sk",
            "  export ANTHROPIC_API_KEY='x'",
            "set -gx ANTHROPIC_API_KEY sk",
            "$env:ANTHROPIC_API_KEY = 'sk'",
            "setenv ANTHROPIC_API_KEY sk",
        ] {
            assert!(assigns(l, "ANTHROPIC_API_KEY"), "{l}");
        }
        for l in [
            "echo $ANTHROPIC_API_KEY",
            "ANTHROPIC_API_KEY_FILE=x",
            "unset ANTHROPIC_API_KEY",
        ] {
            assert!(!assigns(l, "ANTHROPIC_API_KEY"), "{l}");
        }
    }
}
