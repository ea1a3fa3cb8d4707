//! The `auto` source: detect the identity source from the environment, in
//! a documented order, and say why each other one was skipped.
//!
//! 1. the provider's own variables (`ANTHROPIC_IDENTITY_TOKEN_FILE`, then
//!    `ANTHROPIC_IDENTITY_TOKEN`; OpenAI's pair likewise);
//! 2. CI request endpoints: GitHub Actions (in a GitHub job without the
//!    request variables it stops with the `id-token: write` hint rather than
//!    falling through), Azure DevOps (`SYSTEM_OIDCREQUESTURI`), Buildkite
//!    (`BUILDKITE_AGENT_ACCESS_TOKEN` and `BUILDKITE_JOB_ID`);
//! 3. CI token variables whose `aud` fits the audience: HCP Terraform
//!    (`TFC_WORKLOAD_IDENTITY_TOKEN`), Bitbucket (`BITBUCKET_STEP_OIDC_TOKEN`),
//!    CircleCI (`CIRCLE_OIDC_TOKEN_V2`); GitLab's are named by the job, so
//!    they need `env:NAME`;
//! 4. token files whose `aud` fits: `AZURE_FEDERATED_TOKEN_FILE`;
//! 5. platform endpoints the environment names: Azure App Service
//!    (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`), Azure Arc
//!    (`IDENTITY_ENDPOINT` + `IMDS_ENDPOINT`), Google (`GCE_METADATA_HOST`);
//! 6. last, only when no variable decided: network probes, at once and
//!    for at most a second, of Google's metadata server (200 with
//!    `Metadata-Flavor: Google`) and Azure IMDS (only with an audience
//!    named); `KEYLESS_NO_METADATA_PROBE=true` skips both, `NO_GCE_CHECK=true`
//!    Google's.
//!
//! `auto` never picks a source that must be chosen (`aws`, `command:`,
//! `login`, `client-credentials`). [`detect`] reads only variables and
//! files, so `auth status` and tests ask it; [`fetch`] probes after it.

use super::{Context, IdentityToken, auto_probe, azure, azure_pipelines, buildkite, env, file};
use super::{gcp, github_actions};
use crate::env_vars as ev;
use crate::error::{Error, Result};
use crate::provider::Provider;

/// What detection picked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// The provider's own variables.
    Env(&'static str),
    GithubActions,
    /// A GitHub job that was not given `id-token: write`.
    GithubWithoutPermission,
    AzurePipelines,
    Buildkite,
    /// A CI variable holding a JWT whose audience fits.
    TokenVar(&'static str),
    /// `AZURE_FEDERATED_TOKEN_FILE`, whose audience fits.
    AzureFile(String),
    Azure(azure::Kind),
    /// Google's metadata server; at this host:port when a probe found it.
    Gcp(Option<String>),
}

/// The outcome: the pick (None: no variable decided) and, in order, every
/// source passed over with why.
pub struct Detected {
    pub pick: Option<Pick>,
    pub skipped: Vec<String>,
    /// No variable decided and probes are allowed: which ones would run.
    pub probes: auto_probe::Probes,
}

/// What detection needs to know about the exchange.
pub struct Want<'a> {
    pub provider: Provider,
    /// The audience the JWT must carry, when known (the default included).
    pub audience: Option<&'a str>,
    /// Whether the profile or environment named it (Azure IMDS needs that).
    pub explicit: bool,
}

/// Detect with `get` (one variable; blank counts as unset).
pub fn detect(want: &Want, get: &dyn Fn(&str) -> Option<String>) -> Detected {
    let mut skipped = Vec::new();
    let pick = pick(want, get, &mut skipped);
    let probes = match pick {
        Some(_) => auto_probe::Probes::default(),
        None => auto_probe::Probes::plan(want.explicit, get, &mut skipped),
    };
    Detected {
        pick,
        skipped,
        probes,
    }
}

