//! The sandbox's trusted issuers and federation rules, shaped like Anthropic's
//! Admin API objects so that a rules file reads like the real configuration.
//!
//! ```json
//! {"issuers": [{"issuer_url": "http://127.0.0.1:9000/oidc",
//!               "jwks": {"type": "discovery"},
//!               "max_jwt_lifetime_seconds": 3600, "check_jti": true}],
//!  "rules": [{"id": "fdrl_01mine", "organization_id": "<uuid>",
//!             "issuer_url": "self",
//!             "match": {"subject_prefix": "sandbox-*", "audience": "https://api.anthropic.com"},
//!             "service_account_id": "svac_01mine", "workspace_ids": ["wrkspc_01mine"],
//!             "token_lifetime_seconds": 600, "oauth_scope": "workspace:developer"}]}
//! ```
//! `"self"` names the sandbox's own issuer, which is always trusted.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub const SANDBOX_ORG: &str = "5a4d8b0c-1e55-4e7a-9d3b-5a4db0c1e550";
pub const SANDBOX_RULE: &str = "fdrl_01sandboxdefault";
pub const SANDBOX_DENY_RULE: &str = "fdrl_01sandboxdenied";
pub const SANDBOX_SA: &str = "svac_01sandbox";
pub const SANDBOX_WORKSPACE: &str = "wrkspc_01sandbox";
pub const SANDBOX_SUBJECT: &str = "sandbox-workload";
pub const ANTHROPIC_AUDIENCE: &str = "https://api.anthropic.com";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesFile {
    #[serde(default)]
    pub issuers: Vec<Issuer>,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Issuer {
    pub issuer_url: String,
    #[serde(default)]
    pub jwks: Jwks,
    #[serde(default = "default_max_lifetime")]
    pub max_jwt_lifetime_seconds: i64,
    #[serde(default = "yes")]
    pub check_jti: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Jwks {
    /// `<discovery_base or issuer_url>/.well-known/openid-configuration` → `jwks_uri`.
    #[default]
    Discovery,
    ExplicitUrl {
        url: String,
    },
    Inline {
        keys: Vec<serde_json::Value>,
    },
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Match {
    #[serde(default)]
    pub subject_prefix: Option<String>,
    #[serde(default)]
    pub audience: Option<String>,
    #[serde(default)]
    pub claims: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub organization_id: String,
    pub issuer_url: String,
    #[serde(rename = "match")]
    pub matcher: Match,
    pub service_account_id: String,
    pub workspace_ids: Vec<String>,
    #[serde(default = "default_token_lifetime")]
    pub token_lifetime_seconds: i64,
    #[serde(default = "default_scope")]
    pub oauth_scope: String,
}

fn default_max_lifetime() -> i64 {
    3600
}
fn yes() -> bool {
    true
}
fn default_token_lifetime() -> i64 {
    3600
}
fn default_scope() -> String {
    "workspace:developer".into()
}

/// The rules the sandbox starts with: one that the sandbox's own workload
/// tokens satisfy, and one that nothing satisfies (to see a denial).
pub fn defaults(token_lifetime: i64) -> RulesFile {
    let rule = |id: &str, prefix: &str| Rule {
        id: id.into(),
        organization_id: SANDBOX_ORG.into(),
        issuer_url: "self".into(),
        matcher: Match {
            subject_prefix: Some(prefix.into()),
            audience: Some(ANTHROPIC_AUDIENCE.into()),
            claims: BTreeMap::new(),
        },
        service_account_id: SANDBOX_SA.into(),
        workspace_ids: vec![SANDBOX_WORKSPACE.into()],
        token_lifetime_seconds: token_lifetime,
        oauth_scope: default_scope(),
    };
    RulesFile {
        issuers: Vec::new(),
        rules: vec![
            rule(SANDBOX_RULE, &format!("{SANDBOX_SUBJECT}*")),
            rule(SANDBOX_DENY_RULE, "nobody-matches-this"),
        ],
    }
}

pub fn load(path: &Path) -> Result<RulesFile> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io("cannot read the sandbox rules file", path, &e).kind_config())?;
    let rules: RulesFile = serde_json::from_str(&text).map_err(|e| {
        Error::config(format!(
            "invalid sandbox rules in {} at line {}, column {}: {e}",
            path.display(),
            e.line(),
            e.column()
        ))
    })?;
    for r in &rules.rules {
        if r.matcher.subject_prefix.is_none() && r.matcher.claims.is_empty() {
            return Err(Error::config(format!(
                "sandbox rule {} needs a subject_prefix or claims to match (as Anthropic requires)",
                r.id
            )));
        }
        if !(60..=86400).contains(&r.token_lifetime_seconds) {
            return Err(Error::config(format!(
                "sandbox rule {}: token_lifetime_seconds must be 60..86400",
                r.id
            )));
        }
    }
    Ok(rules)
}
