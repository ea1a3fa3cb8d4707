//! Claude Code's configuration as keyless reads it: its settings files'
//! `env` block and `apiKeyHelper`, `~/.claude.json`'s `primaryApiKey`, and
//! the order in which Claude Code ranks its credentials. `setup
//! claude-code` writes with this; `auth status` and `exec --refresh` read.

use std::path::Path;

use super::scan::{ApiKeyHelper, Finding, VARS, line_of, read_capped};
use crate::env_vars;

/// How often Claude Code re-runs `apiKeyHelper` when its settings name no
/// `CLAUDE_CODE_API_KEY_HELPER_TTL_MS`: 5 minutes.
pub const CLAUDE_CODE_DEFAULT_HELPER_TTL_MS: u64 = 300_000;

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
