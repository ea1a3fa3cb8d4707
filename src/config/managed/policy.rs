//! The managed configuration's policy keys, and the checks that apply them.
//! `setup` runs them before saving and the commands again at use (a user
//! can hand-edit their config); a value the managed file itself sets is
//! the administrator's and is not checked against their own lists.

use serde::{Deserialize, Serialize};

use super::{Managed, current};
use crate::error::{Error, Result};

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// No static API key may be used next to keyless: `auth status` (and
    /// `--check`) fail when one is found, `exec`/`env` refuse
    /// `--keep-api-key`.
    #[serde(default)]
    pub forbid_static_api_keys: bool,
    /// The issuers users' profiles may take identity JWTs from (`setup
    /// issuer --issuer`, and every JWT's `iss` before it is exchanged).
    /// Absent: any. The managed profiles' issuers are always allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_issuers: Option<Vec<String>>,
    /// The endpoints users' profiles may send JWTs to: Anthropic's base URL
    /// and OpenAI's token endpoint. An entry allows itself and the paths
    /// below it. Absent: any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_base_urls: Option<Vec<String>>,
}

impl Policy {
    pub(super) fn validate(&self) -> std::result::Result<(), String> {
        for (key, list) in [
            ("allowed_issuers", &self.allowed_issuers),
            ("allowed_base_urls", &self.allowed_base_urls),
        ] {
            for v in list.iter().flatten() {
                crate::config::checks::check_url(key, v).map_err(|e| e.message)?;
            }
        }
        Ok(())
    }
}

/// Does `url` fall under the allowed `base`: same scheme, host and port,
/// and the same path or one below it?
pub fn url_allowed(base: &str, url: &str) -> bool {
    let (Ok(b), Ok(u)) = (url::Url::parse(base), url::Url::parse(url)) else {
        return false;
    };
    let path = |x: &url::Url| x.path().trim_end_matches('/').to_string();
    let (bp, up) = (path(&b), path(&u));
    b.scheme() == u.scheme()
        && b.host_str() == u.host_str()
        && b.port_or_known_default() == u.port_or_known_default()
        && (up == bp || up.starts_with(&format!("{bp}/")))
}

/// Issuers are compared as OIDC compares them, but a trailing slash is not
/// a different issuer to an administrator.
fn issuer_allowed(allowed: &str, iss: &str) -> bool {
    allowed.trim_end_matches('/') == iss.trim_end_matches('/')
}

fn refused(m: &Managed, what: String, key: &str, list: &[String], hint: String) -> Error {
    Error::config(format!(
        "{what} is not allowed by the managed configuration {} ({key}: {})",
        m.path.display(),
        if list.is_empty() {
            "none".to_string()
        } else {
            list.join(", ")
        }
    ))
    .hint(hint)
}

/// `--keep-api-key` where static keys are forbidden.
pub fn refuse_keep_api_key(keep: bool) -> Result<()> {
    let Some(m) = current()? else { return Ok(()) };
    if keep && m.policy.forbid_static_api_keys {
        return Err(Error::config(format!(
            "--keep-api-key is refused: the managed configuration {} forbids static API keys",
            m.path.display()
        ))
        .hint("leave --keep-api-key out: the child gets keyless's token instead of the key"));
    }
    Ok(())
}

/// The managed file, when it forbids static API keys.
pub fn static_keys_forbidden() -> Option<&'static Managed> {
    current()
        .ok()
        .flatten()
        .filter(|m| m.policy.forbid_static_api_keys)
}

