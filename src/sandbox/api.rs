//! The sandbox's slice of the APIs: `GET /v1/models` for live tokens either
//! token endpoint minted, in the minting provider's shape, and
//! `POST /v1/messages` for Anthropic's. Anthropic clients send the token as
//! Bearer or `x-api-key` (Claude Code's apiKeyHelper sends both) with
//! `anthropic-version`; OpenAI clients send only `Authorization: Bearer`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use serde_json::{Value, json};

use super::federation::api_error;
use super::{MintedFor, MintedInfo, State, new_id};

const MODEL: &str = "claude-sandbox-1";
const OPENAI_MODEL: &str = "gpt-sandbox-1";

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Which API a request speaks, before the token says: only Anthropic
/// clients send `anthropic-version` or `x-api-key`.
fn speaks_anthropic(headers: &HeaderMap) -> bool {
    headers.contains_key("anthropic-version") || headers.contains_key("x-api-key")
}

/// OpenAI's API error envelope.
fn openai_error(status: StatusCode, code: &str, message: &str, rid: &str) -> Response {
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
fn authenticate(st: &State, headers: &HeaderMap, rid: &str) -> Result<MintedInfo, Box<Response>> {
    let token = header(headers, "authorization")
        .and_then(|a| a.strip_prefix("Bearer ").map(str::to_string))
        .or_else(|| header(headers, "x-api-key"));
    let deny = |m: &str| {
        Err(Box::new(if speaks_anthropic(headers) {
            api_error(StatusCode::UNAUTHORIZED, "authentication_error", m, rid)
        } else {
            openai_error(StatusCode::UNAUTHORIZED, "invalid_api_key", m, rid)
        }))
    };
    let Some(token) = token else {
        return deny("missing credentials: send Authorization: Bearer <token>");
    };
    let info = st.minted.lock().unwrap().get(&token).cloned();
    match info {
        None => deny("invalid bearer token"),
        Some(i) if i.expires_at <= crate::jwt::now() => deny("the bearer token has expired"),
        Some(i) => Ok(i),
    }
}

/// Anthropic's API also wants `anthropic-version` from its clients.
fn require_version(headers: &HeaderMap, rid: &str) -> Result<(), Box<Response>> {
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

fn with_headers(organization_id: &str, workspace_id: &str, rid: &str, body: Value) -> Response {
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

pub async fn messages(
    AxState(st): AxState<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let rid = new_id("req_sandbox_");
    let info = match authenticate(&st, &headers, &rid) {
        Err(r) => return *r,
        Ok(i) => i,
    };
    let MintedFor::Anthropic {
        organization_id,
        workspace_id,
    } = info.minted_for
    else {
        return openai_error(
            StatusCode::UNAUTHORIZED,
            "invalid_api_key",
            "this token was minted for the OpenAI API, not the Messages API",
            &rid,
        );
    };
    if let Err(r) = require_version(&headers, &rid) {
        return *r;
    }
    let bad = |m: &str| api_error(StatusCode::BAD_REQUEST, "invalid_request_error", m, &rid);
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return bad("the request body is not valid JSON");
    };
    if req.get("stream").and_then(Value::as_bool) == Some(true) {
        return bad("the sandbox does not stream");
    }
    let model = req
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or(MODEL)
        .to_string();
    let Some(msgs) = req.get("messages").and_then(Value::as_array) else {
        return bad("messages: field required");
    };
    if req.get("max_tokens").and_then(Value::as_u64).is_none() {
        return bad("max_tokens: field required");
    }
    let input_chars: usize = msgs.iter().map(|m| m.to_string().len()).sum();
    let text = format!(
        "Hello from the keyless sandbox. Your request reached workspace {} with a short-lived token; no API key was involved.",
        workspace_id
    );
    with_headers(
        &organization_id,
        &workspace_id,
        &rid,
        json!({
            "id": new_id("msg_sandbox_"),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": null,
            "usage": {"input_tokens": input_chars / 4 + 1, "output_tokens": text.len() / 4 + 1},
        }),
    )
}

/// Test and debugging aid: every exchange attempt, like the Console history.
pub async fn history(AxState(st): AxState<Arc<State>>) -> Json<Value> {
    let events = st.history.lock().unwrap().clone();
    Json(json!({
        "exchanges": st.exchanges.load(std::sync::atomic::Ordering::SeqCst),
        "events": events,
    }))
}
