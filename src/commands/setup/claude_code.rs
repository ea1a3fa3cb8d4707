//! `keyless setup claude-code`: wire Claude Code's `apiKeyHelper` to
//! `keyless credential anthropic`.
//!
//! It merges into `~/.claude/settings.json` (or `.claude/settings.json` with
//! `--scope project`), keeps every other key, backs up the previous file,
//! refuses to replace a different helper without `--force`, changes nothing
//! when already wired, and never touches a file it cannot parse. A symlinked
//! file (dotfile managers) is written through to the user's own target; static
//! keys left in the settings are warned about by name, never shown.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use clap::{Args, ValueEnum};

use super::settings_file;
use crate::cache::TokenCache;
use crate::clients::claude_code::claude_static_credentials;
use crate::env_vars;
use crate::error::{Error, Result};
use crate::output;
use crate::provider::Provider;
use crate::settings::Settings;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClaudeScope {
    /// ~/.claude/settings.json
    User,
    /// .claude/settings.json in the current directory
    Project,
}

#[derive(Debug, Args)]
pub struct SetupClaudeCodeArgs {
    /// Which settings file to merge into
    #[arg(long, value_enum, default_value_t = ClaudeScope::User)]
    pub scope: ClaudeScope,
    /// Print the resulting settings file to stdout and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Replace an apiKeyHelper that runs something else
    #[arg(long)]
    pub force: bool,
}

/// Claude Code's default re-run interval is 5 minutes; keyless asks for less.
pub const DEFAULT_TTL_MS: u64 = 240_000;

/// keyless's absolute path, and the arguments that make `keyless credential
/// <provider>` find this very configuration from any environment: the
/// helper runs with whatever the tool inherited (often not the variables
/// `setup` saw, sometimes none at all), so the config dir, cache dir and
/// profile are spelled out as absolute flags, never left to `HOME`,
/// `KEYLESS_*` or XDG defaults. `--helper-ttl` tells keyless how often the
/// tool re-runs it, so a quick second call means the token was rejected
/// ([`crate::cache::served`]).
pub fn helper_argv(
    settings: &Settings,
    provider: Provider,
    ttl_ms: u64,
) -> Result<(String, Vec<String>)> {
    let exe = std::env::current_exe()
        .map_err(|e| Error::failure(format!("cannot find the keyless executable: {e}")))?;
    let exe = exe.canonicalize().unwrap_or(exe);
    let abs = |p: &Path| -> Result<String> {
        std::path::absolute(p)
            .map(|p| p.display().to_string())
            .map_err(|e| Error::io("cannot make an absolute path of", p, &e))
    };
    let args = vec![
        "--config-dir".to_string(),
        abs(&settings.config_dir)?,
        "--cache-dir".to_string(),
        abs(&settings.cache_dir)?,
        "--profile".to_string(),
        settings.profile.clone(),
        "credential".to_string(),
        provider.name().to_string(),
        "--helper-ttl".to_string(),
        ttl_ms.div_ceil(1000).to_string(),
    ];
    Ok((exe.display().to_string(), args))
}

/// Say where each value of the helper line came from: the profile and both
/// directories can come from the environment or a `.keyless-profile`, and
/// the tool runs that line for good.
pub fn note_helper_origins(settings: &Settings) {
    output::note(&format!(
        "helper line: profile {:?} (from {}), --config-dir {} (from {}), --cache-dir {} (from {})",
        settings.profile,
        settings.profile_source.describe(),
        crate::redact::path(&settings.config_dir),
        settings.dirs_from[0],
        crate::redact::path(&settings.cache_dir),
        settings.dirs_from[1],
    ));
}

/// The helper command for Claude Code, which runs it with /bin/sh.
pub fn helper_command(settings: &Settings, ttl_ms: u64) -> Result<String> {
    let (exe, args) = helper_argv(settings, Provider::Anthropic, ttl_ms)?;
    Ok(shell_words::join(std::iter::once(exe).chain(args)))
}

