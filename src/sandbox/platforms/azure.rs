//! Azure's managed identity endpoints.
//!
//! - IMDS (VMs, VM scale sets): `GET /metadata/identity/oauth2/token?
//!   api-version=2018-02-01&resource=<App ID URI>` with `Metadata: true`;
//!   `KEYLESS_AZURE_IMDS_ENDPOINT` (keyless) and
//!   `AZURE_POD_IDENTITY_AUTHORITY_HOST` (azure-identity, MSAL) redirect it.
//!   Without the header: 400 `bad_request_102`; without `resource` or
//!   `api-version`: 400 `invalid_request`, as Microsoft documents.
//! - App Service, Functions, Container Apps: `GET $IDENTITY_ENDPOINT?
//!   resource=…&api-version=2019-08-01` with `X-IDENTITY-HEADER:
//!   $IDENTITY_HEADER`; a missing or wrong header is refused (400 and 401:
//!   Microsoft documents no status for it).
//!
//! The access token is an Entra v1 token for the resource: `aud` = the
//! resource, `sub` = `oid` = the identity's object id, `tid`, `appid`,
//! `idtyp` `app`, `uti` (Entra's tokens carry no `jti`), `ver` `1.0`. Its
//! numbers come back as strings, as Azure sends them. Lifetime: 59 minutes
//! (real ones live up to 24 h, which an issuer's default
//! `max_jwt_lifetime_seconds` of 3600 refuses).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::{AZURE_CLIENT_ID, AZURE_OBJECT_ID, AZURE_TENANT, State};

const LIFETIME: i64 = 3540;

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    super::json_reply(
        status,
        json!({"error": error, "error_description": description}),
    )
}

/// The resource asked for, or why the endpoint answers 400
/// `invalid_request`.
fn resource(q: &HashMap<String, String>, platform: &str) -> Result<String, &'static str> {
    if q.get("api-version").is_none_or(|v| v.is_empty()) {
        super::refused(platform, "no api-version");
        return Err("Required query variable 'api-version' is missing");
    }
    match q.get("resource").filter(|r| !r.trim().is_empty()) {
        Some(r) => Ok(r.trim().to_string()),
        None => {
            super::refused(platform, "no resource");
            Err("Required audience parameter not specified")
        }
    }
}

/// The managed identity's Entra access token for `resource`.
fn token_for(st: &State, resource: &str) -> (String, i64) {
    let claims = json!({
        "aud": resource,
        "sub": AZURE_OBJECT_ID,
        "oid": AZURE_OBJECT_ID,
        "tid": AZURE_TENANT,
        "appid": AZURE_CLIENT_ID,
        "appidacr": "2",
        "idp": format!("https://sts.windows.net/{AZURE_TENANT}/"),
        "idtyp": "app",
        "uti": super::super::new_id(""),
        "ver": "1.0",
        "xms_mirid": "/subscriptions/00000000-0000-4000-8000-000000000000/resourcegroups/keyless-sandbox/providers/Microsoft.Compute/virtualMachines/keyless-sandbox-vm",
    });
    (super::mint(st, claims, LIFETIME), crate::clock::now())
}

/// The token for the resource `q` asks for, in the platform's shape
/// (`reply(jwt, now, resource)`), or 400 `invalid_request`.
fn answer(
    st: &State,
    q: &HashMap<String, String>,
    platform: &str,
    reply: impl FnOnce(String, i64, String) -> serde_json::Value,
) -> Response {
    let resource = match resource(q, platform) {
        Ok(r) => r,
        Err(why) => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", why),
    };
    let (jwt, now) = token_for(st, &resource);
    super::json_reply(StatusCode::OK, reply(jwt, now, resource))
}

pub async fn imds(
    AxState(st): AxState<Arc<State>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if super::header(&headers, "metadata") != Some("true") {
        super::refused("Azure IMDS", "no `Metadata: true` header");
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "bad_request_102",
            "Required metadata header not specified",
        );
    }
    answer(&st, &q, "Azure IMDS", |jwt, now, resource| {
        json!({
            "access_token": jwt,
            "client_id": AZURE_CLIENT_ID,
            "expires_in": LIFETIME.to_string(),
            "expires_on": (now + LIFETIME).to_string(),
            "ext_expires_in": LIFETIME.to_string(),
            "not_before": now.to_string(),
            "resource": resource,
            "token_type": "Bearer",
            "refresh_token": "",
        })
    })
}

pub async fn app_service(
    AxState(st): AxState<Arc<State>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    match super::header(&headers, "x-identity-header") {
        None => {
            super::refused("Azure App Service", "no X-IDENTITY-HEADER");
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The X-IDENTITY-HEADER header is required",
            );
        }
        got if !super::same_secret(got, &st.platform_secrets.identity_header) => {
            super::refused("Azure App Service", "a wrong X-IDENTITY-HEADER");
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "unauthorized_client",
                "The X-IDENTITY-HEADER does not match",
            );
        }
        _ => {}
    }
    answer(&st, &q, "Azure App Service", |jwt, now, resource| {
        json!({
            "access_token": jwt,
            "expires_on": (now + LIFETIME).to_string(),
            "not_before": now.to_string(),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": AZURE_CLIENT_ID,
        })
    })
}
