//! Which credential the Anthropic SDKs pick in this environment, slot by slot,
//! in their documented order: `ANTHROPIC_API_KEY`, `ANTHROPIC_AUTH_TOKEN`,
//! `ANTHROPIC_PROFILE`, the federation variables, the active SDK profile.
//!
//! An exported empty string still claims its slot. Nothing here reads a
//! value beyond classifying it; values are never returned.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::clock;
use crate::digest;
use crate::env_vars;

/// The state of one slot of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotState {
    Unset,
    /// Exported as an empty string: the SDKs still take this slot.
    EmptyButSet,
    Set,
    /// Some but not all of what the slot needs.
    Partial,
    /// Names something that does not exist (a missing profile file).
    Missing,
}

/// Which slot: the stable identifier the JSON report carries as `slot`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotKind {
    ApiKey,
    AuthToken,
    NamedProfile,
    FederationEnv,
    ActiveProfile,
    /// The OpenAI SDKs' only slot (not part of the Anthropic chain).
    OpenaiApiKey,
}

#[derive(Debug, Clone, Serialize)]
pub struct Slot {
    pub slot: SlotKind,
    /// What a person reads: the variable or source name.
    pub label: String,
    pub state: SlotState,
    /// Classification of what is there, never the value.
    pub detail: String,
    pub winner: bool,
    /// Set for an `ANTHROPIC_AUTH_TOKEN` keyless minted: its expiry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyless_expires_at: Option<i64>,
}

impl Slot {
    fn new(slot: SlotKind, label: &str, state: SlotState, detail: impl Into<String>) -> Slot {
        Slot {
            slot,
            label: label.to_string(),
            state,
            detail: detail.into(),
            winner: false,
            keyless_expires_at: None,
        }
    }

    /// Does this slot take precedence over everything below it?
    pub fn claims(&self) -> bool {
        match self.slot {
            SlotKind::ApiKey | SlotKind::AuthToken | SlotKind::OpenaiApiKey => {
                matches!(self.state, SlotState::Set | SlotState::EmptyButSet)
            }
            // An explicit profile is used even when broken: no fall-through.
            SlotKind::NamedProfile => matches!(
                self.state,
                SlotState::Set | SlotState::Missing | SlotState::EmptyButSet
            ),
            SlotKind::FederationEnv | SlotKind::ActiveProfile => self.state == SlotState::Set,
        }
    }

    /// "exported as an empty string" or "set", for a sentence about a slot
    /// that claims.
    pub fn how_set(&self) -> &'static str {
        if self.state == SlotState::EmptyButSet {
            "exported as an empty string"
        } else {
            "set"
        }
    }
}

/// Reads variables through a closure so tests and the real environment share code.
pub struct Env<'a> {
    pub var: &'a dyn Fn(&str) -> Option<String>,
    pub home: Option<PathBuf>,
}

impl Env<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.var)(name)
    }

    /// A variable that is set to something other than the empty string.
    fn set(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| !v.is_empty())
    }

    fn tilde(&self, p: &Path) -> String {
        crate::clients::scan::tilde(p, self.home.as_deref())
    }
}

/// The SDK config directory: `$ANTHROPIC_CONFIG_DIR`, else `~/.config/anthropic`.
pub fn sdk_config_dir(env: &Env) -> Option<PathBuf> {
    match env
        .get(env_vars::ANTHROPIC_CONFIG_DIR)
        .filter(|v| !v.is_empty())
    {
        Some(d) => Some(PathBuf::from(d)),
        None => env.home.as_ref().map(|h| h.join(".config/anthropic")),
    }
}

fn profile_type(path: &Path) -> Option<String> {
    let text = crate::clients::scan::read_capped(path)?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some(
        v.get("authentication")
            .and_then(|a| a.get("type"))
            .and_then(|t| t.as_str())
            .unwrap_or("unknown type")
            .to_string(),
    )
}

/// The Anthropic SDKs' chain, one slot each, the first that claims marked
/// the winner. `minted` maps a token digest to the expiry of the keyless
/// cache entry holding it.
pub fn chain(env: &Env, minted: &dyn Fn(&str) -> Option<i64>) -> Vec<Slot> {
    let dir = sdk_config_dir(env);
    let mut slots = vec![
        api_key(env),
        auth_token(env, minted),
        named_profile(env, dir.as_deref()),
        federation_env(env),
        active_profile(env, dir.as_deref()),
    ];
    if let Some(w) = slots.iter_mut().find(|s| s.claims()) {
        w.winner = true;
    }
    slots
}

const EXPORTED_EMPTY: &str = "exported as an empty string: it still claims its slot (unset it)";

