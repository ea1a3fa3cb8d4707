//! Codex's configuration as keyless reads it: the model provider `setup
//! codex` writes into `config.toml`, and its auth command's refresh interval.

use std::path::Path;

use super::scan::read_capped;

/// The name `setup codex` gives its model provider in Codex's config.
pub const CODEX_PROVIDER: &str = "keyless";

/// Codex's config (`config.toml` in `codex_home`): the `refresh_interval_ms`
/// of keyless's auth command, when keyless's provider is there.
pub fn codex_refresh_interval_ms(codex_home: &Path) -> Option<u64> {
    let doc: toml_edit::DocumentMut = read_capped(&codex_home.join("config.toml"))?.parse().ok()?;
    let auth = doc
        .get("model_providers")?
        .get(CODEX_PROVIDER)?
        .get("auth")?;
    u64::try_from(auth.get("refresh_interval_ms")?.as_integer()?).ok()
}
