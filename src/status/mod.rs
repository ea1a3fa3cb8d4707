//! `auth status`, the analysis: which credential wins for the Anthropic SDKs
//! here, where static keys are still defined, and whether keyless can serve.
//!
//! Gathering reads the environment and a handful of small files. It makes no
//! network call, runs no identity command and changes nothing; `--check`
//! (in the command) is the only part that exchanges.

pub mod precedence;
pub mod scan;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::acquire;
use crate::cache::{Inspection, TokenCache};
use crate::config::{AnthropicConfig, IdentitySource};
use crate::jwt;
use crate::redact::mask_token;
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
}

#[derive(Debug, Serialize)]
pub struct IdentityState {
    pub source: String,
    pub available: bool,
    /// Why it is not available, or what is notable about it.
    pub reason: Option<String>,
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
    let mut providers = Vec::new();
    if let Some(l) = &loaded
        && let Some(p) = l.file.profiles.get(&s.profile)
        && let Some(cfg) = &p.anthropic
    {
        providers.push(anthropic_state(s, cfg, &cache, &inp.env, &mut warnings));
    }
    if let Some(l) = &loaded
        && let Some(p) = l.file.profiles.get(&s.profile)
        && let Some(cfg) = &p.openai
    {
        providers.push(openai_state(s, cfg, &cache, &inp.env, &mut warnings));
    }
    if let Ok(meta) = std::fs::symlink_metadata(&s.cache_dir)
        && let Err(u) = crate::private_fs::check(&meta, 0o077)
    {
        warnings.push(format!("cache directory: {}", u.describe(&s.cache_dir)));
    }

