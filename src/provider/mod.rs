//! Stage 2, the API providers keyless mints tokens at: Anthropic's RFC 7523
//! jwt-bearer grant ([`anthropic`]) and OpenAI's RFC 8693 token exchange
//! ([`openai`]), over the shared token-endpoint plumbing in [`endpoint`].
//!
//! [`Provider`] is the one home of what tells the providers apart: their
//! names, the `env` identity source's variables, the audience they want,
//! the fields that key their cache, and their API base. [`Configured`] is a
//! provider's saved configuration, the thing the pipeline serves. Nothing
//! here fetches identity tokens or touches the cache beyond naming its key.

pub mod anthropic;
pub mod choice;
mod configured;
pub mod endpoint;
pub mod from_env;
pub mod openai;

pub use configured::{Configured, audience_mismatch};

use crate::config::{LoadedConfig, Profile};
use crate::env_vars;
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::settings::Settings;

/// The providers keyless serves, as `credential`, `env --type` and `exec
/// --type` name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Provider {
    /// Anthropic (Claude API)
    Anthropic,
    /// OpenAI (OpenAI API)
    Openai,
}

/// The `env` identity source's pair of variables for one provider.
#[derive(Debug, Clone, Copy)]
pub struct IdentityVars {
    /// A path to a file holding the JWT; wins over `token`.
    pub file: &'static str,
    /// The JWT itself.
    pub token: &'static str,
}

impl Provider {
    /// Every provider, in the order `env` and `auth status` list them.
    pub const ALL: [Provider; 2] = [Provider::Anthropic, Provider::Openai];

