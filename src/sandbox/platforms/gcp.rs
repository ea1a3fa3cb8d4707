//! Google's metadata server, as Google's libraries ask it (`GCE_METADATA_HOST`
//! redirects them): `GET /computeMetadata/v1/instance/service-accounts/
//! default/identity?audience=…&format=full` with `Metadata-Flavor: Google`,
//! answered with the bare JWT as text and `Metadata-Flavor: Google`; the
//! ping google-auth makes to detect GCE (`GET /` at `GCE_METADATA_IP`); and
//! the account info `IDTokenCredentials` reads first (`…/default/?recursive=
//! true`). Like the real server it refuses a request without the header or
//! one that came through a proxy (`X-Forwarded-For`) with 403, and a
//! missing audience with 400.
//!
//! The JWT has Google's claims: `sub` and `azp` the service account's
//! numeric id, `email`, `email_verified`, and with `format=full` the
//! `google.compute_engine` block; an hour of life, no `jti`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{GCP_SA_EMAIL, GCP_SA_ID, State};

const FLAVOR: (&str, &str) = ("metadata-flavor", "Google");

/// A plain-text answer that says it is Google's metadata server.
fn text(status: StatusCode, content_type: &'static str, body: String) -> Response {
    (status, [FLAVOR, ("content-type", content_type)], body).into_response()
}

/// The real server's checks: the header, and no proxy in between.
fn refuse(headers: &HeaderMap) -> Option<Response> {
    if headers.contains_key("x-forwarded-for") {
        super::refused(
            "GCP metadata",
            "the request came through a proxy (X-Forwarded-For)",
        );
        return Some(text(
            StatusCode::FORBIDDEN,
            "text/html; charset=UTF-8",
            "Your client does not have permission to get this URL from this server: requests with X-Forwarded-For are refused.\n".into(),
        ));
    }
    if super::header(headers, FLAVOR.0) != Some(FLAVOR.1) {
        super::refused("GCP metadata", "no `Metadata-Flavor: Google` header");
        return Some(text(
            StatusCode::FORBIDDEN,
            "text/html; charset=UTF-8",
            "Your client does not have permission to get this URL from this server. Missing Metadata-Flavor:Google header.\n".into(),
        ));
    }
    None
}

pub async fn ping(headers: HeaderMap) -> Response {
    if let Some(r) = refuse(&headers) {
        return r;
    }
    text(
        StatusCode::OK,
        "application/text",
        "computeMetadata/\n".into(),
    )
}

pub async fn account(headers: HeaderMap) -> Response {
    if let Some(r) = refuse(&headers) {
        return r;
    }
    let v = json!({
        "aliases": ["default"],
        "email": GCP_SA_EMAIL,
        "scopes": ["https://www.googleapis.com/auth/cloud-platform"],
    });
    text(StatusCode::OK, "application/json", v.to_string())
}

pub async fn identity(
    AxState(st): AxState<Arc<State>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(r) = refuse(&headers) {
        return r;
    }
    let Some(aud) = q.get("audience").filter(|a| !a.is_empty()) else {
        super::refused("GCP metadata", "no audience");
        return text(
            StatusCode::BAD_REQUEST,
            "text/plain; charset=utf-8",
            "non-empty audience parameter required\n".into(),
        );
    };
    let mut claims = json!({
        "aud": aud,
        "azp": GCP_SA_ID,
        "sub": GCP_SA_ID,
        "email": GCP_SA_EMAIL,
        "email_verified": true,
    });
    if q.get("format").map(String::as_str) == Some("full") {
        let now = crate::clock::now();
        claims["google"] = json!({"compute_engine": {
            "instance_creation_timestamp": now - 86_400,
            "instance_id": "4512360942311822401",
            "instance_name": "keyless-sandbox-vm",
            "project_id": "keyless-sandbox",
            "project_number": 123456789012u64,
            "zone": "us-central1-a",
        }});
    }
    let jwt = super::mint(&st, claims, 3600);
    text(StatusCode::OK, "text/html; charset=UTF-8", jwt)
}