    // which credential wins
    let minted = |digest: &str| minted_expiry(&cache, "anthropic", digest);
    let chain = precedence::chain(&inp.env, &minted);
    let scan = scan::scan(
        home.as_deref(),
        inp.cwd.as_deref(),
        inp.xdg_config.as_deref(),
    );
    let note = precedence::claude_code_note(&chain, scan.helper.path.is_some());
    // Claude Code caches the helper's token for its TTL: longer than the
    // token lives, and its calls fail until the next re-run.
    if scan.helper.is_keyless {
        let ttl = scan.helper.ttl_ms.unwrap_or(300_000);
        if let Some(life) = crate::commands::setup_claude::shortest_lifetime(&cache)
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

    let issuer = loaded
        .as_ref()
        .and_then(|l| l.file.profiles.get(&s.profile))
        .and_then(|p| p.issuer.clone());
    let (store_desc, store_file) = crate::secret_store::likely_store(&s.config_dir);
    let secret_store = issuer.as_ref().map(|_| store_desc.clone());
    let session = issuer.map(|i| {
        let f = crate::session::read_session(s).filter(|f| f.issuer == i.issuer);
        SessionState {
            signed_in: f.is_some(),
            subject: f.as_ref().map(|f| f.sub.clone()),
            email: f.as_ref().and_then(|f| f.email.clone()),
            id_token_expires_at: f.as_ref().and_then(|f| f.id_token_exp),
            id_token_expiration: f.as_ref().and_then(|f| f.id_token_exp).map(jwt::rfc3339),
            refresh_token_store: store_desc,
            refresh_token_present: store_file.as_deref().map(|p| {
                crate::secret_store::file_has(
                    p,
                    &crate::secret_store::refresh_token_name(&s.profile),
                )
            }),
            issuer: i.issuer,
            client_id: i.client_id,
        }
    });
    let winner = chain.iter().find(|w| w.winner).map(|w| w.label.clone());
    let minted_openai = |digest: &str| minted_expiry(&cache, "openai", digest);
    let openai_api_key = precedence::openai_slot(&inp.env, &minted_openai);
    let mut reasons = Vec::new();
    if providers.iter().any(|p| p.provider == "openai")
        && openai_api_key.claims()
        && openai_api_key.keyless_expires_at.is_none()
    {
        reasons.push(format!(
            "OPENAI_API_KEY is {}, so the OpenAI SDKs use it instead of a keyless token (keyless exec --type openai replaces it)",
            if openai_api_key.state == precedence::SlotState::EmptyButSet { "exported as an empty string" } else { "set" }
        ));
    }
    if let Some(e) = &config_error {
        reasons.push(format!("the keyless configuration cannot be used: {e}"));
    } else if providers.is_empty() {
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
            && exp <= jwt::now()
        {
            reasons.push(
                "ANTHROPIC_AUTH_TOKEN holds a keyless token that has expired; run eval \"$(keyless env)\" again or use keyless exec".into(),
            );
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

/// The expiry of a cached keyless token whose digest matches, if any.
fn minted_expiry(cache: &TokenCache, provider: &str, digest: &str) -> Option<i64> {
    cache.entries_for(provider).into_iter().find_map(|p| {
        let bytes = std::fs::read(&p).ok()?;
        let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        let tok = v.get("access_token")?.as_str()?;
        (jwt::digest(tok) == digest)
            .then(|| v.get("expires_at").and_then(|e| e.as_i64()).unwrap_or(0))
    })
}

fn cache_state(
    cache: &TokenCache,
    key: &crate::cache::CacheKey,
    warnings: &mut Vec<String>,
) -> CacheState {
    let now = jwt::now();
    let mut c = CacheState {
        state: "missing",
        path: cache.entry_path(key).display().to_string(),
        expires_at: None,
        expiration: None,
        expires_in: None,
        masked_token: None,
        detail: None,
    };
    match cache.inspect(key) {
        Inspection::Missing => {}
        Inspection::Unsafe(m) | Inspection::Unreadable(m) => {
            warnings.push(format!("{m}; the next call replaces it"));
            c.state = "unusable";
            c.detail = Some(m);
        }
        Inspection::Valid(e) => {
            c.state = if e.expires_at <= now {
                "expired"
            } else if e.is_fresh(now, 300) {
                "fresh"
            } else {
                "refresh_due"
            };
            c.expires_at = Some(e.expires_at);
            c.expiration = Some(jwt::rfc3339(e.expires_at));
            c.expires_in = Some(e.expires_at - now);
            c.masked_token = Some(mask_token(e.access_token.expose()));
        }
    }
    c
}

fn anthropic_state(
    s: &Settings,
    cfg: &AnthropicConfig,
    cache: &TokenCache,
    env: &precedence::Env,
    warnings: &mut Vec<String>,
) -> ProviderState {
    let cstate = cache_state(
        cache,
        &acquire::anthropic_cache_key(&s.profile, cfg),
        warnings,
    );
    let identity = identity_state("anthropic", &cfg.identity, s, cache, env);
    ProviderState {
        provider: "anthropic",
        identity_provider_id: None,
        token_endpoint: crate::provider::anthropic::token_url(cfg.base_url()),
        federation_rule_id: Some(cfg.federation_rule_id.clone()),
        organization_id: Some(cfg.organization_id.clone()),
        service_account_id: cfg.service_account_id.clone(),
        workspace_id: cfg.workspace_id.clone(),
        base_url: cfg.base_url().to_string(),
        can_serve: identity.available || cstate.expires_in.is_some_and(|l| l > 30),
        identity,
        cache: cstate,
    }
}

fn openai_state(
    s: &Settings,
    cfg: &crate::config::OpenAiConfig,
    cache: &TokenCache,
    env: &precedence::Env,
    warnings: &mut Vec<String>,
) -> ProviderState {
    let cstate = cache_state(cache, &acquire::openai_cache_key(&s.profile, cfg), warnings);
    let identity = identity_state("openai", &cfg.identity, s, cache, env);
    ProviderState {
        provider: "openai",
        identity_provider_id: Some(cfg.identity_provider_id.clone()),
        token_endpoint: cfg.token_endpoint().to_string(),
        federation_rule_id: None,
        organization_id: None,
        service_account_id: Some(cfg.service_account_id.clone()),
        workspace_id: None,
        base_url: openai_api_base(cfg, env),
        can_serve: identity.available || cstate.expires_in.is_some_and(|l| l > 30),
        identity,
        cache: cstate,
    }
}

/// The OpenAI API base the SDKs would call: `OPENAI_BASE_URL`, else the
/// origin of a loopback token endpoint (the sandbox), else api.openai.com.
pub fn openai_api_base(cfg: &crate::config::OpenAiConfig, env: &precedence::Env) -> String {
    if let Some(b) = (env.var)("OPENAI_BASE_URL").filter(|b| !b.is_empty()) {
        return b.trim_end_matches('/').to_string();
    }
    match url::Url::parse(cfg.token_endpoint()) {
        Ok(u) if matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")) => {
            format!("{}/v1", u.origin().ascii_serialization())
        }
        _ => "https://api.openai.com/v1".to_string(),
    }
}

/// Is a JWT available from this source right now? Files and variables are
/// read and inspected; a command is only looked up, never run.
fn identity_state(
    provider: &str,
    src: &IdentitySource,
    settings: &Settings,
    cache: &TokenCache,
    env: &precedence::Env,
) -> IdentityState {
    let source = src.spec();
    let state = |available: bool, reason: Option<String>| IdentityState {
        source: source.clone(),
        available,
        reason,
    };
    let judge = |token: &str, what: &str| -> (bool, Option<String>) {
        match jwt::check_assertion(token, what, jwt::now()) {
            Err(e) => (false, Some(e.message)),
            Ok(_) => match cache.exchanged_at(&crate::cache::ledger_name(provider, token)) {
                Some(_) => (
                    false,
                    Some(format!(
                        "{what} was already exchanged; waiting for a new one"
                    )),
                ),
                None => (true, None),
            },
        }
    };
    let from_file = |path: &Path| -> (bool, Option<String>) {
        match std::fs::read_to_string(path) {
            Ok(t) if t.trim().is_empty() => (false, Some(format!("{} is empty", path.display()))),
            Ok(t) => judge(t.trim(), &format!("the token in {}", path.display())),
            Err(e) => (
                false,
                Some(format!(
                    "cannot read {}: {}",
                    path.display(),
                    crate::error::io_reason(&e)
                )),
            ),
        }
    };
    match src {
        IdentitySource::File { path } => {
            let p = match (path.strip_prefix("~/"), &env.home) {
                (Some(rest), Some(h)) => h.join(rest),
                _ => PathBuf::from(path),
            };
            let (a, r) = from_file(&p);
            state(a, r)
        }
        IdentitySource::Env => {
            let get = |n: &str| (env.var)(n).filter(|v| !v.trim().is_empty());
            if let Some(f) = get("ANTHROPIC_IDENTITY_TOKEN_FILE") {
                let (a, r) = from_file(Path::new(&f));
                state(a, r)
            } else if let Some(t) = get("ANTHROPIC_IDENTITY_TOKEN") {
                let (a, r) = judge(t.trim(), "the token in $ANTHROPIC_IDENTITY_TOKEN");
                state(a, r)
            } else {
                state(
                    false,
                    Some(
                        "neither ANTHROPIC_IDENTITY_TOKEN_FILE nor ANTHROPIC_IDENTITY_TOKEN is set"
                            .into(),
                    ),
                )
            }
        }
        IdentitySource::Login => match crate::session::read_session(settings) {
            Some(s) => state(true, Some(format!("sign-in session for {}", s.sub))),
            None => state(
                false,
                Some("no sign-in session: run `keyless login`".into()),
            ),
        },
        IdentitySource::ClientCredentials { .. } => state(
            true,
            Some("client credentials at the issuer (not requested without --check)".into()),
        ),
        IdentitySource::Command { argv } => match argv.first() {
            None => state(false, Some("the identity command is empty".into())),
            Some(prog) => match find_program(prog, (env.var)("PATH").as_deref()) {
                Some(_) => state(
                    true,
                    Some(format!("`{prog}` found (not run without --check)")),
                ),
                None => state(
                    false,
                    Some(format!("`{prog}` is not found or not executable")),
                ),
            },
        },
    }
}

fn find_program(prog: &str, path: Option<&str>) -> Option<PathBuf> {
    let executable = |p: &Path| {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        }
        #[cfg(not(unix))]
        p.is_file()
    };
    if prog.contains('/') {
        let p = PathBuf::from(prog);
        return executable(&p).then_some(p);
    }
    std::env::split_paths(path?)
        .map(|d| d.join(prog))
        .find(|p| executable(p))
}
