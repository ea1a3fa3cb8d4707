//! Loopback stand-ins for the platforms' own identity-token endpoints, on the
//! sandbox's server: GitHub Actions' OIDC request URL, Google's metadata
//! server, Azure IMDS and App Service, Buildkite's agent OIDC API and Azure
//! DevOps' `SYSTEM_OIDCREQUESTURI` (AWS STS is `super::sts`); and the JWTs
//! GitLab CI and Kubernetes hand a job outright ([`handed`]).
//!
//! Each answers in its platform's wire format, refuses what its platform
//! refuses (a missing header, a wrong request token), and mints JWTs signed
//! by the sandbox issuer in the platform's claim shapes with the audience
//! asked for. `iss` is the sandbox's own URL (the real one is the platform's
//! issuer): the sandbox trusts only keys it can fetch, and its default rules
//! ([`rules`]) accept what these stand-ins mint, one rule per platform, as a
//! real organisation writes one rule per platform.

mod azure;
mod azure_devops;
mod buildkite;
mod gcp;
mod github;
pub mod handed;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::State;
use super::rules::{ANTHROPIC_AUDIENCE, Match, Rule, SANDBOX_ORG, SANDBOX_SA, SANDBOX_WORKSPACE};
use crate::env_vars as ev;

/// The request tokens the stand-ins expect: fresh per run, printed only by
/// `keyless sandbox --print-env`.
pub struct Secrets {
    pub github_request_token: String,
    pub identity_header: String,
    pub buildkite_agent_token: String,
    pub azure_devops_access_token: String,
}

impl Secrets {
    pub fn generate() -> Self {
        Secrets {
            github_request_token: super::new_id("ghs_sandbox"),
            identity_header: super::new_id(""),
            buildkite_agent_token: super::new_id("bkua_sandbox"),
            azure_devops_access_token: super::new_id("ado_sandbox"),
        }
    }
}

/// Where each stand-in listens.
pub const GITHUB_PATH: &str = "/_platforms/github/idtoken";
/// The same for a repository created after 2026-07-15 (immutable `sub`).
pub const GITHUB_IMMUTABLE_PATH: &str = "/_platforms/github-immutable/idtoken";
pub const GCP_IDENTITY_PATH: &str =
    "/computeMetadata/v1/instance/service-accounts/default/identity";
pub const GCP_ACCOUNT_PATH: &str = "/computeMetadata/v1/instance/service-accounts/default/";
pub const AZURE_IMDS_PATH: &str = "/metadata/identity/oauth2/token";
pub const APP_SERVICE_PATH: &str = "/_platforms/app-service/msi/token";
pub const BUILDKITE_BASE: &str = "/_platforms/buildkite/v3";
pub const AZURE_DEVOPS_PATH: &str = "/_platforms/azure-devops/oidctoken";

/// The stand-ins' routes, merged into the sandbox's router.
pub fn routes() -> Router<Arc<State>> {
    Router::new()
        .route(GITHUB_PATH, get(github::token))
        .route(GITHUB_IMMUTABLE_PATH, get(github::token_immutable))
        .route("/", get(gcp::ping))
        .route("/computeMetadata/v1/", get(gcp::ping))
        .route(GCP_IDENTITY_PATH, get(gcp::identity))
        .route(GCP_ACCOUNT_PATH, get(gcp::account))
        .route(AZURE_IMDS_PATH, get(azure::imds))
        .route(APP_SERVICE_PATH, get(azure::app_service))
        .route(
            &format!("{BUILDKITE_BASE}/jobs/{{job}}/oidc/tokens"),
            post(buildkite::token),
        )
        .route(AZURE_DEVOPS_PATH, post(azure_devops::token))
}

/// Sign `claims` with the sandbox issuer, adding `iss`, `iat`, `nbf` and
/// `exp` (`lifetime` seconds from now).
fn mint(st: &State, mut claims: Value, lifetime: i64) -> String {
    let now = crate::clock::now();
    claims["iss"] = json!(st.url);
    claims["iat"] = json!(now);
    if claims.get("nbf").is_none() {
        claims["nbf"] = json!(now);
    }
    claims["exp"] = json!(now + lifetime);
    st.key.sign(&claims)
}

/// A header's value, if it is text.
fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// Constant-time enough for a loopback stand-in: compare digests.
fn same_secret(got: Option<&str>, want: &str) -> bool {
    got.is_some_and(|g| crate::digest::sha256_hex(g) == crate::digest::sha256_hex(want))
}

fn json_reply(status: StatusCode, v: Value) -> Response {
    (status, axum::Json(v)).into_response()
}

/// Say on the sandbox's stderr why a stand-in refused, as the denials do.
fn refused(platform: &str, why: &str) {
    crate::output::server_log(&format!(
        "sandbox: {platform} stand-in refused a request: {why}"
    ));
}

