//! `auth status`, the analysis: which credential wins for the Anthropic SDKs
//! here, where static keys are still defined, and whether keyless can serve.
//!
//! Gathering reads the environment and a handful of small files. It makes no
//! network call, runs no identity command and changes nothing; `--check`
//! (in the command) is the only part that exchanges.

mod ambient;
pub mod keyless;
pub mod precedence;

use std::path::PathBuf;

use serde::Serialize;

use crate::cache::TokenCache;
use crate::clients::{claude_code, codex, scan};
use crate::clock;
use crate::env_vars;
use crate::provider::Provider;
use crate::settings::Settings;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Serialize)]
pub struct Report {
    pub schema_version: u32,
    /// True when keyless can serve every configured provider and nothing
    /// static shadows it (the exit status is 0 exactly then).
    pub ok: bool,
    /// Why `ok` is false, one sentence each.
    pub reasons: Vec<String>,
    pub winner: Option<String>,
    pub precedence: Vec<precedence::Slot>,
    /// `OPENAI_API_KEY`, the only credential slot of the OpenAI SDKs.
    pub openai_api_key: precedence::Slot,
    pub claude_code: ClaudeCode,
    pub static_keys: Vec<scan::Finding>,
    pub keyless: KeylessState,
    pub check: Option<Vec<CheckResult>>,
}

#[derive(Debug, Serialize)]
pub struct ClaudeCode {
    /// A line on Claude Code's different order, where it changes the answer.
    pub note: Option<String>,
    pub api_key_helper: scan::ApiKeyHelper,
}