/// An endpoint (`section.field`: `anthropic.base_url`,
/// `openai.token_endpoint`) of profile `name`, against `allowed_base_urls`.
pub fn check_endpoint(name: &str, section: &str, field: &str, url: &str) -> Result<()> {
    let Some(m) = current()? else { return Ok(()) };
    let Some(list) = &m.policy.allowed_base_urls else {
        return Ok(());
    };
    if m.sets(name, section, field) || list.iter().any(|b| url_allowed(b, url)) {
        return Ok(());
    }
    let flag = match field {
        "token_endpoint" => "--token-endpoint",
        _ => "--base-url",
    };
    Err(refused(
        m,
        format!("{section}.{field} {url:?} of profile {name:?}"),
        "allowed_base_urls",
        list,
        format!(
            "use an allowed one (keyless --profile {name} setup {section} {flag} URL), or ask your administrator to allow it"
        ),
    ))
}

/// Every issuer the managed file names: its list and its profiles' own.
fn allowed_issuers(m: &Managed) -> Option<Vec<String>> {
    let mut list = m.policy.allowed_issuers.clone()?;
    for sections in m.profiles.values() {
        if let Some(i) = sections
            .get("issuer")
            .and_then(|s| s.get("issuer"))
            .and_then(|v| v.as_str())
        {
            list.push(i.to_string());
        }
    }
    Some(list)
}

/// The sign-in issuer of profile `name` (`setup issuer`, `login`).
pub fn check_issuer(name: &str, issuer: &str) -> Result<()> {
    let Some(m) = current()? else { return Ok(()) };
    let Some(list) = allowed_issuers(m) else {
        return Ok(());
    };
    if m.sets(name, "issuer", "issuer") || list.iter().any(|a| issuer_allowed(a, issuer)) {
        return Ok(());
    }
    Err(refused(
        m,
        format!("issuer {issuer:?} of profile {name:?}"),
        "allowed_issuers",
        &list,
        format!(
            "use an allowed issuer (keyless --profile {name} setup issuer --issuer URL …), or ask your administrator to allow it"
        ),
    ))
}

/// The `iss` of an identity JWT about to be exchanged for `provider`
/// (`anthropic`, `openai`) by profile `name`; exempt when the managed file
/// sets that provider's identity source for the profile.
pub fn check_jwt_issuer(name: &str, provider: &str, iss: Option<&str>) -> Result<()> {
    let Some(m) = current()? else { return Ok(()) };
    let Some(list) = allowed_issuers(m) else {
        return Ok(());
    };
    if m.sets(name, provider, "identity") {
        return Ok(());
    }
    if let Some(iss) = iss
        && list.iter().any(|a| issuer_allowed(a, iss))
    {
        return Ok(());
    }
    Err(refused(
        m,
        format!(
            "the identity token's issuer {:?} (profile {name:?}, {provider})",
            crate::redact::terminal(iss.unwrap_or("(none)"))
        ),
        "allowed_issuers",
        &list,
        "use an identity source whose tokens an allowed issuer signs, or ask your administrator to allow this one".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_allowed_base_url_covers_itself_and_paths_below_only() {
        let base = "https://gw.corp.example/anthropic";
        for ok in [
            "https://gw.corp.example/anthropic",
            "https://gw.corp.example/anthropic/",
            "https://GW.corp.example:443/anthropic/v1",
        ] {
            assert!(url_allowed(base, ok), "{ok}");
        }
        for no in [
            "https://gw.corp.example/anthropic-evil",
            "https://gw.corp.example/",
            "http://gw.corp.example/anthropic",
            "https://gw.corp.example:8443/anthropic",
            "https://gw.corp.example.evil.net/anthropic",
            "https://evil.net/gw.corp.example/anthropic",
            "not a url",
        ] {
            assert!(!url_allowed(base, no), "{no}");
        }
        assert!(url_allowed(
            "https://api.anthropic.com",
            "https://api.anthropic.com"
        ));
    }

    #[test]
    fn issuers_match_exactly_but_for_a_trailing_slash() {
        assert!(issuer_allowed(
            "https://login.corp.example/",
            "https://login.corp.example"
        ));
        assert!(!issuer_allowed(
            "https://login.corp.example",
            "https://login.corp.example/tenant"
        ));
        assert!(!issuer_allowed(
            "https://login.corp.example",
            "https://LOGIN.corp.example"
        ));
    }
}
