//! The AWS credentials to sign with, found in the AWS SDKs' order:
//! 1. `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` [+ `AWS_SESSION_TOKEN`];
//! 2. `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN` (EKS IRSA):
//!    `sts:AssumeRoleWithWebIdentity`, unsigned;
//! 3. the container endpoint (ECS task roles, EKS Pod Identity):
//!    `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` on `169.254.170.2`, or
//!    `AWS_CONTAINER_CREDENTIALS_FULL_URI`, with
//!    `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` / `_TOKEN` as `Authorization`;
//! 4. EC2 instance metadata, IMDSv2 ([`super::imds`]).
//!
//! As in the SDKs, a source whose variables are set decides: its failure is
//! the error, and the chain does not fall through to the next one. When no
//! source has anything, the error (exit 3) lists what was tried.

use std::time::Duration;

use super::{Reply, call, no_answer, nonempty, shown};
use crate::env_vars as ev;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// The container endpoint is local; the SDKs give it 5 s.
const CONTAINER_LIMIT: Duration = Duration::from_secs(5);
const ECS_HOST: &str = "169.254.170.2";

pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: Secret<String>,
    pub session_token: Option<Secret<String>>,
    /// Where they came from, for messages ("the environment", …).
    pub source: String,
}

type Get<'a> = crate::env_vars::Lookup<'a>;

pub fn find(get: Get, region: &str, sts: &url::Url, audience: &str) -> Result<Credentials> {
    let mut tried = Vec::new();
    if let Some(c) = from_env(get, &mut tried) {
        return Ok(c);
    }
    if let Some(c) = web_identity(get, region, sts, &mut tried)? {
        return Ok(c);
    }
    if let Some(c) = container(get, &mut tried)? {
        return Ok(c);
    }
    if let Some(c) = super::imds::credentials(get, &mut tried)? {
        return Ok(c);
    }
    let mut e = Error::sign_in("the aws identity source found no AWS credentials");
    for t in &tried {
        e = e.detail(format!("  {t}"));
    }
    Err(e.hint(format!(
        "run where AWS credentials are set (an IAM role for the task, pod or instance, or the AWS_* variables); ~/.aws config files and SSO are not read: for those use --identity {}",
        shell_words::quote(&format!(
            "command:aws sts get-web-identity-token --audience {} --signing-algorithm RS256 --query WebIdentityToken --output text",
            crate::redact::terminal(audience)
        ))
    )))
}

fn from_env(get: Get, tried: &mut Vec<String>) -> Option<Credentials> {
    let id = nonempty(get, ev::AWS_ACCESS_KEY_ID);
    let secret = nonempty(get, ev::AWS_SECRET_ACCESS_KEY);
    match (id, secret) {
        (Some(id), Some(secret)) => Some(Credentials {
            access_key_id: id,
            secret_access_key: Secret::new(secret),
            session_token: nonempty(get, ev::AWS_SESSION_TOKEN).map(Secret::new),
            source: format!(
                "{} and {}",
                ev::AWS_ACCESS_KEY_ID,
                ev::AWS_SECRET_ACCESS_KEY
            ),
        }),
        (id, _) => {
            let missing = if id.is_some() {
                format!(
                    "{} is set but {} is not",
                    ev::AWS_ACCESS_KEY_ID,
                    ev::AWS_SECRET_ACCESS_KEY
                )
            } else {
                format!("{} is not set", ev::AWS_ACCESS_KEY_ID)
            };
            tried.push(format!("environment: {missing}"));
            None
        }
    }
}

fn web_identity(
    get: Get,
    region: &str,
    sts: &url::Url,
    tried: &mut Vec<String>,
) -> Result<Option<Credentials>> {
    let Some(file) = nonempty(get, ev::AWS_WEB_IDENTITY_TOKEN_FILE) else {
        tried.push(format!(
            "web identity: {} is not set",
            ev::AWS_WEB_IDENTITY_TOKEN_FILE
        ));
        return Ok(None);
    };
    let Some(role) = nonempty(get, ev::AWS_ROLE_ARN) else {
        tried.push(format!(
            "web identity: {} is set but {} is not",
            ev::AWS_WEB_IDENTITY_TOKEN_FILE,
            ev::AWS_ROLE_ARN
        ));
        return Ok(None);
    };
    let jwt = super::super::file::read(std::path::Path::new(&file))?.token;
    let session = nonempty(get, ev::AWS_ROLE_SESSION_NAME)
        .unwrap_or_else(|| format!("keyless-{}", crate::clock::now()));
    super::sts::assume_role_with_web_identity(sts, region, &role, &session, jwt).map(Some)
}

