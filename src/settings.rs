//! Resolve flags, environment and defaults once, into the paths, names and
//! freshness rules every command uses: where keyless's own directories are
//! (config and cache; the files in them are named by [`crate::config`],
//! [`crate::cache`] and [`crate::secret_store`]), which profile is in use,
//! and whether a sign-in may start. Other programs' files are found where
//! they are read: Claude Code's and Codex's in [`crate::clients`], the
//! Anthropic SDKs' in [`crate::status::precedence`].
//!
//! The global flags and the freshness flags are defined here, beside what
//! they resolve to; each command's own flags live with the command.

use std::path::PathBuf;

use clap::Args;

use crate::config;
use crate::env_vars;
use crate::error::{Error, Result};

/// `--min-ttl`'s default: serve a cached token while more than this remains
/// (or half its lifetime, when that is less).
pub const DEFAULT_MIN_TTL_SECS: u32 = 300;
/// The longest token lifetime the providers issue (a day), defined once in
/// the cache: the upper bound of every lifetime or freshness given on the
/// command line.
pub use crate::cache::MAX_TOKEN_LIFETIME_SECS as MAX_LIFETIME_SECS;

/// Flags every subcommand takes: listed after each command's own.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Directory holding config.json [default: ~/.config/keyless on Linux]
    #[arg(long, global = true, env = env_vars::KEYLESS_CONFIG_DIR, hide_env_values = true, value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
    /// Directory holding cached tokens [default: ~/.cache/keyless on Linux]
    #[arg(long, global = true, env = env_vars::KEYLESS_CACHE_DIR, hide_env_values = true, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Profile to use [env: KEYLESS_PROFILE; else a .keyless-profile file from here up to home, the active profile, or default]
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// More detail on stderr (-v steps, -vv debug); never secrets
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

/// How fresh a token must be, for the commands that hand one out.
#[derive(Debug, Clone, Args)]
pub struct FreshnessArgs {
    /// Serve a cached token only while more than min(SECS, half its lifetime) remains (at most 86400)
    #[arg(long, env = env_vars::KEYLESS_MIN_TTL, hide_env_values = true, default_value_t = DEFAULT_MIN_TTL_SECS, value_name = "SECS",
          value_parser = clap::value_parser!(u32).range(0..=MAX_LIFETIME_SECS))]
    pub min_ttl: u32,
    /// Exchange a new token even if the cache holds a fresh one
    #[arg(long)]
    pub force_refresh: bool,
    /// Never start an interactive sign-in; exit 3 when one is needed
    #[arg(long)]
    pub no_login: bool,
}

/// [`FreshnessArgs`], resolved: what the pipeline is asked for.
#[derive(Debug, Clone, Copy)]
pub struct Freshness {
    pub min_ttl: i64,
    /// How long the caller keeps a token without asking again (a helper's
    /// TTL; 0: not known): a cached token must outlive it.
    pub keep_for: i64,
    pub force_refresh: bool,
    /// May an interactive sign-in start when the session cannot give a JWT?
    pub interactive: bool,
}

impl From<&FreshnessArgs> for Freshness {
    fn from(a: &FreshnessArgs) -> Self {
        Freshness {
            min_ttl: a.min_ttl as i64,
            keep_for: 0,
            force_refresh: a.force_refresh,
            // Only a person at a terminal can sign in; IDE plugins,
            // apiKeyHelper and CI never get a browser tab.
            interactive: !a.no_login && crate::output::stdin_and_stderr_are_terminals(),
        }
    }
}

pub struct Settings {
    pub config_dir: PathBuf,
    pub cache_dir: PathBuf,
    pub profile: String,
    /// Which rule chose [`Settings::profile`] (see [`config::profile`]).
    pub profile_source: ProfileSource,
    /// Where [`Settings::config_dir`] and [`Settings::cache_dir`] came
    /// from (`--config-dir`, `KEYLESS_CONFIG_DIR`, the default…), for
    /// `setup` to say about the helper line it writes.
    pub dirs_from: [&'static str; 2],
    /// The config, when choosing the profile already read it (the active
    /// profile is in it): the first [`Settings::load_config`] takes it, so
    /// a cache hit reads the file once.
    preloaded: std::sync::Mutex<Option<config::LoadedConfig>>,
}

pub use config::profile::Source as ProfileSource;

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
    /// Settings for a given profile and directories (no choosing).
    pub fn fixed(config_dir: PathBuf, cache_dir: PathBuf, profile: &str) -> Self {
        Settings {
            config_dir,
            cache_dir,
            profile: profile.to_string(),
            profile_source: ProfileSource::Flag,
            dirs_from: ["given", "given"],
            preloaded: std::sync::Mutex::new(None),
        }
    }