/// Slot 1: `ANTHROPIC_API_KEY`.
fn api_key(env: &Env) -> Slot {
    let mk = |state, detail: &str| {
        Slot::new(SlotKind::ApiKey, env_vars::ANTHROPIC_API_KEY, state, detail)
    };
    match env.get(env_vars::ANTHROPIC_API_KEY) {
        None => mk(SlotState::Unset, "unset"),
        Some(v) if v.is_empty() => mk(SlotState::EmptyButSet, EXPORTED_EMPTY),
        Some(v) if v.starts_with("sk-ant-api") => {
            mk(SlotState::Set, "a static API key (sk-ant-api…)")
        }
        Some(v) if v.starts_with("sk-ant-") => {
            mk(SlotState::Set, "set (not a static sk-ant-api key)")
        }
        Some(_) => mk(SlotState::Set, "set (not an Anthropic key format)"),
    }
}

/// Slot 2: `ANTHROPIC_AUTH_TOKEN`, a token keyless minted (found by digest in
/// the cache) or a foreign one.
fn auth_token(env: &Env, minted: &dyn Fn(&str) -> Option<i64>) -> Slot {
    let mk = |state, detail: String| {
        Slot::new(
            SlotKind::AuthToken,
            env_vars::ANTHROPIC_AUTH_TOKEN,
            state,
            detail,
        )
    };
    match env.get(env_vars::ANTHROPIC_AUTH_TOKEN) {
        None => mk(SlotState::Unset, "unset".into()),
        Some(v) if v.is_empty() => mk(SlotState::EmptyButSet, EXPORTED_EMPTY.into()),
        Some(v) => match minted(&digest::sha256_hex(&v)) {
            Some(exp) => Slot {
                keyless_expires_at: Some(exp),
                ..mk(
                    SlotState::Set,
                    format!("a token keyless minted; {}", expiry_words(exp)),
                )
            },
            None if v.starts_with("sk-ant-api") => mk(
                SlotState::Set,
                "a static API key (sk-ant-api…) used as a Bearer token".into(),
            ),
            None => mk(
                SlotState::Set,
                "a token keyless did not mint (foreign)".into(),
            ),
        },
    }
}

/// Slot 3: `ANTHROPIC_PROFILE`, a named SDK profile, used even when it does not
/// exist.
fn named_profile(env: &Env, dir: Option<&Path>) -> Slot {
    let mk = |state, detail: String| {
        Slot::new(
            SlotKind::NamedProfile,
            env_vars::ANTHROPIC_PROFILE,
            state,
            detail,
        )
    };
    let name = match env.get(env_vars::ANTHROPIC_PROFILE) {
        None => return mk(SlotState::Unset, "unset".into()),
        Some(v) if v.is_empty() => {
            return mk(SlotState::EmptyButSet, "exported as an empty string".into());
        }
        Some(name) => name,
    };
    match dir.map(|d| d.join("configs").join(format!("{name}.json"))) {
        Some(p) if p.is_file() => mk(
            SlotState::Set,
            format!(
                "profile {name:?} ({}) at {}",
                profile_type(&p).unwrap_or_else(|| "unreadable".into()),
                env.tilde(&p)
            ),
        ),
        Some(p) => mk(
            SlotState::Missing,
            format!(
                "profile {name:?} does not exist ({}): the SDKs fail, with no fall-through",
                env.tilde(&p)
            ),
        ),
        None => mk(SlotState::Missing, "no home directory".into()),
    }
}

/// Slot 4: the federation variables (Python SDK: rule + org + token[_file]; SA
/// optional).
fn federation_env(env: &Env) -> Slot {
    let mk = |state, detail: String| {
        Slot::new(
            SlotKind::FederationEnv,
            "federation env vars",
            state,
            detail,
        )
    };
    let has_token = env.set(env_vars::ANTHROPIC_IDENTITY_TOKEN_FILE)
        || env.set(env_vars::ANTHROPIC_IDENTITY_TOKEN);
    let token_vars = format!(
        "{} or {}",
        env_vars::ANTHROPIC_IDENTITY_TOKEN_FILE,
        env_vars::ANTHROPIC_IDENTITY_TOKEN
    );
    let required = [
        (
            env_vars::ANTHROPIC_FEDERATION_RULE_ID,
            env.set(env_vars::ANTHROPIC_FEDERATION_RULE_ID),
        ),
        (
            env_vars::ANTHROPIC_ORGANIZATION_ID,
            env.set(env_vars::ANTHROPIC_ORGANIZATION_ID),
        ),
        (token_vars.as_str(), has_token),
    ];
    let missing: Vec<&str> = required
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(n, _)| *n)
        .collect();
    let has_sa = env.set(env_vars::ANTHROPIC_SERVICE_ACCOUNT_ID);
    let any = required.iter().any(|(_, ok)| *ok) || has_sa;
    if missing.is_empty() {
        let sa = if has_sa {
            ""
        } else {
            " (no ANTHROPIC_SERVICE_ACCOUNT_ID: the docs require it, the SDKs tolerate it)"
        };
        mk(SlotState::Set, format!("the SDK exchanges for itself{sa}"))
    } else if any {
        mk(
            SlotState::Partial,
            format!(
                "partial, ignored by the SDKs: missing {}",
                missing.join(", ")
            ),
        )
    } else {
        mk(SlotState::Unset, "unset".into())
    }
}

