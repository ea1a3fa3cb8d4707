//! Stage 1, identity sources: where the OIDC JWT that keyless exchanges
//! comes from. One file per source: [`file`], [`env`] (also `env:NAME`),
//! [`command`], [`login`] (the sign-in session), [`client_credentials`],
//! and the platforms' own endpoints, [`github_actions`], [`gcp`],
//! [`azure`], [`buildkite`], [`azure_pipelines`] and [`aws`]; [`auto`] picks one.
//!
//! Each call fetches anew: a file is re-read (it may have rotated), a command
//! is re-run, the session is refreshed. Sources fetch; the claim on the
//! single-use ledger happens in [`crate::acquire`], and the exchange in
//! [`crate::provider`]. One source reads the ledger, never writes it:
//! [`login`] asks whether the session's cached ID token was already spent at
//! this provider, and refreshes instead of offering a spent one.

pub mod auto;
mod auto_probe;
pub mod aws;
pub mod azure;
mod azure_arc;
pub mod azure_pipelines;
pub mod buildkite;
pub mod client_credentials;
pub mod command;
pub mod env;
pub mod file;
pub mod gcp;
pub mod github_actions;
pub mod login;
pub mod platform;

use std::path::PathBuf;

use crate::config::{IdentitySource, IssuerConfig};
use crate::error::{Error, Result};
use crate::provider::{Provider, TokenKind};
use crate::secret::Secret;
use crate::settings::Settings;

/// A JWT fetched from a source, with where it came from.
pub struct IdentityToken {
    pub token: Secret<String>,
    pub origin: Origin,
    pub kind: TokenKind,
}

#[derive(Debug, Clone)]
pub enum Origin {
    File(PathBuf),
    /// The variable that held the JWT.
    EnvValue(String),
    /// A platform's token endpoint, by name (GitHub Actions, Google Cloud).
    Platform(&'static str),
    Command(String),
    /// Minted from the `keyless login` session.
    Session,
    /// From the client-credentials grant.
    ClientCredentials,
}

impl Origin {
    /// "the identity token in /path" — used in every message about it.
    pub fn describe(&self) -> String {
        match self {
            Origin::File(p) => format!("the identity token in {}", p.display()),
            Origin::EnvValue(var) => format!("the identity token in ${var}"),
            Origin::Platform(p) => format!("the identity token from {p}"),
            Origin::Command(p) => format!("the identity token printed by `{p}`"),
            Origin::Session => "the identity token from the sign-in session".to_string(),
            Origin::ClientCredentials => "the token from the client-credentials grant".to_string(),
        }
    }
    /// A source that hands back the same JWT until something outside rotates it.
    pub fn is_static(&self) -> bool {
        matches!(self, Origin::File(_) | Origin::EnvValue(_))
    }
}

/// What a fetch needs besides the source: the provider being served (the
/// `env` source's variables, the ledger's namespace) and, for `login` and
/// `client-credentials`, the profile's issuer.
pub struct Context<'a> {
    pub settings: &'a Settings,
    pub issuer: Option<&'a IssuerConfig>,
    /// May a sign-in start (terminal on stdin and stderr, no --no-login)?
    pub interactive: bool,
    pub provider: Provider,
    /// The audience the provider wants in the JWT, when known: what the
    /// client-credentials grant asks for unless its source names a resource.
    pub audience: Option<&'a str>,
    /// Did the profile (or the environment) name that audience, rather than
    /// the provider's default? Sources that must not guess (Azure) or whose
    /// platform fixes the audience (Azure DevOps) ask.
    pub audience_explicit: bool,
}

fn need_issuer<'a>(ctx: &Context<'a>, what: &str) -> Result<&'a IssuerConfig> {
    ctx.issuer.ok_or_else(|| {
        Error::config(format!(
            "the {what} identity source needs an issuer, and this profile has none"
        ))
        .hint(format!(
            "run `{}`",
            ctx.settings
                .command("setup issuer --issuer URL --client-id ID")
        ))
    })
}

pub fn fetch(source: &IdentitySource, ctx: &Context) -> Result<IdentityToken> {
    match source {
        IdentitySource::Login => login::fresh_jwt(
            ctx.settings,
            need_issuer(ctx, "login")?,
            ctx.interactive,
            ctx.provider,
        ),
        IdentitySource::ClientCredentials { resource, scope } => client_credentials::fetch(
            ctx.settings,
            need_issuer(ctx, "client-credentials")?,
            resource.as_deref().or(ctx.audience),
            scope.as_deref(),
        ),
        IdentitySource::File { path } => file::read(&file::expand_home(path)),
        IdentitySource::Env => env::fetch(ctx.provider),
        IdentitySource::EnvNamed { name } => env::fetch_named(name),
        IdentitySource::GithubActions => github_actions::fetch(ctx.audience),
        IdentitySource::Gcp => gcp::fetch(ctx.audience),
        IdentitySource::Aws => aws::fetch(ctx.audience),
        IdentitySource::Azure => azure::fetch(ctx),
        IdentitySource::Buildkite => buildkite::fetch(ctx.audience),
        IdentitySource::AzurePipelines { service_connection } => {
            azure_pipelines::fetch(ctx, service_connection.as_deref())
        }
        IdentitySource::Auto => auto::fetch(ctx),
        IdentitySource::Command { argv } if argv.is_empty() => Err(Error::config(
            "the profile's identity command is empty",
        )
        .hint(format!(
            "run `{}`",
            ctx.settings.command(&format!(
                "setup {} --identity command:PROGRAM ARGS…",
                ctx.provider.name()
            ))
        ))),
        IdentitySource::Command { argv } => command::run(argv),
    }
}
