//! The `github-actions` source: GitHub's OIDC token endpoint, as
//! `@actions/core`'s `getIDToken` asks it: `GET
//! $ACTIONS_ID_TOKEN_REQUEST_URL&audience=…` with `Authorization: Bearer
//! $ACTIONS_ID_TOKEN_REQUEST_TOKEN`; the JWT is in `.value`. A fresh JWT per
//! exchange (GitHub's live about five minutes).

use super::{IdentityToken, Origin, platform};
use crate::env_vars;
use crate::error::{Error, Result};
use crate::provider::TokenKind;
use crate::secret::Secret;

const WHAT: &str = "GitHub Actions";

pub fn fetch(audience: Option<&str>) -> Result<IdentityToken> {
    let get = env_vars::var;
    let (Some(url), Some(token)) = (
        get(env_vars::ACTIONS_ID_TOKEN_REQUEST_URL),
        get(env_vars::ACTIONS_ID_TOKEN_REQUEST_TOKEN),
    ) else {
        let vars = format!(
            "{} and {}",
            env_vars::ACTIONS_ID_TOKEN_REQUEST_URL,
            env_vars::ACTIONS_ID_TOKEN_REQUEST_TOKEN
        );
        if get(env_vars::GITHUB_ACTIONS).as_deref() == Some("true") {
            return Err(Error::sign_in(format!(
                "this GitHub Actions job cannot request an OIDC token: {vars} are not set"
            ))
            .hint("add `permissions: id-token: write` to the workflow or the job; pull requests from forks never get it"));
        }
        return Err(Error::sign_in(format!(
            "the github-actions identity source needs {vars}, which GitHub Actions sets in jobs with `permissions: id-token: write`"
        ))
        .hint("run in GitHub Actions, or choose another source with `keyless setup … --identity …`"));
    };
    let mut url = url::Url::parse(&url).map_err(|e| {
        Error::config(format!(
            "{} is not a URL: {e}",
            env_vars::ACTIONS_ID_TOKEN_REQUEST_URL
        ))
    })?;
    platform::check_endpoint(&url, env_vars::ACTIONS_ID_TOKEN_REQUEST_URL)?;
    if let Some(a) = audience {
        url.query_pairs_mut().append_pair("audience", a);
    }
    let bearer = Secret::new(format!("Bearer {token}"));
    let resp = platform::get(
        &url,
        &[
            ("authorization", bearer.expose()),
            ("accept", "application/json"),
        ],
        WHAT,
    )?;
    let jwt = serde_json::from_slice::<serde_json::Value>(&resp.body)
        .ok()
        .and_then(|v| v.get("value")?.as_str().map(str::to_string))
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| {
            Error::network("GitHub Actions answered 200 but with no JWT (no `value` field)")
                .hint("ACTIONS_ID_TOKEN_REQUEST_URL may not point at GitHub's token endpoint")
        })?;
    Ok(IdentityToken {
        token: Secret::new(jwt.trim().to_string()),
        origin: Origin::Platform(WHAT),
        kind: TokenKind::Jwt,
    })
}
