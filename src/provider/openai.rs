//! OpenAI's token exchange: `POST https://auth.openai.com/oauth/token`, RFC
//! 8693, as the official SDKs send it (JSON body, no redirects, 1 MiB cap).
//!
//! `invalid_grant` and `invalid_subject_token` are denials. The cached
//! lifetime never outlives the subject token: min(`expires_in`, the JWT's
//! remaining life), and the JWT's remaining life capped at an hour when the
//! server names no `expires_in`.

use serde_json::{Value, json};

use super::endpoint::{self, error_fields};
use super::{ExchangeError, Minted, TokenKind};
use crate::clock::human_duration;
use crate::config::{BaseUrl, OpenAiConfig};
use crate::env_vars::non_blank;
use crate::error::{Error, Result};
use crate::http::Response;
use crate::jwt::Inspected;
use crate::secret::Secret;

pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const JWT_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";
pub const ID_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id_token";
/// What to assume when the server names no lifetime (the Node SDK's default).
pub const DEFAULT_LIFETIME_SECS: i64 = 3600;
/// Where the identity provider and its mappings are configured.
pub const SETTINGS_PATH: &str = crate::config::checks::OPENAI_SETTINGS_PATH;
/// The API the SDKs call when `OPENAI_BASE_URL` is unset.
pub const DEFAULT_API_BASE: &str = "https://api.openai.com/v1";

/// The OpenAI API base the SDKs would call: `OPENAI_BASE_URL` (passed in),
/// else the origin of a loopback token endpoint (the sandbox serves both),
/// else [`DEFAULT_API_BASE`].
pub fn api_base(cfg: &OpenAiConfig, openai_base_url: Option<&str>) -> String {
    if let Some(b) = non_blank(openai_base_url) {
        return BaseUrl::checked(b).into_string();
    }
    match url::Url::parse(cfg.token_endpoint()) {
        Ok(u) if crate::config::checks::is_loopback(&u) => {
            format!("{}/v1", u.origin().ascii_serialization())
        }
        _ => DEFAULT_API_BASE.to_string(),
    }
}

/// The caller's `OPENAI_BASE_URL` (blank means unset), held to the rule of
/// `--base-url` (https, or http on this machine) with one message wherever
/// keyless would send a token there: `exec --proxy`, `auth status --check`,
/// `setup codex`. A variable from an untrusted `.envrc` or CI setting must
/// not carry tokens in cleartext, nor land in a client's global config.
pub fn env_base_url(raw: Option<&str>) -> Result<Option<String>> {
    let Some(v) = non_blank(raw) else {
        return Ok(None);
    };
    BaseUrl::parse("--base-url", v).map_err(|e| {
        let mut err = Error::config(format!(
            "{} is not an API base keyless can send a token to: {}",
            crate::env_vars::OPENAI_BASE_URL,
            e.message
        ));
        if let Some(h) = e.hint {
            err = err.hint(h);
        }
        err
    })?;
    Ok(Some(v.to_string()))
}

/// Where [`api_base`] takes its value from, for `setup` to say.
pub fn api_base_origin(cfg: &OpenAiConfig, openai_base_url: Option<&str>) -> String {
    if non_blank(openai_base_url).is_some() {
        return format!("from {}", crate::env_vars::OPENAI_BASE_URL);
    }
    match url::Url::parse(cfg.token_endpoint()) {
        Ok(u) if crate::config::checks::is_loopback(&u) => {
            "from the profile's token endpoint".to_string()
        }
        _ => "OpenAI's default".to_string(),
    }
}

/// The `subject_token_type` for a subject token.
pub fn subject_token_type(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::Jwt => JWT_TOKEN_TYPE,
        TokenKind::IdToken => ID_TOKEN_TYPE,
    }
}

/// The request body, field for field as the SDKs build it: no `scope` (it
/// grants nothing), no `audience` (compared server-side), no `client_id`.
pub fn request_body(cfg: &OpenAiConfig, subject_token: &Secret<String>, kind: TokenKind) -> Value {
    json!({
        "grant_type": GRANT_TYPE,
        "subject_token": subject_token.expose(),
        "subject_token_type": subject_token_type(kind),
        "identity_provider_id": cfg.identity_provider_id,
        "service_account_id": cfg.service_account_id,
    })
}

pub async fn token_exchange(
    client: &reqwest::Client,
    cfg: &OpenAiConfig,
    subject_token: &Secret<String>,
    kind: TokenKind,
    claims: &Inspected,
) -> std::result::Result<Minted, ExchangeError> {
    let url = cfg.token_endpoint();
    let sent_at = crate::clock::now();
    let resp = endpoint::post_json(
        client,
        url,
        &[],
        &request_body(cfg, subject_token, kind),
        "the profile's --token-endpoint",
    )
    .await?;
    Ok(interpret(cfg, claims, url, resp, sent_at)?)
}