/// Below the shortest token lifetime keyless has seen in its cache (a
/// minute of margin), never above the default.
pub fn helper_ttl_ms(cache: &TokenCache) -> u64 {
    refresh_interval_ms(cache, Provider::Anthropic)
}

/// A re-run interval a minute below the shortest `provider` token lifetime
/// in the cache, at most [`DEFAULT_TTL_MS`].
pub fn refresh_interval_ms(cache: &TokenCache, provider: Provider) -> u64 {
    match cache.shortest_lifetime(provider.name()) {
        Some(life) => (((life - 60).max(30) as u64) * 1000).min(DEFAULT_TTL_MS),
        None => DEFAULT_TTL_MS,
    }
}

fn settings_path(scope: ClaudeScope) -> Result<PathBuf> {
    match scope {
        ClaudeScope::User => crate::clients::places::home()
            .map(|h| crate::clients::places::claude_user_settings(&h))
            .ok_or_else(|| {
                Error::config(format!(
                    "cannot find Claude Code's settings: {} is not set",
                    crate::clients::places::home_variable()
                ))
            }),
        ClaudeScope::Project => Ok(PathBuf::from(".claude/settings.json")),
    }
}

/// The merged settings, or an error that leaves the file untouched.
pub fn merge(
    existing: Option<&str>,
    path: &Path,
    helper: &str,
    ttl_ms: u64,
    force: bool,
) -> Result<Value> {
    let mut root: Map<String, Value> = match existing {
        None => Map::new(),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(m)) => m,
            Ok(_) => {
                return Err(Error::config(format!(
                    "{} is not a JSON object; not touching it",
                    path.display()
                )));
            }
            Err(e) => {
                return Err(Error::config(format!(
                    "{} is not valid JSON (line {}, column {}); not touching it",
                    path.display(),
                    e.line(),
                    e.column()
                ))
                .hint("fix the file (Claude Code cannot read it either), then run this again"));
            }
        },
    };
    if let Some(current) = root.get("apiKeyHelper").and_then(Value::as_str)
        && current != helper
        && !force
    {
        let shown = if current.contains("sk-ant-") {
            "a command holding a key (not shown)"
        } else {
            current
        };
        return Err(Error::config(format!(
            "{} already has an apiKeyHelper: {shown}",
            path.display()
        ))
        .hint("pass --force to replace it (the previous file is backed up)"));
    }
    root.insert("apiKeyHelper".into(), Value::String(helper.to_string()));
    let env = root
        .entry("env")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(env) = env else {
        return Err(Error::config(format!(
            "the `env` key in {} is not an object; not touching it",
            path.display()
        )));
    };
    env.insert(
        env_vars::CLAUDE_CODE_API_KEY_HELPER_TTL_MS.into(),
        Value::String(ttl_ms.to_string()),
    );
    Ok(Value::Object(root))
}

pub fn run(settings: &Settings, args: &SetupClaudeCodeArgs) -> Result<()> {
    let path = settings_path(args.scope)?;
    if args.scope == ClaudeScope::Project {
        settings_file::contain_in_project(&path)?;
    }
    let existing = settings_file::read(&path, "Claude Code's settings")?;
    let ttl = helper_ttl_ms(&TokenCache::new(settings.cache_dir.clone()));
    let helper = helper_command(settings, ttl)?;
    note_helper_origins(settings);
    let merged = merge(existing.as_deref(), &path, &helper, ttl, args.force)?;
    warn_static_credentials(&merged, &path, args.scope);
    let mut text = serde_json::to_string_pretty(&merged)
        .map_err(|e| Error::failure(format!("cannot serialize Claude Code's settings: {e}")))?;
    text.push('\n');
    if args.dry_run {
        return output::payload(&text, false);
    }
    let unchanged = existing
        .as_deref()
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
        .is_some_and(|v| v == merged);
    if unchanged {
        output::note(&format!(
            "{} already runs keyless; nothing to change.",
            path.display()
        ));
        return Ok(());
    }
    let written = settings_file::replace_with_backup(
        &path,
        existing.as_deref(),
        &text,
        "Claude Code's settings",
    )?;
    output::note(&format!(
        "Claude Code now asks `{helper}` for its token (re-run every {} s) — {}.",
        ttl / 1000,
        written.display()
    ));
    Ok(())
}

