//! The versioned config file: `<config dir>/config.json`.
//!
//! It holds only non-secret federation identifiers, per named profile. It is
//! written atomically at 0600 in a 0700 directory, and refused when it is a
//! symlink or writable by others. Keys this version does not know are kept on
//! rewrite, at every level (the file, a profile, each provider's part and
//! the issuer), so an older keyless never drops what a newer one saved.
//! [`checks`] is the rulebook for the values in it.

mod base_url;
pub mod checks;
pub mod identity;
mod lock;
pub mod managed;
pub mod profile;

pub use base_url::BaseUrl;
pub use identity::IdentitySource;
pub use lock::{ConfigLock, load_for_update};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::private_fs::{self, Read0600};

pub const CONFIG_VERSION: u32 = 1;
pub const CONFIG_FILE: &str = "config.json";
pub const DEFAULT_ANTHROPIC_BASE_URL: &str = base_url::DEFAULT_ANTHROPIC;
pub const DEFAULT_OPENAI_TOKEN_ENDPOINT: &str = "https://auth.openai.com/oauth/token";

#[derive(Debug, Serialize, Deserialize)]
pub struct ConfigFile {
    pub version: u32,
    /// The profile `keyless profile use` made active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_profile: Option<String>,
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
    #[serde(flatten)]
    pub unknown: BTreeMap<String, serde_json::Value>,
}

impl Default for ConfigFile {
    fn default() -> Self {
        ConfigFile {
            version: CONFIG_VERSION,
            active_profile: None,
            profiles: BTreeMap::new(),
            unknown: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<IssuerConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anthropic: Option<AnthropicConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openai: Option<OpenAiConfig>,
    #[serde(flatten)]
    pub unknown: BTreeMap<String, serde_json::Value>,
}

/// What every provider's federation names alike: the audience identity
/// sources that take one ask for, where the identity JWT comes from, and a
/// PEM file of extra CAs for the provider's endpoints. Flattened into each
/// provider's configuration: the file's fields are the same.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Federation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    pub identity: IdentitySource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AnthropicConfig {
    pub federation_rule_id: String,
    pub organization_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// The audience, identity source and CA file (for the base URL: token
    /// endpoint and API); the federation rule must match the audience
    /// (default: the API host).
    #[serde(flatten)]
    pub federation: Federation,
    /// Fields a newer keyless wrote: kept on rewrite.
    #[serde(flatten)]
    pub unknown: BTreeMap<String, serde_json::Value>,
}

impl AnthropicConfig {
    /// The API base tokens are minted at and used with.
    pub fn base_url(&self) -> BaseUrl {
        self.base_url
            .as_deref()
            .map_or_else(BaseUrl::anthropic_default, BaseUrl::checked)
    }
    pub fn uses_default_base_url(&self) -> bool {
        self.base_url() == BaseUrl::anthropic_default()
    }
}

/// OpenAI workload identity federation (RFC 8693 token exchange).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OpenAiConfig {
    pub identity_provider_id: String,
    pub service_account_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint: Option<String>,
    /// The audience (not sent: OpenAI compares the JWT's `aud` with the
    /// provider's; kept to check the JWT locally and to ask identity sources
    /// for it), identity source and CA file (token endpoint and API base).
    #[serde(flatten)]
    pub federation: Federation,
    /// Fields a newer keyless wrote: kept on rewrite.
    #[serde(flatten)]
    pub unknown: BTreeMap<String, serde_json::Value>,
}

impl OpenAiConfig {
    pub fn token_endpoint(&self) -> &str {
        self.token_endpoint
            .as_deref()
            .unwrap_or(DEFAULT_OPENAI_TOKEN_ENDPOINT)
    }
}

