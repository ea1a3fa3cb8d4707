//! The sandbox's Messages API: `POST /v1/messages`, with `stream: true` as
//! server-sent events in the real API's order (message_start,
//! content_block_start, ping, content_block_delta…, content_block_stop,
//! message_delta, message_stop), and `POST /v1/messages/count_tokens`,
//! which Claude Code calls. Both only for live tokens Anthropic's token
//! endpoint minted, with `anthropic-version`. The reply is always the same
//! short text: enough for Claude Code `-p` and the SDKs to finish a turn.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::api::{MODEL, authenticate, openai_error, require_version, with_headers};
use super::federation::api_error;
use super::stream::{Sse, chunks};
use super::{MintedFor, State, new_id};

/// The text every reply carries; tests look for it.
pub const REPLY: &str = "Hello from the keyless sandbox.";

/// (organization, workspace) of an Anthropic token, or the response that
/// refuses the request.
fn anthropic_caller(
    st: &State,
    headers: &HeaderMap,
    rid: &str,
) -> Result<(String, String), Box<Response>> {
    let info = authenticate(st, headers, rid)?;
    let MintedFor::Anthropic {
        organization_id,
        workspace_id,
    } = info.minted_for
    else {
        return Err(Box::new(openai_error(
            StatusCode::UNAUTHORIZED,
            "invalid_api_key",
            "this token was minted for the OpenAI API, not the Messages API",
            rid,
        )));
    };
    require_version(headers, rid)?;
    Ok((organization_id, workspace_id))
}

/// A rough token count: the real API's exact count is not the point here.
fn input_tokens(req: &Value) -> u64 {
    let chars: usize = ["system", "messages", "tools"]
        .iter()
        .filter_map(|k| req.get(*k))
        .map(|v| v.to_string().len())
        .sum();
    chars as u64 / 4 + 1
}

/// A Messages API call as both endpoints take it: an Anthropic token's
/// caller, and a JSON body with a `messages` array.
struct Call {
    rid: String,
    org: String,
    ws: String,
    req: Value,
}

/// The [`Call`], or the response that refuses it.
fn messages_call(st: &State, headers: &HeaderMap, body: &[u8]) -> Result<Call, Box<Response>> {
    let rid = new_id("req_sandbox_");
    let (org, ws) = anthropic_caller(st, headers, &rid)?;
    let bad = |m: &str| {
        Box::new(api_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            m,
            &rid,
        ))
    };
    let Ok(req) = serde_json::from_slice::<Value>(body) else {
        return Err(bad("the request body is not valid JSON"));
    };
    if !req.get("messages").is_some_and(Value::is_array) {
        return Err(bad("messages: field required"));
    }
    Ok(Call { rid, org, ws, req })
}

/// The handlers' start: the [`Call`], or the refusal to answer at once.
macro_rules! call_or_refuse {
    ($st:expr, $headers:expr, $body:expr) => {
        match messages_call(&$st, &$headers, &$body) {
            Ok(c) => c,
            Err(r) => return *r,
        }
    };
}

pub async fn messages(
    AxState(st): AxState<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Call { rid, org, ws, req } = call_or_refuse!(st, headers, body);
    let bad = |m: &str| api_error(StatusCode::BAD_REQUEST, "invalid_request_error", m, &rid);
    let model = req
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or(MODEL)
        .to_string();
    if req.get("max_tokens").and_then(Value::as_u64).is_none() {
        return bad("max_tokens: field required");
    }
    let text = format!(
        "{REPLY} Your request reached workspace {ws} with a short-lived token; no API key was involved."
    );
    let usage_in = input_tokens(&req);
    let usage_out = text.len() as u64 / 4 + 1;
    let id = new_id("msg_sandbox_");
    if req.get("stream").and_then(Value::as_bool) == Some(true) {
        return stream(&org, &ws, &rid, &id, &model, &text, usage_in, usage_out);
    }
    with_headers(
        &org,
        &ws,
        &rid,
        json!({
            "id": id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": null,
            "usage": {"input_tokens": usage_in, "output_tokens": usage_out},
        }),
    )
}

#[allow(clippy::too_many_arguments)]
fn stream(
    org: &str,
    ws: &str,
    rid: &str,
    id: &str,
    model: &str,
    text: &str,
    usage_in: u64,
    usage_out: u64,
) -> Response {
    let mut sse = Sse::default();
    sse.event(
        "message_start",
        json!({"type": "message_start", "message": {
            "id": id, "type": "message", "role": "assistant", "model": model,
            "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": usage_in, "output_tokens": 1},
        }}),
    );
    sse.event(
        "content_block_start",
        json!({"type": "content_block_start", "index": 0,
               "content_block": {"type": "text", "text": ""}}),
    );
    sse.event("ping", json!({"type": "ping"}));
    for piece in chunks(text) {
        sse.event(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0,
                   "delta": {"type": "text_delta", "text": piece}}),
        );
    }
    sse.event(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 0}),
    );
    sse.event(
        "message_delta",
        json!({"type": "message_delta",
               "delta": {"stop_reason": "end_turn", "stop_sequence": null},
               "usage": {"output_tokens": usage_out}}),
    );
    sse.event("message_stop", json!({"type": "message_stop"}));
    sse.response(&[
        ("request-id", rid),
        ("anthropic-organization-id", org),
        ("anthropic-workspace-id", ws),
    ])
}

/// `POST /v1/messages/count_tokens`: `{"input_tokens": n}`.
pub async fn count_tokens(
    AxState(st): AxState<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Call { rid, org, ws, req } = call_or_refuse!(st, headers, body);
    with_headers(&org, &ws, &rid, json!({"input_tokens": input_tokens(&req)})).into_response()
}
