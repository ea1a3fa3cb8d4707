//! A streaming stand-in for both providers' token endpoints and APIs, for
//! `exec --proxy` (tests/cli/fake.rs answers in one piece; this one
//! streams). It mints tokens of a set lifetime, refuses expired, revoked
//! and unknown ones with 401 in the provider's shape, and counts what
//! reached it: the proxy's refusals must never arrive here.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

#[derive(Default)]
pub struct Seen {
    /// API requests (not exchanges), with the headers that matter.
    pub api: Vec<SeenRequest>,
    pub exchanges: usize,
    /// API requests answered 401 (expired, revoked, unknown token).
    pub rejected: usize,
}

#[derive(Clone, Debug)]
pub struct SeenRequest {
    pub path: String,
    pub authorization: Option<String>,
    pub x_api_key: Option<String>,
    pub anthropic_beta: Option<String>,
    pub anthropic_version: Option<String>,
    pub host: Option<String>,
}

pub struct Upstream {
    pub url: String,
    pub state: Arc<Shared>,
}

pub struct Shared {
    pub lifetime: i64,
    pub seen: Mutex<Seen>,
    /// token → when it expires.
    tokens: Mutex<HashMap<String, Instant>>,
    revoked: Mutex<Vec<String>>,
    minted: AtomicUsize,
    /// Released by the test to let `/v1/messages` with `"hold": true` finish.
    pub release: tokio::sync::Notify,
}

/// Run `serve` with `listener` (non-blocking) as a tokio listener, on a
/// two-thread runtime of its own in a background thread: a test server.
pub fn serve_in_background<F, Fut>(listener: std::net::TcpListener, serve: F)
where
    F: FnOnce(tokio::net::TcpListener) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::from_std(listener).unwrap();
            serve(l).await
        });
    });
}

impl Upstream {
    /// Serve on 127.0.0.1 with tokens living `lifetime` seconds.
    pub fn start(lifetime: i64) -> Self {
        let state = Arc::new(Shared {
            lifetime,
            seen: Mutex::default(),
            tokens: Mutex::default(),
            revoked: Mutex::default(),
            minted: AtomicUsize::new(0),
            release: tokio::sync::Notify::new(),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let st = state.clone();
        serve_in_background(listener, |l| async move {
            let app = axum::Router::new().fallback(handle).with_state(st);
            axum::serve(l, app).await.unwrap();
        });
        Upstream { url, state }
    }

    pub fn openai_token_endpoint(&self) -> String {
        format!("{}/openai/oauth/token", self.url)
    }

    pub fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.state.seen.lock().unwrap()
    }

    pub fn api_count(&self) -> usize {
        self.seen().api.len()
    }

    /// Every token minted so far.
    pub fn minted_tokens(&self) -> Vec<String> {
        self.state.tokens.lock().unwrap().keys().cloned().collect()
    }

    /// Revoke every token minted so far: the API answers 401 to them.
    pub fn revoke_all(&self) {
        let all = self.minted_tokens();
        self.state.revoked.lock().unwrap().extend(all);
    }
}

fn header(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

async fn handle(State(st): State<Arc<Shared>>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let headers = req.headers().clone();
    let body = axum::body::to_bytes(req.into_body(), 64 << 20)
        .await
        .unwrap_or_default();
    if path == "/v1/oauth/token" || path == "/openai/oauth/token" {
        st.seen.lock().unwrap().exchanges += 1;
        let n = st.minted.fetch_add(1, Ordering::SeqCst);
        let token = if path.starts_with("/v1") {
            format!("sk-ant-oat01-upstream{n}-{:x}", rand_u64())
        } else {
            format!("oai-upstream{n}-{:x}", rand_u64())
        };
        let ttl = Duration::from_secs(st.lifetime as u64);
        st.tokens
            .lock()
            .unwrap()
            .insert(token.clone(), Instant::now() + ttl);
        let body = serde_json::json!({"access_token": token, "token_type": "Bearer",
            "expires_in": st.lifetime, "scope": "user:inference"});
        return axum::Json(body).into_response();
    }
    st.seen.lock().unwrap().api.push(SeenRequest {
        path: path.clone(),
        authorization: header(&headers, "authorization"),
        x_api_key: header(&headers, "x-api-key"),
        anthropic_beta: header(&headers, "anthropic-beta"),
        anthropic_version: header(&headers, "anthropic-version"),
        host: header(&headers, "host"),
    });
    let openai = headers.contains_key("openai-shape")
        || path.starts_with("/v1/chat")
        || path.starts_with("/v1/responses");
    let token = header(&headers, "authorization")
        .and_then(|a| a.strip_prefix("Bearer ").map(str::to_string))
        .unwrap_or_default();
    let live = st
        .tokens
        .lock()
        .unwrap()
        .get(&token)
        .is_some_and(|exp| *exp > Instant::now());
    if !live || st.revoked.lock().unwrap().contains(&token) {
        st.seen.lock().unwrap().rejected += 1;
        let body = if openai {
            serde_json::json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}})
        } else {
            serde_json::json!({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}})
        };
        return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    }
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let stream = json["stream"].as_bool().unwrap_or(false);
    match path.as_str() {
        "/v1/messages" if json["hold"].as_bool() == Some(true) => held_stream(st).await,
        "/v1/messages" if stream => sse(anthropic_events()),
        "/v1/messages" => axum::Json(message()).into_response(),
        "/v1/messages/count_tokens" => {
            axum::Json(serde_json::json!({"input_tokens": 7})).into_response()
        }
        "/v1/models" => axum::Json(models()).into_response(),
        "/v1/chat/completions" if stream => sse(chat_events()),
        "/v1/chat/completions" => axum::Json(chat()).into_response(),
        "/v1/responses" if stream => sse(response_events()),
        "/v1/responses" => axum::Json(response()).into_response(),
        "/v1/big" => big(query.parse().unwrap_or(1)),
        "/v1/echo" => axum::Json(serde_json::json!({"len": body.len()})).into_response(),
        _ => (StatusCode::NOT_FOUND, "no such route").into_response(),
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    h.finish()
}