/// Slot 5: the active SDK profile, `active_config`, else `default`.
fn active_profile(env: &Env, dir: Option<&Path>) -> Slot {
    let mk = |state, detail: String| {
        Slot::new(SlotKind::ActiveProfile, "active SDK profile", state, detail)
    };
    let Some(d) = dir else {
        return mk(SlotState::Unset, "no home directory".into());
    };
    let active = crate::clients::scan::read_capped(&d.join("active_config"))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let name = active.clone().unwrap_or_else(|| "default".into());
    let p = d.join("configs").join(format!("{name}.json"));
    let via = if active.is_some() {
        "via active_config"
    } else {
        "the fallback name"
    };
    if p.is_file() {
        mk(
            SlotState::Set,
            format!(
                "profile {name:?} ({via}, {}) at {}",
                profile_type(&p).unwrap_or_else(|| "unreadable".into()),
                env.tilde(&p)
            ),
        )
    } else {
        mk(
            SlotState::Unset,
            format!("none ({} does not exist)", env.tilde(&p)),
        )
    }
}

/// Claude Code's order differs: `ANTHROPIC_AUTH_TOKEN` outranks
/// `ANTHROPIC_API_KEY`, and an `apiKeyHelper` sits below both. Returns a line
/// only where that changes the answer.
pub fn claude_code_note(slots: &[Slot], helper_configured: bool) -> Option<String> {
    let claims = |kind: SlotKind| slots.iter().any(|s| s.slot == kind && s.claims());
    let key = claims(SlotKind::ApiKey);
    let token = claims(SlotKind::AuthToken);
    if key && token {
        return Some(
            "Claude Code differs: it uses ANTHROPIC_AUTH_TOKEN, which outranks ANTHROPIC_API_KEY there".into(),
        );
    }
    if helper_configured && (key || token) {
        let which = if token {
            env_vars::ANTHROPIC_AUTH_TOKEN
        } else {
            env_vars::ANTHROPIC_API_KEY
        };
        return Some(format!(
            "Claude Code ignores its apiKeyHelper here: {which} outranks it"
        ));
    }
    None
}

/// `OPENAI_API_KEY`: the OpenAI SDKs' only slot. A static `sk-…` key, a
/// token keyless minted (by digest against the cache), or something else.
pub fn openai_slot(env: &Env, minted: &dyn Fn(&str) -> Option<i64>) -> Slot {
    let mk = |state, detail: String, exp| Slot {
        winner: state != SlotState::Unset,
        keyless_expires_at: exp,
        ..Slot::new(
            SlotKind::OpenaiApiKey,
            env_vars::OPENAI_API_KEY,
            state,
            detail,
        )
    };
    match env.get(env_vars::OPENAI_API_KEY) {
        None => mk(SlotState::Unset, "unset".into(), None),
        Some(v) if v.is_empty() => mk(
            SlotState::EmptyButSet,
            "exported as an empty string: the OpenAI SDKs send it and fail".into(),
            None,
        ),
        Some(v) => match minted(&digest::sha256_hex(&v)) {
            Some(exp) => {
                let when = expiry_words(exp);
                mk(
                    SlotState::Set,
                    format!("a token keyless minted; {when}"),
                    Some(exp),
                )
            }
            None if v.starts_with("sk-") => {
                mk(SlotState::Set, "a static API key (sk-…)".into(), None)
            }
            None => mk(
                SlotState::Set,
                "a token keyless did not mint (foreign)".into(),
                None,
            ),
        },
    }
}

/// "expires <time> (in 9m)" or "EXPIRED <time> (3m ago)".
fn expiry_words(exp: i64) -> String {
    let now = clock::now();
    if exp > now {
        format!(
            "expires {} (in {})",
            clock::rfc3339(exp),
            clock::human_duration(exp - now)
        )
    } else {
        format!(
            "EXPIRED {} ({} ago)",
            clock::rfc3339(exp),
            clock::human_duration(now - exp)
        )
    }
}
