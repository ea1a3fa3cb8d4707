//! Stage 4, handing the token to other programs: the variables `env` and
//! `exec` set ([`assignments`]), what a child loses ([`child_env`], the one
//! policy), their shell syntax ([`shell`]), starting a child ([`child`]) or
//! staying its parent ([`supervise`]), keeping a token fresh for a
//! long-running consumer ([`renewal`], the one engine), and the SDK profile
//! files that `exec --refresh` and `keyless agent` keep current ([`sdk_profile`]).

pub mod child;
pub mod child_env;
pub mod contain;
pub mod renewal;
pub mod sdk_profile;
pub mod shell;
pub mod supervise;

use std::env;

use crate::acquire;
use crate::config::AnthropicConfig;
use crate::env_vars;
use crate::error::{Error, Result};
use crate::output;
use crate::provider::{Configured, Provider, choice};
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

/// The token assignments for the asked providers, with their notes on
/// stderr, and the providers served (for the [`child_env`] policy).
/// `can_unset` is false for outputs that cannot remove a variable (.env).
pub fn assignments(
    settings: &Settings,
    asked: &[Provider],
    can_unset: bool,
    fresh: Freshness,
) -> Result<(Vec<Assignment>, Vec<Provider>)> {
    let loaded = settings.load_config()?;
    let issuer = settings.issuer(&loaded);
    let mut out = Vec::new();
    let mut served = Vec::new();
    for target in choice::to_serve(settings, &loaded, asked)? {
        served.push(target.provider());
        if let Configured::OpenAi(_) = &target {
            // The program (or shell) inherits OPENAI_BASE_URL and sends the
            // token there: held to --base-url's rule before anything is minted.
            crate::provider::openai::env_base_url(
                env::var(env_vars::OPENAI_BASE_URL).ok().as_deref(),
            )?;
        }
        let token = acquire::token(settings, &target, issuer.as_ref(), fresh)?;
        match &target {
            Configured::Anthropic(cfg) => {
                let inherited = Inherited {
                    base_url: env::var(env_vars::ANTHROPIC_BASE_URL).ok(),
                };
                out.extend(anthropic_vars(
                    cfg,
                    token.access_token,
                    &inherited,
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
    Ok((out, served))
}

/// What the caller's environment already holds.
pub struct Inherited {
    pub base_url: Option<String>,
}

/// The Anthropic variables: the token, the base URL when it is not the
/// default, and removal of one that would send the token elsewhere (what
/// would shadow it is the [`child_env`] policy's).
pub fn anthropic_vars(
    cfg: &AnthropicConfig,
    token: Secret<String>,
    inherited: &Inherited,
    can_unset: bool,
) -> Vec<Assignment> {
    let mut out = vec![Assignment::Set(env_vars::ANTHROPIC_AUTH_TOKEN, token)];
    if !cfg.uses_default_base_url() {
        out.push(Assignment::Set(
            env_vars::ANTHROPIC_BASE_URL,
            Secret::new(cfg.base_url().into_string()),
        ));
    } else if inherited
        .base_url
        .as_deref()
        .is_some_and(|u| !cfg.base_url().is(u))
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
            federation: crate::config::Federation {
                audience: None,
                identity: IdentitySource::Env,
                ca_file: None,
            },
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
        let none = Inherited { base_url: None };
        assert_eq!(
            names(&anthropic_vars(&cfg(None), tok(), &none, true)),
            ["set ANTHROPIC_AUTH_TOKEN"]
        );
        let foreign = Inherited {
            base_url: Some("https://proxy.example".into()),
        };
        assert_eq!(
            names(&anthropic_vars(&cfg(None), tok(), &foreign, true)),
            ["set ANTHROPIC_AUTH_TOKEN", "unset ANTHROPIC_BASE_URL"]
        );
        let same = Inherited {
            base_url: Some("https://api.anthropic.com/".into()),
        };
        assert_eq!(
            names(&anthropic_vars(&cfg(None), tok(), &same, true)),
            ["set ANTHROPIC_AUTH_TOKEN"]
        );
        assert_eq!(
            names(&anthropic_vars(
                &cfg(Some("http://127.0.0.1:9")),
                tok(),
                &foreign,
                true
            )),
            ["set ANTHROPIC_AUTH_TOKEN", "set ANTHROPIC_BASE_URL"]
        );
        // .env output cannot unset anything
        assert_eq!(
            names(&anthropic_vars(&cfg(None), tok(), &foreign, false)),
            ["set ANTHROPIC_AUTH_TOKEN"]
        );
    }
}
