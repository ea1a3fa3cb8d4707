//! The sandbox's Anthropic-compatible `POST /v1/oauth/token` (jwt-bearer).
//!
//! Malformed requests get `400 invalid_request_error` with a message naming
//! the field; every assertion denial gets the same opaque
//! `401 authentication_error` "Authentication failed" as the real service,
//! and the reason goes to the history (`GET /_sandbox/history`) and stderr,
//! like the Console's authentication history.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

use super::rules::{ANTHROPIC_AUDIENCE, Issuer, Jwks, Rule};
use super::{HistoryEvent, MintedInfo, State, new_id};
use crate::jwt::{MAX_ASSERTION_BYTES, SKEW_SECS};

pub fn api_error(status: StatusCode, etype: &str, message: &str, request_id: &str) -> Response {
    (
        status,
        [("request-id", request_id.to_string())],
        Json(json!({
            "type": "error",
            "error": {"type": etype, "message": message},
            "request_id": request_id,
        })),
    )
        .into_response()
}

struct Denial(&'static str);

pub async fn exchange(
    AxState(st): AxState<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    st.exchanges.fetch_add(1, Ordering::SeqCst);
    let rid = new_id("req_sandbox_");
    let bad = |msg: &str| api_error(StatusCode::BAD_REQUEST, "invalid_request_error", msg, &rid);
    let is_json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return bad("the request body must be JSON (content-type: application/json)");
    }
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return bad("the request body is not valid JSON");
    };
    let field = |k: &str| req.get(k).and_then(Value::as_str).map(str::to_string);
    if field("grant_type").as_deref() != Some(crate::provider::anthropic::GRANT_TYPE) {
        return bad("unsupported grant_type; expected urn:ietf:params:oauth:grant-type:jwt-bearer");
    }
    let Some(rule_id) = field("federation_rule_id") else {
        return bad("federation_rule_id: field required");
    };
    if crate::commands::setup::check_rule_id(&rule_id).is_err() {
        return bad("federation_rule_id is not a well-formed fdrl_ tagged ID");
    }
    let Some(org) = field("organization_id") else {
        return bad("organization_id: field required");
    };
    if crate::commands::setup::check_organization_id(&org).is_err() {
        return bad("organization_id is not a well-formed UUID");
    }
    let workspace = field("workspace_id");
    if let Some(w) = &workspace
        && crate::commands::setup::check_workspace_id(w).is_err()
    {
        return bad("workspace_id must be a well-formed wrkspc_ tagged ID or 'default'");
    }
    let Some(assertion) = field("assertion") else {
        return bad("assertion: field required");
    };
    if assertion.len() > MAX_ASSERTION_BYTES {
        return bad("assertion exceeds 16 KiB");
    }
    let sa = field("service_account_id");
    let outcome = validate(
        &st,
        &rule_id,
        &org,
        &assertion,
        workspace.as_deref(),
        sa.as_deref(),
    )
    .await;
    let (sub, jti) = peek(&assertion);
    match outcome {
        Ok((rule, ws)) => {
            let now = crate::jwt::now();
            let exp = claims_exp(&assertion).unwrap_or(now);
            // Anthropic: max(60, min(rule lifetime, 2 × remaining assertion validity)).
            let lifetime = rule.token_lifetime_seconds.min(2 * (exp - now)).max(60);
            let token = format!("sk-ant-oat01-sandbox-{}", new_id(""));
            st.minted.lock().unwrap().insert(
                token.clone(),
                MintedInfo {
                    expires_at: now + lifetime,
                    organization_id: rule.organization_id.clone(),
                    workspace_id: ws,
                },
            );
            record(&st, &rid, &rule_id, "success", None, sub, jti);
            (
                StatusCode::OK,
                [("request-id", rid.clone())],
                Json(json!({
                    "access_token": token,
                    "token_type": "Bearer",
                    "expires_in": lifetime,
                    "scope": rule.oauth_scope,
                })),
            )
                .into_response()
        }
        Err(Denial(reason)) => {
            eprintln!("sandbox: denied exchange for {rule_id}: {reason} (request-id {rid})");
            record(&st, &rid, &rule_id, "denied", Some(reason), sub, jti);
            api_error(
                StatusCode::UNAUTHORIZED,
                "authentication_error",
                "Authentication failed",
                &rid,
            )
        }
    }
}

