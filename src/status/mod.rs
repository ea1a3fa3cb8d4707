//! `auth status`, the analysis: which credential wins for the Anthropic SDKs
//! here, where static keys are still defined, and whether keyless can serve.
//!
//! Gathering reads the environment and a handful of small files. It makes no
//! network call, runs no identity command and changes nothing; `--check`
//! (in the command) is the only part that exchanges.

mod ambient;
pub mod keyless;
mod policy;
pub mod precedence;
mod report;

pub use report::*;

use std::path::PathBuf;

use crate::cache::TokenCache;
use crate::clients::{claude_code, codex, scan};
use crate::clock;
use crate::env_vars;
use crate::provider::Provider;
use crate::settings::Settings;
use precedence::SlotKind;

/// Everything gathering needs from outside, so tests can drive it.
pub struct Inputs<'a> {
    pub settings: &'a Settings,
    pub env: precedence::Env<'a>,
    pub cwd: Option<PathBuf>,
    pub xdg_config: Option<PathBuf>,
}

pub fn gather(inp: &Inputs) -> Report {
    let s = inp.settings;
    let cache = TokenCache::new(s.cache_dir.clone());
    let mut warnings = Vec::new();
    let own = own_config(inp, &cache, &mut warnings);

    // which credential wins
    let minted = |digest: &str| cache.minted_expiry(Provider::Anthropic.name(), digest);
    let chain = precedence::chain(&inp.env, &minted);
    let minted_openai = |digest: &str| cache.minted_expiry(Provider::Openai.name(), digest);
    let openai_api_key = precedence::openai_slot(&inp.env, &minted_openai);
    let scan = scan::scan(
        inp.env.home.as_deref(),
        inp.cwd.as_deref(),
        inp.xdg_config.as_deref(),
    );
    let note = claude_code_note(&scan, &chain);
    client_ttl_warnings(inp, &scan.helper, &cache, &mut warnings);

    let mut reasons = own_reasons(s, &own, &openai_api_key, &mut warnings);
    reasons.extend(shadow_reasons(inp, &scan, &chain));
    let slots: Vec<_> = chain.iter().chain([&openai_api_key]).collect();
    reasons.extend(policy::static_key_reasons(&scan.findings, &slots));
    warnings.extend(policy::ignored_warning());
    let issuer = own
        .loaded
        .as_ref()
        .and_then(|l| l.file.profiles.get(&s.profile))
        .and_then(|p| p.issuer.clone());
    let (store_desc, store_file) = crate::secret_store::likely_store(&s.config_dir);
    let secret_store = issuer.as_ref().map(|_| store_desc.clone());
    let session = issuer.map(|i| keyless::session_state(s, i, store_desc, store_file.as_deref()));
    Report {
        schema_version: SCHEMA_VERSION,
        ok: reasons.is_empty(),
        reasons,
        winner: chain.iter().find(|w| w.winner).map(|w| w.label.clone()),
        precedence: chain,
        openai_api_key,
        claude_code: ClaudeCode {
            note,
            api_key_helper: scan.helper,
        },
        static_keys: scan.findings,
        keyless: KeylessState {
            profile: s.profile.clone(),
            profile_rule: s.profile_source.rule(),
            profile_file: s.profile_source.file().map(|p| p.display().to_string()),
            profile_managed: own
                .loaded
                .as_ref()
                .is_some_and(|l| l.is_managed(&s.profile)),
            managed: crate::config::managed::summary(),
            config_path: crate::config::config_path(&s.config_dir)
                .display()
                .to_string(),
            config_exists: own.loaded.as_ref().is_some_and(|l| l.existed)
                || own.config_error.is_some(),
            config_error: own.config_error,
            cache_dir: s.cache_dir.display().to_string(),
            providers: own.providers,
            session,
            secret_store,
            warnings,
        },
        check: None,
    }
}

/// keyless's own configuration, each provider's state resolved once.
struct OwnConfig {
    loaded: Option<crate::config::LoadedConfig>,
    config_error: Option<String>,
    providers: Vec<ProviderState>,
    /// Providers whose configuration cannot be resolved: whether the file
    /// names them, and why.
    env_errors: Vec<(bool, String)>,
}

fn own_config(inp: &Inputs, cache: &TokenCache, warnings: &mut Vec<String>) -> OwnConfig {
    let s = inp.settings;
    let (loaded, config_error) = match s.load_config() {
        Ok(l) => (Some(l), None),
        Err(e) => (None, Some(e.message.clone())),
    };
    let mut env_errors = Vec::new();
    let providers: Vec<ProviderState> = match &loaded {
        None => Vec::new(),
        Some(l) => crate::provider::choice::choose(s, l, &[], inp.env.var)
            .into_iter()
            .filter_map(|c| match c.resolved {
                Ok((target, origins)) => Some(keyless::provider_state(
                    s,
                    &target,
                    s.issuer(l).as_ref(),
                    origins,
                    cache,
                    &inp.env,
                    warnings,
                )),
                Err(e) => {
                    env_errors.push((c.saved, format!("{}: {}", c.provider.name(), e.message)));
                    None
                }
            })
            .collect(),
    };
    if let Ok(meta) = std::fs::symlink_metadata(&s.cache_dir)
        && let Err(u) = crate::private_fs::check_path(&s.cache_dir, &meta, 0o077)
    {
        warnings.push(format!("cache directory: {}", u.describe(&s.cache_dir)));
    }
    OwnConfig {
        loaded,
        config_error,
        providers,
        env_errors,
    }
}

