//! `keyless setup issuer`: the OpenID Connect provider `keyless login`
//! signs in to. Discovery is fetched to check the issuer (unless
//! `--no-verify`); a client secret comes only from stdin or
//! `KEYLESS_CLIENT_SECRET` and goes to the secret store, never the file.

use std::path::PathBuf;

use clap::Args;

use crate::config::checks::check_url;
use crate::config::{AssertionKind, IdentitySource, IssuerConfig, LoginFlow};
use crate::env_vars;
use crate::error::{Error, Result};
use crate::output;
use crate::secret::Secret;
use crate::secret_store::{self, SecretStore};
use crate::settings::Settings;

#[derive(Debug, Args)]
#[command(
    after_help = "The issuer's discovery document is fetched to check it (its `issuer` must match \
exactly). A client secret is read only from stdin (--client-secret-stdin) or KEYLESS_CLIENT_SECRET, \
never from the command line, and kept in the secret store. Once an issuer is set, the sign-in session \
becomes the identity source of the profile's providers that used `env`."
)]
pub struct SetupIssuerArgs {
    /// Issuer URL, exactly as the provider publishes it (https, or http on loopback)
    #[arg(long, value_name = "URL")]
    pub issuer: String,
    /// OAuth client id registered for keyless
    #[arg(long, value_name = "ID")]
    pub client_id: String,
    /// Read a confidential client's secret from stdin
    #[arg(long)]
    pub client_secret_stdin: bool,
    /// Scope to request (repeatable) [default: openid email profile offline_access]
    #[arg(long = "scope", value_name = "S")]
    pub scopes: Vec<String>,
    /// How `keyless login` signs in
    #[arg(long, value_enum, default_value_t = LoginFlow::Auto)]
    pub flow: LoginFlow,
    /// Which token is exchanged for the API token
    #[arg(long, value_enum, default_value_t = AssertionKind::IdToken)]
    pub assertion: AssertionKind,
    /// Resource/audience for JWT access tokens (RFC 8707) [default: https://api.anthropic.com;
    /// for OpenAI client credentials, `setup openai --audience` wins]
    #[arg(long, value_name = "AUD")]
    pub audience: Option<String>,
    /// Fixed loopback port for providers that register one redirect URI
    #[arg(long, value_name = "PORT")]
    pub redirect_port: Option<u16>,
    /// Host in the redirect URI: 127.0.0.1, or localhost for providers that need it
    #[arg(long, value_name = "HOST", value_parser = ["127.0.0.1", "localhost"])]
    pub redirect_host: Option<String>,
    /// PEM file of extra CA certificates for a provider behind a private CA
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
    /// Save without fetching discovery (offline setup); checked at login instead
    #[arg(long)]
    pub no_verify: bool,
}

pub fn run(settings: &Settings, args: &SetupIssuerArgs) -> Result<()> {
    let issuer = check_url("--issuer", &args.issuer)?;
    // Issuers are compared byte for byte: keep the caller's exact spelling.
    let issuer = if args.issuer.ends_with('/') {
        args.issuer.clone()
    } else {
        issuer
    };
    crate::config::managed::policy::check_issuer(&settings.profile, &issuer)?;
    if args.client_id.trim().is_empty() {
        return Err(Error::usage("--client-id is empty"));
    }
    let ca_file = super::ca_file_arg(args.ca_file.as_deref())?;
    let secret = if args.client_secret_stdin {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).map_err(|e| {
            Error::failure(format!("cannot read the client secret from stdin: {e}"))
        })?;
        let s = s.trim().to_string();
        if s.is_empty() {
            return Err(Error::usage("--client-secret-stdin read an empty secret"));
        }
        Some(Secret::new(s))
    } else {
        std::env::var(env_vars::KEYLESS_CLIENT_SECRET)
            .ok()
            .filter(|s| !s.is_empty())
            .map(Secret::new)
    };
    let cfg = IssuerConfig {
        issuer,
        client_id: args.client_id.clone(),
        scopes: args.scopes.clone(),
        flow: args.flow,
        assertion: args.assertion,
        audience: args.audience.clone(),
        redirect_port: args.redirect_port,
        redirect_host: args.redirect_host.clone(),
        ca_file,
        confidential: secret.is_some(),
        unknown: Default::default(),
    };
    if !args.no_verify {
        let c = crate::oidc::Client::discover(&cfg, None)?;
        output::note(&format!(
            "Checked {}: token endpoint {}{}",
            cfg.issuer,
            c.disc.token_endpoint,
            if c.disc.device_authorization_endpoint.is_some() {
                ", device sign-in available"
            } else {
                ""
            }
        ));
    }
    let (lock, mut loaded) = crate::config::load_for_update(&settings.config_dir)?;
    if let Some(s) = &secret {
        let store = SecretStore::open(&settings.config_dir)?;
        store.set(&secret_store::client_secret_name(&settings.profile), s)?;
        output::note(&format!("Client secret kept in {}.", store.describe()));
    }
    let profile = loaded
        .file
        .profiles
        .entry(settings.profile.clone())
        .or_default();
    let identities = [
        (
            "anthropic",
            profile
                .anthropic
                .as_mut()
                .map(|c| &mut c.federation.identity),
        ),
        (
            "openai",
            profile.openai.as_mut().map(|c| &mut c.federation.identity),
        ),
    ];
    for (provider, identity) in identities {
        if let Some(identity) = identity
            && *identity == IdentitySource::Env
        {
            *identity = IdentitySource::Login;
            output::note(&format!(
                "{provider} now takes its identity from the sign-in session (keep env with `{}`).",
                settings.command(&format!("setup {provider} --identity env"))
            ));
        }
    }
    // Fields a newer keyless saved under the issuer survive the rewrite.
    let mut cfg = cfg;
    if let Some(old) = profile.issuer.take() {
        cfg.unknown = old.unknown;
    }
    profile.issuer = Some(cfg.clone());
    loaded.save(&lock)?;
    output::note(&format!(
        "Saved issuer {} (client {}) for profile {:?} in {}.\nNext: {}",
        cfg.issuer,
        cfg.client_id,
        settings.profile,
        loaded.path.display(),
        settings.command("login")
    ));
    Ok(())
}
