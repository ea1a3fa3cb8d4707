//! Azure DevOps' OIDC request URI, as Azure's `AzurePipelinesCredential`
//! calls it: `POST $SYSTEM_OIDCREQUESTURI?api-version=7.1&serviceConnectionId=
//! <id>` with `Authorization: Bearer $SYSTEM_ACCESSTOKEN` (which a pipeline
//! must map into the step's environment), answered with
//! `{"oidcToken": "<jwt>"}`. A missing or wrong access token is 401, a
//! missing `api-version` 400, an unknown service connection 404.
//!
//! With a service connection the JWT's `sub` is
//! `sc://ORG/PROJECT/CONNECTION`, without one the pipeline's
//! `p://ORG/PROJECT/PIPELINE`; `aud` is always `api://AzureADTokenExchange`
//! (Azure DevOps fixes it), with `org_id`, `prj_id`, `def_id`, `rpo_*`,
//! `run_id`, five minutes of life and a `jti`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::{AZURE_DEVOPS_AUDIENCE, AZURE_DEVOPS_CONNECTION_ID, AZURE_DEVOPS_ORG, State};

fn message(status: StatusCode, m: &str) -> Response {
    super::json_reply(
        status,
        json!({"message": m, "typeKey": "InvalidRequestException"}),
    )
}

pub async fn token(
    AxState(st): AxState<Arc<State>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let bearer = super::header(&headers, "authorization").and_then(|v| v.strip_prefix("Bearer "));
    if !super::same_secret(bearer, &st.platform_secrets.azure_devops_access_token) {
        super::refused("Azure DevOps", "no or a wrong System.AccessToken");
        return message(
            StatusCode::UNAUTHORIZED,
            "TF400813: The user is not authorized to access this resource.",
        );
    }
    if q.get("api-version").is_none_or(|v| v.is_empty()) {
        super::refused("Azure DevOps", "no api-version");
        return message(
            StatusCode::BAD_REQUEST,
            "No api-version was supplied for the POST request.",
        );
    }
    let sub = match q.get("serviceConnectionId").filter(|c| !c.is_empty()) {
        Some(c) if c == AZURE_DEVOPS_CONNECTION_ID => {
            format!("sc://{AZURE_DEVOPS_ORG}/demo/anthropic")
        }
        Some(_) => {
            super::refused("Azure DevOps", "an unknown service connection");
            return message(
                StatusCode::NOT_FOUND,
                "The service connection does not exist or has not been authorized for use.",
            );
        }
        None => format!("p://{AZURE_DEVOPS_ORG}/demo/demo-pipeline"),
    };
    let claims = json!({
        "aud": AZURE_DEVOPS_AUDIENCE,
        "sub": sub,
        "jti": super::super::new_id(""),
        "org_id": "4a5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d",
        "prj_id": "5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e",
        "def_id": "1",
        "rpo_id": "6c7d8e9f-0a1b-4c2d-9e3f-4a5b6c7d8e9f",
        "rpo_uri": format!("https://dev.azure.com/{AZURE_DEVOPS_ORG}/demo/_git/demo"),
        "rpo_ver": "9f3182061f1e2cca4702c368cbc039b7dc9d4485",
        "rpo_ref": "refs/heads/main",
        "run_id": "101",
    });
    let jwt = super::mint(&st, claims, 300);
    super::json_reply(StatusCode::OK, json!({"oidcToken": jwt}))
}
