//! Buildkite's agent OIDC API, as `buildkite-agent oidc request-token`
//! calls it: `POST $BUILDKITE_AGENT_ENDPOINT/jobs/$BUILDKITE_JOB_ID/oidc/
//! tokens` with `Authorization: Token $BUILDKITE_AGENT_ACCESS_TOKEN` and a
//! JSON body `{"audience": …, "lifetime": …}` (both optional), answered
//! with `{"token": "<jwt>"}`. A wrong agent token is 401, another job's id
//! 404 and a lifetime out of range 422, the codes the agent never retries.
//! (The API's defaults and exact error bodies are undocumented; the default
//! audience here is the organisation's URL and the lifetime five minutes.)
//!
//! The JWT has Buildkite's claims: `sub` `organization:ORG:pipeline:SLUG:
//! ref:REF:commit:SHA:step:KEY`, `organization_slug`, `pipeline_slug`,
//! `build_number`, `build_branch`, `build_commit`, `step_key`, `job_id`,
//! `agent_id`, `runner_environment`, and a `jti`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::{BUILDKITE_JOB, BUILDKITE_ORG, State};

const COMMIT: &str = "9f3182061f1e2cca4702c368cbc039b7dc9d4485";

fn message(status: StatusCode, m: &str) -> Response {
    super::json_reply(status, json!({"message": m}))
}

pub async fn token(
    AxState(st): AxState<Arc<State>>,
    Path(job): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let agent_token =
        super::header(&headers, "authorization").and_then(|v| v.strip_prefix("Token "));
    if !super::same_secret(agent_token, &st.platform_secrets.buildkite_agent_token) {
        super::refused("Buildkite", "no or a wrong agent access token");
        return message(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    if job != BUILDKITE_JOB {
        super::refused("Buildkite", "a job id that is not the running job's");
        return message(StatusCode::NOT_FOUND, "No job found");
    }
    let Some(req) = crate::sandbox::object_or_empty(&body) else {
        return message(
            StatusCode::BAD_REQUEST,
            "The request body is not a JSON object",
        );
    };
    let aud = req["audience"]
        .as_str()
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("https://buildkite.com/{BUILDKITE_ORG}"));
    let lifetime = match &req["lifetime"] {
        Value::Null => 300,
        v => match v.as_i64().filter(|l| (1..=7200).contains(l)) {
            Some(l) => l,
            None => {
                super::refused("Buildkite", "a lifetime out of range");
                return message(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "lifetime must be a number of seconds from 1 to 7200",
                );
            }
        },
    };
    let claims = json!({
        "aud": aud,
        "sub": format!("organization:{BUILDKITE_ORG}:pipeline:demo:ref:refs/heads/main:commit:{COMMIT}:step:build"),
        "jti": super::super::new_id(""),
        "organization_slug": BUILDKITE_ORG,
        "organization_id": "0190a1b2-0000-4000-8000-00000000b0c1",
        "pipeline_slug": "demo",
        "pipeline_id": "0190a1b2-0000-4000-8000-00000000d3e0",
        "build_number": 1,
        "build_branch": "main",
        "build_tag": null,
        "build_commit": COMMIT,
        "build_source": "webhook",
        "step_key": "build",
        "job_id": BUILDKITE_JOB,
        "agent_id": "0190a1b2-0000-4000-8000-0000000a9e17",
        "runner_environment": "buildkite-hosted",
    });
    let jwt = super::mint(&st, claims, lifetime);
    super::json_reply(StatusCode::OK, json!({"token": jwt}))
}