/// What would make Claude Code use something other than the helper being
/// wired, in Claude Code's documented order (a cloud provider switch,
/// `ANTHROPIC_AUTH_TOKEN`, `ANTHROPIC_API_KEY`, then `apiKeyHelper`; project
/// and local settings over user settings): static keys and switches in the
/// settings being written, in the other settings files, and in this
/// environment (which a Claude Code started from here inherits), and a
/// `primaryApiKey` in `~/.claude.json`. Named, never shown.
fn warn_static_credentials(merged: &Value, path: &Path, scope: ClaudeScope) {
    let mut found: Vec<(String, bool)> = claude_static_credentials(merged)
        .into_iter()
        .map(|(k, outranks)| (format!("{} in {}", k, path.display()), outranks))
        .collect();
    let home = crate::clients::places::home();
    let cwd = std::env::current_dir().ok();
    let scan = crate::clients::scan::scan(home.as_deref(), cwd.as_deref(), None);
    let this = std::path::absolute(path)
        .map(|p| crate::clients::scan::tilde(&p, home.as_deref()))
        .unwrap_or_default();
    for f in scan.claude_shadows.iter().filter(|f| f.path != this) {
        found.push((format!("{} in {}", f.what, f.path), true));
    }
    if let Some(state) = &home {
        let state = crate::clients::places::claude_state(state);
        let mut f = Vec::new();
        crate::clients::claude_code::scan_claude_state(
            &state,
            &state.display().to_string(),
            &mut f,
        );
        found.extend(
            f.into_iter()
                .map(|f| (format!("primaryApiKey in {}", f.path), false)),
        );
    }
    let set = |v: &str| std::env::var(v).is_ok_and(|x| !x.is_empty());
    for v in env_vars::CLAUDE_CODE_CLOUD_SWITCHES {
        if std::env::var(v).is_ok_and(|x| crate::clients::claude_code::switch_on(&x)) {
            found.push((format!("{v} in this environment"), true));
        }
    }
    for v in [env_vars::ANTHROPIC_AUTH_TOKEN, env_vars::ANTHROPIC_API_KEY] {
        if set(v) {
            found.push((format!("{v} in this environment"), true));
        }
    }
    for (what, outranks) in found {
        output::warn(&if outranks {
            format!("{what} outranks apiKeyHelper: Claude Code will use it, not keyless; remove it")
        } else {
            format!(
                "{what} is a static API key (Claude Code uses it only without an apiKeyHelper); revoke it in the Console and remove it"
            )
        });
    }
    // Project and local settings outrank the user's: another helper there wins.
    if scope == ClaudeScope::User
        && let Some(other) = &scan.helper.path
        && *other != this
        && !scan.helper.is_keyless
    {
        output::warn(&format!(
            "{other} sets another apiKeyHelper, which outranks {} in this project: Claude Code will use it, not keyless (run this with --scope project)",
            path.display()
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_other_keys_and_refuses_a_foreign_helper() {
        let p = Path::new("s.json");
        let v = merge(
            Some(r#"{"model":"x","env":{"A":"1"}}"#),
            p,
            "k credential anthropic",
            240000,
            false,
        )
        .unwrap();
        assert_eq!(v["model"], "x");
        assert_eq!(v["env"]["A"], "1");
        assert_eq!(v["env"]["CLAUDE_CODE_API_KEY_HELPER_TTL_MS"], "240000");
        assert!(merge(Some(r#"{"apiKeyHelper":"other"}"#), p, "k", 1, false).is_err());
        assert!(merge(Some(r#"{"apiKeyHelper":"other"}"#), p, "k", 1, true).is_ok());
        assert!(
            merge(Some("{oops"), p, "k", 1, false)
                .unwrap_err()
                .message
                .contains("line 1")
        );
    }
}
