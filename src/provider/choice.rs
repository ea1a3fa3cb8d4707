//! The one decision of which providers a command serves, with each one's
//! configuration resolved once: (settings, config file, the `--type`s
//! asked, the environment) → [`Choice`]s. `credential`, `env`, `exec` (all
//! three modes) take [`to_serve`]; `auth status` and `--check`, which
//! report on every provider that looks configured, take [`choose`].
//!
//! A provider is considered when asked for, else when it is configured here
//! ([`Provider::is_configured`]: saved in the profile, or named by the
//! zero-setup variables). It does not acquire tokens.

use super::{Configured, Provider, from_env};
use crate::config::LoadedConfig;
use crate::error::{Error, Result};
use crate::output;
use crate::settings::Settings;

/// One provider considered, and its configuration as resolved.
pub struct Choice {
    pub provider: Provider,
    /// Whether the profile holds a saved configuration for it.
    pub saved: bool,
    /// The configuration with where each field came from, or why not.
    pub resolved: Result<(Configured, from_env::Origins)>,
}

/// The providers asked for (in order, once each), else every configured
/// one, each resolved through `env`.
pub fn choose(
    settings: &Settings,
    loaded: &LoadedConfig,
    asked: &[Provider],
    env: from_env::Getter,
) -> Vec<Choice> {
    let profile = loaded.file.profiles.get(&settings.profile);
    let mut considered: Vec<Provider> = Vec::new();
    if asked.is_empty() {
        considered.extend(
            Provider::ALL
                .into_iter()
                .filter(|p| p.is_configured(profile, env)),
        );
    } else {
        for p in asked {
            if !considered.contains(p) {
                considered.push(*p);
            }
        }
    }
    considered
        .into_iter()
        .map(|provider| Choice {
            provider,
            saved: profile.is_some_and(|prof| provider.saved(prof).is_some()),
            resolved: provider.resolve(settings, loaded, env),
        })
        .collect()
}

/// The configurations to serve, from the process environment. Asked for
/// with `--type`, a provider that does not resolve is an error naming what
/// is missing; unasked, one the environment configures only in part (a
/// stray variable another tool reads) is skipped with a note, and nothing
/// left to serve is an error naming `setup`.
pub fn to_serve(
    settings: &Settings,
    loaded: &LoadedConfig,
    asked: &[Provider],
) -> Result<Vec<Configured>> {
    let env = |n: &str| std::env::var(n).ok();
    let mut out = Vec::new();
    for c in choose(settings, loaded, asked, &env) {
        match c.resolved {
            Ok((cfg, _)) => out.push(cfg),
            Err(e) if !asked.is_empty() || c.saved => return Err(e),
            Err(_) => output::info(&format!(
                "skipping {}: the environment configures it only in part",
                c.provider.title()
            )),
        }
    }
    if out.is_empty() {
        settings.require_known(loaded)?;
        return Err(Error::config(format!(
            "profile {:?} has no provider configured in {}",
            settings.profile,
            loaded.path.display()
        ))
        .hint(format!(
            "run `{}` or `{}`",
            settings.command("setup anthropic …"),
            settings.command("setup openai …")
        )));
    }
    Ok(out)
}

/// The one provider asked for, resolved: [`to_serve`] for a single `--type`.
pub fn one(settings: &Settings, loaded: &LoadedConfig, asked: Provider) -> Result<Configured> {
    let mut v = to_serve(settings, loaded, &[asked])?;
    Ok(v.remove(0))
}
