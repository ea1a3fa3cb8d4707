//! `auth status` for the ambient sources (`auto`, `azure`, `buildkite`,
//! `azure-pipelines`): what the variables say, without asking any
//! platform, and the audience the federation rule must match.

use super::IdentityState;
use crate::env_vars as ev;
use crate::provider::Provider;
use crate::source::auto::{self, Pick, Want};
use crate::source::{azure, azure_pipelines};

type State<'a> = &'a dyn Fn(bool, Option<String>) -> IdentityState;
type Judge<'a> = &'a dyn Fn(&str, &str) -> IdentityState;
type Get<'a> = ev::Lookup<'a>;

fn set(get: Get, n: &str) -> bool {
    ev::lookup(get, n).is_some()
}

fn with_audience(s: IdentityState, audience: Option<&str>) -> IdentityState {
    IdentityState {
        audience: audience.map(str::to_string),
        ..s
    }
}

/// A JWT file: read and judged (its audience is the token's).
fn file_state(path: &str, judge: Judge, state: State) -> IdentityState {
    let p = std::path::Path::new(path);
    match crate::source::file::read(p) {
        Ok(t) => judge(t.token.expose(), &format!("the token in {path}")),
        Err(e) => state(false, Some(e.message)),
    }
}

pub fn auto_state(
    provider: Provider,
    audience: Option<&str>,
    explicit: bool,
    get: Get,
    state: State,
    judge: Judge,
) -> IdentityState {
    let want = Want {
        provider,
        audience,
        explicit,
    };
    let found = auto::detect(&want, get);
    let reason = Some(found.describe());
    let base = match &found.pick {
        None => state(false, reason),
        Some(Pick::AzurePipelines) => with_audience(
            azure_pipelines_state(audience, explicit, get, state),
            Some(azure_pipelines::AUDIENCE),
        ),
        Some(Pick::AzureFile(p)) => file_state(p, judge, state),
        Some(Pick::TokenVar(var)) => match get(var) {
            Some(t) => judge(t.trim(), &format!("the token in ${var}")),
            None => state(false, reason.clone()),
        },
        Some(Pick::Azure(_)) if !explicit => with_audience(
            state(
                false,
                Some(format!(
                    "{}; the azure source needs `--audience api://<app-id>`",
                    found.describe()
                )),
            ),
            None,
        ),
        Some(p) => state(p.usable(), reason.clone()),
    };
    let reason = match (&found.pick, &base.reason) {
        (Some(Pick::AzureFile(_) | Pick::TokenVar(_)), Some(r)) => {
            Some(format!("{}; {r}", found.describe()))
        }
        (Some(Pick::AzureFile(_) | Pick::TokenVar(_)), None) => Some(found.describe()),
        (_, r) => r.clone(),
    };
    IdentityState {
        reason,
        skipped: found.skipped,
        ..base
    }
}

pub fn azure_state(
    explicit_audience: Option<&str>,
    get: Get,
    state: State,
    judge: Judge,
) -> IdentityState {
    let kind = azure::Kind::detect(get);
    if let azure::Kind::WorkloadIdentity(path) = &kind {
        let s = file_state(path, judge, state);
        let reason = Some(match &s.reason {
            Some(r) => format!("{}: {r}", kind.describe()),
            None => kind.describe().to_string(),
        });
        return IdentityState { reason, ..s };
    }
    match explicit_audience {
        None => with_audience(
            state(
                false,
                Some(format!(
                    "{}: the resource to ask for is not named; set it with `--audience api://<app-id>`",
                    kind.describe()
                )),
            ),
            None,
        ),
        Some(a) => with_audience(
            state(
                true,
                Some(format!(
                    "{} (not requested without --check)",
                    kind.describe()
                )),
            ),
            Some(a),
        ),
    }
}

pub fn buildkite_state(get: Get, state: State) -> IdentityState {
    if set(get, ev::BUILDKITE_AGENT_ACCESS_TOKEN) && set(get, ev::BUILDKITE_JOB_ID) {
        state(
            true,
            Some("the Buildkite agent's OIDC endpoint (not requested without --check)".into()),
        )
    } else {
        state(
            false,
            Some(format!(
                "{} and {} are not set (not a Buildkite job)",
                ev::BUILDKITE_AGENT_ACCESS_TOKEN,
                ev::BUILDKITE_JOB_ID
            )),
        )
    }
}

/// Azure DevOps fixes the audience: that is what the rule must match.
pub fn azure_pipelines_state(
    audience: Option<&str>,
    explicit: bool,
    get: Get,
    state: State,
) -> IdentityState {
    let fixed = Some(azure_pipelines::AUDIENCE);
    if let Some(a) = audience.filter(|a| explicit && *a != azure_pipelines::AUDIENCE) {
        return with_audience(
            state(
                false,
                Some(format!(
                    "Azure DevOps tokens are always for audience {}, but the profile records {a}",
                    azure_pipelines::AUDIENCE
                )),
            ),
            fixed,
        );
    }
    let s = if !set(get, ev::SYSTEM_OIDCREQUESTURI) {
        state(
            false,
            Some(format!(
                "{} is not set (not an Azure Pipelines job)",
                ev::SYSTEM_OIDCREQUESTURI
            )),
        )
    } else if !set(get, ev::SYSTEM_ACCESSTOKEN) {
        state(
            false,
            Some(format!(
                "{} is not set: map it into the step (`env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)`)",
                ev::SYSTEM_ACCESSTOKEN
            )),
        )
    } else {
        state(
            true,
            Some("Azure DevOps' OIDC endpoint (not requested without --check)".into()),
        )
    };
    with_audience(s, fixed)
}