// --- who the stand-ins say the workload is ---
pub const GITHUB_OWNER: &str = "keyless-sandbox";
pub const GITHUB_REPO: &str = "keyless-sandbox/demo";
pub const GITHUB_SUBJECT: &str = "repo:keyless-sandbox/demo:ref:refs/heads/main";
/// GitHub's immutable form, for repositories created after 2026-07-15.
pub const GITHUB_IMMUTABLE_SUBJECT: &str =
    "repo:keyless-sandbox@190011111/demo@870022222:ref:refs/heads/main";
pub const GCP_SA_ID: &str = "104729384756102938475";
pub const GCP_SA_EMAIL: &str = "keyless-sandbox@keyless-sandbox.iam.gserviceaccount.com";
pub const AZURE_TENANT: &str = "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b";
pub const AZURE_OBJECT_ID: &str = "2d3e4f50-6172-4834-95a6-b7c8d9e0f1a2";
pub const AZURE_CLIENT_ID: &str = "8e9f0a1b-2c3d-4e5f-a617-28394a5b6c7d";
/// The App ID URI of the app registration the sandbox's Azure rule trusts.
pub const AZURE_APP_ID_URI: &str = "api://7f3c9a1e-2b4d-4c6e-8a0f-1d2e3f4a5b6c";
pub const BUILDKITE_ORG: &str = "keyless-sandbox";
pub const BUILDKITE_JOB: &str = "0190a1b2-c3d4-4e5f-8a9b-0c1d2e3f4a5b";
pub const AZURE_DEVOPS_ORG: &str = "keyless-sandbox";
pub const AZURE_DEVOPS_CONNECTION_ID: &str = "3c4d5e6f-7081-4923-a4b5-c6d7e8f90a1b";
/// Azure DevOps fixes the audience of its OIDC tokens.
pub const AZURE_DEVOPS_AUDIENCE: &str = "api://AzureADTokenExchange";
/// The AWS stand-in's test credentials: the ones `super::sts` verifies with.
pub use super::sts::{
    ACCESS_KEY_ID as AWS_ACCESS_KEY_ID, REGION as AWS_REGION,
    SECRET_ACCESS_KEY as AWS_SECRET_ACCESS_KEY,
};

/// The platforms `--print-env` and `demo --ci` know, and each one's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Platform {
    GithubActions,
    /// GitHub Actions in a repository created after 2026-07-15.
    GithubActionsImmutable,
    Gcp,
    Azure,
    AzureAppService,
    Buildkite,
    AzurePipelines,
    Aws,
    /// GitLab CI: the job's `id_tokens:` variable.
    Gitlab,
    /// A Kubernetes pod's projected service-account token file.
    Kubernetes,
}

