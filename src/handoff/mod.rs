//! Stage 4, handing the token to other programs: the variables `env` and
//! `exec` set and remove ([`assignments`]), their shell syntax ([`shell`]),
//! starting a child with them ([`child`]) or staying its parent
//! ([`supervise`]), and the SDK profile files that `exec --refresh` keeps
//! current ([`sdk_profile`]).

pub mod child;
#[cfg(unix)]
pub mod renewal;
#[cfg(unix)]
pub mod sdk_profile;
pub mod shell;
#[cfg(unix)]
pub mod supervise;

use std::env;

use crate::acquire;
use crate::config::{AnthropicConfig, LoadedConfig};
use crate::env_vars;
use crate::error::{Error, Result};
use crate::output;
use crate::provider::{Configured, Provider};
use crate::secret::Secret;
use crate::settings::{Freshness, Settings};

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

/// Providers to serve: those asked for, else every configured one.
pub fn providers(
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
    let get = |n: &str| env::var(n).ok();
    // Unasked, a provider the environment names only in part (a stray
    // variable another tool reads) is skipped, not an error; asked for with
    // --type, `resolve` names what is missing.
    let v: Vec<Provider> = Provider::ALL
        .into_iter()
        .filter(|p| p.is_configured(profile, &get))
        .filter(|p| {
            let saved = profile.is_some_and(|prof| p.saved(prof).is_some());
            let usable = saved || p.resolve(settings, loaded, &get).is_ok();
            if !usable {
                output::info(&format!(
                    "skipping {}: the environment configures it only in part",
                    p.title()
                ));
            }
            usable
        })
        .collect();
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
/// `can_unset` is false for outputs that cannot remove a variable (.env).
pub fn assignments(
    settings: &Settings,
    asked: &[Provider],
    keep_api_key: bool,
    can_unset: bool,
    fresh: Freshness,
) -> Result<Vec<Assignment>> {
    let loaded = settings.load_config()?;
    let issuer = settings.issuer(&loaded);
    let mut out = Vec::new();
    for p in providers(settings, &loaded, asked)? {
        let target = p.configured(settings, &loaded)?;
        let token = acquire::token(settings, &target, issuer.as_ref(), fresh)?;
        match &target {
            Configured::Anthropic(cfg) => {
                let inherited = Inherited {
                    base_url: env::var(env_vars::ANTHROPIC_BASE_URL).ok(),
                    api_key: env::var_os(env_vars::ANTHROPIC_API_KEY).is_some(),
                };
                out.extend(anthropic_vars(
                    cfg,
                    token.access_token,
                    &inherited,
                    keep_api_key,
                    can_unset,
                ));
            }
            Configured::OpenAi(_) => {
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

/// What the caller's environment already holds.
pub struct Inherited {
    pub base_url: Option<String>,
    pub api_key: bool,
}

/// The Anthropic variables: the token, the base URL when it is not the
/// default, and removal of what would shadow the token or send it elsewhere.
pub fn anthropic_vars(
    cfg: &AnthropicConfig,
    token: Secret<String>,
    inherited: &Inherited,
    keep_api_key: bool,
    can_unset: bool,
) -> Vec<Assignment> {
    let mut out = vec![Assignment::Set(env_vars::ANTHROPIC_AUTH_TOKEN, token)];
    if !cfg.uses_default_base_url() {
        out.push(Assignment::Set(
            env_vars::ANTHROPIC_BASE_URL,
            Secret::new(cfg.base_url().to_string()),
        ));
    } else if inherited
        .base_url
        .as_deref()
        .is_some_and(|u| u.trim_end_matches('/') != cfg.base_url())
    {
        // The token is only valid at the host that minted it; an inherited
        // base URL would send it somewhere else.
        if can_unset {
            output::note(
                "note: removing ANTHROPIC_BASE_URL, which points at another host than the one that minted the token",
            );
            out.push(Assignment::Unset(env_vars::ANTHROPIC_BASE_URL));
        } else {
            output::warn(&format!(
                "{} points at another host; remove it before using this token",
                env_vars::ANTHROPIC_BASE_URL
            ));
        }
    }
    if !keep_api_key {
        if can_unset {
            if inherited.api_key {
                output::note(
                    "note: removing ANTHROPIC_API_KEY, which would shadow the token in every Anthropic SDK (--keep-api-key keeps it)",
                );
            }
            out.push(Assignment::Unset(env_vars::ANTHROPIC_API_KEY));
        } else if inherited.api_key {
            output::warn(
                ".env files cannot unset ANTHROPIC_API_KEY, which would shadow the token; remove it yourself",
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::IdentitySource;

    fn cfg(base_url: Option<&str>) -> AnthropicConfig {
        AnthropicConfig {
            federation_rule_id: "fdrl_01x".into(),
            organization_id: "0f8fad5b-d9cb-469f-a165-70867728950e".into(),
            service_account_id: None,
            workspace_id: None,
            base_url: base_url.map(str::to_string),
            audience: None,
            identity: IdentitySource::Env,
            ca_file: None,
            unknown: Default::default(),
        }
    }

    fn names(v: &[Assignment]) -> Vec<String> {
        v.iter()
            .map(|a| match a {
                Assignment::Set(n, _) => format!("set {n}"),
                Assignment::Unset(n) => format!("unset {n}"),
            })
            .collect()
    }

    #[test]
    fn default_host_sets_no_base_url_and_removes_a_foreign_one() {
        let tok = || Secret::new("t".to_string());
        let none = Inherited {
            base_url: None,
            api_key: false,
        };
        assert_eq!(
            names(&anthropic_vars(&cfg(None), tok(), &none, false, true)),
            ["set ANTHROPIC_AUTH_TOKEN", "unset ANTHROPIC_API_KEY"]
        );
        let foreign = Inherited {
            base_url: Some("https://proxy.example".into()),
            api_key: true,
        };
        assert_eq!(
            names(&anthropic_vars(&cfg(None), tok(), &foreign, false, true)),
            [
                "set ANTHROPIC_AUTH_TOKEN",
                "unset ANTHROPIC_BASE_URL",
                "unset ANTHROPIC_API_KEY"
            ]
        );
        let same = Inherited {
            base_url: Some("https://api.anthropic.com/".into()),
            api_key: false,
        };
        assert_eq!(
            names(&anthropic_vars(&cfg(None), tok(), &same, true, true)),
            ["set ANTHROPIC_AUTH_TOKEN"]
        );
        assert_eq!(
            names(&anthropic_vars(
                &cfg(Some("http://127.0.0.1:9")),
                tok(),
                &foreign,
                true,
                true
            )),
            ["set ANTHROPIC_AUTH_TOKEN", "set ANTHROPIC_BASE_URL"]
        );
        // .env output cannot unset anything
        assert_eq!(
            names(&anthropic_vars(&cfg(None), tok(), &foreign, false, false)),
            ["set ANTHROPIC_AUTH_TOKEN"]
        );
    }
}
