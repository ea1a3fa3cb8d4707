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

/// The SDKs re-read an externally rotated credentials file once less than
/// this remains (advisory refresh) ...
pub const SDK_REREAD_WINDOW_SECS: i64 = 120;
/// ... and treat a token with less than this left as expired.
pub const SDK_EXPIRED_SECS: i64 = 30;
/// The replacement must be in place this long before expiry, a minute ahead
/// of the SDKs' re-read window.
pub const ROTATE_BEFORE_EXPIRY_SECS: i64 = SDK_REREAD_WINDOW_SECS + 60;

/// When a token minted at `obtained_at` and expiring at `expires_at` (Unix
/// seconds) must be replaced in the credentials file, in Unix milliseconds:
/// at half-life, no later than [`ROTATE_BEFORE_EXPIRY_SECS`] before expiry,
/// and, for tokens too short for that (under 4 minutes), at a quarter of
/// their life, so a 60 s token is replaced with 45 s left (well clear of the
/// SDKs' 30 s) without an exchange loop. A token obtained long ago (from the
/// cache) is due at once: the caller exchanges before relying on it.
pub fn due_at_ms(obtained_at: i64, expires_at: i64) -> i64 {
    let obtained = obtained_at.saturating_mul(1000);
    let expires = expires_at.saturating_mul(1000);
    let life = expires.saturating_sub(obtained).max(1);
    let half = obtained.saturating_add(life / 2);
    let latest = expires.saturating_sub(ROTATE_BEFORE_EXPIRY_SECS * 1000);
    let earliest = obtained.saturating_add(life / 4);
    half.min(latest).max(earliest)
}

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The profile's directory, removed when this drops.
pub struct SdkProfile {
    dir: tempfile::TempDir,
    base_url: String,
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
        let p = SdkProfile {
            dir,
            base_url: cfg.base_url().trim_end_matches('/').to_string(),
        };
        p.write_profile(cfg)?;
        p.write_credentials(token)?;
        Ok(p)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Point `cmd` at the profile. `ANTHROPIC_AUTH_TOKEN` outranks a
    /// profile in every SDK, so it goes. `ANTHROPIC_BASE_URL` is set to the
    /// host that minted the token, whatever was inherited: the SDKs read the
    /// profile's `base_url` first (the variable only fills a gap), but a
    /// client whose own credential source outranks the profile (Claude Code
    /// with an `apiKeyHelper`) reads only the variable.
    pub fn apply(&self, cmd: &mut Command) {
        cmd.env(env_vars::ANTHROPIC_CONFIG_DIR, self.dir())
            .env(env_vars::ANTHROPIC_PROFILE, PROFILE)
            .env(env_vars::ANTHROPIC_BASE_URL, &self.base_url)
            .env_remove(env_vars::ANTHROPIC_AUTH_TOKEN);
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
        profile["base_url"] = cfg.base_url().into();
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every lifetime the providers allow, 60 s to 24 h.
    fn lifetimes() -> impl Iterator<Item = i64> {
        (60..=600).chain((601..=86_400).step_by(97)).chain([86_400])
    }

    /// A fresh token: the replacement is in place while the old one still
    /// has 180 s (outside the SDKs' 120 s re-read window) or, for tokens too
    /// short for that, three quarters of its life (45 s for a 60 s token,
    /// far from the SDKs' 30 s "expired"); never before a quarter of its life
    /// (no exchange loop) and never after half.
    #[test]
    fn rotation_is_early_enough_for_every_lifetime() {
        let t0 = 1_000_000i64;
        for life in lifetimes() {
            let due = due_at_ms(t0, t0 + life);
            let left = (t0 + life) * 1000 - due;
            assert!(
                left >= 1000 * 180.min(life * 3 / 4),
                "{life} s token: rotated with {left} ms left"
            );
            assert!(left >= 45_000, "{life} s token: {left} ms left");
            assert!(
                due - t0 * 1000 >= life * 250,
                "{life} s token: rotated too soon"
            );
            assert!(
                due - t0 * 1000 <= life * 500,
                "{life} s token: after half-life"
            );
        }
    }

    #[test]
    fn a_nearly_spent_token_is_due_now() {
        let t0 = 1_000_000i64;
        // a 60 s token obtained 40 s ago: due already
        assert!(due_at_ms(t0, t0 + 60) <= (t0 + 40) * 1000);
        assert_eq!(due_at_ms(t0, t0 + 60), (t0 + 15) * 1000);
        assert_eq!(due_at_ms(t0, t0 + 600), (t0 + 300) * 1000);
        assert_eq!(due_at_ms(t0, t0 + 300), (t0 + 120) * 1000);
        assert_eq!(due_at_ms(t0, t0 + 86_400), (t0 + 43_200) * 1000);
    }
}
