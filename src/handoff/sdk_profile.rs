//! The Anthropic SDK profile that `exec --refresh` keeps current: an
//! "externally rotated" `user_oauth` profile (no `client_id`) in a private
//! 0700 directory, `configs/keyless.json` and `credentials/keyless.json`
//! (0600), which the SDKs re-read per request.
//!
//! This module writes the files; when they are rewritten is the renewal
//! engine's ([`super::renewal::Schedule::SDK_PROFILE`]), the loop, signals
//! and the child's exit the `exec --refresh` command's.

use std::path::Path;
use std::process::Command;

use crate::acquire::Token;
use crate::config::AnthropicConfig;
use crate::env_vars;
use crate::error::{Error, Result};
use crate::private_fs;

/// The profile's name, in `ANTHROPIC_PROFILE` and the file names.
pub const PROFILE: &str = "keyless";

/// The profile's directory, removed when this drops.
pub struct SdkProfile {
    dir: tempfile::TempDir,
    base_url: String,
}

impl SdkProfile {
    /// A private directory holding the profile for `cfg` and `token`.
    pub fn create(cfg: &AnthropicConfig, token: &Token) -> Result<Self> {
        let dir = private_fs::private_tempdir("keyless-exec-")
            .map_err(|e| Error::failure(format!("cannot create a private directory: {e}")))?;
        for sub in ["configs", "credentials"] {
            private_fs::ensure_dir(&dir.path().join(sub)).map_err(Error::failure)?;
        }
        let p = SdkProfile {
            dir,
            base_url: cfg.base_url().into_string(),
        };
        p.write_profile(cfg)?;
        p.write_credentials(token)?;
        Ok(p)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Point `cmd` at the profile (`ANTHROPIC_AUTH_TOKEN`, which outranks
    /// it, is removed by the child-environment policy). `ANTHROPIC_BASE_URL` is set to the
    /// host that minted the token, whatever was inherited: the SDKs read the
    /// profile's `base_url` first (the variable only fills a gap), but a
    /// client whose own credential source outranks the profile (Claude Code
    /// with an `apiKeyHelper`) reads only the variable.
    pub fn apply(&self, cmd: &mut Command) {
        cmd.env(env_vars::ANTHROPIC_CONFIG_DIR, self.dir())
            .env(env_vars::ANTHROPIC_PROFILE, PROFILE)
            .env(env_vars::ANTHROPIC_BASE_URL, &self.base_url);
    }

    fn write_profile(&self, cfg: &AnthropicConfig) -> Result<()> {
        write_config(self.dir(), PROFILE, cfg)
    }

    /// Replace the credentials atomically: a reader sees the old token or
    /// the new one, never a torn file.
    pub fn write_credentials(&self, token: &Token) -> Result<()> {
        write_credentials(self.dir(), PROFILE, token)
    }
}

/// Write `dir/configs/NAME.json`: an externally rotated `user_oauth`
/// profile (no `client_id`) for `cfg`'s organization and host, 0600.
pub fn write_config(dir: &Path, name: &str, cfg: &AnthropicConfig) -> Result<()> {
    let mut profile = serde_json::json!({
        "version": "1.0",
        "authentication": {"type": "user_oauth"},
        "organization_id": cfg.organization_id,
    });
    if !cfg.uses_default_base_url() {
        profile["base_url"] = cfg.base_url().as_str().into();
    }
    let path = dir.join("configs").join(format!("{name}.json"));
    private_fs::write_atomic(&path, profile.to_string().as_bytes())
        .map_err(|e| Error::io("cannot write the SDK profile", &path, &e))
}

/// The credentials file of profile `name` under `dir`.
pub fn credentials_path(dir: &Path, name: &str) -> std::path::PathBuf {
    dir.join("credentials").join(format!("{name}.json"))
}

/// Replace `dir/credentials/NAME.json` atomically (0600): a reader sees
/// the old token or the new one, never a torn file.
pub fn write_credentials(dir: &Path, name: &str, token: &Token) -> Result<()> {
    let body = serde_json::json!({
        "version": "1.0",
        "type": "oauth_token",
        "access_token": token.access_token.expose(),
        "expires_at": token.expires_at,
    });
    let path = credentials_path(dir, name);
    private_fs::write_atomic(&path, body.to_string().as_bytes())
        .map_err(|e| Error::io("cannot write the SDK credentials", &path, &e))
}
