//! `keyless setup openai`: validate OpenAI's workload identity identifiers
//! locally and save them to the profile. Re-running updates only the fields
//! given; unknown fields in the file are kept.

use clap::Args;

use super::{Shared, ca_row, required_first, rows, save};
use crate::config::OpenAiConfig;
use crate::config::checks::{
    OPENAI_SETTINGS_PATH, check_identity_provider_id, check_plain, check_url,
};
use crate::error::Result;
use crate::settings::Settings;

#[derive(Debug, Args)]
pub struct SetupOpenAiArgs {
    /// Workload identity provider ID (wip_…); required the first time
    #[arg(long, value_name = "wip_…")]
    pub identity_provider_id: Option<String>,
    /// Service account ID the provider's mapping binds the identity to (not checked locally); required the first time
    #[arg(long, value_name = "ID")]
    pub service_account_id: Option<String>,
    /// Token endpoint [default: https://auth.openai.com/oauth/token]; https, or http on loopback
    #[arg(long, value_name = "URL")]
    pub token_endpoint: Option<String>,
    #[arg(long, value_name = "SOURCE", help = super::IDENTITY_HELP, value_parser = crate::config::identity::SpecParser, hide_possible_values = true)]
    pub identity: Option<String>,
    /// The audience configured on the identity provider (not sent: OpenAI compares it with the
    /// JWT's aud; keyless warns before spending a JWT for another audience, and the
    /// client-credentials source asks for it)
    #[arg(long, value_name = "AUD")]
    pub audience: Option<String>,
    /// PEM file of extra CA certificates for a token endpoint behind a private CA
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<std::path::PathBuf>,
}

pub fn run(settings: &Settings, args: &SetupOpenAiArgs) -> Result<()> {
    if let Some(v) = &args.identity_provider_id {
        check_identity_provider_id(v)?;
    }
    if let Some(v) = &args.service_account_id {
        check_plain("--service-account-id", v)?;
    }
    let token_endpoint = args
        .token_endpoint
        .as_deref()
        .map(|v| check_url("--token-endpoint", v))
        .transpose()?;
    let shared = Shared::check(
        args.audience.as_deref(),
        args.identity.as_deref(),
        args.ca_file.as_deref(),
    )?;

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
                shared.update(&mut c.federation);
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
                    &format!("find both under {}", OPENAI_SETTINGS_PATH),
                )?;
                OpenAiConfig {
                    identity_provider_id: args.identity_provider_id.clone().unwrap_or_default(),
                    service_account_id: args.service_account_id.clone().unwrap_or_default(),
                    token_endpoint,
                    federation: shared.first(profile),
                    unknown: Default::default(),
                }
            }
        };
        crate::config::managed::policy::check_endpoint(
            &settings.profile,
            "openai",
            "token_endpoint",
            updated.token_endpoint(),
        )?;
        let summary = describe_openai(&updated);
        profile.openai = Some(updated);
        Ok(summary)
    })
}

pub fn describe_openai(c: &OpenAiConfig) -> String {
    let mut r = vec![
        ("identity provider", c.identity_provider_id.clone()),
        ("service account", c.service_account_id.clone()),
        ("token endpoint", c.token_endpoint().to_string()),
        (
            "audience",
            c.federation
                .audience
                .clone()
                .unwrap_or_else(|| "(not recorded: OpenAI checks it)".into()),
        ),
        ("identity", c.federation.identity.spec()),
    ];
    r.extend(ca_row(&c.federation.ca_file));
    rows(&r)
}
