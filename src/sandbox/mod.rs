//! `keyless sandbox`: a local stand-in for an OIDC identity provider, for
//! Anthropic's and OpenAI's token endpoints, and for a slice of their APIs,
//! bound to 127.0.0.1 only.
//!
//! It validates assertions the way the references describe the real services
//! (signature via the issuer's JWKS, iss, aud, exp/iat/nbf with 30 s skew,
//! maximum lifetime, single-use jti, then Anthropic's rule matching and
//! workspace, or OpenAI's identity provider and service account mapping) and
//! serves `GET /v1/models` (both shapes), `POST /v1/messages` (+ streaming,
//! count_tokens), `POST /v1/responses` and `/v1/chat/completions` (+
//! streaming) to live tokens it minted, enough for Claude Code, Codex and
//! the SDKs to complete a turn. It is neither API and never forwards
//! anything anywhere.

mod api;
mod federation;
mod issuer;
mod keys;
mod messages;
mod openai;
pub mod platforms;
mod responses;
pub mod rules;
mod stream;
pub mod sts;
mod verify;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::{get, post};

use crate::error::{Error, Result};
use keys::SigningKey;
use rules::RulesFile;

/// What the sandbox remembers about a token it minted.
#[derive(Clone)]
pub struct MintedInfo {
    pub expires_at: i64,
    pub minted_for: MintedFor,
}

/// Which token endpoint minted a token, and for what.
#[derive(Clone)]
pub enum MintedFor {
    Anthropic {
        organization_id: String,
        workspace_id: String,
    },
    OpenAi {
        project_id: String,
        service_account_id: String,
    },
}

/// One exchange attempt, like the Console's authentication history.
#[derive(Clone, Default, serde::Serialize)]
pub struct HistoryEvent {
    pub request_id: String,
    /// "anthropic" or "openai": which token endpoint was asked.
    pub provider: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub federation_rule_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_provider_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_account_id: Option<String>,
    pub outcome: String,
    pub reason: Option<String>,
    pub subject: Option<String>,
    pub jti: Option<String>,
}

pub struct State {
    pub url: String,
    pub key: SigningKey,
    pub rules: RulesFile,
    /// (provider, issuer, jti): each provider remembers the JWTs it saw.
    pub used_jti: Mutex<HashSet<(String, String, String)>>,
    pub minted: Mutex<HashMap<String, MintedInfo>>,
    pub history: Mutex<Vec<HistoryEvent>>,
    pub exchanges: AtomicU64,
    pub jwks_cache: Mutex<HashMap<String, serde_json::Value>>,
    /// API calls served and refused, and the tokens revoked at the sandbox.
    pub api: Mutex<api::ApiLog>,
    /// The request tokens the platform stand-ins expect.
    pub platform_secrets: platforms::Secrets,
}

impl State {
    pub fn new(url: String, rules: RulesFile) -> Self {
        State {
            url,
            key: SigningKey::generate(),
            rules,
            used_jti: Mutex::new(HashSet::new()),
            minted: Mutex::new(HashMap::new()),
            history: Mutex::new(Vec::new()),
            exchanges: AtomicU64::new(0),
            jwks_cache: Mutex::new(HashMap::new()),
            api: Mutex::new(api::ApiLog::default()),
            platform_secrets: platforms::Secrets::generate(),
        }
    }

    /// Rule issuers may say "self" for the sandbox's own issuer.
    pub fn issuer_url<'a>(&'a self, s: &'a str) -> &'a str {
        if s == "self" { &self.url } else { s }
    }

    pub fn record(&self, event: HistoryEvent) {
        self.history.lock().unwrap().push(event);
    }
}

/// A token endpoint's first steps: count the request, give it an id, and
/// read its JSON body. The error is the message for the endpoint's own 400.
fn json_request(
    st: &State,
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> (String, std::result::Result<serde_json::Value, &'static str>) {
    st.exchanges
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let rid = new_id("req_sandbox_");
    let is_json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let req = if !is_json {
        Err("the request body must be JSON (content-type: application/json)")
    } else {
        serde_json::from_slice(body).map_err(|_| "the request body is not valid JSON")
    };
    (rid, req)
}

/// (sub, jti) of an assertion, unverified, for the history.
fn peek(assertion: &str) -> (Option<String>, Option<String>) {
    match crate::jwt::inspect(assertion, "assertion") {
        Ok(i) => (i.sub, i.jti),
        Err(_) => (None, None),
    }
}

fn claims_exp(assertion: &str) -> Option<i64> {
    crate::jwt::inspect(assertion, "assertion").ok()?.exp
}

pub fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/.well-known/openid-configuration", get(issuer::discovery))
        .route("/jwks", get(issuer::jwks))
        .route("/oauth2/token", post(issuer::token))
        .route("/v1/oauth/token", post(federation::exchange))
        .route(OPENAI_TOKEN_PATH, post(openai::exchange))
        .route("/v1/models", get(api::models))
        .route("/v1/messages", post(messages::messages))
        .route("/v1/messages/count_tokens", post(messages::count_tokens))
        .route("/v1/responses", post(responses::responses))
        .route("/v1/chat/completions", post(responses::chat_completions))
        .route("/_sandbox/revoke", post(api::revoke))
        .fallback(api::not_found)
        .route("/_sandbox/history", get(api::history))
        .route("/", post(sts::handle))
        .merge(platforms::routes())
        .with_state(state)
}

