//! The `aws` source: AWS STS outbound identity federation. keyless finds
//! AWS credentials the way the AWS SDKs do ([`credentials`]: environment,
//! web identity file, ECS/EKS container endpoint, EC2 IMDSv2), then POSTs
//! `sts:GetWebIdentityToken` ([`sts`]) to the regional STS endpoint, signed
//! with SigV4, asking for the audience the provider needs. A fresh JWT per
//! exchange. Shared config files (`~/.aws`), SSO and `credential_process`
//! are not read: `command:aws sts get-web-identity-token …` covers them.
//!
//! `auto` never picks this source: it needs the account's opt-in and an
//! IAM grant, so it must be chosen.

mod credentials;
mod imds;
mod sts;

use std::time::Duration;

use super::{IdentityToken, Origin};
use crate::env_vars as ev;
use crate::error::{Error, Result};
use crate::http;
use crate::provider::TokenKind;

const WHAT: &str = "AWS STS";

/// A JWT from `sts:GetWebIdentityToken` whose `aud` is `audience`.
pub fn fetch(audience: Option<&str>) -> Result<IdentityToken> {
    let audience = audience.ok_or_else(|| {
        Error::config("the aws identity source needs an audience, and the profile names none")
            .hint("record the one the federation rule matches: `keyless setup openai --audience …`")
    })?;
    let get = |n: &str| std::env::var(n).ok();
    let region = region(&get)?;
    let endpoint = sts_endpoint(&get, &region)?;
    let creds = credentials::find(&get, &region, &endpoint, audience)?;
    let jwt = sts::get_web_identity_token(&creds, &region, &endpoint, audience)?;
    Ok(IdentityToken {
        token: jwt,
        origin: Origin::Platform(WHAT),
        kind: TokenKind::Jwt,
    })
}

/// What `auth status` says about the source, without asking anyone.
pub fn status(get: &dyn Fn(&str) -> Option<String>) -> (bool, String) {
    match region(get) {
        Err(e) => (false, e.message),
        Ok(r) => (
            true,
            format!(
                "AWS STS GetWebIdentityToken in {r}, signed with the AWS credentials of this environment (not requested without --check; the account must have outbound identity federation enabled)"
            ),
        ),
    }
}

fn nonempty(get: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    ev::lookup(get, name).map(|v| v.trim().to_string())
}

/// `AWS_REGION`, then `AWS_DEFAULT_REGION`, as the SDKs read them.
fn region(get: &dyn Fn(&str) -> Option<String>) -> Result<String> {
    let (var, r) = [ev::AWS_REGION, ev::AWS_DEFAULT_REGION]
        .iter()
        .find_map(|v| nonempty(get, v).map(|r| (*v, r)))
        .ok_or_else(|| {
            Error::config(format!(
                "the aws identity source needs a region ({} or {}): GetWebIdentityToken is served by regional STS endpoints only",
                ev::AWS_REGION,
                ev::AWS_DEFAULT_REGION
            ))
            .hint(format!(
                "set {} (for example {}=us-east-1) to the region the role's account uses",
                ev::AWS_REGION,
                ev::AWS_REGION
            ))
        })?;
    let ok = r.len() <= 64
        && r.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok {
        return Err(Error::config(format!(
            "{var} ({}) is not an AWS region name",
            crate::redact::terminal(&r)
        ))
        .hint("use a region name such as us-east-1 or eu-west-2"));
    }
    Ok(r)
}

/// `AWS_ENDPOINT_URL_STS`, then `AWS_ENDPOINT_URL` (unless
/// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`), else the regional endpoint.
/// Signed requests carry the session token: https, or http to loopback.
fn sts_endpoint(get: &dyn Fn(&str) -> Option<String>, region: &str) -> Result<url::Url> {
    let ignore = nonempty(get, ev::AWS_IGNORE_CONFIGURED_ENDPOINT_URLS)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let configured = [ev::AWS_ENDPOINT_URL_STS, ev::AWS_ENDPOINT_URL]
        .iter()
        .filter(|_| !ignore)
        .find_map(|v| nonempty(get, v).map(|u| (*v, u)));
    let Some((var, u)) = configured else {
        let suffix = if region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        };
        return url::Url::parse(&format!("https://sts.{region}.{suffix}/"))
            .map_err(|e| Error::config(format!("no STS endpoint for region {region}: {e}")));
    };
    let url = url::Url::parse(&u).map_err(|e| Error::config(format!("{var} is not a URL: {e}")))?;
    let local = crate::config::checks::is_loopback(&url);
    match url.scheme() {
        "https" => Ok(url),
        "http" if local => Ok(url),
        _ => Err(Error::config(format!(
            "{var} is not an https URL; keyless will not send signed AWS requests over it"
        ))
        .hint("use https://…, or http:// on loopback for a local stand-in")),
    }
}

