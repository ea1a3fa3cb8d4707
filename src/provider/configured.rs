//! [`Configured`]: one provider's configuration as the pipeline serves it,
//! and everything that depends on which provider it is: the cache key, the
//! identity source, the audience, endpoints, API headers and the exchange.

use super::{ExchangeError, Minted, Provider, TokenKind, anthropic, openai};
use crate::cache::CacheKey;
use crate::config::{AnthropicConfig, Federation, IdentitySource, IssuerConfig, OpenAiConfig};
use crate::error::{Error, Result};
use crate::jwt;
use crate::secret::Secret;

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

    /// The prefix every access token of this configuration has, where the
    /// provider's is known: `sk-ant-` at Anthropic's own host (a gateway or
    /// the sandbox behind another base URL may mint others).
    pub fn token_prefix(&self) -> Option<&'static str> {
        match self {
            Configured::Anthropic(cfg) if cfg.uses_default_base_url() => {
                Some(anthropic::TOKEN_PREFIX)
            }
            _ => None,
        }
    }

    /// What both providers' configurations name alike: audience, identity
    /// source, CA file.
    pub fn federation(&self) -> &Federation {
        match self {
            Configured::Anthropic(c) => &c.federation,
            Configured::OpenAi(c) => &c.federation,
        }
    }

    /// The profile's extra CA file for this provider's endpoints.
    pub fn ca_file(&self) -> Option<&std::path::Path> {
        self.federation()
            .ca_file
            .as_deref()
            .map(std::path::Path::new)
    }

    /// Configuration only: never a token. Changing any field selects another file.
    pub fn cache_key(&self, profile: &str) -> CacheKey {
        self.cache_key_fields(profile)
            .with_token_prefix(self.token_prefix())
    }

    fn cache_key_fields(&self, profile: &str) -> CacheKey {
        let name = self.provider().name();
        match self {
            Configured::Anthropic(cfg) => CacheKey::new(
                name,
                &[
                    ("profile", profile),
                    ("base_url", cfg.base_url().as_str()),
                    ("organization_id", &cfg.organization_id),
                    ("federation_rule_id", &cfg.federation_rule_id),
                    (
                        "service_account_id",
                        cfg.service_account_id.as_deref().unwrap_or(""),
                    ),
                    ("workspace_id", cfg.workspace_id.as_deref().unwrap_or("")),
                    ("identity", &cfg.federation.identity.spec()),
                ],
            )
            // Only when set, so that the keys of configurations saved
            // before the field existed stay the same.
            .extend_if("audience", cfg.federation.audience.as_deref()),
            Configured::OpenAi(cfg) => CacheKey::new(
                name,
                &[
                    ("profile", profile),
                    ("token_endpoint", cfg.token_endpoint()),
                    ("identity_provider_id", &cfg.identity_provider_id),
                    ("service_account_id", &cfg.service_account_id),
                    ("identity", &cfg.federation.identity.spec()),
                ],
            ),
        }
    }

    pub fn identity(&self) -> &IdentitySource {
        &self.federation().identity
    }

    /// The audience to ask the client-credentials grant for when the source
    /// names no resource: what the profile records for the provider, else
    /// the issuer's, else the provider's default. None: let the
    /// authorization server choose.
    pub fn audience(&self, issuer: Option<&IssuerConfig>) -> Option<String> {
        self.recorded_audience(issuer)
            .or_else(|| self.provider().default_audience().map(str::to_string))
    }

    /// [`Configured::audience`] without the provider's default: what the
    /// profile, the environment or the issuer names.
    pub fn recorded_audience(&self, issuer: Option<&IssuerConfig>) -> Option<String> {
        let issuers = issuer.and_then(|i| i.audience.clone());
        self.federation().audience.clone().or(issuers)
    }

    /// Where the exchange is posted.
    pub fn token_endpoint(&self) -> String {
        match self {
            Configured::Anthropic(cfg) => anthropic::token_url(&cfg.base_url()),
            Configured::OpenAi(cfg) => cfg.token_endpoint().to_string(),
        }
    }

    /// The API base the SDKs would call with the token. For OpenAI,
    /// `openai_base_url` is the caller's `OPENAI_BASE_URL`.
    pub fn api_base(&self, openai_base_url: Option<&str>) -> String {
        match self {
            Configured::Anthropic(cfg) => cfg.base_url().into_string(),
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

    /// What the profile knows the JWT must carry, checked before it is
    /// spent: the audience it records for the provider (from `setup
    /// --audience` or the environment), and the issuer's URL when the JWT
    /// comes from that issuer (`login`, client credentials). A mismatch is
    /// a certain denial that would cost a single-use JWT: refused here.
    pub fn check_claims(
        &self,
        claims: &jwt::Inspected,
        issuer: Option<&IssuerConfig>,
        what: &str,
    ) -> Result<()> {
        match self.claims_mismatch(claims, issuer, what) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The one judgement of [`Configured::check_claims`], which refuses on
    /// it, and `auth status`, which flags it: why the profile knows `claims`
    /// would be denied, naming both values; `None` when nothing it records
    /// rules the JWT out.
    pub fn claims_mismatch(
        &self,
        claims: &jwt::Inspected,
        issuer: Option<&IssuerConfig>,
        what: &str,
    ) -> Option<Error> {
        let recorded = self.federation().audience.as_deref();
        if let Some(e) = audience_mismatch(&claims.aud, recorded, what) {
            return Some(e);
        }
        let from_issuer = matches!(
            self.identity(),
            IdentitySource::Login | IdentitySource::ClientCredentials { .. }
        );
        let (true, Some(i), Some(iss)) = (from_issuer, issuer, claims.iss.as_deref()) else {
            return None;
        };
        (iss.trim_end_matches('/') != i.issuer.trim_end_matches('/')).then(|| {
            Error::config(format!(
                "{what} was issued by {}, but the profile's issuer is {}; keyless did not send it (it stays unspent)",
                crate::redact::terminal(iss),
                i.issuer
            ))
            .hint("run `keyless setup issuer` again if the issuer moved, then `keyless login`")
        })
    }

    /// Trade `assertion` (of `kind`) for an access token.
    pub async fn exchange(
        &self,
        client: &reqwest::Client,
        assertion: &Secret<String>,
        kind: TokenKind,
        claims: &jwt::Inspected,
        ledger_says_unsent: bool,
    ) -> std::result::Result<Minted, ExchangeError> {
        match self {
            Configured::Anthropic(cfg) => {
                anthropic::jwt_bearer_exchange(client, cfg, assertion, claims, ledger_says_unsent)
                    .await
            }
            Configured::OpenAi(cfg) => {
                openai::token_exchange(client, cfg, assertion, kind, claims).await
            }
        }
    }
}

/// The error for a JWT whose `aud` does not name the audience the profile
/// records (`recorded`), naming both; `None` when it does or none is
/// recorded. `auth status` flags the same mismatch with it.
pub fn audience_mismatch(aud: &[String], recorded: Option<&str>, what: &str) -> Option<Error> {
    let want = recorded?;
    if aud.iter().any(|a| a == want) {
        return None;
    }
    let got = if aud.is_empty() {
        "none".to_string()
    } else {
        crate::redact::terminal(&aud.join(", "))
    };
    Some(
        Error::config(format!(
            "{what} is for audience {got}, but the profile records {want}; keyless did not send it (it stays unspent)"
        ))
        .hint(format!(
            "have the identity source issue JWTs for {want}, or record the audience your federation rule or identity provider expects with `keyless setup … --audience`"
        )),
    )
}
