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

#[derive(Debug, Clone, Serialize)]
pub struct Slot {
    /// Stable identifier: api_key, auth_token, named_profile, federation_env, active_profile.
    pub slot: &'static str,
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
    /// Does this slot take precedence over everything below it?
    pub fn claims(&self) -> bool {
        match self.slot {
            "api_key" | "auth_token" | "openai_api_key" => {
                matches!(self.state, SlotState::Set | SlotState::EmptyButSet)
            }
            // An explicit profile is used even when broken: no fall-through.
            "named_profile" => matches!(
                self.state,
                SlotState::Set | SlotState::Missing | SlotState::EmptyButSet
            ),
            _ => self.state == SlotState::Set,
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

/// `minted` maps a token digest to the expiry of the keyless cache entry holding it.
pub fn chain(env: &Env, minted: &dyn Fn(&str) -> Option<i64>) -> Vec<Slot> {
    let mut slots = Vec::new();
    let slot = |slot, label: &str, state, detail: String| Slot {
        slot,
        label: label.to_string(),
        state,
        detail,
        winner: false,
        keyless_expires_at: None,
    };

    // 1. ANTHROPIC_API_KEY
    slots.push(match env.get(env_vars::ANTHROPIC_API_KEY) {
        None => slot(
            "api_key",
            env_vars::ANTHROPIC_API_KEY,
            SlotState::Unset,
            "unset".into(),
        ),
        Some(v) if v.is_empty() => slot(
            "api_key",
            env_vars::ANTHROPIC_API_KEY,
            SlotState::EmptyButSet,
            "exported as an empty string: it still claims its slot (unset it)".into(),
        ),
        Some(v) => {
            let what = if v.starts_with("sk-ant-api") {
                "a static API key (sk-ant-api…)"
            } else if v.starts_with("sk-ant-") {
                "set (not a static sk-ant-api key)"
            } else {
                "set (not an Anthropic key format)"
            };
            slot(
                "api_key",
                env_vars::ANTHROPIC_API_KEY,
                SlotState::Set,
                what.into(),
            )
        }
    });

    // 2. ANTHROPIC_AUTH_TOKEN
    slots.push(match env.get(env_vars::ANTHROPIC_AUTH_TOKEN) {
        None => slot(
            "auth_token",
            env_vars::ANTHROPIC_AUTH_TOKEN,
            SlotState::Unset,
            "unset".into(),
        ),
        Some(v) if v.is_empty() => slot(
            "auth_token",
            env_vars::ANTHROPIC_AUTH_TOKEN,
            SlotState::EmptyButSet,
            "exported as an empty string: it still claims its slot (unset it)".into(),
        ),
        Some(v) => match minted(&digest::sha256_hex(&v)) {
            Some(exp) => {
                let when = expiry_words(exp);
                let mut s = slot(
                    "auth_token",
                    env_vars::ANTHROPIC_AUTH_TOKEN,
                    SlotState::Set,
                    format!("a token keyless minted; {when}"),
                );
                s.keyless_expires_at = Some(exp);
                s
            }
            None => {
                let what = if v.starts_with("sk-ant-api") {
                    "a static API key (sk-ant-api…) used as a Bearer token"
                } else {
                    "a token keyless did not mint (foreign)"
                };
                slot(
                    "auth_token",
                    env_vars::ANTHROPIC_AUTH_TOKEN,
                    SlotState::Set,
                    what.into(),
                )
            }
        },
    });

    // 3. ANTHROPIC_PROFILE
    let dir = sdk_config_dir(env);
    slots.push(match env.get(env_vars::ANTHROPIC_PROFILE) {
        None => slot(
            "named_profile",
            env_vars::ANTHROPIC_PROFILE,
            SlotState::Unset,
            "unset".into(),
        ),
        Some(v) if v.is_empty() => slot(
            "named_profile",
            env_vars::ANTHROPIC_PROFILE,
            SlotState::EmptyButSet,
            "exported as an empty string".into(),
        ),
        Some(name) => {
            let path = dir
                .as_ref()
                .map(|d| d.join("configs").join(format!("{name}.json")));
            match path {
                Some(p) if p.is_file() => slot(
                    "named_profile",
                    env_vars::ANTHROPIC_PROFILE,
                    SlotState::Set,
                    format!(
                        "profile {name:?} ({}) at {}",
                        profile_type(&p).unwrap_or_else(|| "unreadable".into()),
                        crate::clients::scan::tilde(&p, env.home.as_deref())
                    ),
                ),
                Some(p) => slot(
                    "named_profile",
                    env_vars::ANTHROPIC_PROFILE,
                    SlotState::Missing,
                    format!(
                        "profile {name:?} does not exist ({}): the SDKs fail, with no fall-through",
                        crate::clients::scan::tilde(&p, env.home.as_deref())
                    ),
                ),
                None => slot(
                    "named_profile",
                    env_vars::ANTHROPIC_PROFILE,
                    SlotState::Missing,
                    "no home directory".into(),
                ),
            }
        }
    });

    // 4. Federation variables (Python SDK: rule + org + token[_file]; SA optional).
    let set = |n: &str| env.get(n).is_some_and(|v| !v.is_empty());
    let has_token =
        set(env_vars::ANTHROPIC_IDENTITY_TOKEN_FILE) || set(env_vars::ANTHROPIC_IDENTITY_TOKEN);
    let token_vars = format!(
        "{} or {}",
        env_vars::ANTHROPIC_IDENTITY_TOKEN_FILE,
        env_vars::ANTHROPIC_IDENTITY_TOKEN
    );
    let required = [
        (
            env_vars::ANTHROPIC_FEDERATION_RULE_ID,
            set(env_vars::ANTHROPIC_FEDERATION_RULE_ID),
        ),
        (
            env_vars::ANTHROPIC_ORGANIZATION_ID,
            set(env_vars::ANTHROPIC_ORGANIZATION_ID),
        ),
        (token_vars.as_str(), has_token),
    ];
    let missing: Vec<&str> = required
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(n, _)| *n)
        .collect();
    let any = required.iter().any(|(_, ok)| *ok) || set(env_vars::ANTHROPIC_SERVICE_ACCOUNT_ID);
    slots.push(if missing.is_empty() {
        let sa = if set(env_vars::ANTHROPIC_SERVICE_ACCOUNT_ID) {
            ""
        } else {
            " (no ANTHROPIC_SERVICE_ACCOUNT_ID: the docs require it, the SDKs tolerate it)"
        };
        slot(
            "federation_env",
            "federation env vars",
            SlotState::Set,
            format!("the SDK exchanges for itself{sa}"),
        )
    } else if any {
        slot(
            "federation_env",
            "federation env vars",
            SlotState::Partial,
            format!(
                "partial, ignored by the SDKs: missing {}",
                missing.join(", ")
            ),
        )
    } else {
        slot(
            "federation_env",
            "federation env vars",
            SlotState::Unset,
            "unset".into(),
        )
    });

    // 5. The active SDK profile: active_config, else `default`.
    slots.push(match &dir {
        None => slot(
            "active_profile",
            "active SDK profile",
            SlotState::Unset,
            "no home directory".into(),
        ),
        Some(d) => {
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
                slot(
                    "active_profile",
                    "active SDK profile",
                    SlotState::Set,
                    format!(
                        "profile {name:?} ({via}, {}) at {}",
                        profile_type(&p).unwrap_or_else(|| "unreadable".into()),
                        crate::clients::scan::tilde(&p, env.home.as_deref())
                    ),
                )
            } else {
                slot(
                    "active_profile",
                    "active SDK profile",
                    SlotState::Unset,
                    format!(
                        "none ({} does not exist)",
                        crate::clients::scan::tilde(&p, env.home.as_deref())
                    ),
                )
            }
        }
    });

    if let Some(w) = slots.iter_mut().find(|s| s.claims()) {
        w.winner = true;
    }
    slots
}

/// Claude Code's order differs: `ANTHROPIC_AUTH_TOKEN` outranks
/// `ANTHROPIC_API_KEY`, and an `apiKeyHelper` sits below both. Returns a line
/// only where that changes the answer.
pub fn claude_code_note(slots: &[Slot], helper_configured: bool) -> Option<String> {
    let claims = |name: &str| slots.iter().any(|s| s.slot == name && s.claims());
    let key = claims("api_key");
    let token = claims("auth_token");
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
        slot: "openai_api_key",
        label: env_vars::OPENAI_API_KEY.into(),
        state,
        detail,
        winner: state != SlotState::Unset,
        keyless_expires_at: exp,
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
