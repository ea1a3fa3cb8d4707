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
pub mod endpoint;
pub mod openai;

use crate::cache::CacheKey;
use crate::config::{
    AnthropicConfig, IdentitySource, IssuerConfig, LoadedConfig, OpenAiConfig, Profile,
};
use crate::env_vars;
use crate::error::{Error, Result};
use crate::jwt;
use crate::output;
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

    /// Does `profile` configure this provider?
    pub fn is_configured(self, profile: &Profile) -> bool {
        match self {
            Provider::Anthropic => profile.anthropic.is_some(),
            Provider::Openai => profile.openai.is_some(),
        }
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
    /// endpoint checked as `setup` checks it; or exit 6 naming `setup`.
    pub fn configured(self, settings: &Settings, loaded: &LoadedConfig) -> Result<Configured> {
        let profile = loaded.file.profiles.get(&settings.profile);
        let not_configured = || {
            Error::config(format!(
                "profile {:?} has no {} configuration in {}",
                settings.profile,
                self.title(),
                loaded.path.display()
            ))
            .hint(format!("run `{}`", settings.command(self.setup_hint())))
        };
        let cfg = profile
            .and_then(|p| self.saved(p))
            .ok_or_else(not_configured)?;
        match &cfg {
            Configured::Anthropic(c) => {
                if let Some(url) = &c.base_url {
                    settings.recheck_url(
                        loaded,
                        "base_url",
                        url,
                        "setup anthropic --base-url https://…",
                    )?;
                }
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
            }
        }
        Ok(cfg)
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

/// One provider's saved configuration: what the pipeline serves.
#[derive(Debug, Clone)]
pub enum Configured {
    Anthropic(AnthropicConfig),
    OpenAi(OpenAiConfig),
}

impl Configured {
    pub fn provider(&self) -> Provider {
        match self {
            Configured::Anthropic(_) => Provider::Anthropic,
            Configured::OpenAi(_) => Provider::Openai,
        }
    }

    /// The Anthropic configuration, for what only Anthropic's SDKs read
    /// (the profile files of `exec --refresh`).
    pub fn anthropic(&self) -> Option<&AnthropicConfig> {
        match self {
            Configured::Anthropic(cfg) => Some(cfg),
            Configured::OpenAi(_) => None,
        }
    }

    /// Configuration only: never a token. Changing any field selects another file.
    pub fn cache_key(&self, profile: &str) -> CacheKey {
        let name = self.provider().name();
        match self {
            Configured::Anthropic(cfg) => CacheKey::new(
                name,
                &[
                    ("profile", profile),
                    ("base_url", cfg.base_url().trim_end_matches('/')),
                    ("organization_id", &cfg.organization_id),
                    ("federation_rule_id", &cfg.federation_rule_id),
                    (
                        "service_account_id",
                        cfg.service_account_id.as_deref().unwrap_or(""),
                    ),
                    ("workspace_id", cfg.workspace_id.as_deref().unwrap_or("")),
                    ("identity", &cfg.identity.spec()),
                ],
            ),
            Configured::OpenAi(cfg) => CacheKey::new(
                name,
                &[
                    ("profile", profile),
                    ("token_endpoint", cfg.token_endpoint()),
                    ("identity_provider_id", &cfg.identity_provider_id),
                    ("service_account_id", &cfg.service_account_id),
                    ("identity", &cfg.identity.spec()),
                ],
            ),
        }
    }

    pub fn identity(&self) -> &IdentitySource {
        match self {
            Configured::Anthropic(cfg) => &cfg.identity,
            Configured::OpenAi(cfg) => &cfg.identity,
        }
    }

    /// The audience to ask the client-credentials grant for when the source
    /// names no resource: what the profile records for the provider, else
    /// the issuer's, else the provider's default. None: let the
    /// authorization server choose.
    pub fn audience(&self, issuer: Option<&IssuerConfig>) -> Option<String> {
        let issuers = issuer.and_then(|i| i.audience.clone());
        let recorded = match self {
            Configured::Anthropic(_) => None,
            Configured::OpenAi(cfg) => cfg.audience.clone(),
        };
        recorded
            .or(issuers)
            .or_else(|| self.provider().default_audience().map(str::to_string))
    }

    /// Where the exchange is posted.
    pub fn token_endpoint(&self) -> String {
        match self {
            Configured::Anthropic(cfg) => anthropic::token_url(cfg.base_url()),
            Configured::OpenAi(cfg) => cfg.token_endpoint().to_string(),
        }
    }

    /// The API base the SDKs would call with the token. For OpenAI,
    /// `openai_base_url` is the caller's `OPENAI_BASE_URL`.
    pub fn api_base(&self, openai_base_url: Option<&str>) -> String {
        match self {
            Configured::Anthropic(cfg) => cfg.base_url().trim_end_matches('/').to_string(),
            Configured::OpenAi(cfg) => openai::api_base(cfg, openai_base_url),
        }
    }

    /// `GET …/models`, the cheapest authenticated call (`auth status --check`).
    pub fn models_url(&self, openai_base_url: Option<&str>) -> String {
        match self {
            Configured::Anthropic(_) => format!("{}/v1/models", self.api_base(None)),
            Configured::OpenAi(_) => format!("{}/models", self.api_base(openai_base_url)),
        }
    }

    /// The headers an API call with a minted token needs besides
    /// `Authorization: Bearer`, as the official SDKs send them.
    pub fn api_headers(&self) -> &'static [(&'static str, &'static str)] {
        match self {
            Configured::Anthropic(_) => &[
                ("anthropic-version", anthropic::API_VERSION),
                ("anthropic-beta", anthropic::OAUTH_BETA),
            ],
            Configured::OpenAi(_) => &[],
        }
    }

    /// Provider-specific checks on the JWT before it is spent.
    pub fn precheck(&self, claims: &jwt::Inspected, what: &str) {
        if let Configured::OpenAi(cfg) = self
            && let Some(want) = cfg.audience.as_deref()
            && !claims.aud.iter().any(|a| a == want)
        {
            output::warn(&format!(
                "{what} is for audience {}, but the profile records {want} as the identity provider's audience; OpenAI will likely deny it",
                if claims.aud.is_empty() {
                    "none".to_string()
                } else {
                    crate::redact::terminal(&claims.aud.join(", "))
                }
            ));
        }
    }

    /// Trade `assertion` (of `kind`) for an access token.
    pub async fn exchange(
        &self,
        client: &reqwest::Client,
        assertion: &Secret<String>,
        kind: TokenKind,
        claims: &jwt::Inspected,
    ) -> std::result::Result<Minted, ExchangeError> {
        match self {
            Configured::Anthropic(cfg) => {
                anthropic::jwt_bearer_exchange(client, cfg, assertion, claims).await
            }
            Configured::OpenAi(cfg) => {
                openai::token_exchange(client, cfg, assertion, kind, claims).await
            }
        }
    }
}
