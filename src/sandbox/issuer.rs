//! The sandbox's OIDC issuer: discovery, JWKS, and a `client_credentials`
//! token endpoint that signs workload JWTs (any client id becomes the `sub`).

use std::sync::Arc;

use axum::Form;
use axum::extract::State as AxState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use serde::Deserialize;
use serde_json::json;

use super::State;

pub async fn discovery(AxState(st): AxState<Arc<State>>) -> Json<serde_json::Value> {
    Json(json!({
        "issuer": st.url,
        "jwks_uri": format!("{}/jwks", st.url),
        "token_endpoint": format!("{}/oauth2/token", st.url),
        "grant_types_supported": ["client_credentials"],
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_post"],
    }))
}

pub async fn jwks(AxState(st): AxState<Arc<State>>) -> Json<serde_json::Value> {
    Json(st.key.jwks())
}

#[derive(Deserialize)]
pub struct TokenForm {
    grant_type: String,
    client_id: Option<String>,
    audience: Option<String>,
    resource: Option<String>,
    /// Sandbox extension: the JWT's lifetime in seconds (default 300).
    /// Also: `audience` may hold several, space-separated.
    lifetime: Option<i64>,
}

fn oauth_error(status: StatusCode, error: &str, desc: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": desc})),
    )
        .into_response()
}

pub async fn token(AxState(st): AxState<Arc<State>>, Form(f): Form<TokenForm>) -> Response {
    if f.grant_type != "client_credentials" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "the sandbox issuer supports client_credentials only",
        );
    }
    let Some(sub) = f.client_id.filter(|c| !c.is_empty()) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client_id is required",
        );
    };
    let aud = f
        .audience
        .or(f.resource)
        .unwrap_or_else(|| super::rules::ANTHROPIC_AUDIENCE.to_string());
    // Sandbox extension: several space-separated audiences make `aud` a list.
    let aud = match aud.split_whitespace().collect::<Vec<_>>().as_slice() {
        [one] => json!(one),
        many => json!(many),
    };
    let lifetime = f.lifetime.unwrap_or(300).clamp(1, 176_400);
    let now = crate::clock::now();
    let jwt = st.key.sign(&json!({
        "iss": st.url,
        "sub": sub,
        "aud": aud,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "jti": super::new_id(""),
    }));
    Json(json!({
        "access_token": jwt,
        "id_token": jwt,
        "token_type": "Bearer",
        "expires_in": lifetime,
    }))
    .into_response()
}
