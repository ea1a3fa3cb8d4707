//! EC2 instance metadata, IMDSv2 as the AWS SDKs ask it: `PUT
//! /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds`, then
//! `GET /latest/meta-data/iam/security-credentials/` for the role's name and
//! `GET …/<role>` for its credentials, each with `X-aws-ec2-metadata-token`.
//! `AWS_EC2_METADATA_SERVICE_ENDPOINT` (a base URL) redirects it,
//! `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6` picks the IPv6 address,
//! and `AWS_EC2_METADATA_DISABLED=true` turns it off.
//!
//! Not on EC2 (no answer to the token request, or IMDS off) is "not found",
//! listed with the other sources tried; once IMDS has answered, its
//! failures are errors of their own. IMDSv1 (no session token) is not used.

use std::time::Duration;

use super::credentials::{Credentials, parse_json};
use super::{Reply, call, no_answer, nonempty, shown};
use crate::env_vars as ev;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Per request, as the SDKs (1 s connect, 1 s read).
const LIMIT: Duration = Duration::from_secs(2);
const DEFAULT: &str = "http://169.254.169.254";
const DEFAULT_V6: &str = "http://[fd00:ec2::254]";
const TTL_HEADER: &str = "x-aws-ec2-metadata-token-ttl-seconds";
const TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";
const ROLES: &str = "latest/meta-data/iam/security-credentials/";

type Get<'a> = crate::env_vars::Lookup<'a>;

fn base(get: Get) -> Result<url::Url> {
    let (var, raw) = match nonempty(get, ev::AWS_EC2_METADATA_SERVICE_ENDPOINT) {
        Some(u) => (ev::AWS_EC2_METADATA_SERVICE_ENDPOINT, u),
        None => {
            let v6 = nonempty(get, ev::AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE)
                .is_some_and(|m| m.eq_ignore_ascii_case("ipv6"));
            let d = if v6 { DEFAULT_V6 } else { DEFAULT };
            (ev::AWS_EC2_METADATA_SERVICE_ENDPOINT, d.to_string())
        }
    };
    let mut url =
        url::Url::parse(&raw).map_err(|e| Error::config(format!("{var} is not a URL: {e}")))?;
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    super::super::platform::check_endpoint(&url, var)?;
    Ok(url)
}

pub fn credentials(get: Get, tried: &mut Vec<String>) -> Result<Option<Credentials>> {
    let off = nonempty(get, ev::AWS_EC2_METADATA_DISABLED)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if off {
        tried.push(format!(
            "EC2 instance metadata: turned off by {}=true",
            ev::AWS_EC2_METADATA_DISABLED
        ));
        return Ok(None);
    }
    let base = base(get)?;
    let at = shown(&base);
    let join = |p: &str| {
        base.join(p)
            .map_err(|e| Error::config(format!("cannot build the IMDS URL under {at}: {e}")))
    };
    crate::output::info(&format!(
        "requesting AWS credentials from EC2 instance metadata at {at}"
    ));
    let client = crate::http::client_direct()?;
    let put = client
        .put(join("latest/api/token")?.as_str())
        .header(TTL_HEADER, "21600");
    let token = match call(put, &at, LIMIT)? {
        Reply::Answer(r) if r.status == 200 => String::from_utf8(r.body)
            .ok()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty() && !t.contains(['\r', '\n']))
            .map(Secret::new),
        Reply::Answer(r) => {
            tried.push(format!(
                "EC2 instance metadata: {at} answered {} to the IMDSv2 token request",
                r.status
            ));
            return Ok(None);
        }
        Reply::TimedOut | Reply::Unreachable(_) | Reply::Broken(_) => {
            tried.push(format!(
                "EC2 instance metadata: no answer at {at} (not on EC2?; {} redirects it)",
                ev::AWS_EC2_METADATA_SERVICE_ENDPOINT
            ));
            return Ok(None);
        }
    };
    let Some(token) = token else {
        return Err(Error::network(format!(
            "EC2 instance metadata at {at} answered the token request with no token"
        )));
    };
    let fetch = |url: url::Url, what: &str| -> Result<crate::http::Response> {
        let req = client
            .get(url.as_str())
            .header(TOKEN_HEADER, token.expose().as_str());
        let doing = format!("get {what} from EC2 instance metadata at {at}");
        match call(req, &at, LIMIT)? {
            Reply::Answer(r) => match r.status {
                200 | 404 => Ok(r),
                401 | 403 => Err(Error::denied(format!(
                    "EC2 instance metadata at {at} refused the request for {what} ({})",
                    r.status
                ))
                .hint(
                    "check the instance's metadata options (http-tokens, hop limit in containers)",
                )),
                s => Err(Error::network(format!("cannot {doing}: it answered {s}"))
                    .hint("a passing problem at the platform; retry later")),
            },
            other => Err(no_answer(&doing, &at, other, LIMIT)),
        }
    };
    let roles = fetch(join(ROLES)?, "the instance's IAM role")?;
    let role = String::from_utf8_lossy(&roles.body)
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string);
    let role = match (roles.status, role) {
        (200, Some(r)) => r,
        _ => {
            tried.push(format!(
                "EC2 instance metadata: no IAM role is attached to this instance ({at})"
            ));
            return Ok(None);
        }
    };
    let ok = role.len() <= 128
        && role
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if !ok {
        return Err(Error::network(format!(
            "EC2 instance metadata at {at} named a role that is not an IAM role name"
        )));
    }
    let resp = fetch(join(&format!("{ROLES}{role}"))?, "the role's credentials")?;
    let source = format!("EC2 instance metadata (role {role})");
    let creds = (resp.status == 200)
        .then(|| {
            let v: serde_json::Value = serde_json::from_slice(&resp.body).ok()?;
            let code = v.get("Code").and_then(|c| c.as_str()).unwrap_or("Success");
            (code == "Success").then(|| parse_json(&resp.body, &source))?
        })
        .flatten();
    creds.map(Some).ok_or_else(|| {
        Error::network(format!(
            "EC2 instance metadata at {at} answered {} without usable credentials for role {role}",
            resp.status
        ))
    })
}
