//! `keyless setup anthropic|openai`: validate federation identifiers locally
//! and save them to the profile. Re-running updates only the fields given.

use crate::cli::{SetupAnthropicArgs, SetupCommand, SetupOpenAiArgs};
use crate::config::{AnthropicConfig, IdentitySource, OpenAiConfig, Profile};
use crate::error::{Error, Result};
use crate::output;
use crate::settings::Settings;

pub fn run(settings: &Settings, cmd: &SetupCommand) -> Result<()> {
    match cmd {
        SetupCommand::Anthropic(args) => anthropic(settings, args),
        SetupCommand::Openai(args) => openai(settings, args),
        SetupCommand::Issuer(args) => issuer(settings, args),
        SetupCommand::ClaudeCode(args) => super::setup_claude::run(settings, args),
        SetupCommand::Codex(args) => super::setup_codex::run(settings, args),
    }
}

fn issuer(settings: &Settings, args: &crate::cli::SetupIssuerArgs) -> Result<()> {
    use crate::config::IssuerConfig;
    use crate::secret_store::{self, SecretStore};
    let issuer = check_url("--issuer", &args.issuer)?;
    // Issuers are compared byte for byte: keep the caller's exact spelling.
    let issuer = if args.issuer.ends_with('/') {
        args.issuer.clone()
    } else {
        issuer
    };
    if args.client_id.trim().is_empty() {
        return Err(Error::usage("--client-id is empty"));
    }
    let ca_file = match &args.ca_file {
        Some(p) => Some(
            std::fs::canonicalize(p)
                .map_err(|e| Error::io("cannot read the CA file", p, &e).kind_config())?
                .display()
                .to_string(),
        ),
        None => None,
    };
    let secret = if args.client_secret_stdin {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).map_err(|e| {
            Error::failure(format!("cannot read the client secret from stdin: {e}"))
        })?;
        let s = s.trim().to_string();
        if s.is_empty() {
            return Err(Error::usage("--client-secret-stdin read an empty secret"));
        }
        Some(crate::secret::Secret::new(s))
    } else {
        std::env::var(crate::env_vars::KEYLESS_CLIENT_SECRET)
            .ok()
            .filter(|s| !s.is_empty())
            .map(crate::secret::Secret::new)
    };
    let cfg = IssuerConfig {
        issuer,
        client_id: args.client_id.clone(),
        scopes: args.scopes.clone(),
        flow: args.flow,
        assertion: args.assertion,
        audience: args.audience.clone(),
        redirect_port: args.redirect_port,
        redirect_host: args.redirect_host.clone(),
        ca_file,
        confidential: secret.is_some(),
    };
    if !args.no_verify {
        let c = crate::oidc::Client::discover(&cfg, None)?;
        output::note(&format!(
            "Checked {}: token endpoint {}{}",
            cfg.issuer,
            c.disc.token_endpoint,
            if c.disc.device_authorization_endpoint.is_some() {
                ", device sign-in available"
            } else {
                ""
            }
        ));
    }
    let mut loaded = settings.load_config()?;
    if let Some(s) = &secret {
        let store = SecretStore::open(&settings.config_dir)?;
        store.set(&secret_store::client_secret_name(&settings.profile), s)?;
        output::note(&format!("Client secret kept in {}.", store.describe()));
    }
    let profile = loaded
        .file
        .profiles
        .entry(settings.profile.clone())
        .or_default();
    let identities = [
        (
            "anthropic",
            profile.anthropic.as_mut().map(|c| &mut c.identity),
        ),
        ("openai", profile.openai.as_mut().map(|c| &mut c.identity)),
    ];
    for (provider, identity) in identities {
        if let Some(identity) = identity
            && *identity == IdentitySource::Env
        {
            *identity = IdentitySource::Login;
            output::note(&format!(
                "{provider} now takes its identity from the sign-in session (keep env with `{}`).",
                settings.command(&format!("setup {provider} --identity env"))
            ));
        }
    }
    profile.issuer = Some(cfg.clone());
    loaded.save(&settings.config_dir)?;
    output::note(&format!(
        "Saved issuer {} (client {}) for profile {:?} in {}.\nNext: {}",
        cfg.issuer,
        cfg.client_id,
        settings.profile,
        loaded.path.display(),
        settings.command("login")
    ));
    Ok(())
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

/// https anywhere; http only on loopback (for the sandbox and tests).
pub fn check_base_url(v: &str) -> Result<String> {
    check_url("--base-url", v)
}

