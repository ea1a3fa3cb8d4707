//! The sandbox's OpenAI-compatible token exchange, `POST /openai/oauth/token`
//! (RFC 8693), as OpenAI's SDKs call `https://auth.openai.com/oauth/token`.
//!
//! Errors are OAuth's `{"error", "error_description"}` with status 400, as
//! RFC 6749 §5.2 has it: `invalid_request` or `unsupported_grant_type` for a
//! malformed request, `invalid_subject_token` when the JWT fails
//! verification or its audience is not the provider's, `invalid_grant` when
//! the identity provider or a matching service account mapping is missing.
//! The exact reason goes to the history (`GET /_sandbox/history`) and stderr.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use serde_json::{Value, json};

use super::rules::{IdentityProvider, Mapping, OPENAI_AUDIENCE, Verification};
use super::verify::{Denial, KeySource, Trust, audiences, issuer_config, verify};
use super::{HistoryEvent, MintedFor, MintedInfo, State, new_id};
use crate::jwt::MAX_ASSERTION_BYTES;
use crate::provider::openai::{GRANT_TYPE, ID_TOKEN_TYPE, JWT_TOKEN_TYPE};

const ISSUED_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

pub fn oauth_error(status: StatusCode, error: &str, description: &str, rid: &str) -> Response {
    (
        status,
        [("x-request-id", rid.to_string())],
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// A denial: the OAuth error code the client sees, and the reason it does not.
struct Refusal {
    code: &'static str,
    reason: &'static str,
}

fn subject(d: Denial) -> Refusal {
    Refusal {
        code: "invalid_subject_token",
        reason: d.0,
    }
}

fn grant(reason: &'static str) -> Refusal {
    Refusal {
        code: "invalid_grant",
        reason,
    }
}

pub async fn exchange(
    AxState(st): AxState<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (rid, req) = super::json_request(&st, &headers, &body);
    let bad = |code: &str, msg: &str| oauth_error(StatusCode::BAD_REQUEST, code, msg, &rid);
    let req = match req {
        Ok(r) => r,
        Err(msg) => return bad("invalid_request", msg),
    };
    let field = |k: &str| req.get(k).and_then(Value::as_str).map(str::to_string);
    if field("grant_type").as_deref() != Some(GRANT_TYPE) {
        return bad(
            "unsupported_grant_type",
            "expected urn:ietf:params:oauth:grant-type:token-exchange",
        );
    }
    let Some(token) = field("subject_token").filter(|t| !t.is_empty()) else {
        return bad("invalid_request", "subject_token is required");
    };
    if token.len() > MAX_ASSERTION_BYTES {
        return bad("invalid_request", "subject_token exceeds 16 KiB");
    }
    if !matches!(
        field("subject_token_type").as_deref(),
        Some(JWT_TOKEN_TYPE | ID_TOKEN_TYPE)
    ) {
        return bad(
            "invalid_request",
            "subject_token_type must be urn:ietf:params:oauth:token-type:jwt or …:id_token",
        );
    }
    let Some(wip) = field("identity_provider_id") else {
        return bad("invalid_request", "identity_provider_id is required");
    };
    let Some(sa) = field("service_account_id").filter(|s| !s.is_empty()) else {
        return bad("invalid_request", "service_account_id is required");
    };
    let outcome = validate(&st, &wip, &sa, &token).await;
    let (sub, jti) = super::peek(&token);
    let event = HistoryEvent {
        request_id: rid.clone(),
        provider: "openai",
        identity_provider_id: Some(wip.clone()),
        service_account_id: Some(sa.clone()),
        subject: sub,
        jti,
        ..HistoryEvent::default()
    };
    match outcome {
        Ok(mapping) => {
            let now = crate::clock::now();
            let exp = super::claims_exp(&token).unwrap_or(now);
            // An access token never outlives the subject token it came from.
            let lifetime = mapping.token_lifetime_seconds.min(exp - now).max(1);
            let access_token = st.key.sign(&json!({
                "iss": format!("{}/openai", st.url),
                "sub": sa,
                "aud": OPENAI_AUDIENCE,
                "iat": now,
                "exp": now + lifetime,
                "jti": new_id(""),
                "project_id": mapping.project_id,
            }));
            st.minted.lock().unwrap().insert(
                access_token.clone(),
                MintedInfo {
                    expires_at: now + lifetime,
                    minted_for: MintedFor::OpenAi {
                        project_id: mapping.project_id.clone(),
                        service_account_id: sa,
                    },
                },
            );
            st.record(HistoryEvent {
                outcome: "success".into(),
                ..event
            });
            (
                StatusCode::OK,
                [("x-request-id", rid.clone())],
                Json(json!({
                    "access_token": access_token,
                    "issued_token_type": ISSUED_TOKEN_TYPE,
                    "token_type": "Bearer",
                    "expires_in": lifetime,
                })),
            )
                .into_response()
        }
        Err(r) => {
            crate::output::server_log(&format!(
                "sandbox: denied OpenAI exchange for {wip}: {} (request-id {rid})",
                r.reason
            ));
            st.record(HistoryEvent {
                outcome: "denied".into(),
                reason: Some(r.reason.into()),
                ..event
            });
            let description = match r.code {
                "invalid_subject_token" => "The subject token could not be verified",
                _ => "The subject token is not mapped to the requested service account",
            };
            oauth_error(StatusCode::BAD_REQUEST, r.code, description, &rid)
        }
    }
}

async fn validate(st: &State, wip_id: &str, sa: &str, token: &str) -> Result<Mapping, Refusal> {
    let wip: IdentityProvider = st
        .rules
        .openai_identity_providers
        .iter()
        .find(|p| p.id == wip_id && p.enabled)
        .cloned()
        .ok_or(grant("identity_provider_not_found"))?;
    let issuer_url = st.issuer_url(&wip.issuer).to_string();
    // An issuer the rules file lists keeps its lifetime and jti settings.
    let listed = st
        .rules
        .issuers
        .iter()
        .any(|i| st.issuer_url(&i.issuer_url) == issuer_url);
    let issuer = issuer_config(st, &issuer_url);
    let trust = Trust {
        issuer_url,
        keys: match &wip.verification {
            Verification::Discovery { discovery_url } => {
                KeySource::Discovery(discovery_url.as_deref())
            }
            Verification::UploadedJwks { jwks } => KeySource::Inline(jwks.clone()),
        },
        max_lifetime: listed.then_some(issuer.max_jwt_lifetime_seconds),
        check_jti: issuer.check_jti,
    };
    let claims = verify(st, "openai", &trust, token).await.map_err(subject)?;
    if !audiences(&claims).contains(&wip.audience.as_str()) {
        return Err(subject(Denial("aud_mismatch")));
    }
    let candidates: Vec<&Mapping> = wip
        .service_account_mappings
        .iter()
        .filter(|m| m.enabled && m.service_account_id == sa)
        .collect();
    if candidates.is_empty() {
        return Err(grant("service_account_not_mapped"));
    }
    candidates
        .into_iter()
        .find(|m| {
            m.attribute_matchers
                .iter()
                .all(|(k, want)| claims.get(k) == Some(want))
        })
        .cloned()
        .ok_or(grant("attribute_matchers_not_satisfied"))
}
