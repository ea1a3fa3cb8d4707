//! Talking to a token endpoint, as both providers do: sending the JSON
//! request, refusing redirects and bodies that are not JSON, reading the
//! error fields (and only those), the status classes that mean the same
//! everywhere, and the checks on a success body. Each provider module keeps
//! its request body, its denials and its lifetime rules.

use serde_json::Value;

use super::ExchangeError;
use crate::error::{Error, Result};
use crate::http::{self, Failure, Response};
use crate::redact;
use crate::secret::Secret;

use crate::cache::MAX_TOKEN_LIFETIME_SECS;
/// Tokens end up in headers, environment variables and shell assignments,
/// and in the cache, which applies the same rule when it reads them back.
pub use crate::cache::plausible_token;

/// POST a JSON body to a token endpoint, narrating at `-v`. `fix` is the hint
/// for a request that got no answer (which setting names the endpoint).
pub async fn post_json(
    client: &reqwest::Client,
    url: &str,
    headers: &[(&str, &str)],
    body: &Value,
    fix: &str,
) -> std::result::Result<Response, ExchangeError> {
    crate::output::info(&format!("exchanging the identity token at {url}"));
    let mut req = client
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let started = std::time::Instant::now();
    let resp = match http::send(req.body(body.to_string()), url).await {
        Ok(r) => r,
        Err(f) => {
            let not_sent = matches!(f, Failure::NotSent(_));
            return Err(ExchangeError {
                error: Error::network(format!("token exchange failed: {}", f.message()))
                    .hint(http::no_answer_hint(fix)),
                not_sent,
            });
        }
    };
    crate::output::info(&format!(
        "token endpoint answered {} in {} ms{}",
        resp.status,
        started.elapsed().as_millis(),
        request_id_suffix(&resp)
    ));
    Ok(resp)
}

/// " (request-id …)" when the server sent one, for every message about a response.
pub fn request_id_suffix(resp: &Response) -> String {
    resp.request_id
        .as_deref()
        .map(|r| format!(" (request-id {r})"))
        .unwrap_or_default()
}

/// The response body as a JSON object, or the error for a redirect, an HTML
/// page or anything else that is not the API answering. `setting` names what
/// the user would fix (`--base-url`, `--token-endpoint`).
pub fn json_body(resp: &Response, url: &str, rid: &str, setting: &str) -> Result<Value> {
    if (300..400).contains(&resp.status) {
        return Err(Error::network(format!(
            "the token endpoint {url} answered {} with a redirect{}; keyless does not follow redirects{rid}",
            resp.status,
            resp.location
                .as_deref()
                .map(|l| format!(" to {l}"))
                .unwrap_or_default()
        ))
        .hint(format!(
            "point {setting} at the API itself, not at something that redirects"
        )));
    }
    let parsed: Option<Value> = serde_json::from_slice(&resp.body)
        .ok()
        .filter(Value::is_object);
    parsed.ok_or_else(|| {
        let what = if resp.content_type.contains("html")
            || resp.body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<')
        {
            "an HTML page"
        } else {
            "a body that is not JSON"
        };
        Error::network(format!(
            "the token endpoint {url} answered {} with {what}{rid}",
            resp.status
        ))
        .hint(format!(
            "a proxy, captive portal or wrong {setting} is answering instead of the API"
        ))
    })
}

/// (type or code, human message) from either an API error envelope
/// `{"error":{"type","message"}}` or an OAuth `{"error","error_description"}`,
/// scrubbed. Nothing else of an error body is ever shown.
pub fn error_fields(body: &Value) -> (Option<String>, Option<String>) {
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

/// The statuses every provider means the same by: 429, 5xx, and anything
/// else unexpected, which usually means `setting` (the flag that names the
/// endpoint) points at something that is not the provider: `expected` says
/// what it should be. `shown` is ": <scrubbed server message>" or empty.
pub fn other_status(
    status: u16,
    url: &str,
    shown: &str,
    rid: &str,
    setting: &str,
    expected: &str,
) -> Error {
    match status {
        429 => Error::network(format!(
            "the token endpoint is rate limiting (429){shown}{rid}"
        ))
        .hint("retry in a moment"),
        s if s >= 500 => Error::network(format!("the token endpoint failed with {s}{shown}{rid}"))
            .hint("a server-side problem; retry later"),
        s => Error::network(format!("the token endpoint {url} answered {s}{shown}{rid}"))
            .hint(format!("check {setting}: it should be {expected}")),
    }
}

/// What a success body says, each field checked when present.
pub struct Granted {
    pub access_token: Secret<String>,
    pub token_type: Option<String>,
    pub expires_in: Option<i64>,
}

/// `expires_in` as a number of seconds: positive, and at most
/// [`MAX_TOKEN_LIFETIME_SECS`], to which a larger value (however large: it
/// may not even fit an integer) is clamped with a warning. The error says
/// what is wrong with it.
fn lifetime(v: &Value) -> std::result::Result<i64, &'static str> {
    let secs: f64 = if let Some(n) = v.as_i64() {
        n as f64
    } else if let Some(n) = v.as_u64() {
        n as f64
    } else {
        v.as_f64()
            .filter(|f| f.is_finite())
            .ok_or("with a non-numeric expires_in")?
    };
    if secs < 1.0 {
        return Err("with a non-positive expires_in");
    }
    if secs > MAX_TOKEN_LIFETIME_SECS as f64 {
        crate::output::warn(&format!(
            "the token endpoint granted a lifetime above the providers' maximum of {MAX_TOKEN_LIFETIME_SECS} s (24h); keeping the token for {MAX_TOKEN_LIFETIME_SECS} s at most"
        ));
        return Ok(MAX_TOKEN_LIFETIME_SECS);
    }
    Ok(secs as i64)
}

/// Read a 200 body: an access token that is safe to hand on, a Bearer
/// token type if any is named, a positive `expires_in` (clamped to a day)
/// if any is given.
/// Which fields are required is the provider's call.
pub fn granted(body: &Value, bad: impl Fn(&str) -> Error) -> Result<Granted> {
    let token = body
        .get("access_token")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("without an access_token"))?;
    if !plausible_token(token) {
        return Err(bad("with a malformed access_token"));
    }
    let token_type = match body.get("token_type") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let t = v
                .as_str()
                .ok_or_else(|| bad("with a malformed token_type"))?;
            // The value is not echoed: a misbehaving server may put anything there.
            if !t.eq_ignore_ascii_case("bearer") {
                return Err(bad("with a token_type other than Bearer"));
            }
            Some("Bearer".to_string())
        }
    };
    let expires_in = match body.get("expires_in") {
        None | Some(Value::Null) => None,
        Some(v) => Some(lifetime(v).map_err(&bad)?),
    };
    Ok(Granted {
        access_token: Secret::new(token.to_string()),
        token_type,
        expires_in,
    })
}