/// The check every endpoint keyless sends a JWT to must pass: https, or http
/// on loopback only; no credentials, query or fragment. `flag` names the
/// setting in messages. Returns the URL without a trailing slash.
pub fn check_url(flag: &str, v: &str) -> Result<String> {
    let hint =
        "use https://…, or http://127.0.0.1:PORT, http://localhost:PORT or http://[::1]:PORT";
    let url = url::Url::parse(v)
        .map_err(|e| Error::usage(format!("{flag} {v:?} is not a URL: {e}")).hint(hint))?;
    let loopback = matches!(url.host(), Some(url::Host::Domain("localhost")))
        || matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip == std::net::Ipv4Addr::LOCALHOST)
        || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip == std::net::Ipv6Addr::LOCALHOST);
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(Error::usage(format!(
                "{flag} {v:?} uses plain http to a host that is not this machine"
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

/// Load the config, let `update` rewrite the profile's part for `provider`
/// and describe it, save, and say on stderr what was saved.
fn save(
    settings: &Settings,
    provider: &str,
    next: &str,
    update: impl FnOnce(&mut Profile) -> Result<String>,
) -> Result<()> {
    let mut loaded = settings.load_config()?;
    let profile = loaded
        .file
        .profiles
        .entry(settings.profile.clone())
        .or_default();
    let summary = update(profile)?;
    loaded.save(&settings.config_dir)?;
    output::note(&format!(
        "Saved {provider} federation for profile {:?} in {}:",
        settings.profile,
        loaded.path.display()
    ));
    output::note(&summary);
    output::note(&format!("Next: {}", settings.command(next)));
    Ok(())
}

fn anthropic(settings: &Settings, args: &SetupAnthropicArgs) -> Result<()> {
    if let Some(v) = &args.federation_rule_id {
        check_rule_id(v)?;
    }
    if let Some(v) = &args.organization_id {
        check_organization_id(v)?;
    }
    if let Some(v) = &args.service_account_id {
        check_service_account_id(v)?;
    }
    if let Some(v) = &args.workspace_id {
        check_workspace_id(v)?;
    }
    let base_url = args.base_url.as_deref().map(check_base_url).transpose()?;
    let identity = args
        .identity
        .as_deref()
        .map(IdentitySource::parse)
        .transpose()?;

    save(settings, "Anthropic", "credential anthropic", |profile| {
        let updated = match profile.anthropic.take() {
            Some(mut c) => {
                if let Some(v) = &args.federation_rule_id {
                    c.federation_rule_id = v.clone();
                }
                if let Some(v) = &args.organization_id {
                    c.organization_id = v.clone();
                }
                if let Some(v) = &args.service_account_id {
                    c.service_account_id = Some(v.clone());
                }
                if let Some(v) = &args.workspace_id {
                    c.workspace_id = Some(v.clone());
                }
                if let Some(v) = base_url {
                    c.base_url = Some(v);
                }
                if let Some(v) = identity {
                    c.identity = v;
                }
                c
            }
            None => {
                required_first(
                    settings,
                    "Anthropic",
                    &[
                        ("--federation-rule-id", args.federation_rule_id.is_some()),
                        ("--organization-id", args.organization_id.is_some()),
                    ],
                    "find both in the Console under Settings > Workload identity",
                )?;
                AnthropicConfig {
                    federation_rule_id: args.federation_rule_id.clone().unwrap_or_default(),
                    organization_id: args.organization_id.clone().unwrap_or_default(),
                    service_account_id: args.service_account_id.clone(),
                    workspace_id: args.workspace_id.clone(),
                    base_url,
                    identity: identity.unwrap_or_else(|| default_identity(profile)),
                }
            }
        };
        let summary = describe(&updated);
        profile.anthropic = Some(updated);
        Ok(summary)
    })
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
            "copy it from {}; it looks like wip_01AbCdEf…",
            crate::provider::openai::SETTINGS_PATH
        )));
    }
    Ok(())
}

/// A provider's identity source when its first setup names none: with an
/// issuer, the sign-in session is the natural source; else the variables.
fn default_identity(profile: &Profile) -> IdentitySource {
    if profile.issuer.is_some() {
        IdentitySource::Login
    } else {
        IdentitySource::Env
    }
}

/// Public sources disagree on the prefix (`sa_…`, `user-…`), so only the
/// shape is checked: something that can travel in JSON and a shell unharmed.
fn check_plain(flag: &str, v: &str) -> Result<()> {
    if v.is_empty() || v.len() > 256 || !v.chars().all(|c| c.is_ascii_graphic()) {
        return Err(Error::usage(format!(
            "{flag} must be non-empty printable ASCII without spaces"
        ))
        .hint("copy the value exactly as OpenAI shows it"));
    }
    Ok(())
}

