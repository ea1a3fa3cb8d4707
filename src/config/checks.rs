//! The one rulebook for the values keyless is told: URLs it sends a JWT or a
//! secret to, federation identifiers, and profile names.
//!
//! `setup` runs these before saving, [`crate::settings`] again when a
//! hand-edited file is loaded, [`crate::oidc`] on every discovered endpoint,
//! and the sandbox on what it is sent, so a value is judged the same way
//! wherever it comes from. Messages name the flag (`--base-url`) so that they
//! read right for setup; callers that load files add where the value was.
//! Nothing here reads files or the network.

use crate::error::{Error, Result};

/// Where OpenAI's console keeps the identity provider and its mappings: the
/// hint for every malformed OpenAI identifier.
pub const OPENAI_SETTINGS_PATH: &str =
    "Organization settings > Security > Workload Identity Provider on platform.openai.com";

/// Is `url`'s host this machine (127.0.0.1, `localhost` or `[::1]`)?
pub fn is_loopback(url: &url::Url) -> bool {
    matches!(url.host(), Some(url::Host::Domain("localhost")))
        || matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip == std::net::Ipv4Addr::LOCALHOST)
        || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip == std::net::Ipv6Addr::LOCALHOST)
}

/// The check every endpoint keyless sends a JWT to must pass: https, or http
/// on loopback only; no credentials, query or fragment. `flag` names the
/// setting in messages. Returns the URL without a trailing slash.
pub fn check_url(flag: &str, v: &str) -> Result<String> {
    let hint =
        "use https://…, or http://127.0.0.1:PORT, http://localhost:PORT or http://[::1]:PORT";
    let url = url::Url::parse(v)
        .map_err(|e| Error::usage(format!("{flag} {v:?} is not a URL: {e}")).hint(hint))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            // Shown without any user:password it may carry.
            let shown = if url.username().is_empty() && url.password().is_none() {
                v.to_string()
            } else {
                let mut u = url.clone();
                let _ = u.set_username("");
                let _ = u.set_password(None);
                u.to_string()
            };
            return Err(Error::usage(format!(
                "{flag} {shown:?} uses plain http to a host that is not this machine"
            ))
            .hint(hint));
        }
        s => return Err(Error::usage(format!("{flag} scheme {s:?} is not https")).hint(hint)),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::usage(format!("{flag} must not contain credentials")).hint(hint));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::usage(format!("{flag} must not have a query or fragment")).hint(hint));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// The rule for every URL keyless hands to a browser (a device flow's
/// verification URI, an authorization URL): an absolute https URL, or http on
/// loopback, without credentials. It comes from a server, so the message
/// names `what` but never repeats the value. The caller passes on the
/// re-serialized URL, which starts with its scheme and so never with `-`.
pub fn check_browser_url(what: &str, v: &str) -> Result<url::Url> {
    let refused = || {
        Error::network(format!(
            "{what} is not an https URL (or http on this machine); keyless does not open it"
        ))
        .hint("the identity provider sent something no browser should be given; report it to its administrator")
    };
    let url = url::Url::parse(v).map_err(|_| refused())?;
    let scheme_ok = match url.scheme() {
        "https" => url.host().is_some(),
        "http" => is_loopback(&url),
        _ => false,
    };
    if !scheme_ok
        || !url.username().is_empty()
        || url.password().is_some()
        || url.as_str().starts_with('-')
    {
        return Err(refused());
    }
    Ok(url)
}

fn tagged(value: &str, prefix: &str, flag: &str, example: &str) -> Result<()> {
    let rest = value.strip_prefix(prefix).unwrap_or("");
    if rest.is_empty() || rest.len() > 128 || !rest.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(
            Error::usage(format!("{flag} {value:?} is not a well-formed {prefix} ID")).hint(
                format!("copy it from the Console; it looks like {prefix}{example}"),
            ),
        );
    }
    Ok(())
}

pub fn check_rule_id(v: &str) -> Result<()> {
    tagged(v, "fdrl_", "--federation-rule-id", "01AbCdEf…")
}

pub fn check_service_account_id(v: &str) -> Result<()> {
    tagged(v, "svac_", "--service-account-id", "01AbCdEf…")
}

pub fn check_workspace_id(v: &str) -> Result<()> {
    if v == "default" {
        return Ok(());
    }
    tagged(
        v,
        "wrkspc_",
        "--workspace-id",
        "01AbCdEf… (or the literal `default`)",
    )
}

pub fn check_organization_id(v: &str) -> Result<()> {
    let groups: Vec<&str> = v.split('-').collect();
    let shape = groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()));
    if !shape {
        return Err(Error::usage(format!("--organization-id {v:?} is not a UUID"))
            .hint("copy it from Console > Settings > Organization: xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"));
    }
    if v.chars().all(|c| c == '0' || c == '-') {
        return Err(Error::usage(
            "--organization-id is the all-zero placeholder from the documentation",
        )
        .hint("use your organization's real ID from Console > Settings > Organization"));
    }
    Ok(())
}

