//! The sandbox's trusted issuers and federation rules, shaped like Anthropic's
//! Admin API objects, and its OpenAI workload identity providers with their
//! service account mappings, shaped like OpenAI's, so that a rules file reads
//! like the real configuration.
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
//! `"self"` names the sandbox's own issuer, which is always trusted. OpenAI's
//! side:
//! ```json
//! {"openai_identity_providers": [{
//!     "id": "wip_01mine", "issuer": "self", "audience": "https://api.openai.com/v1",
//!     "verification": {"type": "discovery"},
//!     "service_account_mappings": [{"service_account_id": "sa_01mine",
//!         "attribute_matchers": {"sub": "sandbox-workload"}, "token_lifetime_seconds": 600}]}]}
//! ```

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
pub const ANTHROPIC_AUDIENCE: &str = crate::provider::anthropic::AUDIENCE;
pub const OPENAI_WIP: &str = "wip_01sandbox";
pub const OPENAI_SA: &str = "sa_01sandbox";
/// A mapping whose matchers nothing satisfies (to see a denial).
pub const OPENAI_DENY_SA: &str = "sa_01sandboxdenied";
pub const OPENAI_PROJECT: &str = "proj_01sandbox";
/// What OpenAI's SDKs ask identity providers for (`gcp_id_token_provider`).
pub const OPENAI_AUDIENCE: &str = "https://api.openai.com/v1";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesFile {
    #[serde(default)]
    pub issuers: Vec<Issuer>,
    #[serde(default)]
    pub rules: Vec<Rule>,
    #[serde(default)]
    pub openai_identity_providers: Vec<IdentityProvider>,
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

/// An OpenAI workload identity provider (`wip_…`), as the Admin API shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityProvider {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// The issuer URL, or "self".
    pub issuer: String,
    /// Compared with the subject token's `aud`.
    pub audience: String,
    #[serde(default)]
    pub verification: Verification,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub service_account_mappings: Vec<Mapping>,
}

/// Where the provider's signing keys come from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Verification {
    /// The issuer's discovery document (or `discovery_url`) names the JWKS.
    Discovery {
        #[serde(default)]
        discovery_url: Option<String>,
    },
    UploadedJwks {
        jwks: serde_json::Value,
    },
}

impl Default for Verification {
    fn default() -> Self {
        Verification::Discovery {
            discovery_url: None,
        }
    }
}

/// A service account mapping: the claims an identity must carry to act as
/// the service account.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub service_account_id: String,
    #[serde(default = "default_project")]
    pub project_id: String,
    /// Claim name → the exact value it must have (string, bool or number).
    pub attribute_matchers: BTreeMap<String, serde_json::Value>,
    /// Accepted for copies of Admin API objects; the sandbox grants no scopes.
    #[serde(default)]
    pub permissions: Option<serde_json::Value>,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Sandbox extension: the lifetime of tokens minted through this mapping.
    #[serde(default = "default_token_lifetime")]
    pub token_lifetime_seconds: i64,
}

fn default_project() -> String {
    OPENAI_PROJECT.into()
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
    let mapping = |sa: &str, sub: &str| Mapping {
        name: None,
        description: None,
        service_account_id: sa.into(),
        project_id: default_project(),
        attribute_matchers: BTreeMap::from([("sub".to_string(), sub.into())]),
        permissions: None,
        enabled: true,
        token_lifetime_seconds: token_lifetime,
    };
    RulesFile {
        issuers: Vec::new(),
        rules: [
            rule(SANDBOX_RULE, &format!("{SANDBOX_SUBJECT}*")),
            rule(SANDBOX_DENY_RULE, "nobody-matches-this"),
        ]
        .into_iter()
        .chain(super::platforms::rules(token_lifetime))
        .collect(),
        openai_identity_providers: vec![IdentityProvider {
            id: OPENAI_WIP.into(),
            name: Some("keyless sandbox".into()),
            issuer: "self".into(),
            audience: OPENAI_AUDIENCE.into(),
            verification: Verification::default(),
            enabled: true,
            service_account_mappings: vec![
                mapping(OPENAI_SA, SANDBOX_SUBJECT),
                mapping(OPENAI_DENY_SA, "nobody-matches-this"),
            ],
        }],
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
    for p in &rules.openai_identity_providers {
        if crate::config::checks::check_identity_provider_id(&p.id).is_err() {
            return Err(Error::config(format!(
                "sandbox identity provider {:?}: the id must look like wip_…",
                p.id
            )));
        }
        for m in &p.service_account_mappings {
            if m.attribute_matchers.is_empty() {
                return Err(Error::config(format!(
                    "sandbox identity provider {}: the mapping for {} needs attribute_matchers",
                    p.id, m.service_account_id
                )));
            }
            if !(60..=86400).contains(&m.token_lifetime_seconds) {
                return Err(Error::config(format!(
                    "sandbox identity provider {}: token_lifetime_seconds must be 60..86400",
                    p.id
                )));
            }
        }
    }
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
