//! The device authorization grant (RFC 8628): print the verification URI and
//! user code on stderr, then poll, honouring `interval` and `slow_down` up to
//! a cap and never past the deadline.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Client, Failure, Tokens};
use crate::error::{Error, Result};
use crate::output;

pub const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The longest pause between polls, whatever the server asks: a hostile or
/// broken `interval` or `slow_down` loop must not outlast `--timeout`, and a
/// person who approved should not wait minutes for keyless to notice.
const MAX_INTERVAL: Duration = Duration::from_secs(60);

pub fn login(client: &Client, no_browser: bool, timeout: Duration) -> Result<Tokens> {
    let endpoint = client
        .disc
        .device_authorization_endpoint
        .clone()
        .ok_or_else(|| {
            Error::config("the issuer does not offer the device authorization grant")
                .hint("use `keyless login --browser`")
        })?;
    let scope = client.cfg.scopes();
    let resource = client.resource();
    let mut params = vec![("scope", scope.as_str())];
    if let Some(r) = &resource {
        params.push(("resource", r));
    }
    let v = client
        .post_form(&endpoint, &params)
        .map_err(|f| f.into_error("starting the device sign-in"))?;
    let s = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(crate::redact::server_text)
    };
    let device_code = v
        .get("device_code")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::network("the device authorization response has no device_code"))?
        .to_string();
    let user_code = s("user_code").unwrap_or_default();
    let url = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(|raw| {
                super::browser::BrowserUrl::parse(
                    &format!("the device authorization response's {k}"),
                    raw,
                )
            })
            .transpose()
    };
    let uri = url("verification_uri")?.ok_or_else(|| {
        Error::network("the device authorization response has no verification_uri")
    })?;
    let complete = url("verification_uri_complete")?;
    let mut interval = Duration::from_secs(
        v.get("interval")
            .and_then(Value::as_u64)
            .unwrap_or(5)
            .clamp(1, MAX_INTERVAL.as_secs()),
    );
    let expires = v.get("expires_in").and_then(Value::as_u64).unwrap_or(600);
    output::note(&format!(
        "To sign in at {}, open {uri} and enter the code {user_code}{}",
        client.cfg.issuer,
        complete
            .as_ref()
            .map(|c| format!("\n  or open: {c}"))
            .unwrap_or_default()
    ));
    if !no_browser && super::browser::can_open() {
        super::browser::open(complete.as_ref().unwrap_or(&uri));
    }
    let deadline = super::deadline(timeout.min(Duration::from_secs(expires)))?;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(
                Error::sign_in("the device sign-in timed out before it was approved")
                    .hint("run `keyless login --device` again"),
            );
        }
        std::thread::sleep(interval.min(left));
        if Instant::now() >= deadline {
            continue;
        }
        match client.token_request(&[("grant_type", GRANT), ("device_code", &device_code)]) {
            Ok(t) => return Ok(t),
            Err(Failure::OAuth { error, .. }) if error == "authorization_pending" => {}
            Err(Failure::OAuth { error, .. }) if error == "slow_down" => {
                interval = (interval + Duration::from_secs(5)).min(MAX_INTERVAL);
            }
            Err(Failure::OAuth { error, .. }) if error == "access_denied" => {
                return Err(Error::denied("the device sign-in was denied")
                    .hint("approve the request in the browser, or check your account's access"));
            }
            Err(Failure::OAuth { error, .. }) if error == "expired_token" => {
                return Err(
                    Error::sign_in("the device code expired before it was approved").hint(
                        "run `keyless login --device` again and approve within the time shown",
                    ),
                );
            }
            // A network hiccup while the user approves is not the end.
            Err(Failure::Other(e)) if e.kind == crate::error::Kind::Network => {
                output::info(&format!("polling failed ({}); trying again", e.message));
            }
            Err(f) => return Err(f.into_error("polling for the device sign-in")),
        }
    }
}
