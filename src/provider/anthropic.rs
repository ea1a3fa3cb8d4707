//! Anthropic's token exchange: `POST {base}/v1/oauth/token`, RFC 7523
//! jwt-bearer, exactly as the official SDKs send it (JSON body, the two beta
//! values, no redirects, 30 s, 1 MiB cap).
//!
//! Errors are classified, never echoed: only OAuth `error`,
//! `error_description` and the API error message reach the user, scrubbed.

use serde_json::{Value, json};

use super::{Minted, plausible_token};
use crate::config::AnthropicConfig;
use crate::error::{Error, Kind, Result};
use crate::http::{self, Failure, Response};
use crate::jwt::Inspected;
use crate::redact;
use crate::secret::Secret;

pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
pub const BETA: &str = "oauth-2025-04-20,oidc-federation-2026-04-01";
pub const HISTORY_URL: &str =
    "https://platform.claude.com/settings/workload-identity-federation?tab=history";

pub fn token_url(base_url: &str) -> String {
    format!("{}/v1/oauth/token", base_url.trim_end_matches('/'))
}

/// The request body, field for field as the SDKs build it: `service_account_id`
/// and `workspace_id` only when set, never `scope`.
pub fn request_body(cfg: &AnthropicConfig, assertion: &Secret<String>) -> Value {
    let mut body = json!({
        "grant_type": GRANT_TYPE,
        "assertion": assertion.expose(),
        "federation_rule_id": cfg.federation_rule_id,
        "organization_id": cfg.organization_id,
    });
    if let Some(sa) = cfg.service_account_id.as_deref().filter(|s| !s.is_empty()) {
        body["service_account_id"] = json!(sa);
    }
    if let Some(ws) = cfg.workspace_id.as_deref().filter(|s| !s.is_empty()) {
        body["workspace_id"] = json!(ws);
    }
    body
}

/// The outcome of an exchange that produced no token.
pub struct ExchangeError {
    pub error: Error,
    /// True when the request never reached the server, so the assertion is unspent.
    pub not_sent: bool,
}

pub async fn jwt_bearer_exchange(
    client: &reqwest::Client,
    cfg: &AnthropicConfig,
    assertion: &Secret<String>,
    claims: &Inspected,
) -> std::result::Result<Minted, ExchangeError> {
    let url = token_url(cfg.base_url());
    crate::output::info(&format!("exchanging the identity token at {url}"));
    let req = client
        .post(&url)
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .header("anthropic-beta", BETA)
        .body(request_body(cfg, assertion).to_string());
    let started = std::time::Instant::now();
    let resp = match http::send(req, &url).await {
        Ok(r) => r,
        Err(f) => {
            let not_sent = matches!(f, Failure::NotSent(_));
            return Err(ExchangeError {
                error: Error::network(format!("token exchange failed: {}", f.message()))
                    .hint("check the network, HTTPS_PROXY/NO_PROXY, and the profile's --base-url"),
                not_sent,
            });
        }
    };
    crate::output::info(&format!(
        "token endpoint answered {} in {} ms{}",
        resp.status,
        started.elapsed().as_millis(),
        resp.request_id
            .as_deref()
            .map(|r| format!(" (request-id {r})"))
            .unwrap_or_default()
    ));
    interpret(cfg, claims, &url, resp).map_err(|error| ExchangeError {
        error,
        not_sent: false,
    })
}

fn request_id_suffix(resp: &Response) -> String {
    resp.request_id
        .as_deref()
        .map(|r| format!(" (request-id {r})"))
        .unwrap_or_default()
}

