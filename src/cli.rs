//! The command line, as clap derive definitions. Help text, the man pages and
//! the shell completions are all generated from these definitions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::env_vars;

pub const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  failure not covered below
  2  usage error
  3  sign-in required: no identity token can be had right now
  4  network failure, timeout, or an endpoint that does not answer as the API should
  5  denied by the provider or the identity provider
  6  configuration missing or invalid
  exec returns its child's exit code.";

#[derive(Debug, Parser)]
#[command(
    name = "keyless",
    version,
    about = "Short-lived Claude and OpenAI API tokens from workload identity federation: no static API keys",
    long_about = "keyless trades a short-lived OIDC JWT from an identity provider you already trust \
for a short-lived Claude or OpenAI API access token (workload identity federation), caches it, \
and hands it to other programs.",
    after_help = EXIT_CODES,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Directory holding config.json [default: ~/.config/keyless on Linux]
    #[arg(long, global = true, env = env_vars::KEYLESS_CONFIG_DIR, value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
    /// Named profile to use
    #[arg(long, global = true, env = env_vars::KEYLESS_PROFILE, default_value = "default", value_name = "NAME")]
    pub profile: String,
    /// More detail on stderr (-v steps, -vv debug); never secrets
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Record federation identifiers and the identity source in the config
    #[command(subcommand)]
    Setup(SetupCommand),
    /// Sign in to the profile's OpenID Connect provider (browser or device code)
    Login(LoginArgs),
    /// Revoke and forget the sign-in session and the cached tokens
    Logout(LogoutArgs),
    /// Print a valid short-lived token (cached; exchanged only when needed)
    Credential(CredentialArgs),
    /// Print shell assignments that hand the token to programs: eval "$(keyless env)"
    Env(EnvArgs),
    /// Run a program with the token in its environment (never in its argv)
    Exec(ExecArgs),
    /// Serve a local stand-in identity provider and Anthropic and OpenAI token endpoints
    Sandbox(SandboxArgs),
    /// Try keyless end to end against an in-process sandbox, with no account
    Demo,
    /// Which credential wins here, where static keys live, and whether keyless can serve
    #[command(subcommand)]
    Auth(AuthCommand),
    /// Print a shell completion script
    Completions(CompletionsArgs),
}

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Report the credential precedence, static keys and keyless's state
    #[command(
        after_help = "Exit status: 0 when keyless can serve every configured provider and \
nothing static shadows it here; 1 otherwise, with the reasons on stderr and in the JSON. Without \
--check it makes no network call and runs no identity command."
    )]
    Status(StatusArgs),
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Also exchange a fresh token and call GET /v1/models with it
    #[arg(long)]
    pub check: bool,
    /// Print the report as JSON (schema: docs/auth-status.schema.json)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum SetupCommand {
    /// Configure Anthropic workload identity federation for the profile
    Anthropic(SetupAnthropicArgs),
    /// Configure OpenAI workload identity federation for the profile
    #[command(
        after_help = "With --identity env, keyless reads OPENAI_IDENTITY_TOKEN_FILE (a path), \
then OPENAI_IDENTITY_TOKEN (the JWT itself). OpenAI's SDKs read no such variables; the names follow \
LiteLLM's OPENAI_IDENTITY_TOKEN_FILE."
    )]
    Openai(SetupOpenAiArgs),
    /// Configure the OpenID Connect provider `keyless login` signs in to
    Issuer(SetupIssuerArgs),
    /// Wire Claude Code's apiKeyHelper to `keyless credential anthropic`
    ClaudeCode(SetupClaudeCodeArgs),
    /// Make Codex get its OpenAI token from `keyless credential openai`
    Codex(SetupCodexArgs),
}

