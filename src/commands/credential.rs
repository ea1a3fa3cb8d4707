//! `keyless credential anthropic|openai`: print a valid token and nothing else.
//!
//! The whole use case in one place: load the profile, serve from the cache or
//! exchange, print. On a cache hit this reads the config and the cache entry
//! and makes no network call; with `--helper-ttl` (as `setup claude-code` and
//! `setup codex` write it) or `--rejected` it also locks, reads and rewrites
//! the served-token record beside the entry ([`crate::cache::served`]).

use clap::{Args, ValueEnum};

use crate::acquire;
use crate::cache::served;
use crate::clock::rfc3339;
use crate::error::Result;
use crate::output;
use crate::provider::{Provider, choice};
use crate::settings::{Freshness, FreshnessArgs, MAX_LIFETIME_SECS, Settings};

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
    /// How often the calling tool re-runs this command on its own, in
    /// seconds (`setup claude-code` and `setup codex` write it): the same
    /// token asked for again well inside that means the tool was refused it,
    /// so keyless exchanges a new one, once per token
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u32).range(1..=MAX_LIFETIME_SECS))]
    pub helper_ttl: Option<u32>,
    /// The token this command printed was rejected (HTTP 401): drop it and
    /// print a newly exchanged one, or fail
    #[arg(long)]
    pub rejected: bool,
    #[command(flatten)]
    pub freshness: FreshnessArgs,
}

pub fn run(settings: &Settings, args: &CredentialArgs) -> Result<()> {
    let loaded = settings.load_config()?;
    let issuer = settings.issuer(&loaded);
    let target = choice::one(settings, &loaded, args.provider)?;
    let fresh = Freshness {
        // the tool keeps what it is given for its TTL: the token must outlive it
        keep_for: args.helper_ttl.map_or(0, i64::from),
        ..(&args.freshness).into()
    };
    // A token the caller was refused is replaced (src/cache/served.rs).
    let token = served::settle(
        served::Policy::from_flags(args.helper_ttl, args.rejected),
        || {
            let key = target.cache_key(&settings.profile);
            settings.cache_dir.join(key.served_name())
        },
        |t: &acquire::Token| t.access_token.expose(),
        |forced| {
            let fresh = Freshness {
                force_refresh: fresh.force_refresh || forced,
                ..fresh
            };
            acquire::token(settings, &target, issuer.as_ref(), fresh)
        },
    )?;
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