/// Where the sandbox serves OpenAI's token exchange (`--token-endpoint`).
pub const OPENAI_TOKEN_PATH: &str = "/openai/oauth/token";

pub struct Options {
    pub port: u16,
    pub rules: Option<std::path::PathBuf>,
    pub token_lifetime: i64,
}

fn bind(port: u16) -> Result<std::net::TcpListener> {
    let l = std::net::TcpListener::bind(("127.0.0.1", port)).map_err(|e| {
        Error::failure(format!(
            "cannot listen on 127.0.0.1:{port}: {}",
            crate::error::io_reason(&e)
        ))
        .hint("choose another --port, or 0 for a free one")
    })?;
    l.set_nonblocking(true)
        .map_err(|e| Error::failure(format!("cannot configure the listener: {e}")))?;
    Ok(l)
}

fn rules_for(opts: &Options) -> Result<RulesFile> {
    match &opts.rules {
        Some(p) => rules::load(p),
        None => Ok(rules::defaults(opts.token_lifetime)),
    }
}

/// Bind and prepare; the caller decides where it runs.
pub fn prepare(opts: &Options) -> Result<(std::net::TcpListener, Arc<State>)> {
    let rules = rules_for(opts)?;
    let listener = bind(opts.port)?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::failure(format!("cannot read the listening address: {e}")))?;
    let url = format!("http://127.0.0.1:{}", addr.port());
    Ok((listener, Arc::new(State::new(url, rules))))
}

pub async fn serve(
    listener: std::net::TcpListener,
    state: Arc<State>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let listener = tokio::net::TcpListener::from_std(listener)
        .map_err(|e| Error::failure(format!("cannot use the listener: {e}")))?;
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| Error::failure(format!("the sandbox server failed: {e}")))
}

/// A sandbox on a thread of its own, for `keyless demo`. Dropped = stopped.
pub struct Background {
    pub state: Arc<State>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Background {
    pub fn start(opts: &Options) -> Result<Self> {
        let (listener, state) = prepare(opts)?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let st = state.clone();
        let rt = crate::http::runtime()?;
        let thread = std::thread::spawn(move || {
            let _ = rt.block_on(serve(listener, st, async {
                let _ = rx.await;
            }));
        });
        Ok(Background {
            state,
            stop: Some(tx),
            thread: Some(thread),
        })
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The `keyless setup anthropic …` command that points at a sandbox.
pub fn setup_command(url: &str, exe: &str) -> Vec<String> {
    vec![
        "setup".into(),
        "anthropic".into(),
        "--base-url".into(),
        url.into(),
        "--federation-rule-id".into(),
        rules::SANDBOX_RULE.into(),
        "--organization-id".into(),
        rules::SANDBOX_ORG.into(),
        "--service-account-id".into(),
        rules::SANDBOX_SA.into(),
        "--workspace-id".into(),
        rules::SANDBOX_WORKSPACE.into(),
        "--identity".into(),
        format!(
            "command:{} sandbox identity-token --issuer {url}",
            crate::command_line::join([exe])
        ),
    ]
}

/// The `keyless setup openai …` command that points at a sandbox, with an
/// identity command that asks for the identity provider's audience.
pub fn openai_setup_command(url: &str, exe: &str) -> Vec<String> {
    vec![
        "setup".into(),
        "openai".into(),
        "--token-endpoint".into(),
        format!("{url}{OPENAI_TOKEN_PATH}"),
        "--identity-provider-id".into(),
        rules::OPENAI_WIP.into(),
        "--service-account-id".into(),
        rules::OPENAI_SA.into(),
        "--audience".into(),
        rules::OPENAI_AUDIENCE.into(),
        "--identity".into(),
        format!(
            "command:{} sandbox identity-token --issuer {url} --audience {}",
            crate::command_line::join([exe]),
            rules::OPENAI_AUDIENCE
        ),
    ]
}

/// A request body that must be a JSON object; an empty one is `{}`.
pub fn object_or_empty(body: &[u8]) -> Option<serde_json::Value> {
    if body.is_empty() {
        return Some(serde_json::json!({}));
    }
    match serde_json::from_slice(body) {
        Ok(v @ serde_json::Value::Object(_)) => Some(v),
        _ => None,
    }
}

pub fn new_id(prefix: &str) -> String {
    use rand::RngCore;
    let mut b = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut b);
    format!("{prefix}{}", crate::digest::hex(&b))
}
