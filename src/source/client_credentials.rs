//! The `client-credentials` source: the OAuth client-credentials grant at
//! the profile's issuer, for unattended jobs with a confidential client. It
//! asks for an RFC 8707 `resource` (the source's, else the one the provider
//! wants; see [`crate::provider::Configured::audience`]) and/or a scope,
//! and must yield a JWT.

use super::{IdentityToken, Origin};
use crate::config::IssuerConfig;
use crate::error::{Error, Result};
use crate::jwt;
use crate::oidc::Client;
use crate::provider::TokenKind;
use crate::secret_store::SecretStore;
use crate::session::client_secret;
use crate::settings::Settings;

pub fn fetch(
    settings: &Settings,
    cfg: &IssuerConfig,
    resource: Option<&str>,
    scope: Option<&str>,
) -> Result<IdentityToken> {
    let store = SecretStore::open(&settings.config_dir)?;
    let secret = client_secret(settings, cfg, &store)?.ok_or_else(|| {
        Error::config("the client-credentials source needs a client secret").hint(
            "run `keyless setup issuer … --client-secret-stdin`, or set KEYLESS_CLIENT_SECRET",
        )
    })?;
    let client = Client::discover(cfg, Some(secret))?;
    let mut params = vec![("grant_type", "client_credentials")];
    if let Some(r) = resource {
        params.push(("resource", r));
    }
    if let Some(s) = scope {
        params.push(("scope", s));
    }
    let tokens = client
        .token_request(&params)
        .map_err(|f| f.into_error("the client-credentials grant"))?;
    let (jwt, kind) = tokens
        .access_token
        .filter(|t| jwt::inspect(t.expose(), "x").is_ok())
        .map(|t| (t, TokenKind::Jwt))
        .or(tokens.id_token.map(|t| (t, TokenKind::IdToken)))
        .ok_or_else(|| {
            Error::config(
                "the client-credentials grant yielded no JWT (the access token is opaque)",
            )
            .hint(format!(
                "configure the authorization server to issue JWT access tokens{}",
                resource.map(|r| format!(" for {r}")).unwrap_or_default()
            ))
        })?;
    Ok(IdentityToken {
        token: jwt,
        origin: Origin::ClientCredentials,
        kind,
    })
}