/// The container endpoint's URL, checked as the SDKs check it: http only to
/// loopback, `169.254.170.2`, or EKS Pod Identity's `169.254.170.23` /
/// `fd00:ec2::23`; https to any host.
fn container_url(get: Get) -> Result<Option<(url::Url, &'static str)>> {
    if let Some(rel) = nonempty(get, ev::AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) {
        let var = ev::AWS_CONTAINER_CREDENTIALS_RELATIVE_URI;
        let rel = if rel.starts_with('/') {
            rel
        } else {
            format!("/{rel}")
        };
        let url = url::Url::parse(&format!("http://{ECS_HOST}{rel}"))
            .ok()
            .filter(|u| u.host_str() == Some(ECS_HOST))
            .ok_or_else(|| Error::config(format!("{var} is not a path")))?;
        return Ok(Some((url, var)));
    }
    let var = ev::AWS_CONTAINER_CREDENTIALS_FULL_URI;
    let Some(full) = nonempty(get, var) else {
        return Ok(None);
    };
    let url =
        url::Url::parse(&full).map_err(|e| Error::config(format!("{var} is not a URL: {e}")))?;
    let allowed_http = match url.host() {
        Some(url::Host::Ipv4(ip)) => {
            ip.is_loopback()
                || ip == std::net::Ipv4Addr::new(169, 254, 170, 2)
                || ip == std::net::Ipv4Addr::new(169, 254, 170, 23)
        }
        Some(url::Host::Ipv6(ip)) => {
            ip.is_loopback() || ip == std::net::Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x23)
        }
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    match url.scheme() {
        "https" => Ok(Some((url, var))),
        "http" if allowed_http => Ok(Some((url, var))),
        _ => Err(Error::config(format!(
            "{var} must be https, or http to a loopback address, 169.254.170.2, 169.254.170.23 or fd00:ec2::23 (as in the AWS SDKs); keyless will not ask {} for credentials",
            shown(&url)
        ))),
    }
}

fn container(get: Get, tried: &mut Vec<String>) -> Result<Option<Credentials>> {
    let Some((url, var)) = container_url(get)? else {
        tried.push(format!(
            "container credentials: neither {} nor {} is set",
            ev::AWS_CONTAINER_CREDENTIALS_RELATIVE_URI,
            ev::AWS_CONTAINER_CREDENTIALS_FULL_URI
        ));
        return Ok(None);
    };
    // The file wins over the variable, and is re-read each time (EKS rotates it).
    let auth = match nonempty(get, ev::AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE) {
        Some(f) => Some(super::super::file::read(std::path::Path::new(&f))?.token),
        None => nonempty(get, ev::AWS_CONTAINER_AUTHORIZATION_TOKEN).map(Secret::new),
    };
    if auth
        .as_ref()
        .is_some_and(|a| a.expose().contains(['\r', '\n']))
    {
        return Err(Error::config(
            "the container authorization token holds a line break; refusing to send it",
        ));
    }
    let at = shown(&url);
    crate::output::info(&format!(
        "requesting AWS credentials from the container endpoint at {at} ({var})"
    ));
    let client = crate::http::client_direct()?;
    let mut req = client
        .get(url.as_str())
        .header("accept", "application/json");
    if let Some(a) = &auth {
        req = req.header("authorization", a.expose().as_str());
    }
    let doing = format!("get AWS credentials from the container endpoint at {at}");
    let resp = match call(req, &at, CONTAINER_LIMIT)? {
        Reply::Answer(r) => r,
        other => {
            return Err(no_answer(&doing, &at, other, CONTAINER_LIMIT)
                .hint(format!("check {var} and that the task or pod has a role")));
        }
    };
    match resp.status {
        200 => parse_json(&resp.body, &format!("the container endpoint ({var})"))
            .map(Some)
            .ok_or_else(|| {
                Error::network(format!(
                    "the container endpoint at {at} answered 200 without AccessKeyId and SecretAccessKey"
                ))
            }),
        401 | 403 => Err(Error::denied(format!(
            "the container endpoint at {at} refused the credentials request ({})",
            resp.status
        ))
        .hint(format!(
            "check {} / {}: the endpoint wants the token the platform injected",
            ev::AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE,
            ev::AWS_CONTAINER_AUTHORIZATION_TOKEN
        ))),
        s => Err(Error::network(format!("cannot {doing}: it answered {s}"))
            .hint("a passing problem at the platform; retry later")),
    }
}

/// `{AccessKeyId, SecretAccessKey, Token}` as the container endpoint and
/// IMDS answer.
pub fn parse_json(body: &[u8], source: &str) -> Option<Credentials> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let s = |k: &str| {
        v.get(k)
            .and_then(|x| x.as_str())
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(str::to_string)
    };
    Some(Credentials {
        access_key_id: s("AccessKeyId")?,
        secret_access_key: Secret::new(s("SecretAccessKey")?),
        session_token: s("Token").map(Secret::new),
        source: source.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_urls_are_checked_as_the_sdks_check_them() {
        let url = |pairs: &[(&str, &str)]| {
            let owned: Vec<(String, String)> = pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect();
            let get = move |n: &str| owned.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
            container_url(&get).map(|o| o.map(|(u, _)| u.to_string()))
        };
        let rel = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
        let full = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
        assert_eq!(
            url(&[(rel, "/v2/credentials/abc")]).unwrap().unwrap(),
            "http://169.254.170.2/v2/credentials/abc"
        );
        // the relative URI wins, and cannot name another host
        assert_eq!(
            url(&[(rel, "/x"), (full, "http://127.0.0.1:1/y")])
                .unwrap()
                .unwrap(),
            "http://169.254.170.2/x"
        );
        assert_eq!(
            url(&[(rel, "@evil.example/x")]).unwrap().unwrap(),
            "http://169.254.170.2/@evil.example/x"
        );
        for ok in [
            "http://127.0.0.1:8080/c",
            "http://169.254.170.23/v1/credentials",
            "http://[fd00:ec2::23]/v1/credentials",
            "http://localhost:1/c",
            "https://creds.example/c",
        ] {
            assert!(url(&[(full, ok)]).unwrap().is_some(), "{ok}");
        }
        for bad in [
            "http://creds.example/c",
            "http://10.0.0.1/c",
            "file:///etc/x",
        ] {
            assert_eq!(
                url(&[(full, bad)]).unwrap_err().kind.exit_code(),
                6,
                "{bad}"
            );
        }
        assert!(url(&[]).unwrap().is_none());
    }
}
