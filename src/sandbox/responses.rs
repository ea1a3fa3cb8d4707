//! The sandbox's OpenAI API: `POST /v1/responses` (what Codex and the SDKs'
//! `responses.create` call) and `POST /v1/chat/completions`, each plain or
//! with `stream: true`. Responses streams named events (response.created,
//! response.in_progress, response.output_item.added,
//! response.content_part.added, response.output_text.delta…, their .done
//! events, response.completed), each with a `sequence_number`; Chat
//! Completions streams unnamed `chat.completion.chunk`s and `[DONE]`. Only
//! for live tokens OpenAI's token endpoint minted.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use serde_json::{Value, json};

use super::api::{OPENAI_MODEL, authenticate, openai_error};
use super::messages::REPLY;
use super::stream::{Sse, chunks};
use super::{MintedFor, State, new_id};

/// The project of an OpenAI token and the request's JSON body, or the
/// response that refuses the request.
fn openai_caller(
    st: &State,
    headers: &HeaderMap,
    body: &[u8],
    rid: &str,
    required: &str,
) -> Result<(String, Value), Box<Response>> {
    let info = authenticate(st, headers, rid)?;
    let MintedFor::OpenAi { project_id, .. } = info.minted_for else {
        return Err(Box::new(openai_error(
            StatusCode::UNAUTHORIZED,
            "invalid_api_key",
            "this token was minted for the Anthropic API, not the OpenAI API",
            rid,
        )));
    };
    let bad = |m: &str| {
        Box::new(openai_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            m,
            rid,
        ))
    };
    let req: Value = serde_json::from_slice(body)
        .map_err(|_| bad("We could not parse the JSON body of your request."))?;
    if req.get(required).is_none() {
        return Err(bad(&format!("Missing required parameter: '{required}'.")));
    }
    Ok((project_id, req))
}

fn text_for(project: &str) -> String {
    format!(
        "{REPLY} Your request reached project {project} with a short-lived token; no API key was involved."
    )
}

fn model_of(req: &Value) -> String {
    req.get("model")
        .and_then(Value::as_str)
        .unwrap_or(OPENAI_MODEL)
        .to_string()
}

fn streams(req: &Value) -> bool {
    req.get("stream").and_then(Value::as_bool) == Some(true)
}

fn approx_tokens(v: Option<&Value>) -> u64 {
    v.map_or(0, |v| v.to_string().len() as u64 / 4 + 1)
}

fn headers(rid: &str, project: &str) -> [(&'static str, String); 2] {
    [
        ("x-request-id", rid.to_string()),
        ("openai-project", project.to_string()),
    ]
}

pub async fn responses(AxState(st): AxState<Arc<State>>, hdrs: HeaderMap, body: Bytes) -> Response {
    let rid = new_id("req_sandbox_");
    let (project, req) = match openai_caller(&st, &hdrs, &body, &rid, "input") {
        Err(r) => return *r,
        Ok(c) => c,
    };
    let text = text_for(&project);
    let (rid_h, proj_h) = (rid.clone(), project.clone());
    let input_tokens = approx_tokens(req.get("input")) + approx_tokens(req.get("instructions"));
    let output_tokens = text.len() as u64 / 4 + 1;
    let resp_id = new_id("resp_sandbox_");
    let item_id = new_id("msg_sandbox_");
    let part = json!({"type": "output_text", "text": text, "annotations": []});
    let item = json!({"type": "message", "id": item_id, "status": "completed",
                      "role": "assistant", "content": [part]});
    let response = |status: &str, output: Value, usage: Value| {
        json!({
            "id": resp_id, "object": "response", "created_at": crate::clock::now(),
            "status": status, "model": model_of(&req), "output": output,
            "error": null, "incomplete_details": null, "instructions": req.get("instructions"),
            "parallel_tool_calls": true, "tool_choice": "auto", "tools": [],
            "usage": usage,
        })
    };
    let usage = json!({
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input_tokens + output_tokens,
    });
    let done = response("completed", json!([item]), usage);
    if !streams(&req) {
        return (StatusCode::OK, headers(&rid, &project), Json(done)).into_response();
    }
    let mut sse = Sse::default();
    let mut seq = 0u64;
    let mut ev = |name: &str, mut data: Value| {
        data["type"] = json!(name);
        data["sequence_number"] = json!(seq);
        seq += 1;
        sse.event(name, data);
    };
    let started = response("in_progress", json!([]), Value::Null);
    ev("response.created", json!({"response": started}));
    ev("response.in_progress", json!({"response": started}));
    let mut open_item = item.clone();
    open_item["status"] = json!("in_progress");
    open_item["content"] = json!([]);
    ev(
        "response.output_item.added",
        json!({"output_index": 0, "item": open_item}),
    );
    let at = json!({"item_id": item_id, "output_index": 0, "content_index": 0});
    let with = |extra: Value| {
        let mut v = at.clone();
        for (k, x) in extra.as_object().into_iter().flatten() {
            v[k] = x.clone();
        }
        v
    };
    ev(
        "response.content_part.added",
        with(json!({"part": {"type": "output_text", "text": "", "annotations": []}})),
    );
    for piece in chunks(&text) {
        ev("response.output_text.delta", with(json!({"delta": piece})));
    }
    ev("response.output_text.done", with(json!({"text": text})));
    ev("response.content_part.done", with(json!({"part": part})));
    ev(
        "response.output_item.done",
        json!({"output_index": 0, "item": item}),
    );
    ev("response.completed", json!({"response": done}));
    sse.response(&[("x-request-id", &rid_h), ("openai-project", &proj_h)])
}

pub async fn chat_completions(
    AxState(st): AxState<Arc<State>>,
    hdrs: HeaderMap,
    body: Bytes,
) -> Response {
    let rid = new_id("req_sandbox_");
    let (project, req) = match openai_caller(&st, &hdrs, &body, &rid, "messages") {
        Err(r) => return *r,
        Ok(c) => c,
    };
    let text = text_for(&project);
    let id = new_id("chatcmpl-sandbox");
    let created = crate::clock::now();
    let model = model_of(&req);
    let prompt_tokens = approx_tokens(req.get("messages"));
    let completion_tokens = text.len() as u64 / 4 + 1;
    let usage = json!({
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    });
    if !streams(&req) {
        let body = json!({
            "id": id, "object": "chat.completion", "created": created, "model": model,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": null},
                "logprobs": null, "finish_reason": "stop",
            }],
            "usage": usage,
        });
        return (StatusCode::OK, headers(&rid, &project), Json(body)).into_response();
    }
    let chunk = |delta: Value, finish: Value| {
        json!({
            "id": id, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
        })
        .to_string()
    };
    let mut sse = Sse::default();
    sse.data(&chunk(
        json!({"role": "assistant", "content": "", "refusal": null}),
        Value::Null,
    ));
    for piece in chunks(&text) {
        sse.data(&chunk(json!({"content": piece}), Value::Null));
    }
    sse.data(&chunk(json!({}), json!("stop")));
    let include_usage = req
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        == Some(true);
    if include_usage {
        sse.data(
            &json!({
                "id": id, "object": "chat.completion.chunk", "created": created,
                "model": model, "choices": [], "usage": usage,
            })
            .to_string(),
        );
    }
    sse.data("[DONE]");
    sse.response(&[("x-request-id", &rid), ("openai-project", &project)])
}
