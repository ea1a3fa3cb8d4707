//! The sandbox's slice of the APIs shared by both dialects: who a request
//! is (`authenticate`), `GET /v1/models` for live tokens either token
//! endpoint minted, in the minting provider's shape, the real APIs' 404 for
//! every other path, `POST /_sandbox/revoke` and the history. Anthropic
//! clients send the token as Bearer or `x-api-key` (Claude Code's
//! apiKeyHelper sends both) with `anthropic-version`; OpenAI clients send
//! only `Authorization: Bearer`. Messages live in `messages.rs`, OpenAI's
//! Responses and Chat Completions in `responses.rs`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use serde_json::{Value, json};

use super::federation::api_error;
use super::{MintedFor, MintedInfo, State, new_id};
use axum::http::{Method, Uri};
use std::collections::HashSet;

/// What the API side saw: tests assert "zero failed calls" on it.
#[derive(Default)]
pub struct ApiLog {
    /// Calls that carried a live token.
    pub served: u64,
    /// Calls refused with 401 (no, unknown, expired or revoked token).
    pub unauthorized: u64,
    /// Tokens revoked through `POST /_sandbox/revoke`.
    pub revoked: HashSet<String>,
}

pub(super) const MODEL: &str = "claude-sandbox-1";
pub(super) const OPENAI_MODEL: &str = "gpt-sandbox-1";

pub(super) fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Which API a request speaks, before the token says: only Anthropic
/// clients send `anthropic-version` or `x-api-key`.
pub(super) fn speaks_anthropic(headers: &HeaderMap) -> bool {
    headers.contains_key("anthropic-version") || headers.contains_key("x-api-key")
}

/// OpenAI's API error envelope.
pub(super) fn openai_error(status: StatusCode, code: &str, message: &str, rid: &str) -> Response {
    (
        status,
        [("x-request-id", rid.to_string())],
        Json(json!({"error": {
            "message": message, "type": "invalid_request_error", "param": null, "code": code,
        }})),
    )
        .into_response()
}

/// The live token a request carries, or the 401 in the dialect it speaks.
pub(super) fn authenticate(
    st: &State,
    headers: &HeaderMap,
    rid: &str,
) -> Result<MintedInfo, Box<Response>> {
    let token = header(headers, "authorization")
        .and_then(|a| a.strip_prefix("Bearer ").map(str::to_string))
        .or_else(|| header(headers, "x-api-key"));
    let deny = |m: &str| {
        st.api.lock().unwrap().unauthorized += 1;
        Err(Box::new(if speaks_anthropic(headers) {
            api_error(StatusCode::UNAUTHORIZED, "authentication_error", m, rid)
        } else {
            openai_error(StatusCode::UNAUTHORIZED, "invalid_api_key", m, rid)
        }))
    };
    let Some(token) = token else {
        return deny("missing credentials: send Authorization: Bearer <token>");
    };
    if st.api.lock().unwrap().revoked.contains(&token) {
        return deny("invalid bearer token: this token has been revoked");
    }
    let info = st.minted.lock().unwrap().get(&token).cloned();
    match info {
        None => deny("invalid bearer token"),
        Some(i) if i.expires_at <= crate::clock::now() => deny("the bearer token has expired"),
        Some(i) => {
            st.api.lock().unwrap().served += 1;
            Ok(i)
        }
    }
}

/// Anthropic's API also wants `anthropic-version` from its clients.
pub(super) fn require_version(headers: &HeaderMap, rid: &str) -> Result<(), Box<Response>> {
    if header(headers, "anthropic-version").is_none() {
        return Err(Box::new(api_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "anthropic-version: header is required",
            rid,
        )));
    }
    Ok(())
}

pub(super) fn with_headers(
    organization_id: &str,
    workspace_id: &str,
    rid: &str,
    body: Value,
) -> Response {
    (
        StatusCode::OK,
        [
            ("request-id", rid.to_string()),
            ("anthropic-organization-id", organization_id.to_string()),
            ("anthropic-workspace-id", workspace_id.to_string()),
        ],
        Json(body),
    )
        .into_response()
}

