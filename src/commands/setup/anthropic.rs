//! `keyless setup anthropic`: validate Anthropic's federation identifiers
//! locally and save them to the profile. Re-running updates only the fields
//! given; unknown fields in the file are kept.

use clap::Args;

use super::{Shared, ca_row, required_first, rows, save};
use crate::config::checks::{
    check_organization_id, check_rule_id, check_service_account_id, check_workspace_id,
};
use crate::config::{AnthropicConfig, BaseUrl};
use crate::error::Result;
use crate::settings::Settings;

#[derive(Debug, Args)]
pub struct SetupAnthropicArgs {
    /// Federation rule ID (fdrl_…); required the first time
    #[arg(long, value_name = "fdrl_…", visible_alias = "rule-id", alias = "rule")]
    pub federation_rule_id: Option<String>,
    /// Organization ID (a UUID, under Console > Settings > Organization); required the first time
    #[arg(long, value_name = "UUID", visible_alias = "org", alias = "org-id")]
    pub organization_id: Option<String>,
    /// Service account ID (svac_…)
    #[arg(long, value_name = "svac_…")]
    pub service_account_id: Option<String>,
    /// Workspace ID (wrkspc_…, or `default`); needed when the rule covers several workspaces
    #[arg(long, value_name = "wrkspc_…|default")]
    pub workspace_id: Option<String>,
    /// API base URL; https, or http on 127.0.0.1, localhost or [::1]
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// The audience to ask identity sources for (github-actions, gcp, buildkite, aws; azure needs
    /// it: api://<app-id>) [default: https://api.anthropic.com]; the federation rule must match
    /// it
    #[arg(long, value_name = "AUD")]
    pub audience: Option<String>,
    #[arg(long, value_name = "SOURCE", help = super::IDENTITY_HELP, value_parser = crate::config::identity::SpecParser, hide_possible_values = true)]
    pub identity: Option<String>,
    /// PEM file of extra CA certificates for a base URL behind a private CA
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<std::path::PathBuf>,
}

pub fn run(settings: &Settings, args: &SetupAnthropicArgs) -> Result<()> {
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
    let base_url = args
        .base_url
        .as_deref()
        .map(|v| BaseUrl::parse("--base-url", v).map(BaseUrl::into_string))
        .transpose()?;
    let shared = Shared::check(
        args.audience.as_deref(),
        args.identity.as_deref(),
        args.ca_file.as_deref(),
    )?;

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
                shared.update(&mut c.federation);
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
                    federation: shared.first(profile),
                    unknown: Default::default(),
                }
            }
        };
        crate::config::managed::policy::check_endpoint(
            &settings.profile,
            "anthropic",
            "base_url",
            updated.base_url().as_str(),
        )?;
        let summary = describe(&updated);
        profile.anthropic = Some(updated);
        Ok(summary)
    })
}

pub fn describe(c: &AnthropicConfig) -> String {
    let mut r = vec![
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
        (
            "audience",
            c.federation
                .audience
                .clone()
                .unwrap_or_else(|| format!("{} (default)", crate::provider::anthropic::AUDIENCE)),
        ),
        ("identity", c.federation.identity.spec()),
    ];
    r.extend(ca_row(&c.federation.ca_file));
    rows(&r)
}
