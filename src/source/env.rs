//! The `env` source: a provider's pair of variables
//! ([`crate::provider::Provider::identity_vars`]), the file variable first,
//! as the Anthropic SDKs read theirs. `auth status` asks [`locate`] the same
//! question with its own view of the environment, so both always agree on
//! which variables count.

use std::path::PathBuf;

use super::{IdentityToken, Origin};
use crate::error::{Error, Result};
use crate::provider::{IdentityVars, Provider, TokenKind};
use crate::secret::Secret;

/// Where the `env` source finds the JWT.
pub enum Located {
    /// The file variable names this path.
    File(PathBuf),
    /// The token variable (named) holds the JWT itself, trimmed.
    Value(&'static str, Secret<String>),
    /// Neither variable is set to anything but blanks.
    Neither,
}

/// Look `vars` up with `get`; a blank value counts as unset.
pub fn locate(vars: IdentityVars, get: &dyn Fn(&str) -> Option<String>) -> Located {
    let non_empty = |name: &str| crate::env_vars::lookup(get, name);
    if let Some(path) = non_empty(vars.file) {
        return Located::File(PathBuf::from(path));
    }
    if let Some(token) = non_empty(vars.token) {
        return Located::Value(vars.token, Secret::new(token.trim().to_string()));
    }
    Located::Neither
}

/// "neither X nor Y is set", in every message about an empty environment.
pub fn neither_set(vars: IdentityVars) -> String {
    format!("neither {} nor {} is set", vars.file, vars.token)
}

pub fn fetch(provider: Provider) -> Result<IdentityToken> {
    let vars = provider.identity_vars();
    match locate(vars, &|n| std::env::var(n).ok()) {
        Located::File(path) => super::file::read(&path),
        Located::Value(var, token) => Ok(IdentityToken {
            token,
            origin: Origin::EnvValue(var.to_string()),
            kind: TokenKind::Jwt,
        }),
        Located::Neither => Err(Error::sign_in(format!(
            "no identity token: {}",
            neither_set(vars)
        ))
        .hint(format!(
            "export {}=/path/to/jwt, or choose another source with `keyless setup {} --identity …`",
            vars.file,
            provider.name()
        ))),
    }
}

/// The `env:NAME` source: the JWT in the variable `name` (GitLab CI's
/// `id_tokens`, CircleCI, Bitbucket Pipelines, HCP Terraform), re-read per
/// exchange.
pub fn fetch_named(name: &str) -> Result<IdentityToken> {
    match crate::env_vars::var(name) {
        Some(v) => Ok(IdentityToken {
            token: Secret::new(v.trim().to_string()),
            origin: Origin::EnvValue(name.to_string()),
            kind: TokenKind::Jwt,
        }),
        None => Err(
            Error::sign_in(format!("no identity token: {name} is not set")).hint(format!(
                "export the JWT as {name} (GitLab CI: an `id_tokens:` entry named {name})"
            )),
        ),
    }
}
