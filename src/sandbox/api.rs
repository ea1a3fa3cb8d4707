//! The sandbox's slice of the Claude API: `GET /v1/models` and
//! `POST /v1/messages`, for live Bearer tokens the sandbox minted (also
//! accepted as `x-api-key`, as Claude Code's apiKeyHelper sends both).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use serde_json::{Value, json};

use super::federation::api_error;
use super::{MintedInfo, State, new_id};

const MODEL: &str = "claude-sandbox-1";

fn authenticate(st: &State, headers: &HeaderMap, rid: &str) -> Result<MintedInfo, Box<Response>> {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let token = h("authorization")
        .and_then(|a| a.strip_prefix("Bearer ").map(str::to_string))
        .or_else(|| h("x-api-key"));
    let deny = |m: &str| {
        Err(Box::new(api_error(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            m,
            rid,
        )))
    };
    let Some(token) = token else {
        return deny("missing credentials: send Authorization: Bearer <token>");
    };
    let info = st.minted.lock().unwrap().get(&token).cloned();
    match info {
        None => deny("invalid bearer token"),
        Some(i) if i.expires_at <= crate::jwt::now() => deny("the bearer token has expired"),
        Some(i) => {
            if h("anthropic-version").is_none() {
                return Err(Box::new(api_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request_error",
                    "anthropic-version: header is required",
                    rid,
                )));
            }
            Ok(i)
        }
    }
}

fn with_headers(info: &MintedInfo, rid: &str, body: Value) -> Response {
    (
        StatusCode::OK,
        [
            ("request-id", rid.to_string()),
            ("anthropic-organization-id", info.organization_id.clone()),
            ("anthropic-workspace-id", info.workspace_id.clone()),
        ],
        Json(body),
    )
        .into_response()
}

pub async fn models(AxState(st): AxState<Arc<State>>, headers: HeaderMap) -> Response {
    let rid = new_id("req_sandbox_");
    match authenticate(&st, &headers, &rid) {
        Err(r) => *r,
        Ok(info) => with_headers(
            &info,
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
        ),
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
        info.workspace_id
    );
    with_headers(
        &info,
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