/// One route, two APIs: the token decides which list comes back.
pub async fn models(AxState(st): AxState<Arc<State>>, headers: HeaderMap) -> Response {
    let rid = new_id("req_sandbox_");
    let info = match authenticate(&st, &headers, &rid) {
        Err(r) => return *r,
        Ok(i) => i,
    };
    match info.minted_for {
        MintedFor::Anthropic {
            organization_id,
            workspace_id,
        } => {
            if let Err(r) = require_version(&headers, &rid) {
                return *r;
            }
            with_headers(
                &organization_id,
                &workspace_id,
                &rid,
                json!({
                    "data": [{
                        "type": "model",
                        "id": MODEL,
                        "display_name": "Claude Sandbox (a stand-in, not a model)",
                        "created_at": "2026-01-01T00:00:00Z",
                    }],
                    "has_more": false,
                    "first_id": MODEL,
                    "last_id": MODEL,
                }),
            )
        }
        MintedFor::OpenAi { project_id, .. } => (
            StatusCode::OK,
            [
                ("x-request-id", rid.clone()),
                ("openai-project", project_id),
            ],
            Json(json!({
                "object": "list",
                "data": [{
                    "id": OPENAI_MODEL,
                    "object": "model",
                    "created": 1_767_225_600,
                    "owned_by": "keyless-sandbox",
                }],
            })),
        )
            .into_response(),
    }
}

/// Test and debugging aid: every exchange attempt, like the Console history.
pub async fn history(AxState(st): AxState<Arc<State>>) -> Json<Value> {
    let events = st.history.lock().unwrap().clone();
    let (served, unauthorized) = {
        let log = st.api.lock().unwrap();
        (log.served, log.unauthorized)
    };
    Json(json!({
        "exchanges": st.exchanges.load(std::sync::atomic::Ordering::SeqCst),
        "api_calls": served,
        "api_unauthorized": unauthorized,
        "events": events,
    }))
}

/// Any other path: the real APIs' 404, in the dialect the request speaks
/// (Claude Code and Codex treat it as "not supported here" and go on).
pub async fn not_found(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let rid = new_id("req_sandbox_");
    if speaks_anthropic(&headers) {
        return api_error(StatusCode::NOT_FOUND, "not_found_error", "Not Found", &rid);
    }
    (
        StatusCode::NOT_FOUND,
        [("x-request-id", rid)],
        Json(json!({"error": {
            "message": format!("Invalid URL ({method} {})", uri.path()),
            "type": "invalid_request_error", "param": null, "code": null,
        }})),
    )
        .into_response()
}

/// `POST /_sandbox/revoke`: `{"token": "…"}` revokes that minted token,
/// `{}` every live one, like an admin revoking at the provider. Calls with
/// a revoked token get 401 from then on; the count says how many it hit.
pub async fn revoke(AxState(st): AxState<Arc<State>>, body: Bytes) -> Response {
    let rid = new_id("req_sandbox_");
    let Some(req) = super::object_or_empty(&body) else {
        return api_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "the body must be a JSON object: {\"token\": \"…\"} or {}",
            &rid,
        );
    };
    let now = crate::clock::now();
    let minted = st.minted.lock().unwrap();
    let mut log = st.api.lock().unwrap();
    let revoked = &mut log.revoked;
    let before = revoked.len();
    match req.get("token") {
        Some(Value::String(t)) => {
            if minted.contains_key(t) {
                revoked.insert(t.clone());
            }
        }
        Some(_) => {
            return api_error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "token: must be a string",
                &rid,
            );
        }
        None => revoked.extend(
            minted
                .iter()
                .filter(|(_, i)| i.expires_at > now)
                .map(|(t, _)| t.clone()),
        ),
    }
    let n = revoked.len() - before;
    Json(json!({"revoked": n})).into_response()
}
