//! `keyless setup …`: record what the pipeline's first two stages need.
//! One file per subcommand, each owning its arguments: [`anthropic`],
//! [`openai`], [`issuer`], and the wiring of other tools to keyless,
//! [`claude_code`] and [`codex`]. Identifiers are checked by
//! [`crate::config::checks`] before anything is saved.

pub mod anthropic;
pub mod claude_code;
pub mod codex;
pub mod issuer;
pub mod openai;
pub mod settings_file;

use clap::Subcommand;

use crate::config::{Federation, IdentitySource, Profile};
use crate::error::{Error, Result};
use crate::output;
use crate::settings::Settings;

#[derive(Debug, Subcommand)]
pub enum SetupCommand {
    /// Configure Anthropic workload identity federation for the profile
    Anthropic(anthropic::SetupAnthropicArgs),
    /// Configure OpenAI workload identity federation for the profile
    #[command(
        after_help = "With --identity env, keyless reads OPENAI_IDENTITY_TOKEN_FILE (a path), \
then OPENAI_IDENTITY_TOKEN (the JWT itself). OpenAI's SDKs read no such variables; the names follow \
LiteLLM's OPENAI_IDENTITY_TOKEN_FILE."
    )]
    Openai(openai::SetupOpenAiArgs),
    /// Configure the OpenID Connect provider `keyless login` signs in to
    Issuer(issuer::SetupIssuerArgs),
    /// Wire Claude Code's apiKeyHelper to `keyless credential anthropic`
    ClaudeCode(claude_code::SetupClaudeCodeArgs),
    /// Make Codex get its OpenAI token from `keyless credential openai`
    Codex(codex::SetupCodexArgs),
}

pub fn run(settings: &Settings, cmd: &SetupCommand) -> Result<()> {
    match cmd {
        SetupCommand::Anthropic(args) => anthropic::run(settings, args),
        SetupCommand::Openai(args) => openai::run(settings, args),
        SetupCommand::Issuer(args) => issuer::run(settings, args),
        SetupCommand::ClaudeCode(args) => claude_code::run(settings, args),
        SetupCommand::Codex(args) => codex::run(settings, args),
    }
}

/// Load the config, let `update` rewrite the profile's part for `provider`
/// and describe it, save, and say on stderr what was saved.
pub(crate) fn save(
    settings: &Settings,
    provider: &str,
    next: &str,
    update: impl FnOnce(&mut Profile) -> Result<String>,
) -> Result<()> {
    let (lock, mut loaded) = crate::config::load_for_update(&settings.config_dir)?;
    let profile = loaded
        .file
        .profiles
        .entry(settings.profile.clone())
        .or_default();
    let summary = update(profile)?;
    loaded.save(&lock)?;
    output::note(&format!(
        "Saved {provider} federation for profile {:?} in {}:",
        settings.profile,
        loaded.path.display()
    ));
    output::note(&summary);
    output::note(&format!("Next: {}", settings.command(next)));
    Ok(())
}

/// A provider's identity source when its first setup names none: with an
/// issuer, the sign-in session is the natural source; else the variables.
pub(crate) fn default_identity(profile: &Profile) -> IdentitySource {
    if profile.issuer.is_some() {
        IdentitySource::Login
    } else {
        IdentitySource::Env
    }
}

/// A profile's first setup for a provider must name its required flags.
pub(crate) fn required_first(
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

/// `--identity`'s help, the same for every provider.
pub(crate) const IDENTITY_HELP: &str = "Where the identity JWT comes from: file:PATH, env, env:NAME, \
command:PROGRAM ARGS…, github-actions, gcp, azure, buildkite, azure-pipelines[:SERVICE_CONNECTION_ID], \
aws, auto, login, or client-credentials (the last two need `keyless setup issuer`)";

/// What every provider's setup takes alike (`--audience`, `--identity`,
/// `--ca-file`): checked once, before the config is locked, then applied
/// alike to an existing configuration or a first one.
pub(crate) struct Shared {
    audience: Option<String>,
    identity: Option<IdentitySource>,
    ca_file: Option<String>,
}

impl Shared {
    pub(crate) fn check(
        audience: Option<&str>,
        identity: Option<&str>,
        ca_file: Option<&std::path::Path>,
    ) -> Result<Self> {
        if let Some(v) = audience {
            crate::config::checks::check_plain("--audience", v)?;
        }
        Ok(Shared {
            audience: audience.map(str::to_string),
            identity: identity.map(IdentitySource::parse).transpose()?,
            ca_file: ca_file_arg(ca_file)?,
        })
    }

    /// Onto an existing configuration: only what was given changes.
    pub(crate) fn update(self, f: &mut Federation) {
        if let Some(v) = self.audience {
            f.audience = Some(v);
        }
        if let Some(v) = self.identity {
            f.identity = v;
        }
        if let Some(v) = self.ca_file {
            f.ca_file = Some(v);
        }
    }

    /// For a first configuration: the audience, the identity source (by
    /// default [`default_identity`]) and the CA file.
    pub(crate) fn first(self, profile: &Profile) -> Federation {
        Federation {
            audience: self.audience,
            identity: self.identity.unwrap_or_else(|| default_identity(profile)),
            ca_file: self.ca_file,
        }
    }
}

/// `--ca-file`: a readable PEM file of CA certificates, saved as an
/// absolute path so it means the same from any directory.
pub(crate) fn ca_file_arg(path: Option<&std::path::Path>) -> Result<Option<String>> {
    let Some(p) = path else { return Ok(None) };
    let abs = std::fs::canonicalize(p)
        .map_err(|e| Error::io("cannot read the CA file", p, &e).kind_config())?;
    crate::http::ca_certs(&abs, "--ca-file")?;
    Ok(Some(abs.display().to_string()))
}

/// The summary row of a saved CA file, when there is one.
pub(crate) fn ca_row(ca_file: &Option<String>) -> Option<(&'static str, String)> {
    ca_file.as_ref().map(|p| ("CA file", p.clone()))
}

pub(crate) fn rows(rows: &[(&str, String)]) -> String {
    rows.iter()
        .map(|(k, v)| format!("  {:<18} {v}", k))
        .collect::<Vec<_>>()
        .join("\n")
}
