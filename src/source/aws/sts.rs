//! The two STS calls, in the AWS Query protocol (form-encoded `POST /`,
//! XML answers): `GetWebIdentityToken` signed with SigV4 (`aws-sigv4`, the
//! AWS SDK for Rust's own signer), and the unsigned
//! `AssumeRoleWithWebIdentity` of the web identity credentials.

use std::time::{Duration, SystemTime};

use super::credentials::Credentials;
use super::{Reply, WHAT, call, no_answer, shown};
use crate::error::{Error, Result};
use crate::secret::Secret;

const VERSION: &str = "2011-06-15";
const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";
const LIMIT: Duration = crate::http::TIMEOUT;
/// The JWT's lifetime: STS's default, well under Anthropic's hour.
const DURATION_SECONDS: &str = "300";
/// RS256 has the broadest relying-party support (Anthropic takes ES384 too).
const SIGNING_ALGORITHM: &str = "RS256";
/// What an XML answer may hold before keyless stops reading it.
const MAX_XML_EVENTS: usize = 10_000;

/// A JWT whose `aud` is `audience`, minted by STS for the caller.
pub fn get_web_identity_token(
    creds: &Credentials,
    region: &str,
    endpoint: &url::Url,
    audience: &str,
) -> Result<Secret<String>> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("Action", "GetWebIdentityToken")
        .append_pair("Version", VERSION)
        .append_pair("Audience.member.1", audience)
        .append_pair("SigningAlgorithm", SIGNING_ALGORITHM)
        .append_pair("DurationSeconds", DURATION_SECONDS)
        .finish();
    let signed = sign(creds, region, endpoint, body.as_bytes())?;
    let at = shown(endpoint);
    crate::output::info(&format!(
        "requesting an identity token from {WHAT} at {at} (GetWebIdentityToken, audience {}, credentials from {})",
        crate::redact::terminal(audience),
        creds.source
    ));
    let client = crate::http::client()?;
    let mut req = client
        .post(endpoint.as_str())
        .header("content-type", FORM)
        .body(body);
    for (k, v) in &signed {
        req = req.header(k.as_str(), v.expose().as_str());
    }
    let resp = answer(
        call(req, &at, LIMIT)?,
        "get an identity token from AWS STS",
        &at,
    )?;
    if resp.status != 200 {
        return Err(refused(&resp, "GetWebIdentityToken", &at, creds, audience));
    }
    let jwt = field(&resp.body, "WebIdentityToken")
        .or_else(|| json_field(&resp.body, "WebIdentityToken"))
        .filter(|t| t.split('.').count() == 3)
        .ok_or_else(|| {
            Error::network(format!(
                "{WHAT} at {at} answered 200 without a WebIdentityToken"
            ))
            .hint("AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL may not point at STS")
        })?;
    Ok(Secret::new(jwt))
}

/// IRSA's exchange: the projected token for the role's temporary credentials.
pub fn assume_role_with_web_identity(
    endpoint: &url::Url,
    region: &str,
    role_arn: &str,
    session: &str,
    jwt: Secret<String>,
) -> Result<Credentials> {
    let body = Secret::new(
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("Action", "AssumeRoleWithWebIdentity")
            .append_pair("Version", VERSION)
            .append_pair("RoleArn", role_arn)
            .append_pair("RoleSessionName", session)
            .append_pair("WebIdentityToken", jwt.expose())
            .finish(),
    );
    let at = shown(endpoint);
    let role = crate::redact::terminal(role_arn);
    crate::output::info(&format!(
        "assuming {role} with the web identity token at {WHAT} {at} (region {region})"
    ));
    let client = crate::http::client()?;
    let req = client
        .post(endpoint.as_str())
        .header("content-type", FORM)
        .body(body.into_inner());
    let resp = answer(call(req, &at, LIMIT)?, &format!("assume {role}"), &at)?;
    if resp.status != 200 {
        let (code, msg) = error_of(&resp.body);
        return Err(Error::denied(format!(
            "{WHAT} at {at} refused AssumeRoleWithWebIdentity for {role} ({}): {code}: {msg}",
            resp.status
        ))
        .hint("check the role's trust policy for the cluster's OIDC provider and the service account (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE)"));
    }
    let get = |n: &str| field(&resp.body, n);
    let (Some(id), Some(secret), Some(token)) = (
        get("AccessKeyId"),
        get("SecretAccessKey"),
        get("SessionToken"),
    ) else {
        return Err(Error::network(format!(
            "{WHAT} at {at} answered AssumeRoleWithWebIdentity without credentials"
        )));
    };
    Ok(Credentials {
        access_key_id: id,
        secret_access_key: Secret::new(secret),
        session_token: Some(Secret::new(token)),
        source: format!("the web identity role {role}"),
    })
}