impl Platform {
    pub const ALL: [Platform; 10] = [
        Platform::GithubActions,
        Platform::GithubActionsImmutable,
        Platform::Gcp,
        Platform::Azure,
        Platform::AzureAppService,
        Platform::Buildkite,
        Platform::AzurePipelines,
        Platform::Aws,
        Platform::Gitlab,
        Platform::Kubernetes,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Platform::GithubActions => "GitHub Actions",
            Platform::GithubActionsImmutable => {
                "GitHub Actions (a repository created after 2026-07-15)"
            }
            Platform::Gcp => "Google Cloud (metadata server)",
            Platform::Azure => "Azure VM (IMDS)",
            Platform::AzureAppService => "Azure App Service",
            Platform::Buildkite => "Buildkite",
            Platform::AzurePipelines => "Azure Pipelines",
            Platform::Aws => "AWS (STS GetWebIdentityToken)",
            Platform::Gitlab => "GitLab CI (id_tokens)",
            Platform::Kubernetes => "Kubernetes (projected service-account token)",
        }
    }

    /// The federation rule of the sandbox's defaults that accepts its JWTs.
    pub fn rule_id(self) -> &'static str {
        match self {
            Platform::GithubActions => "fdrl_01sandboxgithub",
            Platform::GithubActionsImmutable => "fdrl_01sandboxgithubimmutable",
            Platform::Gcp => "fdrl_01sandboxgcp",
            Platform::Azure | Platform::AzureAppService => "fdrl_01sandboxazure",
            Platform::Buildkite => "fdrl_01sandboxbuildkite",
            Platform::AzurePipelines => "fdrl_01sandboxazpipelines",
            Platform::Aws => "fdrl_01sandboxaws",
            Platform::Gitlab => "fdrl_01sandboxgitlab",
            Platform::Kubernetes => "fdrl_01sandboxkubernetes",
        }
    }

    /// The audience the rule matches (and the source must ask for).
    pub fn audience(self) -> &'static str {
        match self {
            Platform::Azure | Platform::AzureAppService => AZURE_APP_ID_URI,
            Platform::AzurePipelines => AZURE_DEVOPS_AUDIENCE,
            _ => ANTHROPIC_AUDIENCE,
        }
    }

    /// What the rule matches: a `subject_prefix`, or exact claims.
    fn matcher(self) -> Match {
        let prefix = |p: &str| Match {
            subject_prefix: Some(p.into()),
            audience: Some(self.audience().into()),
            claims: Default::default(),
        };
        match self {
            Platform::GithubActions => Match {
                claims: [("repository_owner".to_string(), GITHUB_OWNER.to_string())].into(),
                ..prefix(GITHUB_SUBJECT)
            },
            Platform::GithubActionsImmutable => Match {
                claims: [("repository_owner".to_string(), GITHUB_OWNER.to_string())].into(),
                ..prefix(GITHUB_IMMUTABLE_SUBJECT)
            },
            // Google's issuer is shared: pin sub and email, never a prefix.
            Platform::Gcp => Match {
                claims: [("email".to_string(), GCP_SA_EMAIL.to_string())].into(),
                ..prefix(GCP_SA_ID)
            },
            Platform::Azure | Platform::AzureAppService => Match {
                claims: [("tid".to_string(), AZURE_TENANT.to_string())].into(),
                ..prefix(AZURE_OBJECT_ID)
            },
            Platform::Buildkite => Match {
                claims: [("organization_slug".to_string(), BUILDKITE_ORG.to_string())].into(),
                ..prefix(&format!("organization:{BUILDKITE_ORG}:pipeline:demo:*"))
            },
            Platform::AzurePipelines => prefix(&format!("sc://{AZURE_DEVOPS_ORG}/demo/*")),
            Platform::Aws => prefix("arn:aws:iam::*"),
            // Forks share the path's shape: pin the project's ID too.
            Platform::Gitlab => Match {
                claims: [(
                    "project_id".to_string(),
                    handed::GITLAB_PROJECT_ID.to_string(),
                )]
                .into(),
                ..prefix(handed::GITLAB_SUBJECT)
            },
            Platform::Kubernetes => prefix(handed::KUBERNETES_SUBJECT),
        }
    }

    /// The shell assignments that point a job's tools at the stand-in. A
    /// platform that hands the job a file (Kubernetes) gets it written in
    /// `scratch`, which must outlive the job.
    pub fn env(
        self,
        st: &State,
        scratch: &std::path::Path,
    ) -> std::io::Result<Vec<(&'static str, String)>> {
        let url = &st.url;
        let host = url.trim_start_matches("http://").to_string();
        let s = &st.platform_secrets;
        let lifetime = 600;
        Ok(match self {
            Platform::GithubActions | Platform::GithubActionsImmutable => vec![
                (ev::GITHUB_ACTIONS, "true".into()),
                (
                    ev::ACTIONS_ID_TOKEN_REQUEST_URL,
                    format!(
                        "{url}{}?api-version=2.0",
                        if self == Platform::GithubActions {
                            GITHUB_PATH
                        } else {
                            GITHUB_IMMUTABLE_PATH
                        }
                    ),
                ),
                (
                    ev::ACTIONS_ID_TOKEN_REQUEST_TOKEN,
                    s.github_request_token.clone(),
                ),
            ],
            Platform::Gcp => vec![
                (ev::GCE_METADATA_HOST, host.clone()),
                (ev::GCE_METADATA_IP, host),
            ],
            Platform::Azure => vec![
                (ev::KEYLESS_AZURE_IMDS_ENDPOINT, url.clone()),
                (ev::AZURE_POD_IDENTITY_AUTHORITY_HOST, url.clone()),
            ],
            Platform::AzureAppService => vec![
                (ev::IDENTITY_ENDPOINT, format!("{url}{APP_SERVICE_PATH}")),
                (ev::IDENTITY_HEADER, s.identity_header.clone()),
            ],
            Platform::Buildkite => vec![
                (ev::BUILDKITE, "true".into()),
                (
                    ev::BUILDKITE_AGENT_ENDPOINT,
                    format!("{url}{BUILDKITE_BASE}"),
                ),
                (
                    ev::BUILDKITE_AGENT_ACCESS_TOKEN,
                    s.buildkite_agent_token.clone(),
                ),
                (ev::BUILDKITE_JOB_ID, BUILDKITE_JOB.into()),
            ],
            Platform::AzurePipelines => vec![
                (ev::TF_BUILD, "True".into()),
                (
                    ev::SYSTEM_OIDCREQUESTURI,
                    format!("{url}{AZURE_DEVOPS_PATH}"),
                ),
                (ev::SYSTEM_ACCESSTOKEN, s.azure_devops_access_token.clone()),
                (
                    ev::AZURESUBSCRIPTION_SERVICE_CONNECTION_ID,
                    AZURE_DEVOPS_CONNECTION_ID.into(),
                ),
            ],
            Platform::Aws => vec![
                (ev::AWS_ENDPOINT_URL_STS, url.clone()),
                (ev::AWS_ACCESS_KEY_ID, AWS_ACCESS_KEY_ID.into()),
                (ev::AWS_SECRET_ACCESS_KEY, AWS_SECRET_ACCESS_KEY.into()),
                (ev::AWS_REGION, AWS_REGION.into()),
            ],
            Platform::Gitlab => vec![
                (ev::GITLAB_CI, "true".into()),
                (
                    ev::ANTHROPIC_IDENTITY_TOKEN,
                    handed::gitlab_id_token(st, lifetime),
                ),
            ],
            Platform::Kubernetes => {
                let file = scratch.join("anthropic.com-token");
                crate::private_fs::write_atomic(
                    &file,
                    handed::kubernetes_token(st, lifetime).as_bytes(),
                )?;
                vec![(
                    ev::ANTHROPIC_IDENTITY_TOKEN_FILE,
                    file.display().to_string(),
                )]
            }
        })
    }
}

