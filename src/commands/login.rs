//! `keyless login`: sign in to the profile's OpenID Connect provider,
//! whatever session exists (browser or device code).

use std::time::Duration;

use clap::Args;

use crate::config::LoginFlow;
use crate::error::{Error, Result};
use crate::session::{self, DEFAULT_LOGIN_TIMEOUT_SECS, LoginOptions};
use crate::settings::Settings;

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Sign in through the browser (authorization code with PKCE)
    #[arg(long, conflicts_with = "device")]
    pub browser: bool,
    /// Sign in with a device code (RFC 8628), for machines without a browser
    #[arg(long)]
    pub device: bool,
    /// Print the URL instead of opening a browser
    #[arg(long)]
    pub no_browser: bool,
    /// Give up after this many seconds (1 to 3600)
    #[arg(long, default_value_t = DEFAULT_LOGIN_TIMEOUT_SECS, value_name = "SECS",
          value_parser = clap::value_parser!(u64).range(1..=MAX_LOGIN_TIMEOUT_SECS))]
    pub timeout: u64,
}

/// Nobody waits at a sign-in for more than an hour; the bound also keeps
/// `now + timeout` from overflowing.
pub const MAX_LOGIN_TIMEOUT_SECS: u64 = 3600;

pub fn run(settings: &Settings, args: &LoginArgs) -> Result<()> {
    let loaded = settings.load_config()?;
    let issuer = settings.issuer(&loaded).ok_or_else(|| {
        Error::config(format!(
            "profile {:?} has no issuer to sign in to",
            settings.profile
        ))
        .hint(format!(
            "run `{}`",
            settings.command("setup issuer --issuer URL --client-id ID")
        ))
    })?;
    crate::config::managed::policy::check_issuer(&settings.profile, &issuer.issuer)?;
    let flow = if args.device {
        Some(LoginFlow::Device)
    } else if args.browser {
        Some(LoginFlow::Browser)
    } else {
        None
    };
    session::login(
        settings,
        &issuer,
        &LoginOptions {
            flow,
            no_browser: args.no_browser,
            timeout: Duration::from_secs(args.timeout),
        },
    )
}