fn record(
    st: &State,
    rid: &str,
    rule: &str,
    outcome: &str,
    reason: Option<&str>,
    sub: Option<String>,
    jti: Option<String>,
) {
    st.history.lock().unwrap().push(HistoryEvent {
        request_id: rid.to_string(),
        federation_rule_id: rule.to_string(),
        outcome: outcome.to_string(),
        reason: reason.map(str::to_string),
        subject: sub,
        jti,
    });
}

fn peek(assertion: &str) -> (Option<String>, Option<String>) {
    match crate::jwt::inspect(assertion, "assertion") {
        Ok(i) => (i.sub, i.jti),
        Err(_) => (None, None),
    }
}

fn claims_exp(assertion: &str) -> Option<i64> {
    crate::jwt::inspect(assertion, "assertion").ok()?.exp
}

async fn validate(
    st: &State,
    rule_id: &str,
    org: &str,
    assertion: &str,
    workspace: Option<&str>,
    sa: Option<&str>,
) -> Result<(Rule, String), Denial> {
    let rule = st
        .rules
        .rules
        .iter()
        .find(|r| r.id == rule_id && r.organization_id == org)
        .ok_or(Denial("rule_not_found"))?
        .clone();
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| Denial("jwt_malformed"))?;
    let alg = header.alg;
    if matches!(
        alg,
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 | Algorithm::EdDSA
    ) {
        return Err(Denial("jwt_alg_not_allowed"));
    }
    let kid = header.kid.ok_or(Denial("jwt_kid_missing"))?;
    let unverified =
        crate::jwt::inspect(assertion, "assertion").map_err(|_| Denial("jwt_malformed"))?;
    let want_iss = st.issuer_url(&rule.issuer_url).to_string();
    if unverified.iss.as_deref() != Some(want_iss.as_str()) {
        return Err(Denial("iss_mismatch"));
    }
    let issuer = issuer_config(st, &want_iss);
    let jwk = find_key(st, &issuer, &kid)
        .await
        .ok_or(Denial("jwt_kid_not_in_jwks"))?;
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| Denial("jwks_unusable"))?;
    let mut v = Validation::new(alg);
    v.validate_exp = false;
    v.validate_aud = false;
    v.validate_nbf = false;
    v.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<Value>(assertion, &key, &v)
        .map_err(|_| Denial("jwt_signature_invalid"))?;
    let claims = data.claims;
    let num = |k: &str| claims.get(k).and_then(Value::as_i64);
    let now = crate::jwt::now();
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .ok_or(Denial("jwt_sub_missing"))?;
    let iat = num("iat").ok_or(Denial("jwt_iat_missing"))?;
    let exp = num("exp").ok_or(Denial("jwt_exp_missing"))?;
    if iat > now + SKEW_SECS {
        return Err(Denial("jwt_iat_in_future"));
    }
    if exp + SKEW_SECS < now {
        return Err(Denial("jwt_expired"));
    }
    if let Some(nbf) = num("nbf")
        && nbf > now + SKEW_SECS
    {
        return Err(Denial("jwt_not_yet_valid"));
    }
    if exp - iat > issuer.max_jwt_lifetime_seconds {
        return Err(Denial("jwt_lifetime_too_long"));
    }
    if issuer.check_jti
        && let Some(jti) = claims.get("jti").and_then(Value::as_str)
        && !st
            .used_jti
            .lock()
            .unwrap()
            .insert((want_iss.clone(), jti.to_string()))
    {
        return Err(Denial("jti_reused"));
    }
    let auds: Vec<&str> = match claims.get("aud") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let want_aud = rule
        .matcher
        .audience
        .as_deref()
        .unwrap_or(ANTHROPIC_AUDIENCE);
    if !auds.contains(&want_aud) {
        return Err(Denial("jwt_audience_mismatch"));
    }
    if let Some(prefix) = &rule.matcher.subject_prefix {
        let ok = match prefix.strip_suffix('*') {
            Some(p) => sub.starts_with(p),
            None => sub == prefix,
        };
        if !ok {
            return Err(Denial("match_subject_prefix"));
        }
    }
    for (k, want) in &rule.matcher.claims {
        if claims.get(k).and_then(Value::as_str) != Some(want.as_str()) {
            return Err(Denial("match_claims"));
        }
    }
    let ws = match workspace {
        Some(w) if rule.workspace_ids.iter().any(|x| x == w) => w.to_string(),
        Some(_) => return Err(Denial("workspace_not_covered")),
        None if rule.workspace_ids.len() == 1 => rule.workspace_ids[0].clone(),
        None => return Err(Denial("workspace_id_required")),
    };
    if let Some(sa) = sa
        && sa != rule.service_account_id
    {
        return Err(Denial("service_account_mismatch"));
    }
    Ok((rule, ws))
}