/// The SigV4 headers (`authorization`, `x-amz-date`, and
/// `x-amz-security-token` for temporary credentials) for a form POST.
fn sign(
    creds: &Credentials,
    region: &str,
    url: &url::Url,
    body: &[u8],
) -> Result<Vec<(String, Secret<String>)>> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let failed = |e: &dyn std::fmt::Display| {
        Error::failure(format!("cannot sign the request to {WHAT}: {e}"))
    };
    let identity = aws_credential_types::Credentials::new(
        creds.access_key_id.clone(),
        creds.secret_access_key.expose().clone(),
        creds.session_token.as_ref().map(|t| t.expose().clone()),
        None,
        "keyless",
    )
    .into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| failed(&e))?
        .into();
    let headers = [("content-type", FORM)];
    let req = SignableRequest::new(
        "POST",
        url.as_str(),
        headers.into_iter(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| failed(&e))?;
    let (instructions, _) = sign(req, &params).map_err(|e| failed(&e))?.into_parts();
    Ok(instructions
        .headers()
        .map(|(k, v)| (k.to_string(), Secret::new(v.to_string())))
        .collect())
}

fn answer(reply: Reply, doing: &str, at: &str) -> Result<crate::http::Response> {
    match reply {
        Reply::Answer(r) if r.status >= 500 => {
            let (code, msg) = error_of(&r.body);
            Err(Error::network(format!(
                "cannot {doing}: {WHAT} at {at} answered {}: {code}: {msg}",
                r.status
            ))
            .hint("a passing problem at AWS; retry later"))
        }
        Reply::Answer(r) => Ok(r),
        other => Err(
            no_answer(doing, at, other, LIMIT).hint(crate::http::no_answer_hint(
                "AWS_ENDPOINT_URL_STS / AWS_REGION",
            )),
        ),
    }
}

/// The refusal of GetWebIdentityToken, with the fix AWS documents.
fn refused(
    resp: &crate::http::Response,
    op: &str,
    at: &str,
    creds: &Credentials,
    audience: &str,
) -> Error {
    let (code, msg) = error_of(&resp.body);
    let base = format!(
        "{WHAT} at {at} refused {op} ({}): {code}: {msg} (credentials from {})",
        resp.status, creds.source
    );
    let aud = crate::redact::terminal(audience);
    match code.as_str() {
        "OutboundWebIdentityFederationDisabled" => Error::denied(base).hint(
            "outbound identity federation is off for this AWS account: enable it once, as an administrator, with `aws iam enable-outbound-web-identity-federation` (IAM EnableOutboundWebIdentityFederation); the issuer URL it returns is what the federation rule must trust",
        ),
        "AccessDenied" | "AccessDeniedException" => Error::denied(base).hint(format!(
            "grant the caller the IAM permission `sts:GetWebIdentityToken` (e.g. {{\"Effect\":\"Allow\",\"Action\":\"sts:GetWebIdentityToken\",\"Resource\":\"*\"}}); a condition on `sts:IdentityTokenAudience` must allow {aud}"
        )),
        "SessionDurationEscalation" => Error::denied(base).hint(
            "the token would outlive the caller's AWS session: refresh the AWS credentials and retry",
        ),
        "InvalidClientTokenId" | "SignatureDoesNotMatch" | "ExpiredToken" | "IncompleteSignature" => {
            Error::denied(base).hint("the AWS credentials are not valid (wrong, revoked or expired): check where they come from")
        }
        "Throttling" | "ThrottlingException" | "RequestLimitExceeded" => {
            Error::network(base).hint("STS is throttling this account; retry later")
        }
        _ => Error::denied(base),
    }
}