/// Claude Code's settings put their env block in its environment, where a
/// static credential outranks the apiKeyHelper; else its different order.
fn claude_code_note(scan: &scan::Scan, chain: &[precedence::Slot]) -> Option<String> {
    match scan.claude_shadows.first() {
        Some(f) => Some(format!(
            "Claude Code uses {} from {}:{}, which outranks its apiKeyHelper",
            f.what, f.path, f.line
        )),
        None => precedence::claude_code_note(chain, scan.helper.path.is_some()),
    }
}

/// Claude Code caches the helper's token for its TTL, and Codex re-runs the
/// auth command every `refresh_interval_ms`: longer than the token lives,
/// and their calls fail until the next re-run.
fn client_ttl_warnings(
    inp: &Inputs,
    helper: &scan::ApiKeyHelper,
    cache: &TokenCache,
    warnings: &mut Vec<String>,
) {
    if helper.is_keyless {
        let ttl = helper
            .ttl_ms
            .unwrap_or(claude_code::CLAUDE_CODE_DEFAULT_HELPER_TTL_MS);
        if let Some(life) = cache.shortest_lifetime(Provider::Anthropic.name())
            && ttl / 1000 >= life as u64
        {
            warnings.push(format!(
                "Claude Code re-runs keyless every {} s{}, but tokens live {life} s: set CLAUDE_CODE_API_KEY_HELPER_TTL_MS below {} (keyless setup claude-code does)",
                ttl / 1000,
                if helper.ttl_ms.is_none() { " (its default)" } else { "" },
                life * 1000
            ));
        }
    }
    let codex_home = crate::clients::places::codex_home(
        env_vars::lookup(inp.env.var, env_vars::CODEX_HOME),
        inp.env.home.as_deref(),
    );
    if let Some(every) = codex_home
        .as_deref()
        .and_then(codex::codex_refresh_interval_ms)
        && let Some(life) = cache.shortest_lifetime(Provider::Openai.name())
        && every / 1000 >= life as u64
    {
        warnings.push(format!(
            "Codex re-runs keyless every {} s (refresh_interval_ms), but tokens live {life} s: set it below {} (keyless setup codex --force does)",
            every / 1000,
            life * 1000
        ));
    }
}

/// Why keyless itself cannot serve: its configuration, its providers, and
/// a static `OPENAI_API_KEY` in their way.
fn own_reasons(
    s: &Settings,
    own: &OwnConfig,
    openai_api_key: &precedence::Slot,
    warnings: &mut Vec<String>,
) -> Vec<String> {
    let mut reasons = Vec::new();
    if own
        .providers
        .iter()
        .any(|p| p.provider == Provider::Openai.name())
        && openai_api_key.claims()
        && openai_api_key.keyless_expires_at.is_none()
    {
        reasons.push(format!(
            "{} is {}, so the OpenAI SDKs use it instead of a keyless token (keyless exec --type openai replaces it)",
            env_vars::OPENAI_API_KEY,
            openai_api_key.how_set()
        ));
    }
    // A provider only the environment names, in part, is what `env` and
    // `exec` skip: a warning, unless nothing else is configured.
    for (saved, e) in &own.env_errors {
        if *saved || own.providers.is_empty() {
            reasons.push(format!("the keyless configuration cannot be used: {e}"));
        } else {
            warnings.push(format!(
                "{e} (env and exec skip it; credential names what is missing)"
            ));
        }
    }
    if let Some(e) = &own.config_error {
        reasons.push(format!("the keyless configuration cannot be used: {e}"));
    } else if own.providers.is_empty() && own.env_errors.is_empty() {
        reasons.push(format!(
            "no provider is configured for keyless profile {:?}; run `keyless setup anthropic …`",
            s.profile
        ));
    }
    for p in own.providers.iter().filter(|p| !p.can_serve) {
        reasons.push(format!(
            "keyless cannot serve {} now: {}",
            p.provider,
            p.identity
                .reason
                .clone()
                .unwrap_or_else(|| "no identity token".into())
        ));
    }
    reasons
}

/// Why the SDKs or Claude Code would use something else than keyless.
fn shadow_reasons(inp: &Inputs, scan: &scan::Scan, chain: &[precedence::Slot]) -> Vec<String> {
    let mut reasons = Vec::new();
    if scan.helper.is_keyless {
        for f in &scan.claude_shadows {
            reasons.push(format!(
                "{} sets {} for Claude Code, which outranks its apiKeyHelper: Claude Code does not use keyless",
                f.path, f.what
            ));
        }
        for v in env_vars::CLAUDE_CODE_CLOUD_SWITCHES {
            if (inp.env.var)(v).is_some_and(|x| claude_code::switch_on(&x)) {
                reasons.push(format!(
                    "{v} is set here: a Claude Code started from this environment uses that cloud provider, not its apiKeyHelper (keyless)"
                ));
            }
        }
    }
    for slot in chain.iter().filter(|w| w.winner) {
        let shadowing = match slot.slot {
            SlotKind::ApiKey => true,
            SlotKind::AuthToken => slot.keyless_expires_at.is_none(),
            _ => false,
        };
        if shadowing {
            reasons.push(format!(
                "{} is {}, so the Anthropic SDKs use it instead of a keyless token",
                slot.label,
                slot.how_set()
            ));
        }
        if let Some(exp) = slot.keyless_expires_at
            && exp <= clock::now()
        {
            reasons.push(format!(
                "{} holds a keyless token that has expired; run eval \"$(keyless env)\" again or use keyless exec",
                env_vars::ANTHROPIC_AUTH_TOKEN
            ));
        }
    }
    reasons
}