#[derive(Debug, Args)]
#[command(
    after_help = "The issuer's discovery document is fetched to check it (its `issuer` must match \
exactly). A client secret is read only from stdin (--client-secret-stdin) or KEYLESS_CLIENT_SECRET, \
never from the command line, and kept in the secret store. Once an issuer is set, the sign-in session \
becomes the identity source of the profile's providers that used `env`."
)]
pub struct SetupIssuerArgs {
    /// Issuer URL, exactly as the provider publishes it (https, or http on loopback)
    #[arg(long, value_name = "URL")]
    pub issuer: String,
    /// OAuth client id registered for keyless
    #[arg(long, value_name = "ID")]
    pub client_id: String,
    /// Read a confidential client's secret from stdin
    #[arg(long)]
    pub client_secret_stdin: bool,
    /// Scope to request (repeatable) [default: openid email profile offline_access]
    #[arg(long = "scope", value_name = "S")]
    pub scopes: Vec<String>,
    /// How `keyless login` signs in
    #[arg(long, value_enum, default_value_t = crate::config::LoginFlow::Auto)]
    pub flow: crate::config::LoginFlow,
    /// Which token is exchanged for the API token
    #[arg(long, value_enum, default_value_t = crate::config::AssertionKind::IdToken)]
    pub assertion: crate::config::AssertionKind,
    /// Resource/audience for JWT access tokens (RFC 8707) [default: https://api.anthropic.com;
    /// for OpenAI client credentials, `setup openai --audience` wins]
    #[arg(long, value_name = "AUD")]
    pub audience: Option<String>,
    /// Fixed loopback port for providers that register one redirect URI
    #[arg(long, value_name = "PORT")]
    pub redirect_port: Option<u16>,
    /// Host in the redirect URI: 127.0.0.1, or localhost for providers that need it
    #[arg(long, value_name = "HOST", value_parser = ["127.0.0.1", "localhost"])]
    pub redirect_host: Option<String>,
    /// PEM file of extra CA certificates for a provider behind a private CA
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
    /// Save without fetching discovery (offline setup); checked at login instead
    #[arg(long)]
    pub no_verify: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClaudeScope {
    /// ~/.claude/settings.json
    User,
    /// .claude/settings.json in the current directory
    Project,
}

#[derive(Debug, Args)]
pub struct SetupClaudeCodeArgs {
    /// Which settings file to merge into
    #[arg(long, value_enum, default_value_t = ClaudeScope::User)]
    pub scope: ClaudeScope,
    /// Print the resulting settings file to stdout and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Replace an apiKeyHelper that runs something else
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct SetupCodexArgs {
    /// Print the resulting config.toml to stdout and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Switch a model_provider that selects something else
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Sign in through the browser (authorization code with PKCE)
    #[arg(long, conflicts_with = "device")]
    pub browser: bool,
    /// Sign in with a device code (RFC 8628), for machines without a browser
    #[arg(long)]
    pub device: bool,
    /// Print the URL instead of opening a browser
    #[arg(long)]
    pub no_browser: bool,
    /// Give up after this many seconds
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// Sign out of every profile
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct SetupAnthropicArgs {
    /// Federation rule ID (fdrl_…)
    #[arg(long, value_name = "fdrl_…")]
    pub federation_rule_id: Option<String>,
    /// Organization ID (a UUID)
    #[arg(long, value_name = "UUID")]
    pub organization_id: Option<String>,
    /// Service account ID (svac_…)
    #[arg(long, value_name = "svac_…")]
    pub service_account_id: Option<String>,
    /// Workspace ID (wrkspc_…, or `default`); needed when the rule covers several workspaces
    #[arg(long, value_name = "wrkspc_…|default")]
    pub workspace_id: Option<String>,
    /// API base URL; https, or http on 127.0.0.1, localhost or [::1]
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Where the identity JWT comes from: file:PATH, env, command:PROGRAM ARGS…, login, or
    /// client-credentials (the last two need `keyless setup issuer`)
    #[arg(long, value_name = "SOURCE")]
    pub identity: Option<String>,
}

#[derive(Debug, Args)]
pub struct SetupOpenAiArgs {
    /// Workload identity provider ID (wip_…)
    #[arg(long, value_name = "wip_…")]
    pub identity_provider_id: Option<String>,
    /// Service account ID the provider's mapping binds the identity to (not checked locally)
    #[arg(long, value_name = "ID")]
    pub service_account_id: Option<String>,
    /// Token endpoint [default: https://auth.openai.com/oauth/token]; https, or http on loopback
    #[arg(long, value_name = "URL")]
    pub token_endpoint: Option<String>,
    /// Where the identity JWT comes from: file:PATH, env, command:PROGRAM ARGS…, login, or
    /// client-credentials (the last two need `keyless setup issuer`)
    #[arg(long, value_name = "SOURCE")]
    pub identity: Option<String>,
    /// The audience configured on the identity provider (not sent: OpenAI compares it with the
    /// JWT's aud; keyless warns before spending a JWT for another audience, and the
    /// client-credentials source asks for it)
    #[arg(long, value_name = "AUD")]
    pub audience: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Provider {
    /// Anthropic (Claude API)
    Anthropic,
    /// OpenAI (OpenAI API)
    Openai,
}

impl Provider {
    pub fn name(self) -> &'static str {
        match self {
            Provider::Anthropic => "anthropic",
            Provider::Openai => "openai",
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct FreshnessArgs {
    /// Serve a cached token only while more than min(SECS, half its lifetime) remains
    #[arg(long, env = env_vars::KEYLESS_MIN_TTL, default_value_t = 300, value_name = "SECS")]
    pub min_ttl: u32,
    /// Exchange a new token even if the cache holds a fresh one
    #[arg(long)]
    pub force_refresh: bool,
    /// Never start an interactive sign-in; exit 3 when one is needed
    #[arg(long)]
    pub no_login: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokenFormat {
    /// The bare token (a trailing newline only on a terminal)
    Token,
    /// {"access_token","token_type","expires_at","expiration"}
    Json,
}

#[derive(Debug, Args)]
pub struct CredentialArgs {
    /// Which provider's token to print
    #[arg(value_enum)]
    pub provider: Provider,
    /// Output format
    #[arg(long, value_enum, default_value_t = TokenFormat::Token)]
    pub format: TokenFormat,
    #[command(flatten)]
    pub freshness: FreshnessArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShellKind {
    Bash,
    Zsh,
    Fish,
    Powershell,
    Dotenv,
    Json,
}

#[derive(Debug, Args)]
pub struct EnvArgs {
    /// Provider to serve (repeatable) [default: every configured provider]
    #[arg(long = "type", value_enum, value_name = "PROVIDER")]
    pub types: Vec<Provider>,
    /// Output syntax [default: from $SHELL, else bash]
    #[arg(long, value_enum)]
    pub shell: Option<ShellKind>,
    /// Leave ANTHROPIC_API_KEY alone (it outranks the token in every SDK)
    #[arg(long)]
    pub keep_api_key: bool,
    #[command(flatten)]
    pub freshness: FreshnessArgs,
}

#[derive(Debug, Args)]
#[command(
    after_help = "For Anthropic the child gets ANTHROPIC_AUTH_TOKEN (and ANTHROPIC_BASE_URL when the \
profile sets one) and loses ANTHROPIC_API_KEY. For OpenAI it gets the token as OPENAI_API_KEY, the \
only variable OpenAI's SDKs read, replacing any static key there. On Unix keyless replaces itself \
with the child, so signals and the exit status are the child's own. A command that is not found \
exits 127; one that cannot be executed exits 126."
)]
pub struct ExecArgs {
    /// Provider to serve (repeatable) [default: every configured provider]
    #[arg(long = "type", value_enum, value_name = "PROVIDER")]
    pub types: Vec<Provider>,
    /// Leave ANTHROPIC_API_KEY alone (it outranks the token in every SDK)
    #[arg(long)]
    pub keep_api_key: bool,
    /// Stay as the parent and keep a long-running child signed in (Anthropic
    /// only: OpenAI's SDKs read only OPENAI_API_KEY, which cannot be refreshed
    /// inside a running process)
    #[arg(long)]
    pub refresh: bool,
    #[command(flatten)]
    pub freshness: FreshnessArgs,
    /// The program and its arguments
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<std::ffi::OsString>,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SandboxArgs {
    #[command(subcommand)]
    pub command: Option<SandboxCommand>,
    #[command(flatten)]
    pub serve: SandboxServeArgs,
}

#[derive(Debug, Clone, Args)]
pub struct SandboxServeArgs {
    /// Port on 127.0.0.1 (0 picks a free one)
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// JSON file of trusted issuers and federation rules (see the README)
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Lifetime of tokens minted by the default rule, in seconds
    #[arg(long, default_value_t = 600, value_name = "SECS")]
    pub token_lifetime: u32,
}

#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Print a fresh identity JWT from a running sandbox (an identity source for tests and demos)
    IdentityToken(IdentityTokenArgs),
}

#[derive(Debug, Args)]
pub struct IdentityTokenArgs {
    /// The sandbox's URL, as it printed it
    #[arg(long, value_name = "URL")]
    pub issuer: String,
    /// The token's subject
    #[arg(long, default_value = "sandbox-workload")]
    pub subject: String,
    /// The token's audience (repeatable: several make `aud` a list)
    #[arg(long, default_value = "https://api.anthropic.com")]
    pub audience: Vec<String>,
    /// The token's lifetime in seconds
    #[arg(long, default_value_t = 300)]
    pub lifetime: u32,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// The clap command, for help, man pages and completions.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}