pub fn check_identity_provider_id(v: &str) -> Result<()> {
    let rest = v.strip_prefix("wip_").unwrap_or("");
    let ok = !rest.is_empty()
        && rest.len() <= 128
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !ok {
        return Err(Error::usage(format!(
            "--identity-provider-id {v:?} is not a well-formed wip_ ID"
        ))
        .hint(format!(
            "copy it from {OPENAI_SETTINGS_PATH}; it looks like wip_01AbCdEf…"
        )));
    }
    Ok(())
}

/// Public sources disagree on the prefix of OpenAI service accounts (`sa_…`,
/// `user-…`), so only the shape is checked: something that can travel in
/// JSON and a shell unharmed.
pub fn check_plain(flag: &str, v: &str) -> Result<()> {
    if v.is_empty() || v.len() > 256 || !v.chars().all(|c| c.is_ascii_graphic()) {
        return Err(Error::usage(format!(
            "{flag} must be non-empty printable ASCII without spaces"
        ))
        .hint("copy the value exactly as OpenAI shows it"));
    }
    Ok(())
}

/// Profile names: letters, digits, `_`, `.`, `-`; not starting with `.`
/// or `-` (a name is written into helper command lines after `--profile`,
/// where a leading `-` would make it a flag).
pub fn validate_profile_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with(['.', '-'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(Error::usage(format!("invalid profile name {name:?}"))
            .hint("use letters, digits, '_', '-' and '.', not starting with '.' or '-'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert!(check_rule_id("fdrl_01ABCdef").is_ok());
        assert!(check_rule_id("fdrl_").is_err());
        assert!(check_rule_id("rule_01").is_err());
        assert!(check_rule_id("fdrl_01-x").is_err());
        assert!(check_service_account_id("svac_01x").is_ok());
        assert!(check_workspace_id("default").is_ok());
        assert!(check_workspace_id("wrkspc_01x").is_ok());
        assert!(check_workspace_id("").is_err());
        assert!(check_organization_id("0f8fad5b-d9cb-469f-a165-70867728950e").is_ok());
        assert!(check_organization_id("00000000-0000-0000-0000-000000000000").is_err());
        assert!(check_organization_id("org_123").is_err());
    }

    #[test]
    fn urls() {
        assert_eq!(
            check_url("--token-endpoint", "https://auth.openai.com/oauth/token/").unwrap(),
            "https://auth.openai.com/oauth/token"
        );
        let e = check_url("--token-endpoint", "http://auth.example/oauth/token").unwrap_err();
        assert!(e.message.starts_with("--token-endpoint"), "{}", e.message);
        let e = check_url("--base-url", "http://user:hunter2@example.com").unwrap_err();
        assert!(!e.message.contains("hunter2"), "{}", e.message);
    }

    #[test]
    fn browser_urls() {
        let ok = |v: &str| check_browser_url("x", v).map(|u| u.to_string());
        assert_eq!(
            ok("https://idp.example/activate?user_code=AB CD").unwrap(),
            "https://idp.example/activate?user_code=AB%20CD"
        );
        assert!(ok("http://127.0.0.1:8080/a").is_ok());
        for bad in [
            "--renderer-cmd-prefix=/tmp/evil.sh",
            "-https://idp.example/",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "data:text/html,x",
            "http://evil.example/",
            "https://user:pw@idp.example/",
            "/activate",
            "",
        ] {
            assert!(ok(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn openai_identifiers() {
        assert!(check_identity_provider_id("wip_01ABCdef").is_ok());
        assert!(check_identity_provider_id("wip_example").is_ok());
        assert!(check_identity_provider_id("wip_").is_err());
        assert!(check_identity_provider_id("idp_01").is_err());
        assert!(check_identity_provider_id("wip_01 x").is_err());
        // no prefix rule for service accounts
        for sa in ["sa_01x", "user-abc", "svac_01x", "01234"] {
            assert!(check_plain("--service-account-id", sa).is_ok(), "{sa}");
        }
        assert!(check_plain("--service-account-id", "").is_err());
        assert!(check_plain("--service-account-id", "a b").is_err());
    }

    #[test]
    fn profile_names() {
        assert!(validate_profile_name("default").is_ok());
        assert!(validate_profile_name("ci.prod-1_x").is_ok());
        assert!(validate_profile_name("ci.prod-2").is_ok());
        assert!(validate_profile_name("").is_err());
        assert!(validate_profile_name(".hidden").is_err());
        assert!(validate_profile_name("-q").is_err());
        assert!(validate_profile_name("--config-dir").is_err());
        assert!(validate_profile_name("a/b").is_err());
        assert!(validate_profile_name(&"x".repeat(65)).is_err());
    }
}