fn pick(
    want: &Want,
    get: &dyn Fn(&str) -> Option<String>,
    skipped: &mut Vec<String>,
) -> Option<Pick> {
    let val = |n: &str| crate::env_vars::lookup(get, n);
    let set = |n: &str| val(n).is_some();
    let vars = want.provider.identity_vars();
    if set(vars.file) {
        return Some(Pick::Env(vars.file));
    }
    if set(vars.token) {
        return Some(Pick::Env(vars.token));
    }
    let title = want.provider.title();
    skipped.push(format!(
        "{title}: {} and {} are unset",
        vars.file, vars.token
    ));
    if set(ev::ACTIONS_ID_TOKEN_REQUEST_URL) && set(ev::ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
        return Some(Pick::GithubActions);
    }
    if get(ev::GITHUB_ACTIONS).as_deref() == Some("true") {
        return Some(Pick::GithubWithoutPermission);
    }
    skipped.push(format!(
        "GitHub Actions: not a GitHub job ({} and {} are unset)",
        ev::ACTIONS_ID_TOKEN_REQUEST_URL,
        ev::ACTIONS_ID_TOKEN_REQUEST_TOKEN
    ));
    if set(ev::SYSTEM_OIDCREQUESTURI) {
        return Some(Pick::AzurePipelines);
    }
    skipped.push(if set(ev::TF_BUILD) {
        format!(
            "Azure DevOps: a pipeline job, but {} is not in its environment",
            ev::SYSTEM_OIDCREQUESTURI
        )
    } else {
        format!("Azure DevOps: {} is unset", ev::SYSTEM_OIDCREQUESTURI)
    });
    if set(ev::BUILDKITE_AGENT_ACCESS_TOKEN) && set(ev::BUILDKITE_JOB_ID) {
        return Some(Pick::Buildkite);
    }
    skipped.push(if set(ev::BUILDKITE) {
        format!(
            "Buildkite: a Buildkite job, but {} or {} is not in its environment",
            ev::BUILDKITE_AGENT_ACCESS_TOKEN,
            ev::BUILDKITE_JOB_ID
        )
    } else {
        format!("Buildkite: {} is unset", ev::BUILDKITE_AGENT_ACCESS_TOKEN)
    });
    for (var, platform) in [
        (ev::TFC_WORKLOAD_IDENTITY_TOKEN, "HCP Terraform"),
        (ev::BITBUCKET_STEP_OIDC_TOKEN, "Bitbucket Pipelines"),
        (ev::CIRCLE_OIDC_TOKEN_V2, "CircleCI"),
    ] {
        match val(var) {
            None => skipped.push(format!("{platform}: {var} is unset")),
            Some(t) => match misfit(want.audience, t.trim(), &format!("${var}")) {
                None => return Some(Pick::TokenVar(var)),
                Some(why) => skipped.push(format!("{platform}: {why}")),
            },
        }
    }
    skipped.push(if set(ev::GITLAB_CI) {
        "GitLab CI: a GitLab job; its `id_tokens:` variable is named by the job, so choose it with --identity env:NAME".into()
    } else {
        format!("GitLab CI: {} is unset", ev::GITLAB_CI)
    });
    match val(ev::AZURE_FEDERATED_TOKEN_FILE) {
        None => skipped.push(format!(
            "AKS workload identity: {} is unset",
            ev::AZURE_FEDERATED_TOKEN_FILE
        )),
        Some(path) => {
            let path = path.trim().to_string();
            let why = match file::read(std::path::Path::new(&path)) {
                Err(e) => Some(e.message),
                Ok(t) => misfit(want.audience, t.token.expose(), &t.origin.describe()),
            };
            match why {
                None => return Some(Pick::AzureFile(path)),
                Some(why) => skipped.push(format!("AKS workload identity: {why}")),
            }
        }
    }
    match azure::Kind::detect(&|n| {
        if n == ev::AZURE_FEDERATED_TOKEN_FILE {
            None
        } else {
            get(n)
        }
    }) {
        azure::Kind::Imds => skipped.push(format!(
            "Azure App Service and Arc: {} is unset",
            ev::IDENTITY_ENDPOINT
        )),
        kind => return Some(Pick::Azure(kind)),
    }
    if set(ev::GCE_METADATA_HOST) {
        return Some(Pick::Gcp(None));
    }
    skipped.push(format!("Google Cloud: {} is unset", ev::GCE_METADATA_HOST));
    None
}