fn interpret(
    cfg: &AnthropicConfig,
    claims: &Inspected,
    url: &str,
    resp: Response,
) -> Result<Minted> {
    let rid = request_id_suffix(&resp);
    if (300..400).contains(&resp.status) {
        return Err(Error::network(format!(
            "the token endpoint {url} answered {} with a redirect{}; keyless does not follow redirects{rid}",
            resp.status,
            resp.location
                .as_deref()
                .map(|l| format!(" to {l}"))
                .unwrap_or_default()
        ))
        .hint("set --base-url to the API host itself"));
    }
    let parsed: Option<Value> = serde_json::from_slice(&resp.body)
        .ok()
        .filter(Value::is_object);
    let Some(body) = parsed else {
        let what = if resp.content_type.contains("html")
            || resp.body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<')
        {
            "an HTML page"
        } else {
            "a body that is not JSON"
        };
        return Err(Error::network(format!(
            "the token endpoint {url} answered {} with {what}{rid}",
            resp.status
        ))
        .hint("a proxy, captive portal or wrong --base-url is answering instead of the API"));
    };
    if resp.status == 200 {
        return parse_success(&body, url, &rid);
    }
    let (etype, message) = error_fields(&body);
    let shown = message
        .as_deref()
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    match resp.status {
        401 | 403 => Err(denied(cfg, claims, resp.status, etype.as_deref(), &rid)),
        400 if etype.as_deref() == Some("invalid_grant") => {
            Err(denied(cfg, claims, resp.status, etype.as_deref(), &rid))
        }
        400 => Err(Error::config(format!(
            "the token endpoint rejected the request as malformed{shown}{rid}"
        ))
        .hint(
            "check the identifiers with `keyless setup anthropic`; the server names the bad field",
        )),
        429 => Err(Error::network(format!(
            "the token endpoint is rate limiting (429){shown}{rid}"
        ))
        .hint("retry in a moment")),
        s if s >= 500 => Err(Error::network(format!(
            "the token endpoint failed with {s}{shown}{rid}"
        ))
        .hint("a server-side problem; retry later")),
        s => Err(
            Error::network(format!("the token endpoint {url} answered {s}{shown}{rid}")).hint(
                "check --base-url: it should be the API host, e.g. https://api.anthropic.com",
            ),
        ),
    }
}

/// (type, human message) from either the Anthropic error envelope
/// `{"error":{"type","message"}}` or an OAuth `{"error","error_description"}`.
fn error_fields(body: &Value) -> (Option<String>, Option<String>) {
    let clean = |v: Option<&Value>| v.and_then(Value::as_str).map(redact::server_text);
    match body.get("error") {
        Some(Value::Object(e)) => (clean(e.get("type")), clean(e.get("message"))),
        Some(Value::String(code)) => {
            let desc = clean(body.get("error_description"));
            let code = redact::server_text(code);
            let msg = match desc {
                Some(d) => format!("{code}: {d}"),
                None => code.clone(),
            };
            (Some(code), Some(msg))
        }
        _ => (None, None),
    }
}

fn denied(
    cfg: &AnthropicConfig,
    claims: &Inspected,
    status: u16,
    etype: Option<&str>,
    rid: &str,
) -> Error {
    let etype = etype.unwrap_or("denied");
    let aud = if claims.aud.is_empty() {
        "none".to_string()
    } else {
        claims.aud.join(", ")
    };
    let sub = claims.sub.as_deref().unwrap_or("none");
    let cause3 = match cfg.workspace_id.as_deref() {
        Some(w) => format!("3. the rule does not cover workspace {w}"),
        None => {
            "3. the rule covers several workspaces and the request names none; set --workspace-id"
                .to_string()
        }
    };
    let sa = cfg.service_account_id.as_deref().unwrap_or("(none set)");
    let mut e = Error::denied(format!(
        "Anthropic denied the token exchange ({status} {etype}) for federation rule {} in organization {}{rid}",
        cfg.federation_rule_id, cfg.organization_id
    ))
    .detail("likely causes, most common first:");
    let jti = if claims.jti.is_some() {
        "this JWT carries a jti and may already have been exchanged once (jti_reused)"
    } else {
        "the JWT was already exchanged (jti_reused)"
    };
    e = e
        .detail(format!(
            "1. {jti}; every exchange needs a fresh identity token"
        ))
        .detail(format!(
            "2. the subject ({sub}) or audience ({aud}) does not match the rule's match settings"
        ))
        .detail(cause3)
        .detail(format!(
            "4. the service account {sa} is not a member of the chosen workspace"
        ));
    e.hint(format!(
        "the exact reason is in the Console's authentication history: {HISTORY_URL}"
    ))
}

fn parse_success(body: &Value, url: &str, rid: &str) -> Result<Minted> {
    let bad = |what: &str| {
        Error::network(format!(
            "the token endpoint {url} answered 200 but {what}{rid}"
        ))
        .hint("the base URL may point at something other than the Claude API")
    };
    let token = body
        .get("access_token")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("without an access_token"))?;
    if !plausible_token(token) {
        return Err(bad("with a malformed access_token"));
    }
    let token_type = body
        .get("token_type")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("without a token_type"))?;
    if !token_type.eq_ignore_ascii_case("bearer") {
        return Err(bad("with a token_type other than Bearer"));
    }
    let expires_in = body
        .get("expires_in")
        .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
        .ok_or_else(|| bad("without expires_in"))?;
    if expires_in <= 0 {
        return Err(bad("with a non-positive expires_in"));
    }
    Ok(Minted {
        access_token: Secret::new(token.to_string()),
        token_type: "Bearer".to_string(),
        expires_in,
    })
}

/// Kinds that leave the assertion possibly spent.
pub fn spent(kind: Kind) -> bool {
    !matches!(kind, Kind::Config | Kind::Usage)
}
