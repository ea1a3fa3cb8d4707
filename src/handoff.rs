//! The variables keyless hands to other programs, shared by `env` and `exec`:
//! which providers to serve, what to set, what to remove, and why.

use std::env;

use crate::acquire::{self, Freshness};
use crate::cli::Provider;
use crate::config::LoadedConfig;
use crate::env_vars;
use crate::error::{Error, Result};
use crate::output;
use crate::secret::Secret;
use crate::settings::Settings;

pub enum Assignment {
    Set(&'static str, Secret<String>),
    Unset(&'static str),
}

impl Assignment {
    pub fn name(&self) -> &'static str {
        match self {
            Assignment::Set(n, _) | Assignment::Unset(n) => n,
        }
    }
}

fn is_set(name: &str) -> bool {
    env::var_os(name).is_some()
}

/// Providers to serve: those asked for, else every configured one.
fn providers(
    settings: &Settings,
    loaded: &LoadedConfig,
    asked: &[Provider],
) -> Result<Vec<Provider>> {
    if !asked.is_empty() {
        let mut v = asked.to_vec();
        v.dedup();
        return Ok(v);
    }
    let profile = loaded.file.profiles.get(&settings.profile);
    let mut v = Vec::new();
    if profile.is_some_and(|p| p.anthropic.is_some()) {
        v.push(Provider::Anthropic);
    }
    if profile.is_some_and(|p| p.openai.is_some()) {
        v.push(Provider::Openai);
    }
    if v.is_empty() {
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
    Ok(v)
}

/// The assignments for the asked providers, with their notes on stderr.
pub fn assignments(
    settings: &Settings,
    asked: &[Provider],
    keep_api_key: bool,
    fresh: Freshness,
) -> Result<Vec<Assignment>> {
    let loaded = settings.load_config()?;
    let mut out = Vec::new();
    for p in providers(settings, &loaded, asked)? {
        match p {
            Provider::Anthropic => {
                let cfg = settings.anthropic(&loaded)?;
                let token = acquire::anthropic_token(settings, &cfg, fresh)?;
                out.push(Assignment::Set(
                    env_vars::ANTHROPIC_AUTH_TOKEN,
                    token.access_token,
                ));
                if cfg.uses_default_base_url() {
                    if let Ok(inherited) = env::var(env_vars::ANTHROPIC_BASE_URL)
                        && inherited.trim_end_matches('/') != cfg.base_url()
                    {
                        output::warn(&format!(
                            "ANTHROPIC_BASE_URL is set to another host; the token is only valid at {}",
                            cfg.base_url()
                        ));
                    }
                } else {
                    out.push(Assignment::Set(
                        env_vars::ANTHROPIC_BASE_URL,
                        Secret::new(cfg.base_url().to_string()),
                    ));
                }
                if !keep_api_key {
                    if is_set(env_vars::ANTHROPIC_API_KEY) {
                        output::note(
                            "note: removing ANTHROPIC_API_KEY, which would shadow the token in every Anthropic SDK (--keep-api-key keeps it)",
                        );
                    }
                    out.push(Assignment::Unset(env_vars::ANTHROPIC_API_KEY));
                }
            }
            Provider::Openai => {
                let cfg = settings.openai(&loaded)?;
                let token = acquire::openai_token(settings, &cfg, fresh)?;
                if env::var(env_vars::OPENAI_API_KEY).is_ok_and(|k| k.starts_with("sk-")) {
                    output::note(
                        "note: replacing the static OPENAI_API_KEY (sk-…) with the short-lived token; OpenAI's SDKs read only that variable",
                    );
                }
                out.push(Assignment::Set(
                    env_vars::OPENAI_API_KEY,
                    token.access_token,
                ));
            }
        }
    }
    if out.is_empty() {
        return Err(Error::config("no provider is configured for this profile"));
    }
    Ok(out)
}