/// A profile's first setup for a provider must name its required flags.
fn required_first(
    settings: &Settings,
    provider: &str,
    flags: &[(&str, bool)],
    hint: &str,
) -> Result<()> {
    let missing: Vec<&str> = flags
        .iter()
        .filter(|(_, given)| !given)
        .map(|(f, _)| *f)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::usage(format!(
        "profile {:?} has no {provider} configuration yet, so {} {} required",
        settings.profile,
        missing.join(" and "),
        if missing.len() == 1 { "is" } else { "are" }
    ))
    .hint(hint))
}

fn openai(settings: &Settings, args: &SetupOpenAiArgs) -> Result<()> {
    if let Some(v) = &args.identity_provider_id {
        check_identity_provider_id(v)?;
    }
    if let Some(v) = &args.service_account_id {
        check_plain("--service-account-id", v)?;
    }
    if let Some(v) = &args.audience {
        check_plain("--audience", v)?;
    }
    let token_endpoint = args
        .token_endpoint
        .as_deref()
        .map(|v| check_url("--token-endpoint", v))
        .transpose()?;
    let identity = args
        .identity
        .as_deref()
        .map(IdentitySource::parse)
        .transpose()?;

    save(settings, "OpenAI", "credential openai", |profile| {
        let updated = match profile.openai.take() {
            Some(mut c) => {
                if let Some(v) = &args.identity_provider_id {
                    c.identity_provider_id = v.clone();
                }
                if let Some(v) = &args.service_account_id {
                    c.service_account_id = v.clone();
                }
                if let Some(v) = token_endpoint {
                    c.token_endpoint = Some(v);
                }
                if let Some(v) = &args.audience {
                    c.audience = Some(v.clone());
                }
                if let Some(v) = identity {
                    c.identity = v;
                }
                c
            }
            None => {
                required_first(
                    settings,
                    "OpenAI",
                    &[
                        (
                            "--identity-provider-id",
                            args.identity_provider_id.is_some(),
                        ),
                        ("--service-account-id", args.service_account_id.is_some()),
                    ],
                    &format!("find both under {}", crate::provider::openai::SETTINGS_PATH),
                )?;
                OpenAiConfig {
                    identity_provider_id: args.identity_provider_id.clone().unwrap_or_default(),
                    service_account_id: args.service_account_id.clone().unwrap_or_default(),
                    token_endpoint,
                    audience: args.audience.clone(),
                    identity: identity.unwrap_or_else(|| default_identity(profile)),
                    unknown: Default::default(),
                }
            }
        };
        let summary = describe_openai(&updated);
        profile.openai = Some(updated);
        Ok(summary)
    })
}

fn rows(rows: &[(&str, String)]) -> String {
    rows.iter()
        .map(|(k, v)| format!("  {:<18} {v}", k))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn describe_openai(c: &OpenAiConfig) -> String {
    rows(&[
        ("identity provider", c.identity_provider_id.clone()),
        ("service account", c.service_account_id.clone()),
        ("token endpoint", c.token_endpoint().to_string()),
        (
            "audience",
            c.audience
                .clone()
                .unwrap_or_else(|| "(not recorded: OpenAI checks it)".into()),
        ),
        ("identity", c.identity.spec()),
    ])
}

pub fn describe(c: &AnthropicConfig) -> String {
    rows(&[
        ("federation rule", c.federation_rule_id.clone()),
        ("organization", c.organization_id.clone()),
        (
            "service account",
            c.service_account_id
                .clone()
                .unwrap_or_else(|| "(not set)".into()),
        ),
        (
            "workspace",
            c.workspace_id
                .clone()
                .unwrap_or_else(|| "(not set: the rule's only workspace)".into()),
        ),
        ("base URL", c.base_url().to_string()),
        ("identity", c.identity.spec()),
    ])
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
    fn base_urls() {
        assert_eq!(
            check_base_url("https://api.anthropic.com/").unwrap(),
            "https://api.anthropic.com"
        );
        assert!(check_base_url("http://127.0.0.1:8080").is_ok());
        assert!(check_base_url("http://localhost:1").is_ok());
        assert!(check_base_url("http://[::1]:1").is_ok());
        assert!(check_base_url("http://example.com").is_err());
        assert!(check_base_url("http://127.0.0.2").is_err());
        assert!(check_base_url("ftp://x").is_err());
        assert!(check_base_url("https://u:p@x").is_err());
        assert_eq!(
            check_url("--token-endpoint", "https://auth.openai.com/oauth/token/").unwrap(),
            "https://auth.openai.com/oauth/token"
        );
        let e = check_url("--token-endpoint", "http://auth.example/oauth/token").unwrap_err();
        assert!(e.message.starts_with("--token-endpoint"), "{}", e.message);
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
}