fn sse(events: Vec<(Option<&'static str>, serde_json::Value)>) -> Response {
    let mut text = String::new();
    for (name, data) in events {
        if let Some(n) = name {
            text.push_str(&format!("event: {n}\n"));
        }
        text.push_str(&format!("data: {data}\n\n"));
    }
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from(text))
        .unwrap()
}

/// The first event at once, the rest only after the test's release.
async fn held_stream(st: Arc<Shared>) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::spawn(async move {
        let first = "event: message_start\ndata: {\"type\":\"message_start\"}\n\n";
        let _ = tx.send(Ok(Bytes::from(first))).await;
        st.release.notified().await;
        let rest = "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
        let _ = tx.send(Ok(Bytes::from(rest))).await;
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(stream))
        .unwrap()
}

/// `mb` MiB in 64 KiB chunks, produced as they are read.
fn big(mb: usize) -> Response {
    let chunk = Bytes::from(vec![b'x'; 64 << 10]);
    let n = mb * 16;
    let stream = futures_util::stream::unfold(0usize, move |i| {
        let chunk = chunk.clone();
        async move { (i < n).then(|| (Ok::<_, std::io::Error>(chunk), i + 1)) }
    });
    Response::builder()
        .header("content-type", "application/octet-stream")
        .body(Body::from_stream(stream))
        .unwrap()
}

fn message() -> serde_json::Value {
    serde_json::json!({"id": "msg_01", "type": "message", "role": "assistant", "model": "claude-test",
        "content": [{"type": "text", "text": "Hello through the proxy"}],
        "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {"input_tokens": 3, "output_tokens": 4}})
}

fn anthropic_events() -> Vec<(Option<&'static str>, serde_json::Value)> {
    let mut start = message();
    start["content"] = serde_json::json!([]);
    start["stop_reason"] = serde_json::Value::Null;
    vec![
        (
            Some("message_start"),
            serde_json::json!({"type": "message_start", "message": start}),
        ),
        (
            Some("content_block_start"),
            serde_json::json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
        (
            Some("content_block_delta"),
            serde_json::json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello "}}),
        ),
        (
            Some("content_block_delta"),
            serde_json::json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "streamed"}}),
        ),
        (
            Some("content_block_stop"),
            serde_json::json!({"type": "content_block_stop", "index": 0}),
        ),
        (
            Some("message_delta"),
            serde_json::json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 2}}),
        ),
        (
            Some("message_stop"),
            serde_json::json!({"type": "message_stop"}),
        ),
    ]
}

fn models() -> serde_json::Value {
    serde_json::json!({"data": [{"id": "claude-test", "type": "model", "display_name": "Claude Test",
        "created_at": "2026-01-01T00:00:00Z"}], "has_more": false,
        "first_id": "claude-test", "last_id": "claude-test", "object": "list"})
}

fn chat() -> serde_json::Value {
    serde_json::json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-test",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi from chat"}, "finish_reason": "stop"}]})
}

fn chat_events() -> Vec<(Option<&'static str>, serde_json::Value)> {
    let chunk = |delta: serde_json::Value, finish: serde_json::Value| {
        (
            None,
            serde_json::json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
            "model": "gpt-test", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}),
        )
    };
    vec![
        chunk(
            serde_json::json!({"role": "assistant", "content": "Hi "}),
            serde_json::Value::Null,
        ),
        chunk(
            serde_json::json!({"content": "streamed"}),
            serde_json::Value::Null,
        ),
        chunk(serde_json::json!({}), serde_json::json!("stop")),
    ]
}

fn response() -> serde_json::Value {
    serde_json::json!({"id": "resp_1", "object": "response", "created_at": 1, "model": "gpt-test",
        "status": "completed", "parallel_tool_calls": false, "tool_choice": "auto", "tools": [],
        "output": [{"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "text": "Hi from responses", "annotations": []}]}]})
}

fn response_events() -> Vec<(Option<&'static str>, serde_json::Value)> {
    let done = response();
    let mut created = done.clone();
    created["status"] = serde_json::json!("in_progress");
    created["output"] = serde_json::json!([]);
    let delta = |d: &str, n: u64| {
        (
            Some("response.output_text.delta"),
            serde_json::json!({"type": "response.output_text.delta",
            "item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": d, "sequence_number": n, "logprobs": []}),
        )
    };
    vec![
        (
            Some("response.created"),
            serde_json::json!({"type": "response.created", "response": created, "sequence_number": 0}),
        ),
        delta("Hi ", 1),
        delta("responses", 2),
        (
            Some("response.completed"),
            serde_json::json!({"type": "response.completed", "response": done, "sequence_number": 3}),
        ),
    ]
}
