//! Where static keys still live: shell startup files, `.env`/`.envrc` from
//! the current directory up to the repository root (or home), and Claude Code
//! settings. Findings are `file:line` and a description, never a value.
//!
//! The walk only goes up, at most [`MAX_LEVELS`] directories, and each file is
//! read up to [`MAX_BYTES`], so a deep tree or a huge file cannot stall it.

use crate::env_vars;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// How often Claude Code re-runs `apiKeyHelper` when its settings name no
/// `CLAUDE_CODE_API_KEY_HELPER_TTL_MS`: 5 minutes.
pub const CLAUDE_CODE_DEFAULT_HELPER_TTL_MS: u64 = 300_000;
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

const VARS: [&str; 2] = [env_vars::ANTHROPIC_API_KEY, env_vars::ANTHROPIC_AUTH_TOKEN];

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

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or(1)
}

/// Is a Claude Code boolean switch on (`1`, `true`, `yes`)?
pub fn switch_on(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    )
}

/// Static credentials a Claude Code settings (or `~/.claude.json`) value
/// holds, as (the key's name, whether it outranks `apiKeyHelper`). Claude
/// Code's order: a cloud provider switch (`CLAUDE_CODE_USE_BEDROCK`…),
/// `ANTHROPIC_AUTH_TOKEN`, `ANTHROPIC_API_KEY`, then the helper, and only
/// below it the key `/login` stored as `primaryApiKey`.
pub fn claude_static_credentials(v: &serde_json::Value) -> Vec<(&'static str, bool)> {
    let mut found = Vec::new();
    if let Some(env) = v.get("env").and_then(|e| e.as_object()) {
        for var in env_vars::CLAUDE_CODE_CLOUD_SWITCHES {
            let on = env.get(var).is_some_and(|x| match x {
                serde_json::Value::String(s) => switch_on(s),
                serde_json::Value::Bool(b) => *b,
                serde_json::Value::Number(n) => n.as_i64().is_some_and(|n| n != 0),
                _ => false,
            });
            if on {
                found.push((var, true));
            }
        }
        for var in [env_vars::ANTHROPIC_AUTH_TOKEN, env_vars::ANTHROPIC_API_KEY] {
            if env
                .get(var)
                .and_then(|x| x.as_str())
                .is_some_and(|x| !x.is_empty())
            {
                found.push((var, true));
            }
        }
    }
    if v.get("primaryApiKey")
        .and_then(|x| x.as_str())
        .is_some_and(|x| !x.is_empty())
    {
        found.push(("primaryApiKey", false));
    }
    found
}

/// `~/.claude.json`, Claude Code's own state: a `primaryApiKey` there is a
/// static key left by `/login`.
pub fn scan_claude_state(path: &Path, shown: &str, out: &mut Vec<Finding>) {
    let Some(text) = read_capped(path) else {
        return;
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
        return;
    };
    if claude_static_credentials(&v).contains(&("primaryApiKey", false)) {
        out.push(Finding {
            path: shown.to_string(),
            line: line_of(&text, "\"primaryApiKey\""),
            what: "holds a primaryApiKey (a static key Claude Code's /login stored)".into(),
        });
    }
}

/// A Claude Code settings file: its `env` block and `apiKeyHelper`.
/// Static credentials in its `env` block, which outrank any `apiKeyHelper`,
/// also go to `shadows`.
pub fn scan_claude_settings(
    path: &Path,
    shown: &str,
    out: &mut Vec<Finding>,
    helper: &mut ApiKeyHelper,
    shadows: &mut Vec<Finding>,
) {
    let Some(text) = read_capped(path) else {
        return;
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
        out.push(Finding {
            path: shown.to_string(),
            line: 1,
            what: "is not valid JSON (Claude Code will ignore or reject it)".into(),
        });
        return;
    };
    if let Some(env) = v.get("env").and_then(|e| e.as_object()) {
        for var in VARS {
            if env.contains_key(var) {
                out.push(Finding {
                    path: shown.to_string(),
                    line: line_of(&text, &format!("\"{var}\"")),
                    what: format!("sets {var} in its env block"),
                });
            }
        }
        for (var, _) in claude_static_credentials(&v).into_iter().filter(|c| c.1) {
            shadows.push(Finding {
                path: shown.to_string(),
                line: line_of(&text, &format!("\"{var}\"")),
                what: var.to_string(),
            });
        }
        if let Some(ttl) = env.get(env_vars::CLAUDE_CODE_API_KEY_HELPER_TTL_MS) {
            helper.ttl_ms = ttl
                .as_u64()
                .or_else(|| ttl.as_str().and_then(|s| s.parse().ok()));
        }
    }
    if v.get("primaryApiKey").is_some() {
        out.push(Finding {
            path: shown.to_string(),
            line: line_of(&text, "\"primaryApiKey\""),
            what: "holds a primaryApiKey (a static key)".into(),
        });
    }
    if let Some(cmd) = v.get("apiKeyHelper").and_then(|h| h.as_str()) {
        let line = line_of(&text, "\"apiKeyHelper\"");
        helper.path = Some(shown.to_string());
        helper.line = Some(line);
        helper.is_keyless = cmd.contains("keyless") && cmd.contains("credential");
        if cmd.contains("sk-ant-api") {
            out.push(Finding {
                path: shown.to_string(),
                line,
                what: "apiKeyHelper prints a static sk-ant-api key".into(),
            });
        }
    }
}

/// The name `setup codex` gives its model provider in Codex's config.
pub const CODEX_PROVIDER: &str = "keyless";

/// Codex's config (`config.toml` in `codex_home`): the `refresh_interval_ms`
/// of keyless's auth command, when keyless's provider is there.
pub fn codex_refresh_interval_ms(codex_home: &Path) -> Option<u64> {
    let doc: toml_edit::DocumentMut = read_capped(&codex_home.join("config.toml"))?.parse().ok()?;
    let auth = doc
        .get("model_providers")?
        .get(CODEX_PROVIDER)?
        .get("auth")?;
    u64::try_from(auth.get("refresh_interval_ms")?.as_integer()?).ok()
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

/// Show paths under home as `~/…`.
pub fn tilde(path: &Path, home: Option<&Path>) -> String {
    if let Some(h) = home
        && let Ok(rest) = path.strip_prefix(h)
    {
        return format!("~/{}", rest.display());
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
        let mut startup: Vec<PathBuf> = [
            ".bashrc",
            ".bash_profile",
            ".profile",
            ".zshrc",
            ".zprofile",
            ".zshenv",
        ]
        .iter()
        .map(|f| h.join(f))
        .collect();
        startup.push(config.join("fish/config.fish"));
        startup.push(config.join("powershell/Microsoft.PowerShell_profile.ps1"));
        startup.push(h.join("Documents/PowerShell/Microsoft.PowerShell_profile.ps1"));
        for p in startup {
            scan_text(&p, &tilde(&p, home), &mut findings);
        }
        let user = h.join(".claude/settings.json");
        scan_claude_settings(
            &user,
            &tilde(&user, home),
            &mut findings,
            &mut helper,
            &mut shadows,
        );
        let state = h.join(".claude.json");
        scan_claude_state(&state, &tilde(&state, home), &mut findings);
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
                if Some(p.as_path()) != home.map(|h| h.join(".claude/settings.json")).as_deref() {
                    scan_claude_settings(
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