    /// The name in `keyless setup NAME` and `credential NAME`; it also names
    /// the cache files and the single-use ledger's namespace.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Anthropic => "anthropic",
            Provider::Openai => "openai",
        }
    }

    /// The name for people.
    pub fn title(self) -> &'static str {
        match self {
            Provider::Anthropic => "Anthropic",
            Provider::Openai => "OpenAI",
        }
    }

    /// What the `env` identity source reads: Anthropic's pair as its SDKs
    /// read them; OpenAI's SDKs read none, see
    /// [`env_vars::OPENAI_IDENTITY_TOKEN_FILE`].
    pub fn identity_vars(self) -> IdentityVars {
        match self {
            Provider::Anthropic => IdentityVars {
                file: env_vars::ANTHROPIC_IDENTITY_TOKEN_FILE,
                token: env_vars::ANTHROPIC_IDENTITY_TOKEN,
            },
            Provider::Openai => IdentityVars {
                file: env_vars::OPENAI_IDENTITY_TOKEN_FILE,
                token: env_vars::OPENAI_IDENTITY_TOKEN,
            },
        }
    }

    /// The audience an identity token for this provider carries when nothing
    /// else is configured. OpenAI's is set per identity provider: no default.
    pub fn default_audience(self) -> Option<&'static str> {
        match self {
            Provider::Anthropic => Some(anthropic::AUDIENCE),
            Provider::Openai => None,
        }
    }

    /// The API base the SDKs call when nothing overrides it.
    pub fn default_api_base(self) -> &'static str {
        match self {
            Provider::Anthropic => crate::config::DEFAULT_ANTHROPIC_BASE_URL,
            Provider::Openai => openai::DEFAULT_API_BASE,
        }
    }

    /// The `setup` command that configures this provider, as a hint.
    pub fn setup_hint(self) -> &'static str {
        match self {
            Provider::Anthropic => {
                "setup anthropic --federation-rule-id fdrl_… --organization-id <uuid> --identity …"
            }
            Provider::Openai => {
                "setup openai --identity-provider-id wip_… --service-account-id ID --identity …"
            }
        }
    }

    /// Is this provider configured here: saved in `profile`, or (zero
    /// setup) named by the environment?
    pub fn is_configured(self, profile: Option<&Profile>, env: from_env::Getter) -> bool {
        let saved = match (self, profile) {
            (_, None) => false,
            (Provider::Anthropic, Some(p)) => p.anthropic.is_some(),
            (Provider::Openai, Some(p)) => p.openai.is_some(),
        };
        saved || from_env::names(self, env)
    }

    /// This provider's part of `profile` as saved, unchecked (for logout,
    /// which removes what exists, and status, which reports it).
    pub fn saved(self, profile: &Profile) -> Option<Configured> {
        match self {
            Provider::Anthropic => profile.anthropic.clone().map(Configured::Anthropic),
            Provider::Openai => profile.openai.clone().map(Configured::OpenAi),
        }
    }

    /// The profile's configuration for this provider, with a hand-edited
    /// endpoint checked as `setup` checks it, and optional fields the
    /// profile lacks filled from the environment; with none saved, the one
    /// the environment makes (zero setup); else exit 6 naming `setup`.
    pub fn configured(self, settings: &Settings, loaded: &LoadedConfig) -> Result<Configured> {
        self.resolve(settings, loaded, &|n| std::env::var(n).ok())
            .map(|(cfg, _)| cfg)
    }

    /// [`Provider::configured`] with the environment read through `env`,
    /// and where each field came from.
    pub fn resolve(
        self,
        settings: &Settings,
        loaded: &LoadedConfig,
        env: from_env::Getter,
    ) -> Result<(Configured, from_env::Origins)> {
        let profile = loaded.file.profiles.get(&settings.profile);
        let mut origins = from_env::Origins::new();
        let cfg = match profile.and_then(|p| self.saved(p)) {
            Some(mut cfg) => {
                match &mut cfg {
                    Configured::Anthropic(c) => {
                        if let Some(url) = &c.base_url {
                            settings.recheck_url(
                                loaded,
                                "base_url",
                                url,
                                "setup anthropic --base-url https://…",
                            )?;
                        }
                        from_env::fill_anthropic(c, &mut origins, env)?;
                    }
                    Configured::OpenAi(c) => {
                        if let Some(url) = &c.token_endpoint {
                            settings.recheck_url(
                                loaded,
                                "token_endpoint",
                                url,
                                "setup openai --token-endpoint https://…",
                            )?;
                        }
                        from_env::fill_openai(c, &mut origins, env)?;
                    }
                }
                cfg
            }
            None => {
                let built = match self {
                    Provider::Anthropic => {
                        from_env::anthropic(env)?.map(|(c, o)| (Configured::Anthropic(c), o))
                    }
                    Provider::Openai => {
                        from_env::openai(env)?.map(|(c, o)| (Configured::OpenAi(c), o))
                    }
                };
                let Some((cfg, o)) = built else {
                    settings.require_known(loaded)?;
                    return Err(Error::config(format!(
                        "profile {:?} has no {} configuration in {}",
                        settings.profile,
                        self.title(),
                        loaded.path.display()
                    ))
                    .hint(format!(
                        "run `{}`, or set {}",
                        settings.command(self.setup_hint()),
                        self.zero_setup_hint()
                    )));
                };
                origins = o;
                cfg
            }
        };
        let (field, url) = match &cfg {
            Configured::Anthropic(c) => ("base_url", c.base_url().into_string()),
            Configured::OpenAi(c) => ("token_endpoint", c.token_endpoint().to_string()),
        };
        crate::config::managed::policy::check_endpoint(
            &settings.profile,
            self.name(),
            field,
            &url,
        )?;
        Ok((cfg, origins))
    }

    /// The variables that configure this provider without `setup`.
    fn zero_setup_hint(self) -> String {
        match self {
            Provider::Anthropic => format!(
                "{}, {} and {}",
                env_vars::ANTHROPIC_FEDERATION_RULE_ID,
                env_vars::ANTHROPIC_ORGANIZATION_ID,
                env_vars::ANTHROPIC_IDENTITY_TOKEN_FILE
            ),
            Provider::Openai => format!(
                "{}, {} and {}",
                env_vars::OPENAI_IDENTITY_PROVIDER_ID,
                env_vars::OPENAI_SERVICE_ACCOUNT_ID,
                env_vars::OPENAI_IDENTITY_TOKEN_FILE
            ),
        }
    }
}

/// What kind of token an identity source yields, for token exchanges that
/// ask (OpenAI's `subject_token_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A JWT minted for a workload or as an access token: files, variables,
    /// commands, client credentials, and sessions that exchange access tokens.
    Jwt,
    /// An OIDC ID token: the sign-in session's (the default assertion), or
    /// one a client-credentials grant returned in place of an access token.
    IdToken,
}

/// A token minted by a provider.
#[derive(Debug)]
pub struct Minted {
    pub access_token: Secret<String>,
    pub token_type: String,
    pub expires_in: i64,
}

/// The outcome of an exchange that produced no token.
pub struct ExchangeError {
    pub error: Error,
    /// True when the request never reached the server, so the assertion is unspent.
    pub not_sent: bool,
}

impl From<Error> for ExchangeError {
    fn from(error: Error) -> Self {
        ExchangeError {
            error,
            not_sent: false,
        }
    }
}
