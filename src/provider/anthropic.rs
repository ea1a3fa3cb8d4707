//! Anthropic's token exchange: `POST {base}/v1/oauth/token`, RFC 7523
//! jwt-bearer, exactly as the official SDKs send it (JSON body, the two beta
//! values, no redirects, 30 s, 1 MiB cap).
//!
//! Errors are classified, never echoed: only OAuth `error`,
//! `error_description` and the API error message reach the user, scrubbed.

use serde_json::{Value, json};

use super::endpoint::{self, error_fields};
use super::{ExchangeError, Minted};
use crate::config::{AnthropicConfig, BaseUrl};
use crate::error::{Error, Result};
use crate::http::Response;
use crate::jwt::Inspected;
use crate::secret::Secret;

/// The audience Anthropic's federation rules expect by default.
pub const AUDIENCE: &str = "https://api.anthropic.com";
/// What every access token Anthropic's own API mints starts with.
pub const TOKEN_PREFIX: &str = "sk-ant-";
/// The API version every Messages and models call names.
pub const API_VERSION: &str = "2023-06-01";
/// The beta an API call with an OAuth (minted) token names.
pub const OAUTH_BETA: &str = "oauth-2025-04-20";
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
pub const BETA: &str = "oauth-2025-04-20,oidc-federation-2026-04-01";
/// The header `keyless sandbox` adds to its errors: the path of its
/// history, where a denial's reason is (the Console never sees it).
pub const SANDBOX_HISTORY_HEADER: &str = "keyless-sandbox-history";
pub const HISTORY_URL: &str =
    "https://platform.claude.com/settings/workload-identity-federation?tab=history";

pub fn token_url(base_url: &BaseUrl) -> String {
    base_url.join("/v1/oauth/token")
}

/// The request body, field for field as the SDKs build it: `service_account_id`
/// and `workspace_id` only when set, never `scope`.
pub fn request_body(cfg: &AnthropicConfig, assertion: &Secret<String>) -> Value {
    let mut body = json!({
        "grant_type": GRANT_TYPE,
        "assertion": assertion.expose(),
        "federation_rule_id": cfg.federation_rule_id,
        "organization_id": cfg.organization_id,
    });
    if let Some(sa) = cfg.service_account_id.as_deref().filter(|s| !s.is_empty()) {
        body["service_account_id"] = json!(sa);
    }
    if let Some(ws) = cfg.workspace_id.as_deref().filter(|s| !s.is_empty()) {
        body["workspace_id"] = json!(ws);
    }
    body
}

pub async fn jwt_bearer_exchange(
    client: &reqwest::Client,
    cfg: &AnthropicConfig,
    assertion: &Secret<String>,
    claims: &Inspected,
    ledger_says_unsent: bool,
) -> std::result::Result<Minted, ExchangeError> {
    let url = token_url(&cfg.base_url());
    let resp = endpoint::post_json(
        client,
        &url,
        &[("anthropic-beta", BETA)],
        &request_body(cfg, assertion),
        "the profile's --base-url",
    )
    .await?;
    let seen = Seen {
        claims,
        ledger_says_unsent,
    };
    Ok(interpret(cfg, &seen, &url, resp)?)
}

/// What keyless can see about the JWT it sent, for the likely causes.
struct Seen<'a> {
    claims: &'a Inspected,
    /// The single-use ledger recorded this JWT as never sent before.
    ledger_says_unsent: bool,
}

fn interpret(cfg: &AnthropicConfig, seen: &Seen, url: &str, resp: Response) -> Result<Minted> {
    let rid = endpoint::request_id_suffix(&resp);
    let body = endpoint::json_body(&resp, url, &rid, "--base-url")?;
    if resp.status == 200 {
        let minted = parse_success(&body, url, &rid)?;
        if cfg.uses_default_base_url() && !minted.access_token.expose().starts_with(TOKEN_PREFIX) {
            return Err(Error::network(format!(
                "the token endpoint {url} answered 200 with an access_token that is not an Anthropic token ({TOKEN_PREFIX}…){rid}"
            ))
            .hint("something between keyless and the API answered instead of it"));
        }
        return Ok(minted);
    }
    let (etype, message) = error_fields(&body);
    let shown = message
        .as_deref()
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    match resp.status {
        401 | 403 => Err(denied(
            cfg,
            seen,
            (resp.status, resp.header(SANDBOX_HISTORY_HEADER).is_some()),
            etype.as_deref(),
            &rid,
        )),
        400 if etype.as_deref() == Some("invalid_grant") => Err(denied(
            cfg,
            seen,
            (resp.status, resp.header(SANDBOX_HISTORY_HEADER).is_some()),
            etype.as_deref(),
            &rid,
        )),
        400 => Err(Error::config(format!(
            "the token endpoint rejected the request as malformed{shown}{rid}"
        ))
        .hint(
            "check the identifiers with `keyless setup anthropic`; the server names the bad field",
        )),
        s => Err(endpoint::other_status(
            s,
            url,
            &shown,
            &rid,
            "--base-url",
            "the API host, e.g. https://api.anthropic.com",
        )),
    }
}

