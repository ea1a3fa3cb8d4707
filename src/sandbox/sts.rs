//! The sandbox's AWS STS stand-in: `POST /` with
//! `Action=GetWebIdentityToken`, in the AWS Query protocol (form body, XML
//! answer), for requests signed with SigV4 by the fixed sandbox test
//! credentials. The signature is really checked: the canonical request is
//! rebuilt from the headers the request says it signed and signed again
//! with the sandbox secret; a wrong secret, a stale `X-Amz-Date`, another
//! region or service is refused as STS refuses it. The JWT comes from the
//! sandbox issuer, with the claim shape AWS documents (`sub` the caller's
//! role ARN, AWS's own claims under `https://sts.amazonaws.com/`).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::State;

pub const ACCESS_KEY_ID: &str = "AKIAKEYLESSSANDBOX01";
pub const SECRET_ACCESS_KEY: &str = "keyless-sandbox-secret-access-key-not-a-secret";
pub const REGION: &str = "us-east-1";
/// The caller the sandbox credentials stand for.
pub const ACCOUNT: &str = "000000000000";
pub const ROLE_ARN: &str = "arn:aws:iam::000000000000:role/keyless-sandbox";
/// STS accepts a signature dated within 15 minutes of its clock.
const SKEW: Duration = Duration::from_secs(15 * 60);

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
        xml_escape(message),
        super::new_id("")
    );
    (status, [("content-type", "text/xml")], body).into_response()
}

pub async fn handle(AxState(st): AxState<Arc<State>>, headers: HeaderMap, body: Bytes) -> Response {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let param = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if let Err((code, msg)) = verify(&headers, &body) {
        return error(StatusCode::FORBIDDEN, code, &msg);
    }
    match param("Action") {
        Some("GetWebIdentityToken") => {}
        Some(a) => {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidAction",
                &format!("the keyless sandbox serves GetWebIdentityToken only, not {a}"),
            );
        }
        None => {
            return error(
                StatusCode::BAD_REQUEST,
                "MissingAction",
                "Action is required",
            );
        }
    }
    let audiences: Vec<&str> = (1..=10)
        .map_while(|n| param(&format!("Audience.member.{n}")))
        .collect();
    if audiences.is_empty() || audiences.iter().any(|a| a.is_empty() || a.len() > 1000) {
        return error(
            StatusCode::BAD_REQUEST,
            "ValidationError",
            "Audience must hold 1 to 10 values of 1 to 1000 characters",
        );
    }
    let alg = param("SigningAlgorithm");
    if !matches!(alg, Some("RS256" | "ES384")) {
        return error(
            StatusCode::BAD_REQUEST,
            "ValidationError",
            "SigningAlgorithm must be RS256 or ES384",
        );
    }
    let duration = match param("DurationSeconds").map(str::parse::<i64>) {
        None => 300,
        Some(Ok(d)) if (60..=3600).contains(&d) => d,
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "ValidationError",
                "DurationSeconds must be between 60 and 3600",
            );
        }
    };
    let now = crate::clock::now();
    let aud = match audiences.as_slice() {
        [one] => json!(one),
        many => json!(many),
    };
    // Signed with the sandbox issuer's ES256 key whatever was asked: the
    // sandbox has one key, and its JWKS is what rules trust.
    let jwt = st.key.sign(&json!({
        "iss": st.url,
        "sub": ROLE_ARN,
        "aud": aud,
        "iat": now,
        "nbf": now,
        "exp": now + duration,
        "jti": super::new_id(""),
        "https://sts.amazonaws.com/": {
            "aws_account": ACCOUNT,
            "source_region": REGION,
            "principal_id": ROLE_ARN,
        },
    }));
    let expiration = time::OffsetDateTime::from_unix_timestamp(now + duration)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    let body = format!(
        "<GetWebIdentityTokenResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetWebIdentityTokenResult><WebIdentityToken>{jwt}</WebIdentityToken><Expiration>{expiration}</Expiration></GetWebIdentityTokenResult><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></GetWebIdentityTokenResponse>",
        super::new_id("")
    );
    (StatusCode::OK, [("content-type", "text/xml")], body).into_response()
}

