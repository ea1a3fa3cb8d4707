//! The `auto` source: detect the identity source from the environment, in
//! a documented order, and say why each other one was skipped.
//!
//! 1. the provider's own variables (`ANTHROPIC_IDENTITY_TOKEN_FILE`, then
//!    `ANTHROPIC_IDENTITY_TOKEN`; OpenAI's pair likewise);
//! 2. GitHub Actions' request variables; in a GitHub job without them it
//!    stops with the `id-token: write` hint rather than falling through;
//! 3. Google's metadata server when `GCE_METADATA_HOST` names it.
//!
//! Detection reads only variables: it never makes a network probe, so a
//! variable always decides. `auto` never picks a source that must be
//! chosen (`command:`, `login`, `client-credentials`).

use super::{Context, IdentityToken, env, gcp, github_actions};
use crate::env_vars;
use crate::error::{Error, Result};
use crate::provider::Provider;

/// What detection found.
pub enum Detected {
    /// The provider's own variables.
    Env(&'static str),
    GithubActions,
    Gcp,
    /// A GitHub job that was not given `id-token: write`.
    GithubWithoutPermission,
    /// Nothing: each source considered, with why it was skipped.
    Nothing(Vec<String>),
}

/// Detect with `get` (one variable; blank counts as unset).
pub fn detect(provider: Provider, get: &dyn Fn(&str) -> Option<String>) -> Detected {
    let set = |n: &str| get(n).is_some_and(|v| !v.trim().is_empty());
    let vars = provider.identity_vars();
    if set(vars.file) {
        return Detected::Env(vars.file);
    }
    if set(vars.token) {
        return Detected::Env(vars.token);
    }
    let mut skipped = vec![format!(
        "{}: {} and {} are unset",
        provider.title(),
        vars.file,
        vars.token
    )];
    if set(env_vars::ACTIONS_ID_TOKEN_REQUEST_URL) && set(env_vars::ACTIONS_ID_TOKEN_REQUEST_TOKEN)
    {
        return Detected::GithubActions;
    }
    if get(env_vars::GITHUB_ACTIONS).as_deref() == Some("true") {
        return Detected::GithubWithoutPermission;
    }
    skipped.push(format!(
        "GitHub Actions: not a GitHub job ({} and {} are unset)",
        env_vars::ACTIONS_ID_TOKEN_REQUEST_URL,
        env_vars::ACTIONS_ID_TOKEN_REQUEST_TOKEN
    ));
    if set(env_vars::GCE_METADATA_HOST) {
        return Detected::Gcp;
    }
    skipped.push(format!(
        "Google Cloud: {} is unset (keyless does not probe the metadata server; choose --identity gcp on Google Cloud)",
        env_vars::GCE_METADATA_HOST
    ));
    Detected::Nothing(skipped)
}

impl Detected {
    /// How `-v` and `auth status` name the pick.
    pub fn describe(&self) -> String {
        match self {
            Detected::Env(var) => format!("auto: using {var}"),
            Detected::GithubActions => "auto: using GitHub Actions' OIDC endpoint".into(),
            Detected::Gcp => "auto: using the GCP metadata server".into(),
            Detected::GithubWithoutPermission => {
                "auto: a GitHub Actions job without `permissions: id-token: write`".into()
            }
            Detected::Nothing(_) => "auto: no identity source was found".into(),
        }
    }
}

pub fn fetch(ctx: &Context) -> Result<IdentityToken> {
    let found = detect(ctx.provider, &|n| std::env::var(n).ok());
    crate::output::info(&found.describe());
    match found {
        Detected::Env(_) => env::fetch(ctx.provider),
        Detected::GithubActions | Detected::GithubWithoutPermission => {
            github_actions::fetch(ctx.audience)
        }
        Detected::Gcp => gcp::fetch(ctx.audience),
        Detected::Nothing(skipped) => {
            let mut e = Error::sign_in("no identity source was found here; considered, in order:");
            for s in skipped {
                e = e.detail(format!("- {s}"));
            }
            Err(e.hint(format!(
                "set {} (any --identity value), or choose the source with `keyless setup {} --identity …`",
                env_vars::KEYLESS_IDENTITY,
                ctx.provider.name()
            )))
        }
    }
}
