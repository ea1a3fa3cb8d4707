//! The `auth status` report: what `--json` prints, field for field
//! (`docs/auth-status.schema.json` describes it).

use serde::Serialize;

use super::precedence;
use crate::clients::scan;

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
    pub profile_rule: crate::config::profile::Rule,
    /// The file that chose it (a per-directory file, or the config naming
    /// the active profile), absolute.
    pub profile_file: Option<String>,
    /// The profile is defined by the managed configuration (IT).
    pub profile_managed: bool,
    /// The machine's managed configuration: where, and whether honoured.
    pub managed: crate::config::managed::Summary,
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
    pub state: CacheFreshness,
    pub path: String,
    pub expires_at: Option<i64>,
    pub expiration: Option<String>,
    pub expires_in: Option<i64>,
    pub masked_token: Option<String>,
    pub detail: Option<String>,
}

/// What the cache holds for a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheFreshness {
    /// No entry.
    Missing,
    Fresh,
    /// Valid, but past the point where `credential` renews it.
    RefreshDue,
    Expired,
    /// An entry that cannot be read or is not safe to use.
    Unusable,
}

impl CacheFreshness {
    /// The words the human report uses.
    pub fn words(self) -> &'static str {
        match self {
            CacheFreshness::Missing => "missing",
            CacheFreshness::Fresh => "fresh",
            CacheFreshness::RefreshDue => "refresh due",
            CacheFreshness::Expired => "expired",
            CacheFreshness::Unusable => "unusable",
        }
    }
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