type Refusal = (&'static str, String);

/// Check the request's SigV4 `Authorization` against the sandbox secret.
fn verify(headers: &HeaderMap, body: &[u8]) -> Result<(), Refusal> {
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let missing = || {
        (
            "MissingAuthenticationToken",
            "Request is missing Authentication Token".to_string(),
        )
    };
    let auth = h("authorization").ok_or_else(missing)?;
    let rest = auth.strip_prefix("AWS4-HMAC-SHA256 ").ok_or((
        "IncompleteSignature",
        "only AWS4-HMAC-SHA256 is accepted".to_string(),
    ))?;
    let part = |k: &str| {
        rest.split(',')
            .map(str::trim)
            .find_map(|p| p.strip_prefix(k)?.strip_prefix('='))
    };
    let incomplete = |what: &str| ("IncompleteSignature", format!("Authorization lacks {what}"));
    let credential = part("Credential").ok_or_else(|| incomplete("Credential"))?;
    let signed = part("SignedHeaders").ok_or_else(|| incomplete("SignedHeaders"))?;
    let signature = part("Signature").ok_or_else(|| incomplete("Signature"))?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [key_id, day, region, service, "aws4_request"] = scope.as_slice() else {
        return Err(incomplete("a valid credential scope"));
    };
    if *key_id != ACCESS_KEY_ID {
        return Err((
            "InvalidClientTokenId",
            "The security token included in the request is invalid.".to_string(),
        ));
    }
    if *region != REGION || *service != "sts" {
        return Err((
            "SignatureDoesNotMatch",
            format!("Credential should be scoped to a valid region ({REGION}) and service (sts)"),
        ));
    }
    let amz_date = h("x-amz-date").ok_or_else(|| incomplete("an X-Amz-Date header"))?;
    let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let when = time::PrimitiveDateTime::parse(amz_date, &fmt)
        .map_err(|_| incomplete("a valid X-Amz-Date"))?
        .assume_utc();
    if !amz_date.starts_with(day) {
        return Err((
            "SignatureDoesNotMatch",
            "the credential scope date is not X-Amz-Date's".into(),
        ));
    }
    let when = SystemTime::UNIX_EPOCH + Duration::from_secs(when.unix_timestamp().max(0) as u64);
    let now = SystemTime::now();
    let off = match now.duration_since(when) {
        Ok(d) => d,
        Err(e) => e.duration(),
    };
    if off > SKEW {
        return Err((
            "SignatureDoesNotMatch",
            "Signature expired: X-Amz-Date is more than 15 minutes from the server's time".into(),
        ));
    }
    let names: Vec<&str> = signed.split(';').collect();
    if !names.contains(&"host") || !names.contains(&"x-amz-date") {
        return Err(incomplete("host and x-amz-date among the SignedHeaders"));
    }
    let mut pairs = Vec::new();
    for n in &names {
        let v = h(n).ok_or_else(|| incomplete(&format!("the signed header {n}")))?;
        pairs.push((*n, v));
    }
    let host = h("host").unwrap_or_default();
    let expected = resign(&format!("http://{host}/"), &pairs, body, when)
        .map_err(|e| ("IncompleteSignature", e))?;
    // Equal length hex strings; the sandbox's secret is public, so a
    // constant-time comparison would guard nothing.
    if expected != signature {
        return Err((
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.".into(),
        ));
    }
    Ok(())
}

/// The signature the sandbox secret gives this request, signing exactly
/// the headers it names.
fn resign(
    uri: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    when: SystemTime,
) -> Result<String, String> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let identity = aws_credential_types::Credentials::new(
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        None,
        None,
        "keyless-sandbox",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.excluded_headers = None;
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name("sts")
        .time(when)
        .settings(settings)
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let req = SignableRequest::new(
        "POST",
        uri,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| e.to_string())?;
    let out = sign(req, &params).map_err(|e| e.to_string())?;
    Ok(out.signature().to_string())
}
