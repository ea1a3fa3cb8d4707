//! `keyless setup codex`: make Codex ask keyless for its OpenAI token.
//!
//! It merges into `~/.codex/config.toml` (`$CODEX_HOME` when set) a model
//! provider `keyless` whose `auth` command is `keyless credential openai`,
//! with a `refresh_interval_ms` below the token lifetime, and selects it.
//! The same rules as `setup claude-code`: other keys and comments kept
//! (toml_edit), the previous file backed up, a different `model_provider`
//! replaced only with `--force`, idempotent, malformed TOML left untouched.

use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, Table, value};

use clap::Args;

use super::claude_code::{helper_argv, refresh_interval_ms};
use super::settings_file::{self, replace_with_backup};
use crate::cache::TokenCache;
use crate::env_vars;
use crate::error::{Error, Result};
use crate::output;
use crate::provider::Provider;
use crate::settings::Settings;

#[derive(Debug, Args)]
pub struct SetupCodexArgs {
    /// Print the resulting config.toml to stdout and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Switch a model_provider that selects something else
    #[arg(long)]
    pub force: bool,
}

pub use crate::clients::codex::CODEX_PROVIDER as PROVIDER;

fn config_path() -> Result<PathBuf> {
    let home = crate::clients::places::home();
    crate::clients::places::codex_home(env_vars::var(env_vars::CODEX_HOME), home.as_deref())
        .map(|h| h.join("config.toml"))
        .ok_or_else(|| {
            Error::config(format!(
                "cannot find Codex's config: neither {} nor {} is set",
                env_vars::CODEX_HOME,
                crate::clients::places::home_variable()
            ))
        })
}

/// The merged document, or an error that leaves the file untouched.
pub fn merge(
    existing: Option<&str>,
    path: &Path,
    exe: &str,
    args: &[String],
    base_url: &str,
    interval_ms: u64,
    force: bool,
) -> Result<DocumentMut> {
    let mut doc: DocumentMut = match existing {
        None => DocumentMut::new(),
        Some(text) => text.parse().map_err(|e: toml_edit::TomlError| {
            Error::config(format!(
                "{} is not valid TOML ({}); not touching it",
                path.display(),
                e.message()
            ))
            .hint("fix the file (Codex cannot read it either), then run this again")
        })?,
    };
    if let Some(current) = doc.get("model_provider").and_then(Item::as_str)
        && current != PROVIDER
        && !force
    {
        return Err(Error::config(format!(
            "{} already selects model_provider = {current:?}",
            path.display()
        ))
        .hint("pass --force to switch it to keyless (the previous file is backed up)"));
    }
    doc["model_provider"] = value(PROVIDER);
    let providers = doc
        .entry("model_providers")
        .or_insert(Item::Table(Table::new()));
    let Some(providers) = providers.as_table_mut() else {
        return Err(Error::config(format!(
            "`model_providers` in {} is not a table; not touching it",
            path.display()
        )));
    };
    providers.set_implicit(true);
    let mut p = Table::new();
    p["name"] = value("OpenAI through keyless");
    p["base_url"] = value(base_url);
    p["wire_api"] = value("responses");
    let mut auth = Table::new();
    auth["command"] = value(exe);
    let mut arr = toml_edit::Array::new();
    for a in args {
        arr.push(a.as_str());
    }
    auth["args"] = value(arr);
    auth["timeout_ms"] = value(10_000i64);
    auth["refresh_interval_ms"] = value(interval_ms as i64);
    p["auth"] = Item::Table(auth);
    providers[PROVIDER] = Item::Table(p);
    Ok(doc)
}

/// Codex's selected profile (`profile = "…"`, a `[profiles.…]` table)
/// outranks the top-level `model_provider`: one naming another provider
/// means Codex does not use keyless.
fn warn_shadowing_profile(doc: &DocumentMut, path: &Path) {
    let Some(name) = doc.get("profile").and_then(Item::as_str) else {
        return;
    };
    let chosen = doc
        .get("profiles")
        .and_then(|p| p.get(name))
        .and_then(|p| p.get("model_provider"))
        .and_then(Item::as_str);
    if let Some(other) = chosen.filter(|p| *p != PROVIDER) {
        output::warn(&format!(
            "{} selects profile {name:?}, whose model_provider = {other:?} outranks the top-level one: Codex will not use keyless (set it to \"{PROVIDER}\" there, or drop the profile)",
            path.display()
        ));
    }
}

pub fn run(settings: &Settings, args: &SetupCodexArgs) -> Result<()> {
    let loaded = settings.load_config()?;
    let cfg = Provider::Openai.configured(settings, &loaded)?;
    let path = config_path()?;
    let existing = settings_file::read(&path, "Codex's config")?;
    let inherited = crate::provider::openai::env_base_url(
        std::env::var(env_vars::OPENAI_BASE_URL).ok().as_deref(),
    )?;
    let base_url = cfg.api_base(inherited.as_deref());
    let origin = match &cfg {
        crate::provider::Configured::OpenAi(c) => {
            crate::provider::openai::api_base_origin(c, inherited.as_deref())
        }
        crate::provider::Configured::Anthropic(_) => String::new(),
    };
    let interval = refresh_interval_ms(
        &TokenCache::new(settings.cache_dir.clone()),
        Provider::Openai,
    );
    let (exe, cmd_args) = helper_argv(settings, Provider::Openai, interval)?;
    let doc = merge(
        existing.as_deref(),
        &path,
        &exe,
        &cmd_args,
        &base_url,
        interval,
        args.force,
    )?;
    warn_shadowing_profile(&doc, &path);
    super::claude_code::note_helper_origins(settings);
    output::note(&format!(
        "{}: base_url = {base_url} ({origin})",
        path.display()
    ));
    let text = doc.to_string();
    if args.dry_run {
        return output::payload(&text, false);
    }
    if existing.as_deref() == Some(text.as_str()) {
        output::note(&format!(
            "{} already uses keyless; nothing to change.",
            path.display()
        ));
        return Ok(());
    }
    let written = replace_with_backup(&path, existing.as_deref(), &text, "Codex's config")?;
    output::note(&format!(
        "Codex now gets its OpenAI token from `{exe} {}` (every {} s) — {}.",
        cmd_args.join(" "),
        interval / 1000,
        written.display()
    ));
    Ok(())
}