    pub fn resolve(global: &GlobalArgs) -> Result<Self> {
        // clap fills each flag from its variable when absent: the variable
        // holding the same value is where it came from.
        let from = |given: &Option<PathBuf>, var: &'static str, flag: &'static str| match given {
            Some(d) if !d.as_os_str().is_empty() => {
                if std::env::var_os(var).is_some_and(|v| v == d.as_os_str()) {
                    var
                } else {
                    flag
                }
            }
            _ => "the default",
        };
        let dirs_from = [
            from(
                &global.config_dir,
                env_vars::KEYLESS_CONFIG_DIR,
                "--config-dir",
            ),
            from(
                &global.cache_dir,
                env_vars::KEYLESS_CACHE_DIR,
                "--cache-dir",
            ),
        ];
        let config_dir = match &global.config_dir {
            Some(d) if !d.as_os_str().is_empty() => d.clone(),
            _ => project_dirs()
                .map(|p| p.config_dir().to_path_buf())
                .ok_or_else(|| no_home("config", env_vars::KEYLESS_CONFIG_DIR))?,
        };
        let cache_dir = match &global.cache_dir {
            Some(d) if !d.as_os_str().is_empty() => d.clone(),
            _ => project_dirs()
                .map(|p| p.cache_dir().to_path_buf())
                .ok_or_else(|| no_home("cache", env_vars::KEYLESS_CACHE_DIR))?,
        };
        // Absolute, so that every path keyless reports or writes (auth
        // status --json, the helpers setup writes) means one place.
        let config_dir = std::path::absolute(&config_dir).unwrap_or(config_dir);
        let cache_dir = std::path::absolute(&cache_dir).unwrap_or(cache_dir);
        let home = directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf());
        let early = config::profile::choose_early(
            global.profile.as_deref(),
            std::env::var(env_vars::KEYLESS_PROFILE).ok(),
            std::env::current_dir().ok(),
            home,
        )?;
        let (profile, profile_source, preloaded) = match early {
            Some((name, source)) => (name, source, None),
            // A config that cannot be read chooses nothing; the command
            // that loads it reports why.
            None => match config::load(&config_dir) {
                Ok(loaded) => match loaded.file.active_profile.clone() {
                    Some(a) => (a, ProfileSource::Active(loaded.path.clone()), Some(loaded)),
                    None => (
                        config::profile::DEFAULT_PROFILE.into(),
                        ProfileSource::Default,
                        Some(loaded),
                    ),
                },
                Err(_) => (
                    config::profile::DEFAULT_PROFILE.into(),
                    ProfileSource::Default,
                    None,
                ),
            },
        };
        config::checks::validate_profile_name(&profile).map_err(|e| {
            let m = format!("{} (from {})", e.message, profile_source.describe());
            Error { message: m, ..e }
        })?;
        if profile_source != ProfileSource::Flag {
            crate::output::info(&format!(
                "profile {profile:?}, chosen by {}",
                profile_source.describe()
            ));
        }
        Ok(Settings {
            config_dir,
            cache_dir,
            profile,
            profile_source,
            dirs_from,
            preloaded: std::sync::Mutex::new(preloaded),
        })
    }

    pub fn load_config(&self) -> Result<config::LoadedConfig> {
        let pre = self.preloaded.lock().ok().and_then(|mut p| p.take());
        match pre {
            Some(l) => Ok(l),
            None => config::load(&self.config_dir),
        }
    }

    /// The profile names the config holds, sorted.
    pub fn known_profiles(loaded: &config::LoadedConfig) -> Vec<String> {
        loaded.file.profiles.keys().cloned().collect()
    }

    /// An error unless the chosen profile exists (or is `default`, which
    /// needs no setup before zero setup): for the commands that only use a
    /// profile, never create one.
    pub fn require_known(&self, loaded: &config::LoadedConfig) -> Result<()> {
        if loaded.file.profiles.contains_key(&self.profile)
            || self.profile == config::profile::DEFAULT_PROFILE
        {
            return Ok(());
        }
        Err(config::profile::unknown(
            &self.profile,
            &self.profile_source,
            &Self::known_profiles(loaded),
            &loaded.path,
        ))
    }

    /// The profile's issuer (`keyless setup issuer`), if any.
    pub fn issuer(&self, loaded: &config::LoadedConfig) -> Option<config::IssuerConfig> {
        loaded
            .file
            .profiles
            .get(&self.profile)
            .and_then(|p| p.issuer.clone())
    }

    /// A hand-edited file gets the same checks as `setup`: no JWT may leave
    /// over plain http to another host. `setting` is the field's name in the
    /// file; `fix` the setup command that rewrites it.
    pub fn recheck_url(
        &self,
        loaded: &config::LoadedConfig,
        setting: &str,
        url: &str,
        fix: &str,
    ) -> Result<()> {
        config::checks::check_url(setting, url)
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
}
