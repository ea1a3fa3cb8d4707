//! Resolve flags, environment and defaults once, into the paths and names
//! every command uses. The only place that decides where files live.

use std::path::PathBuf;

use crate::cli::GlobalArgs;
use crate::config;
use crate::env_vars;
use crate::error::{Error, Result};

pub struct Settings {
    pub config_dir: PathBuf,
    pub cache_dir: PathBuf,
    pub profile: String,
}

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "keyless")
}

fn no_home(what: &str, var: &str) -> Error {
    Error::config(format!(
        "cannot determine the {what} directory: no home directory"
    ))
    .hint(format!("set HOME, or set {var}"))
}

impl Settings {
    pub fn resolve(global: &GlobalArgs) -> Result<Self> {
        config::validate_profile_name(&global.profile)?;
        let config_dir = match &global.config_dir {
            Some(d) if !d.as_os_str().is_empty() => d.clone(),
            _ => project_dirs()
                .map(|p| p.config_dir().to_path_buf())
                .ok_or_else(|| no_home("config", env_vars::KEYLESS_CONFIG_DIR))?,
        };
        let cache_dir = match std::env::var_os(env_vars::KEYLESS_CACHE_DIR) {
            Some(d) if !d.is_empty() => PathBuf::from(d),
            _ => project_dirs()
                .map(|p| p.cache_dir().to_path_buf())
                .ok_or_else(|| no_home("cache", env_vars::KEYLESS_CACHE_DIR))?,
        };
        Ok(Settings {
            config_dir,
            cache_dir,
            profile: global.profile.clone(),
        })
    }

    pub fn load_config(&self) -> Result<config::LoadedConfig> {
        config::load(&self.config_dir)
    }

    /// The profile's issuer (`keyless setup issuer`), if any.
    pub fn issuer(&self, loaded: &config::LoadedConfig) -> Option<config::IssuerConfig> {
        loaded
            .file
            .profiles
            .get(&self.profile)
            .and_then(|p| p.issuer.clone())
    }

    /// The profile's Anthropic configuration, or exit 6 with the setup command.
    pub fn anthropic(&self, loaded: &config::LoadedConfig) -> Result<config::AnthropicConfig> {
        let cfg = self.provider(
            loaded,
            |p| p.anthropic.clone(),
            "Anthropic",
            "setup anthropic --federation-rule-id fdrl_… --organization-id <uuid> --identity …",
        )?;
        if let Some(url) = &cfg.base_url {
            self.recheck_url(
                loaded,
                "base_url",
                url,
                "setup anthropic --base-url https://…",
            )?;
        }
        Ok(cfg)
    }

    /// The profile's OpenAI configuration, or exit 6 with the setup command.
    pub fn openai(&self, loaded: &config::LoadedConfig) -> Result<config::OpenAiConfig> {
        let cfg = self.provider(
            loaded,
            |p| p.openai.clone(),
            "OpenAI",
            "setup openai --identity-provider-id wip_… --service-account-id ID --identity …",
        )?;
        if let Some(url) = &cfg.token_endpoint {
            self.recheck_url(
                loaded,
                "token_endpoint",
                url,
                "setup openai --token-endpoint https://…",
            )?;
        }
        Ok(cfg)
    }

    /// One provider's part of the profile, or exit 6 naming `setup`.
    fn provider<T>(
        &self,
        loaded: &config::LoadedConfig,
        part: impl FnOnce(&config::Profile) -> Option<T>,
        provider: &str,
        setup: &str,
    ) -> Result<T> {
        loaded
            .file
            .profiles
            .get(&self.profile)
            .and_then(part)
            .ok_or_else(|| self.not_configured(loaded, provider, setup))
    }

    /// A hand-edited file gets the same checks as `setup`: no JWT may leave
    /// over plain http to another host. `setting` is the field's name in the
    /// file; `fix` the setup command that rewrites it.
    fn recheck_url(
        &self,
        loaded: &config::LoadedConfig,
        setting: &str,
        url: &str,
        fix: &str,
    ) -> Result<()> {
        crate::commands::setup::check_url(setting, url)
            .map(drop)
            .map_err(|e| {
                Error::config(format!(
                    "{} (profile {:?} in {})",
                    e.message,
                    self.profile,
                    loaded.path.display()
                ))
                .hint(format!("fix it with `{}`", self.command(fix)))
            })
    }

    /// `keyless [--profile P] <setup>`, as a hint.
    pub fn command(&self, rest: &str) -> String {
        if self.profile == "default" {
            format!("keyless {rest}")
        } else {
            format!("keyless --profile {} {rest}", self.profile)
        }
    }

    fn not_configured(&self, loaded: &config::LoadedConfig, provider: &str, setup: &str) -> Error {
        Error::config(format!(
            "profile {:?} has no {provider} configuration in {}",
            self.profile,
            loaded.path.display()
        ))
        .hint(format!("run `{}`", self.command(setup)))
    }
}