/// The OpenID Provider a developer signs in to (`keyless setup issuer`).
/// The client secret, if any, is in the secret store, never here.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct IssuerConfig {
    pub issuer: String,
    pub client_id: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub flow: LoginFlow,
    #[serde(default)]
    pub assertion: AssertionKind,
    /// RFC 8707 resource (and audience) asked for JWT access tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_port: Option<u16>,
    /// `127.0.0.1` (default) or `localhost`, for providers that register only the latter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    #[serde(default)]
    pub confidential: bool,
    /// Fields a newer keyless wrote: kept on rewrite.
    #[serde(flatten)]
    pub unknown: BTreeMap<String, serde_json::Value>,
}

impl IssuerConfig {
    pub fn scopes(&self) -> String {
        if self.scopes.is_empty() {
            "openid email profile offline_access".to_string()
        } else {
            self.scopes.join(" ")
        }
    }
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum LoginFlow {
    /// Device code when no browser can be opened, else the browser
    #[default]
    Auto,
    Browser,
    Device,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum AssertionKind {
    /// Exchange the OIDC ID token
    #[default]
    IdToken,
    /// Exchange a JWT access token (Okta custom authorization servers, Keycard)
    AccessToken,
}

/// The config file as found on disk, with the path it came from, and the
/// managed profiles laid over it ([`managed`]).
pub struct LoadedConfig {
    pub path: PathBuf,
    pub file: ConfigFile,
    pub existed: bool,
    /// The honoured managed configuration, if the machine has one.
    pub managed: Option<&'static managed::Managed>,
}

impl LoadedConfig {
    /// Is profile `name` one the managed configuration defines?
    pub fn is_managed(&self, name: &str) -> bool {
        self.managed.is_some_and(|m| m.has_profile(name))
    }
}

pub fn config_path(dir: &Path) -> PathBuf {
    dir.join(CONFIG_FILE)
}

/// Load `<dir>/config.json`. A missing file is an empty config; anything
/// unsafe or unparsable is an error (exit 6) naming the file.
pub fn load(dir: &Path) -> Result<LoadedConfig> {
    let path = config_path(dir);
    let fix = |what: String| Error::config(format!("refusing to use the config file: {what}"));
    let managed = managed::current()?;
    let bytes = match private_fs::read_private(&path, 0o022, 4 << 20) {
        Ok(Read0600::Missing) => None,
        Ok(Read0600::Unsafe(u)) => {
            let hint = match u {
                private_fs::Unsafe::Symlink => format!(
                    "replace the link with a regular file: cp --remove-destination \"$(readlink -f {0})\" {0}",
                    path.display()
                ),
                private_fs::Unsafe::Loose(_) => format!("chmod 600 {}", path.display()),
                private_fs::Unsafe::NotOwned => {
                    format!(
                        "chown $(id -u) {} or choose another --config-dir",
                        path.display()
                    )
                }
                private_fs::Unsafe::WrongType => format!("remove {}", path.display()),
                private_fs::Unsafe::Shared { .. } => format!(
                    "icacls \"{}\" /inheritance:r /grant:r \"%USERNAME%:F\", and remove other accounts' entries",
                    path.display()
                ),
            };
            return Err(fix(u.describe(&path)).hint(hint));
        }
        Ok(Read0600::Data(b)) => Some(b),
        Err(e) => return Err(Error::io("cannot read the config file", &path, &e).kind_config()),
    };
    let existed = bytes.is_some();
    if existed {
        check_dir(dir)?;
    }
    let invalid = |e: serde_json::Error, position: bool| {
        let at = if position {
            format!(" at line {}, column {}", e.line(), e.column())
        } else {
            String::new()
        };
        Error::config(format!(
            "invalid JSON in {}{at}: {}",
            path.display(),
            strip_position(&e.to_string())
        ))
        .hint("fix the file by hand, or move it away and run `keyless setup` again")
    };
    let file: ConfigFile = match (managed.filter(|m| !m.profiles.is_empty()), bytes) {
        (None, None) => ConfigFile::default(),
        (None, Some(b)) => serde_json::from_slice(&b).map_err(|e| invalid(e, true))?,
        (Some(m), b) => {
            let mut v: serde_json::Value = match b {
                Some(b) => serde_json::from_slice(&b).map_err(|e| invalid(e, true))?,
                None => serde_json::json!({ "version": CONFIG_VERSION }),
            };
            managed::apply(&mut v, m);
            serde_json::from_value(v).map_err(|e| invalid(e, false))?
        }
    };
    if file.version > CONFIG_VERSION {
        return Err(Error::config(format!(
            "{} has version {}, but this keyless reads version {CONFIG_VERSION}",
            path.display(),
            file.version
        ))
        .hint("upgrade keyless, or use another --config-dir"));
    }
    Ok(LoadedConfig {
        path,
        file,
        existed,
        managed,
    })
}

fn check_dir(dir: &Path) -> Result<()> {
    if let Ok(meta) = std::fs::symlink_metadata(dir)
        && let Err(u) = private_fs::check_path(dir, &meta, 0o022)
        && u != private_fs::Unsafe::Symlink
    {
        return Err(Error::config(format!(
            "refusing to use the config directory: {}",
            u.describe(dir)
        ))
        .hint(format!("chmod 700 {}", dir.display())));
    }
    Ok(())
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

impl LoadedConfig {
    /// Save under the writer lock taken by [`load_for_update`].
    pub fn save(&self, lock: &ConfigLock) -> Result<()> {
        private_fs::ensure_dir(lock.dir())
            .map_err(|m| Error::config(format!("cannot prepare the config directory: {m}")))?;
        let ser =
            |e: serde_json::Error| Error::failure(format!("cannot serialize the config: {e}"));
        // The user's file keeps only what the user set.
        let mut text = match self.managed {
            None => serde_json::to_string_pretty(&self.file).map_err(ser)?,
            Some(m) => {
                managed::conflicts(&self.file, m)?;
                let mut v = serde_json::to_value(&self.file).map_err(ser)?;
                managed::unmerge(&mut v, m);
                serde_json::to_string_pretty(&v).map_err(ser)?
            }
        };
        text.push('\n');
        private_fs::write_atomic(&self.path, text.as_bytes())
            .map_err(|e| Error::io("cannot write the config file", &self.path, &e).kind_config())
    }
}

impl Error {
    pub fn kind_config(mut self) -> Self {
        self.kind = crate::error::Kind::Config;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_survive_a_rewrite() {
        let text = r#"{"version":1,"future":{"x":1},"profiles":{"default":{"gemini":{"y":2},
            "openai":{"identity_provider_id":"wip_1","service_account_id":"sa_1",
                      "identity":{"type":"env"},"client_id":"c"},
            "anthropic":{"federation_rule_id":"fdrl_1","organization_id":"o",
                      "identity":{"type":"env"},"region":"eu"},
            "issuer":{"issuer":"https://i","client_id":"k","pkce":{"m":"S256"}}}}}"#;
        let f: ConfigFile = serde_json::from_str(text).unwrap();
        assert_eq!(
            f.profiles["default"]
                .openai
                .as_ref()
                .unwrap()
                .identity_provider_id,
            "wip_1"
        );
        let back = serde_json::to_value(&f).unwrap();
        assert_eq!(back["future"]["x"], 1);
        assert_eq!(back["profiles"]["default"]["gemini"]["y"], 2);
        assert_eq!(back["profiles"]["default"]["openai"]["client_id"], "c");
        assert_eq!(back["profiles"]["default"]["anthropic"]["region"], "eu");
        // the shared federation fields are read as such, once, and written
        // back where they were (flattened), not kept as unknown
        let a = f.profiles["default"].anthropic.as_ref().unwrap();
        assert_eq!(a.federation.identity, IdentitySource::Env);
        assert_eq!(a.unknown.keys().collect::<Vec<_>>(), ["region"]);
        assert_eq!(
            back["profiles"]["default"]["anthropic"],
            serde_json::json!({"federation_rule_id":"fdrl_1","organization_id":"o",
                "identity":{"type":"env"},"region":"eu"})
        );
        assert_eq!(back["profiles"]["default"]["issuer"]["pkce"]["m"], "S256");
    }
}