fn interpret(
    cfg: &OpenAiConfig,
    claims: &Inspected,
    url: &str,
    resp: Response,
    sent_at: i64,
) -> Result<Minted> {
    let rid = endpoint::request_id_suffix(&resp);
    let body = endpoint::json_body(&resp, url, &rid, "--token-endpoint")?;
    if resp.status == 200 {
        return parse_success(&body, url, &rid, claims.exp.map(|exp| exp - sent_at));
    }
    let (code, message) = error_fields(&body);
    let shown = message
        .as_deref()
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    let denial = matches!(
        code.as_deref(),
        Some("invalid_grant" | "invalid_subject_token")
    );
    match resp.status {
        401 | 403 => Err(denied(cfg, claims, resp.status, &shown, &rid)),
        400 if denial => Err(denied(cfg, claims, resp.status, &shown, &rid)),
        400 => Err(Error::config(format!(
            "the token endpoint rejected the request as malformed{shown}{rid}"
        ))
        .hint("check the identifiers with `keyless setup openai`; the server names the bad field")),
        s => Err(endpoint::other_status(
            s,
            url,
            &shown,
            &rid,
            "--token-endpoint",
            "OpenAI's token endpoint, e.g. https://auth.openai.com/oauth/token",
        )),
    }
}

fn denied(cfg: &OpenAiConfig, claims: &Inspected, status: u16, shown: &str, rid: &str) -> Error {
    let or_none = |v: Option<&str>| crate::redact::terminal(v.unwrap_or("none"));
    let aud = if claims.aud.is_empty() {
        "none".to_string()
    } else {
        crate::redact::terminal(&claims.aud.join(", "))
    };
    let recorded = cfg
        .federation
        .audience
        .as_deref()
        .map(|a| format!("; the profile records {a}"))
        .unwrap_or_default();
    let wip = &cfg.identity_provider_id;
    let sa = &cfg.service_account_id;
    Error::denied(format!(
        "OpenAI denied the token exchange ({status}{shown}) for identity provider {wip} and service account {sa}{rid}"
    ))
    .detail("likely causes, most common first:")
    .detail(format!(
        "1. the JWT's audience ({aud}) is not the audience configured on identity provider {wip}{recorded}"
    ))
    .detail(format!(
        "2. the JWT's issuer ({}) is not the provider's issuer, or its signing key (kid {}) is not in the provider's JWKS",
        or_none(claims.iss.as_deref()),
        or_none(claims.kid.as_deref())
    ))
    .detail(format!(
        "3. no service account mapping of {wip} for {sa} has attribute matchers that this JWT's claims (sub {}) satisfy",
        or_none(claims.sub.as_deref())
    ))
    .hint(format!(
        "compare with the provider under {SETTINGS_PATH}; `keyless -vv credential openai` shows the JWT's iss, sub and aud"
    ))
}

fn parse_success(
    body: &Value,
    url: &str,
    rid: &str,
    subject_remaining: Option<i64>,
) -> Result<Minted> {
    let bad = |what: &str| {
        Error::network(format!(
            "the token endpoint {url} answered 200 but {what}{rid}"
        ))
        .hint("the token endpoint may point at something other than OpenAI's")
    };
    // Python's SDK requires expires_in and ignores token_type; Node assumes
    // an hour without it. keyless takes either, as `lifetime` says.
    let g = endpoint::granted(body, bad)?;
    let (expires_in, note) = lifetime(g.expires_in, subject_remaining);
    if let Some(n) = note {
        crate::output::info(&n);
    }
    Ok(Minted {
        access_token: g.access_token,
        token_type: "Bearer".to_string(),
        expires_in,
    })
}

/// How long to cache a token: min(`expires_in`, the subject token's remaining
/// life), or that remaining life capped at an hour when `expires_in` is
/// missing; at least a second, so that the caller still gets the token. The
/// note says at `-v` when the subject token decided.
pub fn lifetime(expires_in: Option<i64>, subject_remaining: Option<i64>) -> (i64, Option<String>) {
    let subject = subject_remaining.map(|r| r.max(1));
    match (expires_in, subject) {
        (Some(e), Some(s)) if s < e => (
            s,
            Some(format!(
                "the token endpoint granted {}, but the identity token expires in {}; keeping the token that long",
                human_duration(e),
                human_duration(s)
            )),
        ),
        (Some(e), _) => (e, None),
        (None, s) => {
            let life = s
                .unwrap_or(DEFAULT_LIFETIME_SECS)
                .min(DEFAULT_LIFETIME_SECS);
            (
                life,
                Some(format!(
                    "the token endpoint named no expires_in; assuming the identity token's remaining life, at most {}: {}",
                    human_duration(DEFAULT_LIFETIME_SECS),
                    human_duration(life)
                )),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetime_never_outlives_the_subject_token() {
        assert_eq!(lifetime(Some(600), Some(900)).0, 600);
        assert!(lifetime(Some(600), Some(900)).1.is_none());
        let (l, note) = lifetime(Some(3600), Some(300));
        assert_eq!(l, 300);
        assert!(note.unwrap().contains("identity token expires in"));
        assert_eq!(lifetime(Some(600), None).0, 600);
        // no expires_in: the subject's remaining life, capped at an hour
        assert_eq!(lifetime(None, Some(300)).0, 300);
        assert_eq!(lifetime(None, Some(7200)).0, 3600);
        assert_eq!(lifetime(None, None).0, 3600);
        assert!(
            lifetime(None, Some(300))
                .1
                .unwrap()
                .contains("no expires_in")
        );
        // an identity token that expired in flight still yields the token once
        assert_eq!(lifetime(Some(600), Some(-5)).0, 1);
    }

    #[test]
    fn subject_token_types() {
        assert_eq!(
            subject_token_type(TokenKind::Jwt),
            "urn:ietf:params:oauth:token-type:jwt"
        );
        assert_eq!(
            subject_token_type(TokenKind::IdToken),
            "urn:ietf:params:oauth:token-type:id_token"
        );
    }
}
