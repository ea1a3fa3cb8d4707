//! `keyless setup anthropic`: validate federation identifiers locally and
//! save them to the profile. Re-running updates only the fields given.

use crate::cli::{SetupAnthropicArgs, SetupCommand};
use crate::config::{AnthropicConfig, IdentitySource, Profile};
use crate::error::{Error, Result};
use crate::output;
use crate::settings::Settings;

pub fn run(settings: &Settings, cmd: &SetupCommand) -> Result<()> {
    match cmd {
        SetupCommand::Anthropic(args) => anthropic(settings, args),
        SetupCommand::Issuer(args) => issuer(settings, args),
    }
}

fn issuer(settings: &Settings, args: &crate::cli::SetupIssuerArgs) -> Result<()> {
    use crate::config::IssuerConfig;
    use crate::secret_store::{self, SecretStore};
    let issuer = crate::oidc::check_url("--issuer", &args.issuer)?;
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
    if let Some(a) = profile.anthropic.as_mut()
        && a.identity == IdentitySource::Env
    {
        a.identity = IdentitySource::Login;
        output::note(
            "anthropic now takes its identity from the sign-in session (keep env with `keyless setup anthropic --identity env`).",
        );
    }
    profile.issuer = Some(cfg.clone());
    loaded.save(&settings.config_dir)?;
    output::note(&format!(
        "Saved issuer {} (client {}) for profile {:?} in {}.\nNext: keyless login",
        cfg.issuer,
        cfg.client_id,
        settings.profile,
        loaded.path.display()
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
    let hint =
        "use https://…, or http://127.0.0.1:PORT, http://localhost:PORT or http://[::1]:PORT";
    let url = url::Url::parse(v)
        .map_err(|e| Error::usage(format!("--base-url {v:?} is not a URL: {e}")).hint(hint))?;
    let loopback = matches!(url.host(), Some(url::Host::Domain("localhost")))
        || matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip == std::net::Ipv4Addr::LOCALHOST)
        || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip == std::net::Ipv6Addr::LOCALHOST);
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(Error::usage(format!(
                "--base-url {v:?} uses plain http to a host that is not this machine"
            ))
            .hint(hint));
        }
        s => return Err(Error::usage(format!("--base-url scheme {s:?} is not https")).hint(hint)),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::usage("--base-url must not contain credentials").hint(hint));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::usage("--base-url must not have a query or fragment").hint(hint));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
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

    let mut loaded = settings.load_config()?;
    let profile = loaded
        .file
        .profiles
        .entry(settings.profile.clone())
        .or_insert_with(Profile::default);
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
            let missing: Vec<&str> = [
                ("--federation-rule-id", args.federation_rule_id.is_none()),
                ("--organization-id", args.organization_id.is_none()),
            ]
            .iter()
            .filter(|(_, m)| *m)
            .map(|(f, _)| *f)
            .collect();
            if !missing.is_empty() {
                return Err(Error::usage(format!(
                    "profile {:?} has no Anthropic configuration yet, so {} {} required",
                    settings.profile,
                    missing.join(" and "),
                    if missing.len() == 1 { "is" } else { "are" }
                ))
                .hint("find both in the Console under Settings > Workload identity"));
            }
            AnthropicConfig {
                federation_rule_id: args.federation_rule_id.clone().unwrap_or_default(),
                organization_id: args.organization_id.clone().unwrap_or_default(),
                service_account_id: args.service_account_id.clone(),
                workspace_id: args.workspace_id.clone(),
                base_url,
                // With an issuer, the sign-in session is the natural source.
                identity: identity.unwrap_or(if profile.issuer.is_some() {
                    IdentitySource::Login
                } else {
                    IdentitySource::Env
                }),
            }
        }
    };
    let summary = describe(&updated);
    profile.anthropic = Some(updated);
    loaded.save(&settings.config_dir)?;
    output::note(&format!(
        "Saved Anthropic federation for profile {:?} in {}:",
        settings.profile,
        loaded.path.display()
    ));
    output::note(&summary);
    output::note("Next: keyless credential anthropic");
    Ok(())
}

pub fn describe(c: &AnthropicConfig) -> String {
    let mut rows = [
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
    ];
    rows.iter_mut()
        .map(|(k, v)| format!("  {:<16} {v}", k))
        .collect::<Vec<_>>()
        .join("\n")
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
    }
}
