//! `keyless setup openai`: validate OpenAI's workload identity identifiers
//! locally and save them to the profile. Re-running updates only the fields
//! given; unknown fields in the file are kept.

use clap::Args;

use super::{ca_file_arg, ca_row, default_identity, required_first, rows, save};
use crate::config::checks::{
    OPENAI_SETTINGS_PATH, check_identity_provider_id, check_plain, check_url,
};
use crate::config::{IdentitySource, OpenAiConfig};
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
    /// Where the identity JWT comes from: file:PATH, env, env:NAME, command:PROGRAM ARGS…,
    /// github-actions, gcp, azure, buildkite, azure-pipelines[:SERVICE_CONNECTION_ID], aws, auto,
    /// login, or client-credentials (the last two need `keyless setup issuer`)
    #[arg(long, value_name = "SOURCE", value_parser = crate::config::identity::SpecParser, hide_possible_values = true)]
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
    let ca_file = ca_file_arg(args.ca_file.as_deref())?;

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
                if let Some(v) = ca_file {
                    c.ca_file = Some(v);
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
                    &format!("find both under {}", OPENAI_SETTINGS_PATH),
                )?;
                OpenAiConfig {
                    identity_provider_id: args.identity_provider_id.clone().unwrap_or_default(),
                    service_account_id: args.service_account_id.clone().unwrap_or_default(),
                    token_endpoint,
                    audience: args.audience.clone(),
                    identity: identity.unwrap_or_else(|| default_identity(profile)),
                    ca_file,
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
            c.audience
                .clone()
                .unwrap_or_else(|| "(not recorded: OpenAI checks it)".into()),
        ),
        ("identity", c.identity.spec()),
    ];
    r.extend(ca_row(&c.ca_file));
    rows(&r)
}
