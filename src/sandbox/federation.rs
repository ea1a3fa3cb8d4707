//! The sandbox's Anthropic-compatible `POST /v1/oauth/token` (jwt-bearer).
//!
//! Malformed requests get `400 invalid_request_error` with a message naming
//! the field; every assertion denial gets the same opaque
//! `401 authentication_error` "Authentication failed" as the real service,
//! and the reason goes to the history (`GET /_sandbox/history`) and stderr,
//! like the Console's authentication history.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use serde_json::{Value, json};

use super::rules::{ANTHROPIC_AUDIENCE, Rule};
use super::verify::{Denial, Trust, audiences, issuer_config, verify};
use super::{HistoryEvent, MintedFor, MintedInfo, State, new_id};
use crate::jwt::MAX_ASSERTION_BYTES;

pub fn api_error(status: StatusCode, etype: &str, message: &str, request_id: &str) -> Response {
    (
        status,
        [
            ("request-id", request_id.to_string()),
            (
                crate::provider::anthropic::SANDBOX_HISTORY_HEADER,
                "/_sandbox/history".to_string(),
            ),
        ],
        Json(json!({
            "type": "error",
            "error": {"type": etype, "message": message},
            "request_id": request_id,
        })),
    )
        .into_response()
}

pub async fn exchange(
    AxState(st): AxState<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (rid, req) = super::json_request(&st, &headers, &body);
    let bad = |msg: &str| api_error(StatusCode::BAD_REQUEST, "invalid_request_error", msg, &rid);
    let req = match req {
        Ok(r) => r,
        Err(msg) => return bad(msg),
    };
    let field = |k: &str| req.get(k).and_then(Value::as_str).map(str::to_string);
    if field("grant_type").as_deref() != Some(crate::provider::anthropic::GRANT_TYPE) {
        return bad("unsupported grant_type; expected urn:ietf:params:oauth:grant-type:jwt-bearer");
    }
    let Some(rule_id) = field("federation_rule_id") else {
        return bad("federation_rule_id: field required");
    };
    if crate::config::checks::check_rule_id(&rule_id).is_err() {
        return bad("federation_rule_id is not a well-formed fdrl_ tagged ID");
    }
    let Some(org) = field("organization_id") else {
        return bad("organization_id: field required");
    };
    if crate::config::checks::check_organization_id(&org).is_err() {
        return bad("organization_id is not a well-formed UUID");
    }
    let workspace = field("workspace_id");
    if let Some(w) = &workspace
        && crate::config::checks::check_workspace_id(w).is_err()
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
    let (sub, jti) = super::peek(&assertion);
    match outcome {
        Ok((rule, ws)) => {
            let now = crate::clock::now();
            let exp = super::claims_exp(&assertion).unwrap_or(now);
            // Anthropic: max(60, min(rule lifetime, 2 × remaining assertion validity)).
            let lifetime = rule.token_lifetime_seconds.min(2 * (exp - now)).max(60);
            let token = format!("sk-ant-oat01-sandbox-{}", new_id(""));
            st.minted.lock().unwrap().insert(
                token.clone(),
                MintedInfo {
                    expires_at: now + lifetime,
                    minted_for: MintedFor::Anthropic {
                        organization_id: rule.organization_id.clone(),
                        workspace_id: ws,
                    },
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
            crate::output::server_log(&format!(
                "sandbox: denied exchange for {rule_id}: {reason} (request-id {rid})"
            ));
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
    st.record(HistoryEvent {
        request_id: rid.to_string(),
        provider: "anthropic",
        federation_rule_id: Some(rule.to_string()),
        outcome: outcome.to_string(),
        reason: reason.map(str::to_string),
        subject: sub,
        jti,
        ..HistoryEvent::default()
    });
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
    let want_iss = st.issuer_url(&rule.issuer_url).to_string();
    let issuer = issuer_config(st, &want_iss);
    let claims = verify(st, "anthropic", &Trust::anthropic(st, &issuer), assertion).await?;
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let want_aud = rule
        .matcher
        .audience
        .as_deref()
        .unwrap_or(ANTHROPIC_AUDIENCE);
    if !audiences(&claims).contains(&want_aud) {
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
