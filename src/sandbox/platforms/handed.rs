//! The JWTs some platforms hand a job outright, with no endpoint to ask:
//! GitLab CI's `id_tokens:` variable (named by the job; the README's recipe
//! names it `ANTHROPIC_IDENTITY_TOKEN`) and a Kubernetes projected
//! service-account token file (which the kubelet rotates). The sandbox
//! mints them in each platform's claim shape when the job's variables are
//! made, signed by its issuer and for the audience the rule matches.

use serde_json::json;

use super::super::State;
use super::super::rules::ANTHROPIC_AUDIENCE;

pub const GITLAB_NAMESPACE: &str = "keyless-sandbox";
pub const GITLAB_PROJECT_PATH: &str = "keyless-sandbox/demo";
pub const GITLAB_PROJECT_ID: &str = "42000001";
/// The `sub` of a job on the main branch.
pub const GITLAB_SUBJECT: &str = "project_path:keyless-sandbox/demo:ref_type:branch:ref:main";
pub const KUBERNETES_NAMESPACE: &str = "keyless-sandbox";
pub const KUBERNETES_SERVICE_ACCOUNT: &str = "app";
/// The `sub` of the pod's service account: the whole subject.
pub const KUBERNETES_SUBJECT: &str = "system:serviceaccount:keyless-sandbox:app";

/// What the variable of a job's `id_tokens:` entry holds (GitLab's claims).
pub fn gitlab_id_token(st: &State, lifetime: i64) -> String {
    let id = || super::super::new_id("");
    super::mint(
        st,
        json!({
            "jti": id(),
            "sub": GITLAB_SUBJECT,
            "aud": ANTHROPIC_AUDIENCE,
            "namespace_id": "42000000",
            "namespace_path": GITLAB_NAMESPACE,
            "project_id": GITLAB_PROJECT_ID,
            "project_path": GITLAB_PROJECT_PATH,
            "user_login": "keyless-sandbox-bot",
            "pipeline_id": "1200000001",
            "pipeline_source": "push",
            "job_id": "7300000001",
            "ref": "main",
            "ref_type": "branch",
            "ref_path": "refs/heads/main",
            "ref_protected": "true",
            "runner_environment": "gitlab-hosted",
        }),
        lifetime,
    )
}

/// What the kubelet writes to a projected `serviceAccountToken` volume
/// with `audience: https://api.anthropic.com`.
pub fn kubernetes_token(st: &State, lifetime: i64) -> String {
    let id = || super::super::new_id("");
    super::mint(
        st,
        json!({
            "jti": id(),
            "sub": KUBERNETES_SUBJECT,
            "aud": [ANTHROPIC_AUDIENCE],
            "kubernetes.io": {
                "namespace": KUBERNETES_NAMESPACE,
                "serviceaccount": {"name": KUBERNETES_SERVICE_ACCOUNT, "uid": id()},
                "pod": {"name": "app-5d8f7c9b6-x2k4q", "uid": id()},
            },
        }),
        lifetime,
    )
}
