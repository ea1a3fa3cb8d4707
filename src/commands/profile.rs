//! `keyless profile list|show|use|rm|rename`: the named configurations in
//! config.json, which one is active, and what each holds. Which profile a
//! command uses is decided in [`crate::config::profile`].

use clap::{Args, Subcommand};
use serde::Serialize;

use crate::cache::TokenCache;
use crate::clock::{human_duration, now, rfc3339};
use crate::config::{self, LoadedConfig, Profile, profile::DEFAULT_PROFILE};
use crate::error::{Error, Result};
use crate::output;
use crate::provider::Provider;
use crate::session;
use crate::settings::Settings;

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Every profile: providers, identity source, sign-in and cached tokens
    #[command(visible_alias = "ls")]
    List(ListArgs),
    /// What a profile holds (the chosen one without NAME), and where each value came from
    Show(ShowArgs),
    /// Make NAME the active profile: used when no flag, variable or per-directory file chooses
    Use(NameArg),
    /// Log out of NAME and remove its configuration, cached tokens and served records
    #[command(visible_alias = "remove")]
    Rm(RmArgs),
    /// Rename a profile (its cached tokens are keyed by name: the next call exchanges)
    Rename(RenameArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print JSON: an array of profiles
    #[arg(long, conflicts_with = "names")]
    pub json: bool,
    /// Print only the names, one a line (for shell completion)
    #[arg(long)]
    pub names: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The profile [default: the one this command line chooses]
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct NameArg {
    /// The profile's name
    #[arg(value_name = "NAME")]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// The profile's name
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Do not ask (required when stdin or stderr is not a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct RenameArgs {
    #[arg(value_name = "OLD")]
    pub old: String,
    #[arg(value_name = "NEW")]
    pub new: String,
}

pub fn run(settings: &Settings, cmd: &ProfileCommand) -> Result<()> {
    match cmd {
        ProfileCommand::List(a) => list(settings, a),
        ProfileCommand::Show(a) => show(settings, a),
        ProfileCommand::Use(a) => use_profile(settings, &a.name),
        ProfileCommand::Rm(a) => remove(settings, a),
        ProfileCommand::Rename(a) => rename(settings, a),
    }
}

#[derive(Debug, Serialize)]
struct ProviderSummary {
    provider: &'static str,
    identity: String,
    /// Where the cached token's expiry stands; null without one.
    token_expires_at: Option<i64>,
    token_expiration: Option<String>,
}

#[derive(Debug, Serialize)]
struct Summary {
    name: String,
    active: bool,
    /// The profile this command line uses.
    chosen: bool,
    providers: Vec<ProviderSummary>,
    issuer: Option<String>,
    signed_in: bool,
    /// Defined by the managed configuration (IT): usable, not removable,
    /// and `setup` cannot change the fields it sets.
    managed: bool,
}

fn summary(settings: &Settings, loaded: &LoadedConfig, name: &str, p: &Profile) -> Summary {
    let cache = TokenCache::new(settings.cache_dir.clone());
    let providers = Provider::ALL
        .into_iter()
        .filter_map(|prov| prov.saved(p))
        .map(|cfg| {
            let entry = match cache.inspect(&cfg.cache_key(name)) {
                crate::cache::Inspection::Valid(e) => Some(e),
                _ => None,
            };
            ProviderSummary {
                provider: cfg.provider().name(),
                identity: cfg.identity().spec(),
                token_expires_at: entry.as_ref().map(|e| e.expires_at),
                token_expiration: entry.map(|e| rfc3339(e.expires_at)),
            }
        })
        .collect();
    let named = Settings::fixed(
        settings.config_dir.clone(),
        settings.cache_dir.clone(),
        name,
    );
    Summary {
        name: name.to_string(),
        active: loaded.file.active_profile.as_deref() == Some(name),
        chosen: settings.profile == name,
        providers,
        issuer: p.issuer.as_ref().map(|i| i.issuer.clone()),
        signed_in: session::session_path(&named).is_file(),
        managed: loaded.is_managed(name),
    }
}

fn list(settings: &Settings, args: &ListArgs) -> Result<()> {
    let loaded = settings.load_config()?;
    if args.names {
        let names: String = loaded
            .file
            .profiles
            .keys()
            .map(|n| format!("{n}\n"))
            .collect();
        return output::payload(&names, false);
    }
    let all: Vec<Summary> = loaded
        .file
        .profiles
        .iter()
        .map(|(n, p)| summary(settings, &loaded, n, p))
        .collect();
    if args.json {
        let text = serde_json::to_string_pretty(&all)
            .map_err(|e| Error::failure(format!("cannot serialize the profiles: {e}")))?;
        return output::payload(&text, true);
    }
    if all.is_empty() {
        output::note(&format!(
            "No profiles in {}: create one with `keyless setup anthropic …` or `keyless setup openai …`.",
            loaded.path.display()
        ));
        return Ok(());
    }
    let mut s = String::new();
    for p in &all {
        s.push_str(&render_line(p));
    }
    output::payload(&s, false)
}

fn render_line(p: &Summary) -> String {
    let mark = if p.chosen { "*" } else { " " };
    let mut line = format!("{mark} {}", p.name);
    if p.active {
        line.push_str(" (active)");
    }
    if p.managed {
        line.push_str(" (managed)");
    }
    for prov in &p.providers {
        let token = match prov.token_expires_at {
            Some(at) if at > now() => format!("token for {}", human_duration(at - now())),
            Some(_) => "token expired".into(),
            None => "no cached token".into(),
        };
        line.push_str(&format!("  {}: {}, {token}", prov.provider, prov.identity));
    }
    if p.providers.is_empty() {
        line.push_str("  no provider");
    }
    if let Some(i) = &p.issuer {
        let state = if p.signed_in {
            "signed in"
        } else {
            "not signed in"
        };
        line.push_str(&format!("  issuer {i}: {state}"));
    }
    line.push('\n');
    line
}

fn show(settings: &Settings, args: &ShowArgs) -> Result<()> {
    let loaded = settings.load_config()?;
    let (name, from) = match &args.name {
        Some(n) => (n.clone(), "named on the command line".to_string()),
        None => (settings.profile.clone(), settings.profile_source.describe()),
    };
    let Some(p) = loaded.file.profiles.get(&name) else {
        return Err(unknown(settings, &loaded, &name, args.name.is_some()));
    };
    let sum = summary(settings, &loaded, &name, p);
    let managed = loaded.managed.filter(|m| m.has_profile(&name));
    let managed_fields = managed.map(|m| m.fields(&name)).unwrap_or_default();
    if args.json {
        let v = serde_json::json!({
            "profile": sum, "chosen_by": from,
            "config_path": loaded.path.display().to_string(),
            "managed_path": managed.map(|m| m.path.display().to_string()),
            "managed_fields": managed_fields,
            "configuration": p,
        });
        let text = serde_json::to_string_pretty(&v)
            .map_err(|e| Error::failure(format!("cannot serialize the profile: {e}")))?;
        return output::payload(&text, true);
    }
    let fields = serde_json::to_string_pretty(p).unwrap_or_default();
    let origin = match managed {
        None => format!(
            "saved in {}; every value below was set by `keyless setup`",
            loaded.path.display()
        ),
        Some(m) => format!(
            "managed by {} (IT), which sets {}; the other values below were set by `keyless setup` in {}",
            m.path.display(),
            managed_fields.join(", "),
            loaded.path.display()
        ),
    };
    let text = format!(
        "profile {name:?} (chosen by {from})\n{origin}\n{}{fields}\n",
        render_line(&sum),
    );
    output::payload(&text, false)
}

fn unknown(settings: &Settings, loaded: &LoadedConfig, name: &str, named: bool) -> Error {
    let source = if named {
        config::profile::Source::Flag
    } else {
        settings.profile_source.clone()
    };
    config::profile::unknown(
        name,
        &source,
        &Settings::known_profiles(loaded),
        &loaded.path,
    )
}

fn use_profile(settings: &Settings, name: &str) -> Result<()> {
    config::checks::validate_profile_name(name)?;
    let (lock, mut loaded) = config::load_for_update(&settings.config_dir)?;
    if !loaded.file.profiles.contains_key(name) {
        return Err(unknown(settings, &loaded, name, true));
    }
    loaded.file.active_profile = (name != DEFAULT_PROFILE).then(|| name.to_string());
    loaded.save(&lock)?;
    output::note(&format!(
        "Profile {name:?} is now active: commands use it unless --profile, KEYLESS_PROFILE or a .keyless-profile file chooses another."
    ));
    Ok(())
}

fn remove(settings: &Settings, args: &RmArgs) -> Result<()> {
    let name = &args.name;
    let loaded = settings.load_config()?;
    let Some(p) = loaded.file.profiles.get(name) else {
        return Err(unknown(settings, &loaded, name, true));
    };
    refuse_managed(&loaded, name)?;
    if !args.yes {
        if !output::stdin_and_stderr_are_terminals() {
            return Err(Error::usage(format!(
                "refusing to remove profile {name:?} without confirmation"
            ))
            .hint(format!("keyless profile rm {name} --yes")));
        }
        if !output::ask(&format!(
            "Remove profile {name:?}: sign out, and delete its configuration and cached tokens?"
        )) {
            return Err(Error::failure("nothing removed"));
        }
    }
    let named = Settings::fixed(
        settings.config_dir.clone(),
        settings.cache_dir.clone(),
        name,
    );
    let keys: Vec<_> = Provider::ALL
        .into_iter()
        .filter_map(|prov| prov.saved(p))
        .map(|t| t.cache_key(name))
        .collect();
    session::logout(&named, p.issuer.as_ref(), &keys)?;
    let cache = TokenCache::new(settings.cache_dir.clone());
    for k in &keys {
        let _ = std::fs::remove_file(cache.entry_path(k).with_extension("served"));
    }
    drop(loaded);
    let (lock, mut loaded) = config::load_for_update(&settings.config_dir)?;
    loaded.file.profiles.remove(name);
    if loaded.file.active_profile.as_deref() == Some(name.as_str()) {
        loaded.file.active_profile = None;
    }
    loaded.save(&lock)?;
    output::note(&format!(
        "Removed profile {name:?} from {}.",
        loaded.path.display()
    ));
    Ok(())
}

fn rename(settings: &Settings, args: &RenameArgs) -> Result<()> {
    config::checks::validate_profile_name(&args.new)?;
    let (lock, mut loaded) = config::load_for_update(&settings.config_dir)?;
    if loaded.file.profiles.contains_key(&args.new) {
        return Err(
            Error::usage(format!("a profile named {:?} exists already", args.new))
                .hint(format!("remove it first: keyless profile rm {}", args.new)),
        );
    }
    refuse_managed(&loaded, &args.old)?;
    refuse_managed(&loaded, &args.new)?;
    let Some(p) = loaded.file.profiles.remove(&args.old) else {
        return Err(unknown(settings, &loaded, &args.old, true));
    };
    if p.issuer.is_some() {
        return Err(Error::usage(format!(
            "profile {:?} has a sign-in session, which is stored under its name",
            args.old
        ))
        .hint("log out first (keyless --profile OLD logout), then rename, then keyless --profile NEW login"));
    }
    loaded.file.profiles.insert(args.new.clone(), p);
    if loaded.file.active_profile.as_deref() == Some(args.old.as_str()) {
        loaded.file.active_profile = Some(args.new.clone());
    }
    loaded.save(&lock)?;
    output::note(&format!(
        "Renamed profile {:?} to {:?}.",
        args.old, args.new
    ));
    Ok(())
}

/// A managed profile belongs to the machine: neither removed nor renamed.
fn refuse_managed(loaded: &LoadedConfig, name: &str) -> Result<()> {
    match loaded.managed.filter(|m| m.has_profile(name)) {
        None => Ok(()),
        Some(m) => Err(Error::config(format!(
            "profile {name:?} is managed by {} (IT): it cannot be removed or renamed",
            m.path.display()
        ))
        .hint(format!(
            "to sign out of it: keyless --profile {name} logout; to stop using it, choose another with `keyless profile use NAME`"
        ))),
    }
}
