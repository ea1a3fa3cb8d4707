//! The `buildkite` source: the agent API's OIDC endpoint, as
//! `buildkite-agent oidc request-token` asks it: `POST
//! $BUILDKITE_AGENT_ENDPOINT/jobs/$BUILDKITE_JOB_ID/oidc/tokens` with
//! `Authorization: Token $BUILDKITE_AGENT_ACCESS_TOKEN` and the JSON
//! `{"audience": …}`; the JWT is in `.token`. Like the agent, keyless
//! retries 429 and 5xx with backoff, never 400/401/403/422. A fresh JWT
//! per exchange.

use std::time::Duration;

use super::platform::{self, Call, Retry};
use super::{IdentityToken, Origin};
use crate::env_vars;
use crate::error::{Error, Result};
use crate::provider::TokenKind;
use crate::secret::Secret;

const WHAT: &str = "the Buildkite agent API";
pub const DEFAULT_ENDPOINT: &str = "https://agent.buildkite.com/v3";

const RETRY: Retry = Retry {
    statuses: |s| s == 429 || (500..600).contains(&s),
    delays: &[Duration::from_secs(1), Duration::from_secs(2)],
};

pub fn fetch(audience: Option<&str>) -> Result<IdentityToken> {
    let (Some(token), Some(job)) = (
        platform::var(env_vars::BUILDKITE_AGENT_ACCESS_TOKEN),
        platform::var(env_vars::BUILDKITE_JOB_ID),
    ) else {
        return Err(Error::sign_in(format!(
            "the buildkite identity source needs {} and {}, which the Buildkite agent sets in each job",
            env_vars::BUILDKITE_AGENT_ACCESS_TOKEN,
            env_vars::BUILDKITE_JOB_ID
        ))
        .hint("run in a Buildkite job, or choose another source with `keyless setup … --identity …`"));
    };
    let job = job.trim();
    if !job
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        || job.len() > 64
    {
        return Err(Error::config(format!(
            "{} is not a Buildkite job id",
            env_vars::BUILDKITE_JOB_ID
        )));
    }
    let base = platform::var(env_vars::BUILDKITE_AGENT_ENDPOINT)
        .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
    let mut url = platform::endpoint(base.trim(), env_vars::BUILDKITE_AGENT_ENDPOINT)?;
    url.path_segments_mut()
        .map_err(|_| {
            Error::config(format!(
                "{} is not a base URL",
                env_vars::BUILDKITE_AGENT_ENDPOINT
            ))
        })?
        .pop_if_empty()
        .extend(["jobs", job, "oidc", "tokens"]);
    let mut body = serde_json::Map::new();
    if let Some(a) = audience {
        body.insert("audience".into(), a.into());
    }
    let auth = Secret::new(format!("Token {}", token.trim()));
    let headers = [
        ("authorization", auth.expose().as_str()),
        ("content-type", "application/json"),
        ("accept", "application/json"),
    ];
    let call = Call {
        post: true,
        body: Some(serde_json::Value::Object(body).to_string().into_bytes()),
        retry: RETRY,
        ..Call::get(&url, &headers, WHAT)
    };
    let resp = platform::classify(platform::send(&call)?, WHAT, &platform::shown(&url))?;
    let jwt = platform::json_field(&resp.body, "token").ok_or_else(|| {
        Error::network(format!(
            "{WHAT} answered 200 but with no JWT (no `token` field)"
        ))
    })?;
    Ok(IdentityToken {
        token: Secret::new(jwt),
        origin: Origin::Platform("Buildkite"),
        kind: TokenKind::Jwt,
    })
}