/// What came of one request to an AWS endpoint.
enum Reply {
    Answer(http::Response),
    /// No connection was made.
    Unreachable(String),
    /// Connected, but no full answer within the time limit.
    TimedOut,
    /// Connected, then failed (reset, oversized body).
    Broken(String),
}

/// Send `req` with a total time limit. `shown` is the URL without query.
fn call(req: reqwest::RequestBuilder, shown: &str, limit: Duration) -> Result<Reply> {
    let rt = http::runtime()?;
    let sent = rt.block_on(async { tokio::time::timeout(limit, http::send(req, shown)).await });
    Ok(match sent {
        Err(_) => Reply::TimedOut,
        Ok(Ok(r)) => Reply::Answer(r),
        Ok(Err(http::Failure::NotSent(m))) => Reply::Unreachable(m),
        Ok(Err(http::Failure::Ambiguous(m))) => Reply::Broken(m),
    })
}

/// The URL as messages show it: scheme, host and port.
fn shown(url: &url::Url) -> String {
    format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.port().map(|p| format!(":{p}")).unwrap_or_default()
    )
}

/// Exit 4 for a request that got no usable answer.
fn no_answer(doing: &str, shown: &str, reply: Reply, limit: Duration) -> Error {
    let why = match reply {
        Reply::TimedOut => format!("no answer from {shown} within {}s", limit.as_secs()),
        Reply::Unreachable(m) | Reply::Broken(m) => m,
        Reply::Answer(r) => format!("{shown} answered {}", r.status),
    };
    Error::network(format!("cannot {doing}: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |n| {
            pairs
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn region_and_endpoint_follow_the_sdks() {
        let e = env(&[("AWS_DEFAULT_REGION", "eu-west-2")]);
        assert_eq!(region(&e).unwrap(), "eu-west-2");
        let e = env(&[
            ("AWS_REGION", "us-east-1"),
            ("AWS_DEFAULT_REGION", "eu-west-2"),
        ]);
        assert_eq!(region(&e).unwrap(), "us-east-1");
        assert_eq!(region(&env(&[])).unwrap_err().kind.exit_code(), 6);
        assert!(region(&env(&[("AWS_REGION", "us-east-1/../x")])).is_err());
        assert_eq!(
            sts_endpoint(&env(&[]), "eu-west-2").unwrap().as_str(),
            "https://sts.eu-west-2.amazonaws.com/"
        );
        assert_eq!(
            sts_endpoint(&env(&[]), "cn-north-1").unwrap().as_str(),
            "https://sts.cn-north-1.amazonaws.com.cn/"
        );
        let e = env(&[
            ("AWS_ENDPOINT_URL", "https://all.example/"),
            ("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9/"),
        ]);
        assert_eq!(
            sts_endpoint(&e, "x").unwrap().as_str(),
            "http://127.0.0.1:9/"
        );
        let e = env(&[("AWS_ENDPOINT_URL", "https://all.example/")]);
        assert_eq!(
            sts_endpoint(&e, "x").unwrap().as_str(),
            "https://all.example/"
        );
        let e = env(&[
            ("AWS_ENDPOINT_URL", "https://all.example/"),
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
        ]);
        assert_eq!(
            sts_endpoint(&e, "us-east-1").unwrap().as_str(),
            "https://sts.us-east-1.amazonaws.com/"
        );
        let e = env(&[("AWS_ENDPOINT_URL_STS", "http://sts.example/")]);
        assert!(sts_endpoint(&e, "x").is_err());
    }
}