fn issuer_config(st: &State, url: &str) -> Issuer {
    st.rules
        .issuers
        .iter()
        .find(|i| st.issuer_url(&i.issuer_url) == url)
        .cloned()
        .unwrap_or(Issuer {
            issuer_url: url.to_string(),
            jwks: Jwks::Discovery,
            max_jwt_lifetime_seconds: 3600,
            check_jti: true,
        })
}

/// The JWK with `kid` from the issuer's key set: the sandbox's own, inline, or
/// fetched (and cached) from an explicit URL or discovery.
async fn find_key(st: &State, issuer: &Issuer, kid: &str) -> Option<jsonwebtoken::jwk::Jwk> {
    let set: Value = if issuer.issuer_url == st.url || issuer.issuer_url == "self" {
        st.key.jwks()
    } else {
        match &issuer.jwks {
            Jwks::Inline { keys } => json!({"keys": keys}),
            Jwks::ExplicitUrl { url } => fetch_jwks(st, url, kid).await?,
            Jwks::Discovery => {
                let disc = format!(
                    "{}/.well-known/openid-configuration",
                    issuer.issuer_url.trim_end_matches('/')
                );
                let client = crate::http::client().ok()?;
                let d: Value = client.get(&disc).send().await.ok()?.json().await.ok()?;
                let uri = d.get("jwks_uri")?.as_str()?.to_string();
                fetch_jwks(st, &uri, kid).await?
            }
        }
    };
    let keys: Vec<jsonwebtoken::jwk::Jwk> =
        serde_json::from_value(set.get("keys")?.clone()).ok()?;
    keys.into_iter()
        .find(|k| k.common.key_id.as_deref() == Some(kid))
}

/// Fetch a JWKS, reusing a cached copy unless it lacks the wanted `kid`.
async fn fetch_jwks(st: &State, url: &str, kid: &str) -> Option<Value> {
    let has_kid = |v: &Value| {
        v.get("keys").and_then(Value::as_array).is_some_and(|ks| {
            ks.iter()
                .any(|k| k.get("kid").and_then(Value::as_str) == Some(kid))
        })
    };
    if let Some(v) = st.jwks_cache.lock().unwrap().get(url).cloned()
        && has_kid(&v)
    {
        return Some(v);
    }
    let client = crate::http::client().ok()?;
    let v: Value = client.get(url).send().await.ok()?.json().await.ok()?;
    st.jwks_cache
        .lock()
        .unwrap()
        .insert(url.to_string(), v.clone());
    Some(v)
}