/// The zero-setup federation variables for `platform`'s default rule.
pub fn federation_env(st: &State, platform: Platform) -> Vec<(&'static str, String)> {
    vec![
        (ev::ANTHROPIC_BASE_URL, st.url.clone()),
        (ev::ANTHROPIC_FEDERATION_RULE_ID, platform.rule_id().into()),
        (ev::ANTHROPIC_ORGANIZATION_ID, SANDBOX_ORG.into()),
        (ev::ANTHROPIC_SERVICE_ACCOUNT_ID, SANDBOX_SA.into()),
        (ev::ANTHROPIC_WORKSPACE_ID, SANDBOX_WORKSPACE.into()),
        (ev::ANTHROPIC_OIDC_AUDIENCE, platform.audience().into()),
    ]
}

/// One default rule per platform, each matching what its stand-in mints.
pub fn rules(token_lifetime: i64) -> Vec<Rule> {
    let mut out: Vec<Rule> = Vec::new();
    for p in Platform::ALL {
        if out.iter().any(|r| r.id == p.rule_id()) {
            continue;
        }
        out.push(Rule {
            id: p.rule_id().into(),
            organization_id: SANDBOX_ORG.into(),
            issuer_url: "self".into(),
            matcher: p.matcher(),
            service_account_id: SANDBOX_SA.into(),
            workspace_ids: vec![SANDBOX_WORKSPACE.into()],
            token_lifetime_seconds: token_lifetime,
            oauth_scope: "workspace:developer".into(),
        });
    }
    out
}

impl Platform {
    /// The `--identity` source that asks this platform.
    pub fn identity(self) -> &'static str {
        match self {
            Platform::GithubActions | Platform::GithubActionsImmutable => "github-actions",
            Platform::Gcp => "gcp",
            Platform::Azure | Platform::AzureAppService => "azure",
            Platform::Buildkite => "buildkite",
            Platform::AzurePipelines => "azure-pipelines",
            Platform::Aws => "aws",
            // The job's own variable, or the file: `env` reads both.
            Platform::Gitlab | Platform::Kubernetes => "env",
        }
    }

    /// What the default rule matches, in words.
    pub fn describe_match(self) -> String {
        let m = self.matcher();
        let mut parts = vec![format!("audience {}", self.audience())];
        if let Some(p) = &m.subject_prefix {
            parts.push(format!("sub {p}"));
        }
        for (k, v) in &m.claims {
            parts.push(format!("{k} {v}"));
        }
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The AWS STS stand-in answers `POST /`, the GCP ping `GET /`: the
    /// two must share the path, not panic when the routers merge.
    #[test]
    fn the_gcp_ping_shares_the_root_with_a_post_route() {
        let state = Arc::new(State::new(
            "http://127.0.0.1:1".into(),
            super::super::rules::defaults(600),
        ));
        let _: Router = Router::new()
            .route("/", post(|| async { "sts" }))
            .merge(routes())
            .with_state(state);
    }

    /// Every platform has a rule, and each rule pins more than the audience.
    #[test]
    fn every_platform_has_a_default_rule_that_pins_its_subject() {
        let rules = super::super::rules::defaults(600).rules;
        for p in Platform::ALL {
            let r = rules.iter().find(|r| r.id == p.rule_id()).unwrap();
            assert_eq!(r.matcher.audience.as_deref(), Some(p.audience()));
            let prefix = r.matcher.subject_prefix.as_deref().unwrap();
            assert!(prefix != "*" && !prefix.is_empty(), "{prefix}");
        }
    }
}
