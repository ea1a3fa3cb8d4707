//! The Anthropic SDK profile that `exec --refresh` keeps current: an
//! "externally rotated" `user_oauth` profile (no `client_id`) in a private
//! 0700 directory, `configs/keyless.json` and `credentials/keyless.json`
//! (0600), which the SDKs re-read per request.
//!
//! This module writes the files and decides when the credentials are next
//! due; the refresh loop, signals and the child's exit belong to the `exec
//! --refresh` command, which uses this.

use std::path::Path;
use std::process::Command;

use crate::acquire::Token;
use crate::config::AnthropicConfig;
use crate::env_vars;
use crate::error::{Error, Result};
use crate::private_fs;

/// The profile's name, in `ANTHROPIC_PROFILE` and the file names.
pub const PROFILE: &str = "keyless";

/// When the credentials file must next be rewritten, in Unix seconds.
pub fn due_at(now: i64, expires_at: i64) -> i64 {
    let left = (expires_at - now).max(0);
    let half = now + left / 2;
    if left > 360 {
        half.min(expires_at - 180)
    } else {
        half
    }
}

/// The profile's directory, removed when this drops.
pub struct SdkProfile {
    dir: tempfile::TempDir,
}

impl SdkProfile {
    /// A private directory holding the profile for `cfg` and `token`.
    pub fn create(cfg: &AnthropicConfig, token: &Token) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("keyless-exec-")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir()
            .map_err(|e| Error::failure(format!("cannot create a private directory: {e}")))?;
        for sub in ["configs", "credentials"] {
            private_fs::ensure_dir(&dir.path().join(sub)).map_err(Error::failure)?;
        }
        let p = SdkProfile { dir };
        p.write_profile(cfg)?;
        p.write_credentials(token)?;
        Ok(p)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Point `cmd` at the profile. `ANTHROPIC_AUTH_TOKEN` and
    /// `ANTHROPIC_BASE_URL` outrank a profile in every SDK, so both go; the
    /// base URL is in the profile.
    pub fn apply(&self, cmd: &mut Command) {
        cmd.env(env_vars::ANTHROPIC_CONFIG_DIR, self.dir())
            .env(env_vars::ANTHROPIC_PROFILE, PROFILE)
            .env_remove(env_vars::ANTHROPIC_AUTH_TOKEN)
            .env_remove(env_vars::ANTHROPIC_BASE_URL);
    }

    fn write_profile(&self, cfg: &AnthropicConfig) -> Result<()> {
        let mut profile = serde_json::json!({
            "version": "1.0",
            "authentication": {"type": "user_oauth"},
            "organization_id": cfg.organization_id,
        });
        if !cfg.uses_default_base_url() {
            profile["base_url"] = cfg.base_url().into();
        }
        let path = self.dir().join("configs").join(format!("{PROFILE}.json"));
        private_fs::write_atomic(&path, profile.to_string().as_bytes())
            .map_err(|e| Error::io("cannot write the SDK profile", &path, &e))
    }

    /// Replace the credentials atomically: a reader sees the old token or
    /// the new one, never a torn file.
    pub fn write_credentials(&self, token: &Token) -> Result<()> {
        let body = serde_json::json!({
            "version": "1.0",
            "type": "oauth_token",
            "access_token": token.access_token.expose(),
            "expires_at": token.expires_at,
        });
        let path = self
            .dir()
            .join("credentials")
            .join(format!("{PROFILE}.json"));
        private_fs::write_atomic(&path, body.to_string().as_bytes())
            .map_err(|e| Error::io("cannot write the SDK credentials", &path, &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_is_half_life_and_at_least_180s_early_for_long_tokens() {
        assert_eq!(due_at(1000, 1120), 1060); // 120 s token: at half-life
        assert_eq!(due_at(1000, 1360), 1180); // 6 min: half-life
        assert_eq!(due_at(1000, 1600), 1300); // 10 min: half-life (300 s) beats exp-180 (1420)
        assert_eq!(due_at(1000, 4600), 2800); // 1 h: half-life
        assert_eq!(due_at(1000, 1361), 1180); // just over 6 min: min(1180, 1181)
        assert_eq!(due_at(1000, 900), 1000); // expired: now
    }
}
