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
}

#[derive(Debug, Clone)]
pub enum Origin {
    File(PathBuf),
    EnvValue,
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
            Origin::EnvValue => format!(
                "the identity token in ${}",
                env_vars::ANTHROPIC_IDENTITY_TOKEN
            ),
            Origin::Command(p) => format!("the identity token printed by `{p}`"),
            Origin::Session => "the identity token from the sign-in session".to_string(),
            Origin::ClientCredentials => "the token from the client-credentials grant".to_string(),
        }
    }
    /// A source that hands back the same JWT until something outside rotates it.
    pub fn is_static(&self) -> bool {
        matches!(self, Origin::File(_) | Origin::EnvValue)
    }
}

/// What sources beyond files, variables and commands need.
pub struct Context<'a> {
    pub settings: &'a crate::settings::Settings,
    pub issuer: Option<&'a crate::config::IssuerConfig>,
    /// May a sign-in start (terminal on stdin and stderr, no --no-login)?
    pub interactive: bool,
}

fn need_issuer<'a>(ctx: &Context<'a>, what: &str) -> Result<&'a crate::config::IssuerConfig> {
    ctx.issuer.ok_or_else(|| {
        Error::config(format!(
            "the {what} identity source needs an issuer, and this profile has none"
        ))
        .hint("run `keyless setup issuer --issuer URL --client-id ID`")
    })
}

pub fn fetch(source: &IdentitySource, ctx: &Context) -> Result<IdentityToken> {
    match source {
        IdentitySource::Login => {
            crate::session::fresh_jwt(ctx.settings, need_issuer(ctx, "login")?, ctx.interactive)
        }
        IdentitySource::ClientCredentials { resource, scope } => {
            crate::session::client_credentials(
                ctx.settings,
                need_issuer(ctx, "client-credentials")?,
                resource.as_deref(),
                scope.as_deref(),
            )
        }
        IdentitySource::File { path } => read_file(&expand_home(path)),
        IdentitySource::Env => from_env(),
        IdentitySource::Command { argv } if argv.is_empty() => {
            Err(Error::config("the profile's identity command is empty")
                .hint("run `keyless setup anthropic --identity command:PROGRAM ARGS…`"))
        }
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

fn from_env() -> Result<IdentityToken> {
    if let Some(path) = non_empty_env(env_vars::ANTHROPIC_IDENTITY_TOKEN_FILE) {
        return read_file(&PathBuf::from(path));
    }
    if let Some(token) = non_empty_env(env_vars::ANTHROPIC_IDENTITY_TOKEN) {
        return Ok(IdentityToken {
            token: Secret::new(token.trim().to_string()),
            origin: Origin::EnvValue,
        });
    }
    Err(Error::sign_in(format!(
        "no identity token: neither {} nor {} is set",
        env_vars::ANTHROPIC_IDENTITY_TOKEN_FILE,
        env_vars::ANTHROPIC_IDENTITY_TOKEN
    ))
    .hint(format!(
        "export {}=/path/to/jwt, or choose another source with `keyless setup anthropic --identity …`",
        env_vars::ANTHROPIC_IDENTITY_TOKEN_FILE
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
    })
}