/// (Code, Message) of an AWS Query `ErrorResponse`, scrubbed.
fn error_of(body: &[u8]) -> (String, String) {
    let scrub =
        |s: Option<String>| s.map(|m| crate::redact::server_text(&m).chars().take(300).collect());
    let code = scrub(field(body, "Code")).unwrap_or_else(|| "no error code".into());
    let msg = scrub(field(body, "Message")).unwrap_or_else(|| "no message".into());
    (code, msg)
}

/// The text of the first element named `name` in an XML document, read
/// with a bounded number of events.
fn field(xml: &[u8], name: &str) -> Option<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut inside = false;
    let mut text = String::new();
    for _ in 0..MAX_XML_EVENTS {
        match reader.read_event_into(&mut buf).ok()? {
            Event::Start(e) if e.local_name().as_ref() == name => {
                inside = true;
                text.clear();
            }
            Event::Text(t) if inside => text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if inside => match r.resolve_char_ref().ok()? {
                Some(c) => text.push(c),
                None => text.push_str(match r.as_ref() {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    _ => return None,
                }),
            },
            Event::End(e) if inside && e.local_name().as_ref() == name => {
                return Some(text.trim().to_string()).filter(|t| !t.is_empty());
            }
            Event::Eof => return None,
            _ => {}
        }
        buf.clear();
    }
    None
}

/// The same, for a JSON answer (the AWS JSON protocol nests it likewise).
fn json_field(body: &[u8], name: &str) -> Option<String> {
    fn find(v: &serde_json::Value, name: &str, depth: u8) -> Option<String> {
        let o = v.as_object().filter(|_| depth < 8)?;
        if let Some(s) = o.get(name).and_then(|s| s.as_str()) {
            return Some(s.trim().to_string());
        }
        o.values().find_map(|c| find(c, name, depth + 1))
    }
    find(&serde_json::from_slice(body).ok()?, name, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_fields_are_read_as_sts_writes_them() {
        let ok =
            br#"<GetWebIdentityTokenResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetWebIdentityTokenResult>
    <WebIdentityToken>a.b.c</WebIdentityToken>
    <Expiration>2026-12-02T06:00:00Z</Expiration>
  </GetWebIdentityTokenResult>
  <ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata>
</GetWebIdentityTokenResponse>"#;
        assert_eq!(field(ok, "WebIdentityToken").as_deref(), Some("a.b.c"));
        assert_eq!(field(ok, "Nothing"), None);
        let err = br#"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>
<Message>User: arn:aws:iam::1:user/x is not authorized &amp; so on</Message></Error></ErrorResponse>"#;
        let (code, msg) = error_of(err);
        assert_eq!(code, "AccessDenied");
        assert_eq!(msg, "User: arn:aws:iam::1:user/x is not authorized & so on");
        assert_eq!(error_of(b"not xml <<<").0, "no error code");
        // an entity keyless does not know ends the read: no expansion
        assert_eq!(field(b"<A>&xxe;</A>", "A"), None);
        let json = br#"{"GetWebIdentityTokenResponse":{"GetWebIdentityTokenResult":{"WebIdentityToken":"x.y.z"}}}"#;
        assert_eq!(
            json_field(json, "WebIdentityToken").as_deref(),
            Some("x.y.z")
        );
    }
}
