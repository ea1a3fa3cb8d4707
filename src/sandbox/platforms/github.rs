//! GitHub Actions' OIDC request URL (`ACTIONS_ID_TOKEN_REQUEST_URL`), as
//! `@actions/core`'s `getIDToken` calls it: `GET <url>&audience=<aud>` with
//! `Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`, answered with
//! `{"count": …, "value": "<jwt>"}`. No `audience` ⇒ GitHub's default, the
//! owner's URL. The JWT has GitHub's claims: `sub`
//! `repo:OWNER/REPO:ref:refs/heads/main`, `repository_owner`, `ref`,
//! `job_workflow_ref`, `runner_environment`, a `jti`, five minutes of life
//! and `nbf` ten minutes back, as GitHub's samples show. A second request
//! URL plays a repository created after 2026-07-15, whose `sub` is GitHub's
//! immutable form `repo:OWNER@OWNER-ID/REPO@REPO-ID:ref:…`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::{GITHUB_IMMUTABLE_SUBJECT, GITHUB_OWNER, GITHUB_REPO, GITHUB_SUBJECT, State};

pub async fn token(
    st: AxState<Arc<State>>,
    headers: HeaderMap,
    q: Query<HashMap<String, String>>,
) -> Response {
    issue(st, headers, q, GITHUB_SUBJECT)
}

/// The same for a repository with GitHub's immutable subject.
pub async fn token_immutable(
    st: AxState<Arc<State>>,
    headers: HeaderMap,
    q: Query<HashMap<String, String>>,
) -> Response {
    issue(st, headers, q, GITHUB_IMMUTABLE_SUBJECT)
}

fn issue(
    AxState(st): AxState<Arc<State>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    subject: &str,
) -> Response {
    let bearer = super::header(&headers, "authorization").and_then(|v| v.strip_prefix("Bearer "));
    if !super::same_secret(bearer, &st.platform_secrets.github_request_token) {
        super::refused("GitHub Actions", "no or a wrong bearer request token");
        return super::json_reply(
            StatusCode::UNAUTHORIZED,
            json!({"message": "Unable to authenticate the request token"}),
        );
    }
    let aud = q
        .get("audience")
        .filter(|a| !a.is_empty())
        .cloned()
        .unwrap_or_else(|| format!("https://github.com/{GITHUB_OWNER}"));
    let now = crate::clock::now();
    let sha = crate::digest::sha256_hex(&super::super::new_id(""))[..40].to_string();
    let claims = json!({
        "jti": super::super::new_id(""),
        "sub": subject,
        "aud": aud,
        "nbf": now - 600,
        "ref": "refs/heads/main",
        "sha": sha,
        "repository": GITHUB_REPO,
        "repository_owner": GITHUB_OWNER,
        "repository_owner_id": "190011111",
        "repository_id": "870022222",
        "repository_visibility": "private",
        "run_id": "11000000001",
        "run_number": "1",
        "run_attempt": "1",
        "actor": "keyless-sandbox-bot",
        "actor_id": "190033333",
        "workflow": "ci",
        "workflow_ref": format!("{GITHUB_REPO}/.github/workflows/ci.yml@refs/heads/main"),
        "job_workflow_ref": format!("{GITHUB_REPO}/.github/workflows/ci.yml@refs/heads/main"),
        "event_name": "push",
        "ref_type": "branch",
        "ref_protected": "true",
        "head_ref": "",
        "base_ref": "",
        "runner_environment": "github-hosted",
    });
    let jwt = super::mint(&st, claims, 300);
    super::json_reply(StatusCode::OK, json!({"count": 1, "value": jwt}))
}
