//! `keyless credential anthropic|openai`: print a valid token and nothing else.
//!
//! The whole use case in one place: load the profile, serve from the cache or
//! exchange, print. On a cache hit this touches two small files and no network.

use crate::acquire;
use crate::cli::{CredentialArgs, Provider, TokenFormat};
use crate::error::{Error, Result};
use crate::jwt::rfc3339;
use crate::output;
use crate::settings::Settings;

pub fn run(settings: &Settings, args: &CredentialArgs) -> Result<()> {
    let loaded = settings.load_config()?;
    let issuer = settings.issuer(&loaded);
    let fresh = (&args.freshness).into();
    let token = match args.provider {
        Provider::Anthropic => {
            let cfg = settings.anthropic(&loaded)?;
            acquire::anthropic_token(settings, &cfg, issuer.as_ref(), fresh)?
        }
        Provider::Openai => {
            let cfg = settings.openai(&loaded)?;
            acquire::openai_token(settings, &cfg, issuer.as_ref(), fresh)?
        }
    };
    let text = match args.format {
        TokenFormat::Token => token.access_token.expose().clone(),
        TokenFormat::Json => serde_json::json!({
            "access_token": token.access_token.expose(),
            "token_type": token.token_type,
            "expires_at": token.expires_at,
            "expiration": rfc3339(token.expires_at),
        })
        .to_string(),
    };
    let newline = args.format == TokenFormat::Json || output::stdout_is_terminal();
    output::payload(&text, newline)
        .map_err(|e| Error::failure(format!("cannot write the token to stdout: {e}")))
}