/// Why the JWT `token` does not fit `audience` (None: it fits, or no
/// audience is known to compare with).
fn misfit(audience: Option<&str>, token: &str, what: &str) -> Option<String> {
    let claims = match crate::jwt::inspect(token, what) {
        Ok(c) => c,
        Err(e) => return Some(e.message),
    };
    let want = audience?;
    if claims.aud.iter().any(|a| a == want) {
        return None;
    }
    Some(format!(
        "{what} is for audience {}, not {want}",
        crate::redact::terminal(&claims.aud.join(", "))
    ))
}

impl Pick {
    pub fn describe(&self) -> String {
        match self {
            Pick::Env(var) => format!("auto: using {var}"),
            Pick::GithubActions => "auto: using GitHub Actions' OIDC endpoint".into(),
            Pick::GithubWithoutPermission => {
                "auto: a GitHub Actions job without `permissions: id-token: write`".into()
            }
            Pick::AzurePipelines => "auto: using Azure DevOps' OIDC endpoint".into(),
            Pick::Buildkite => "auto: using the Buildkite agent's OIDC endpoint".into(),
            Pick::TokenVar(var) => format!("auto: using {var}"),
            Pick::AzureFile(p) => format!("auto: using the AKS workload identity token in {p}"),
            Pick::Azure(kind) => format!("auto: using {}", kind.describe()),
            Pick::Gcp(_) => "auto: using the GCP metadata server".into(),
        }
    }

    /// Can it give a JWT, as far as variables tell?
    pub fn usable(&self) -> bool {
        !matches!(self, Pick::GithubWithoutPermission)
    }
}

impl Detected {
    /// How `-v` and `auth status` name the outcome.
    pub fn describe(&self) -> String {
        match &self.pick {
            Some(p) => p.describe(),
            None if self.probes.any() => format!(
                "auto: no variable decided; `credential` probes {}",
                self.probes.describe()
            ),
            None => "auto: no identity source was found".into(),
        }
    }
}

pub fn fetch(ctx: &Context) -> Result<IdentityToken> {
    let want = Want {
        provider: ctx.provider,
        audience: ctx.audience,
        explicit: ctx.audience_explicit,
    };
    let get = |n: &str| std::env::var(n).ok();
    let mut found = detect(&want, &get);
    if found.pick.is_none() && found.probes.any() {
        found.pick = found.probes.run(&mut found.skipped);
    }
    let Some(pick) = found.pick else {
        let mut e = Error::sign_in("no identity source was found here; considered, in order:");
        for s in &found.skipped {
            e = e.detail(format!("- {s}"));
        }
        return Err(e.hint(format!(
            "set {} (any --identity value), or choose the source with `keyless setup {} --identity …`",
            ev::KEYLESS_IDENTITY,
            ctx.provider.name()
        )));
    };
    crate::output::info(&pick.describe());
    for s in &found.skipped {
        crate::output::info(&format!("auto: skipped {s}"));
    }
    match pick {
        Pick::Env(_) => env::fetch(ctx.provider),
        Pick::GithubActions | Pick::GithubWithoutPermission => github_actions::fetch(ctx.audience),
        Pick::AzurePipelines => azure_pipelines::fetch(ctx, None),
        Pick::Buildkite => buildkite::fetch(ctx.audience),
        Pick::TokenVar(var) => env::fetch_named(var),
        Pick::AzureFile(path) => file::read(std::path::Path::new(&path)),
        Pick::Azure(kind) => azure::fetch_kind(ctx, kind),
        Pick::Gcp(host) => gcp::fetch_from(ctx.audience, host),
    }
}

#[cfg(test)]
#[path = "auto_tests.rs"]
mod tests;
