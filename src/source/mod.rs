//! Identity sources: where the OIDC JWT that keyless exchanges comes from.
//!
//! Each call fetches anew: a file is re-read (it may have rotated), a command
//! is re-run. Sources only fetch; the single-use and claim checks happen in
//! [`crate::acquire`].

mod command;

use std::path::PathBuf;

use crate::config::IdentitySource;
use crate::env_vars;
use crate::error::{Error, Result};
use crate::jwt::MAX_ASSERTION_BYTES;
use crate::secret::Secret;

/// A JWT fetched from a source, with where it came from.
pub struct IdentityToken {
    pub token: Secret<String>,
    pub origin: Origin,
    pub kind: TokenKind,
}

/// What kind of token a source yields, for token exchanges that ask
/// (OpenAI's `subject_token_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A JWT minted for a workload or as an access token: files, variables,
    /// commands, client credentials, and sessions that exchange access tokens.
    Jwt,
    /// An OIDC ID token: the sign-in session's (the default assertion), or
    /// one a client-credentials grant returned in place of an access token.
    IdToken,
}

#[derive(Debug, Clone)]
pub enum Origin {
    File(PathBuf),
    /// The variable that held the JWT.
    EnvValue(&'static str),
    Command(String),
    /// Minted from the `keyless login` session.
    Session,
    /// From the client-credentials grant.
    ClientCredentials,
}

/// The `env` source's variables, which depend on the provider being served.
#[derive(Debug, Clone, Copy)]
pub struct EnvVars {
    /// A path to a file holding the JWT; wins over `token`.
    pub file: &'static str,
    /// The JWT itself.
    pub token: &'static str,
    /// The provider's name in `keyless setup PROVIDER`.
    pub provider: &'static str,
}

/// As the Anthropic SDKs read them.
pub const ANTHROPIC_ENV: EnvVars = EnvVars {
    file: env_vars::ANTHROPIC_IDENTITY_TOKEN_FILE,
    token: env_vars::ANTHROPIC_IDENTITY_TOKEN,
    provider: "anthropic",
};

/// OpenAI's SDKs read none; see [`env_vars::OPENAI_IDENTITY_TOKEN_FILE`].
pub const OPENAI_ENV: EnvVars = EnvVars {
    file: env_vars::OPENAI_IDENTITY_TOKEN_FILE,
    token: env_vars::OPENAI_IDENTITY_TOKEN,
    provider: "openai",
};

impl Origin {
    /// "the identity token in /path" — used in every message about it.
    pub fn describe(&self) -> String {
        match self {
            Origin::File(p) => format!("the identity token in {}", p.display()),
            Origin::EnvValue(var) => format!("the identity token in ${var}"),
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
/// `env` source's variables) and, for `login` and `client-credentials`, the
/// profile's issuer.
pub struct Context<'a> {
    pub settings: &'a crate::settings::Settings,
    pub issuer: Option<&'a crate::config::IssuerConfig>,
    /// May a sign-in start (terminal on stdin and stderr, no --no-login)?
    pub interactive: bool,
    pub vars: EnvVars,
    /// The audience the provider wants in the JWT, when known: what the
    /// client-credentials grant asks for unless its source names a resource.
    pub audience: Option<&'a str>,
}

fn need_issuer<'a>(ctx: &Context<'a>, what: &str) -> Result<&'a crate::config::IssuerConfig> {
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
        IdentitySource::Login => crate::session::fresh_jwt(
            ctx.settings,
            need_issuer(ctx, "login")?,
            ctx.interactive,
            ctx.vars.provider,
        ),
        IdentitySource::ClientCredentials { resource, scope } => {
            crate::session::client_credentials(
                ctx.settings,
                need_issuer(ctx, "client-credentials")?,
                resource.as_deref().or(ctx.audience),
                scope.as_deref(),
            )
        }
        IdentitySource::File { path } => read_file(&expand_home(path)),
        IdentitySource::Env => from_env(ctx.vars),
        IdentitySource::Command { argv } if argv.is_empty() => Err(Error::config(
            "the profile's identity command is empty",
        )
        .hint(format!(
            "run `{}`",
            ctx.settings.command(&format!(
                "setup {} --identity command:PROGRAM ARGS…",
                ctx.vars.provider
            ))
        ))),
        IdentitySource::Command { argv } => command::run(argv),
    }
}

fn expand_home(path: &str) -> PathBuf {
    if let Some(rest) = path.strip_prefix("~/")
        && let Some(home) = std::env::var_os("HOME")
    {
        return PathBuf::from(home).join(rest);
    }
    PathBuf::from(path)
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn from_env(vars: EnvVars) -> Result<IdentityToken> {
    if let Some(path) = non_empty_env(vars.file) {
        return read_file(&PathBuf::from(path));
    }
    if let Some(token) = non_empty_env(vars.token) {
        return Ok(IdentityToken {
            token: Secret::new(token.trim().to_string()),
            origin: Origin::EnvValue(vars.token),
            kind: TokenKind::Jwt,
        });
    }
    Err(Error::sign_in(format!(
        "no identity token: neither {} nor {} is set",
        vars.file, vars.token
    ))
    .hint(format!(
        "export {}=/path/to/jwt, or choose another source with `keyless setup {} --identity …`",
        vars.file, vars.provider
    )))
}

fn read_file(path: &PathBuf) -> Result<IdentityToken> {
    let meta = std::fs::metadata(path).map_err(|e| {
        let err = Error::io("cannot read the identity token file", path, &e);
        if e.kind() == std::io::ErrorKind::NotFound {
            Error {
                kind: crate::error::Kind::SignIn,
                ..err
            }
            .hint("check that the token is mounted or written at that path")
        } else {
            err
        }
    })?;
    if meta.len() > MAX_ASSERTION_BYTES as u64 {
        return Err(Error::config(format!(
            "the identity token file {} is {} bytes, above the 16 KiB limit",
            path.display(),
            meta.len()
        ))
        .hint("the path may point at a key or certificate rather than the token"));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io("cannot read the identity token file", path, &e))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(Error::sign_in(format!(
            "the identity token file {} is empty",
            path.display()
        ))
        .hint("wait for its writer to fill it, or check the mount"));
    }
    Ok(IdentityToken {
        token: Secret::new(token.to_string()),
        origin: Origin::File(path.clone()),
        kind: TokenKind::Jwt,
    })
}