#[derive(Debug, Serialize)]
pub struct KeylessState {
    pub profile: String,
    /// Which rule chose the profile: flag, env, directory, active or default.
    pub profile_rule: String,
    /// The file that chose it (a per-directory file, or the config naming
    /// the active profile), absolute.
    pub profile_file: Option<String>,
    pub config_path: String,
    pub config_exists: bool,
    pub config_error: Option<String>,
    pub cache_dir: String,
    pub providers: Vec<ProviderState>,
    /// The sign-in session; null when the profile has no issuer.
    pub session: Option<SessionState>,
    /// Where secrets are kept; null while no secret needs storing.
    pub secret_store: Option<String>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct SessionState {
    pub issuer: String,
    pub client_id: String,
    pub signed_in: bool,
    pub subject: Option<String>,
    pub email: Option<String>,
    pub id_token_expires_at: Option<i64>,
    pub id_token_expiration: Option<String>,
    /// Where the refresh token is kept (the keyring is not queried here).
    pub refresh_token_store: String,
    /// For the file store: whether it holds a refresh token; null for the keyring.
    pub refresh_token_present: Option<bool>,
}

#[derive(Debug, Serialize)]
pub struct ProviderState {
    pub provider: &'static str,
    /// OpenAI: the workload identity provider (`wip_…`); null for Anthropic.
    pub identity_provider_id: Option<String>,
    /// Where the exchange is posted.
    pub token_endpoint: String,
    pub federation_rule_id: Option<String>,
    pub organization_id: Option<String>,
    pub service_account_id: Option<String>,
    pub workspace_id: Option<String>,
    pub base_url: String,
    pub identity: IdentityState,
    pub cache: CacheState,
    pub can_serve: bool,
    /// Fields that came from environment variables (zero setup, or filling
    /// what the profile lacks), with the variable; the rest are the file's.
    pub origins: crate::provider::from_env::Origins,
}

#[derive(Debug, Serialize)]
pub struct IdentityState {
    pub source: String,
    pub available: bool,
    /// Why it is not available, or what is notable about it.
    pub reason: Option<String>,
    /// The audience the federation rule must match: the one the platform
    /// fixes (Azure DevOps), the one in the JWT at hand, or the one keyless
    /// asks for. None: not known without a token.
    pub audience: Option<String>,
    /// `auto`: the sources passed over, in order, with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct CacheState {
    /// missing, fresh, refresh_due (valid, past the refresh point), expired, unusable
    pub state: &'static str,
    pub path: String,
    pub expires_at: Option<i64>,
    pub expiration: Option<String>,
    pub expires_in: Option<i64>,
    pub masked_token: Option<String>,
    pub detail: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct CheckResult {
    pub provider: &'static str,
    pub ok: bool,
    pub exchange_ms: Option<u64>,
    pub models_ms: Option<u64>,
    pub models_status: Option<u16>,
    pub workspace_id: Option<String>,
    pub organization_id: Option<String>,
    pub request_id: Option<String>,
    pub error: Option<CheckError>,
}

#[derive(Debug, Serialize)]
pub struct CheckError {
    pub exit_code: i32,
    pub message: String,
    pub details: Vec<String>,
    pub hint: Option<String>,
}

impl From<&crate::error::Error> for CheckError {
    fn from(e: &crate::error::Error) -> Self {
        CheckError {
            exit_code: e.kind.exit_code(),
            message: e.message.clone(),
            details: e.details.clone(),
            hint: e.hint.clone(),
        }
    }
}

/// Everything gathering needs from outside, so tests can drive it.
pub struct Inputs<'a> {
    pub settings: &'a Settings,
    pub env: precedence::Env<'a>,
    pub cwd: Option<PathBuf>,
    pub xdg_config: Option<PathBuf>,
}

pub fn gather(inp: &Inputs) -> Report {
    let s = inp.settings;
    let home = inp.env.home.clone();
    let cache = TokenCache::new(s.cache_dir.clone());
    let mut warnings = Vec::new();

    // keyless's own configuration
    let (loaded, config_error) = match s.load_config() {
        Ok(l) => (Some(l), None),
        Err(e) => (None, Some(e.message.clone())),
    };
    let config_path = crate::config::config_path(&s.config_dir);
    let profile = loaded
        .as_ref()
        .and_then(|l| l.file.profiles.get(&s.profile));
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
                    &cache,
                    &inp.env,
                    &mut warnings,
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

    // which credential wins
    let minted = |digest: &str| cache.minted_expiry(Provider::Anthropic.name(), digest);
    let chain = precedence::chain(&inp.env, &minted);
    let scan = scan::scan(
        home.as_deref(),
        inp.cwd.as_deref(),
        inp.xdg_config.as_deref(),
    );
    // Claude Code's settings put their env block in its environment, where a
    // static credential outranks the apiKeyHelper.
    let shadow = scan.claude_shadows.first();
    let note = match shadow {
        Some(f) => Some(format!(
            "Claude Code uses {} from {}:{}, which outranks its apiKeyHelper",
            f.what, f.path, f.line
        )),
        None => precedence::claude_code_note(&chain, scan.helper.path.is_some()),
    };
    // Claude Code caches the helper's token for its TTL: longer than the
    // token lives, and its calls fail until the next re-run.
    if scan.helper.is_keyless {
        let ttl = scan
            .helper
            .ttl_ms
            .unwrap_or(claude_code::CLAUDE_CODE_DEFAULT_HELPER_TTL_MS);
        if let Some(life) = cache.shortest_lifetime(Provider::Anthropic.name())
            && ttl / 1000 >= life as u64
        {
            warnings.push(format!(
                "Claude Code re-runs keyless every {} s{}, but tokens live {life} s: set CLAUDE_CODE_API_KEY_HELPER_TTL_MS below {} (keyless setup claude-code does)",
                ttl / 1000,
                if scan.helper.ttl_ms.is_none() { " (its default)" } else { "" },
                life * 1000
            ));
        }
    }

    // Codex re-runs the auth command every refresh_interval_ms, likewise.
    let codex_home = match (inp.env.var)(env_vars::CODEX_HOME).filter(|h| !h.is_empty()) {
        Some(h) => Some(PathBuf::from(h)),
        None => home.as_ref().map(|h| h.join(".codex")),
    };
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

    let issuer = profile.and_then(|p| p.issuer.clone());
    let (store_desc, store_file) = crate::secret_store::likely_store(&s.config_dir);
    let secret_store = issuer.as_ref().map(|_| store_desc.clone());
    let session = issuer.map(|i| keyless::session_state(s, i, store_desc, store_file.as_deref()));
    let winner = chain.iter().find(|w| w.winner).map(|w| w.label.clone());
    let minted_openai = |digest: &str| cache.minted_expiry(Provider::Openai.name(), digest);
    let openai_api_key = precedence::openai_slot(&inp.env, &minted_openai);
    let mut reasons = Vec::new();
    if providers
        .iter()
        .any(|p| p.provider == Provider::Openai.name())
        && openai_api_key.claims()
        && openai_api_key.keyless_expires_at.is_none()
    {
        reasons.push(format!(
            "{} is {}, so the OpenAI SDKs use it instead of a keyless token (keyless exec --type openai replaces it)",
            env_vars::OPENAI_API_KEY,
            if openai_api_key.state == precedence::SlotState::EmptyButSet { "exported as an empty string" } else { "set" }
        ));
    }
    // A provider only the environment names, in part, is what `env` and
    // `exec` skip: a warning, unless nothing else is configured.
    for (saved, e) in &env_errors {
        if *saved || providers.is_empty() {
            reasons.push(format!("the keyless configuration cannot be used: {e}"));
        } else {
            warnings.push(format!(
                "{e} (env and exec skip it; credential names what is missing)"
            ));
        }
    }
    if let Some(e) = &config_error {
        reasons.push(format!("the keyless configuration cannot be used: {e}"));
    } else if providers.is_empty() && env_errors.is_empty() {
        reasons.push(format!(
            "no provider is configured for keyless profile {:?}; run `keyless setup anthropic …`",
            s.profile
        ));
    }
    for p in providers.iter().filter(|p| !p.can_serve) {
        reasons.push(format!(
            "keyless cannot serve {} now: {}",
            p.provider,
            p.identity
                .reason
                .clone()
                .unwrap_or_else(|| "no identity token".into())
        ));
    }
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
            "api_key" => true,
            "auth_token" => slot.keyless_expires_at.is_none(),
            _ => false,
        };
        if shadowing {
            reasons.push(format!(
                "{} is {}, so the Anthropic SDKs use it instead of a keyless token",
                slot.label,
                if slot.state == precedence::SlotState::EmptyButSet {
                    "exported as an empty string"
                } else {
                    "set"
                }
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
    Report {
        schema_version: SCHEMA_VERSION,
        ok: reasons.is_empty(),
        reasons,
        winner,
        precedence: chain,
        openai_api_key,
        claude_code: ClaudeCode {
            note,
            api_key_helper: scan.helper,
        },
        static_keys: scan.findings,
        keyless: KeylessState {
            profile: s.profile.clone(),
            profile_rule: s.profile_source.rule().into(),
            profile_file: s.profile_source.file().map(|p| p.display().to_string()),
            config_path: config_path.display().to_string(),
            config_exists: loaded.as_ref().is_some_and(|l| l.existed) || config_error.is_some(),
            config_error,
            cache_dir: s.cache_dir.display().to_string(),
            providers,
            session,
            secret_store,
            warnings,
        },
        check: None,
    }
}