/// The likely causes of a denial, from what keyless can see: the JWT's
/// issuer, subject and audience, the workspace and service account asked
/// for, and a reused JWT only when the ledger could not rule it out.
fn denied(
    cfg: &AnthropicConfig,
    seen: &Seen,
    (status, sandbox): (u16, bool),
    etype: Option<&str>,
    rid: &str,
) -> Error {
    let claims = seen.claims;
    let etype = etype.unwrap_or("denied");
    let or_none = |v: Option<&str>| crate::redact::terminal(v.unwrap_or("none"));
    let aud = if claims.aud.is_empty() {
        "none".to_string()
    } else {
        crate::redact::terminal(&claims.aud.join(", "))
    };
    let sub = or_none(claims.sub.as_deref());
    let mut causes = vec![
        format!(
            "the JWT's issuer ({}) is not the one the rule trusts, or its signing key (kid {}) is not in that issuer's JWKS",
            or_none(claims.iss.as_deref()),
            or_none(claims.kid.as_deref())
        ),
        format!("the subject ({sub}) or audience ({aud}) does not match the rule's match settings"),
        match cfg.workspace_id.as_deref() {
            Some(w) => format!("the rule does not cover workspace {w}"),
            None => {
                "the rule covers several workspaces and the request names none; set --workspace-id"
                    .to_string()
            }
        },
        format!(
            "the service account {} is not a member of the chosen workspace",
            cfg.service_account_id.as_deref().unwrap_or("(none set)")
        ),
    ];
    if !seen.ledger_says_unsent {
        causes.insert(
            0,
            "the JWT may already have been exchanged elsewhere (jti_reused): keyless could not record it in its single-use ledger; every exchange needs a fresh identity token"
                .to_string(),
        );
    }
    let mut e = Error::denied(format!(
        "Anthropic denied the token exchange ({status} {etype}) for federation rule {} in organization {}{rid}",
        cfg.federation_rule_id, cfg.organization_id
    ))
    .detail("likely causes, most common first:");
    for (n, c) in causes.iter().enumerate() {
        e = e.detail(format!("{}. {c}", n + 1));
    }
    e.hint(where_the_reason_is(cfg, sandbox))
}

/// Where the denial's reason can be read: a loopback API (`keyless
/// sandbox`) keeps its own history, which the Console never sees; the real
/// one is in the Console's authentication history, found by time and rule.
fn where_the_reason_is(cfg: &AnthropicConfig, sandbox: bool) -> String {
    let base = cfg.base_url();
    let local =
        url::Url::parse(base.as_str()).is_ok_and(|u| crate::config::checks::is_loopback(&u));
    if local && sandbox {
        format!(
            "the exact reason is in the sandbox's history: {base}/_sandbox/history (the last event's `reason`; the Console never sees a local exchange); `keyless -vv credential anthropic` shows the JWT's iss, sub and aud"
        )
    } else {
        format!(
            "the exact reason is in the Console's authentication history ({HISTORY_URL}: Settings > Workload identity, History tab): find the attempt at this time for rule {} and read its reason; `keyless -vv credential anthropic` shows the JWT's iss, sub and aud",
            cfg.federation_rule_id
        )
    }
}

fn parse_success(body: &Value, url: &str, rid: &str) -> Result<Minted> {
    let bad = |what: &str| {
        Error::network(format!(
            "the token endpoint {url} answered 200 but {what}{rid}"
        ))
        .hint("the base URL may point at something other than the Claude API")
    };
    let g = endpoint::granted(body, bad)?;
    // The SDKs insist on both; so does keyless.
    let token_type = g.token_type.ok_or_else(|| bad("without a token_type"))?;
    let expires_in = g.expires_in.ok_or_else(|| bad("without expires_in"))?;
    Ok(Minted {
        access_token: g.access_token,
        token_type,
        expires_in,
    })
}
