//! `keyless credential anthropic|openai`: print a valid token and nothing else.
//!
//! The whole use case in one place: load the profile, serve from the cache or
//! exchange, print. On a cache hit this touches two small files and no network.

use clap::{Args, ValueEnum};

use crate::acquire;
use crate::error::Result;
use crate::jwt::rfc3339;
use crate::output;
use crate::provider::Provider;
use crate::settings::{FreshnessArgs, Settings};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokenFormat {
    /// The bare token (a trailing newline only on a terminal)
    Token,
    /// {"access_token","token_type","expires_at","expiration"}
    Json,
}

#[derive(Debug, Args)]
pub struct CredentialArgs {
    /// Which provider's token to print
    #[arg(value_enum)]
    pub provider: Provider,
    /// Output format
    #[arg(long, value_enum, default_value_t = TokenFormat::Token)]
    pub format: TokenFormat,
    #[command(flatten)]
    pub freshness: FreshnessArgs,
}

pub fn run(settings: &Settings, args: &CredentialArgs) -> Result<()> {
    let loaded = settings.load_config()?;
    let issuer = settings.issuer(&loaded);
    let target = args.provider.configured(settings, &loaded)?;
    let token = acquire::token(settings, &target, issuer.as_ref(), (&args.freshness).into())?;
    let text = match args.format {
        TokenFormat::Token => token.access_token.into_inner(),
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
}
