//! Every environment variable keyless reads or writes, as documented
//! constants: its own settings, the SDKs' variables it reads or hands on,
//! and the system's (`HOME`, `PATH`, …). No other module spells a variable's
//! name; a test in `tests/cli/layout.rs` keeps it so.

// --- keyless's own settings ---
/// Overrides the config directory (`--config-dir`).
pub const KEYLESS_CONFIG_DIR: &str = "KEYLESS_CONFIG_DIR";
/// Overrides the token cache directory (`--cache-dir`, default `~/.cache/keyless`).
pub const KEYLESS_CACHE_DIR: &str = "KEYLESS_CACHE_DIR";
/// Selects the profile (`--profile`).
pub const KEYLESS_PROFILE: &str = "KEYLESS_PROFILE";
/// Minimum remaining life, in seconds, for a cached token to be served (`--min-ttl`).
pub const KEYLESS_MIN_TTL: &str = "KEYLESS_MIN_TTL";
/// Where secrets go: auto (keyring, else a 0600 file), keyring, or file.
pub const KEYLESS_SECRET_STORE: &str = "KEYLESS_SECRET_STORE";
/// A confidential client's secret, instead of the secret store.
pub const KEYLESS_CLIENT_SECRET: &str = "KEYLESS_CLIENT_SECRET";
/// Zero setup: the identity source (any `--identity` value) when the
/// provider's own token variables are unset.
pub const KEYLESS_IDENTITY: &str = "KEYLESS_IDENTITY";
/// Zero setup: OpenAI's token endpoint [default: OpenAI's].
pub const KEYLESS_OPENAI_TOKEN_ENDPOINT: &str = "KEYLESS_OPENAI_TOKEN_ENDPOINT";
/// A PEM file of CA certificates trusted, besides the OS store, for every
/// endpoint (issuer, token endpoints, API base), like the profile's `--ca-file`.
pub const KEYLESS_CA_FILE: &str = "KEYLESS_CA_FILE";

/// The secret-holding variables keyless reads (its client secret, identity
/// JWTs, provider keys and tokens). The helpers keyless starts, a browser and
/// `command:` identity programs, need none of them: [`without_secrets`]
/// removes them. `exec`'s child is different: it is handed credentials on
/// purpose and keeps the SDK variables.
pub const SECRETS: &[&str] = &[
    KEYLESS_CLIENT_SECRET,
    ANTHROPIC_IDENTITY_TOKEN,
    OPENAI_IDENTITY_TOKEN,
    ANTHROPIC_AUTH_TOKEN,
    ANTHROPIC_API_KEY,
    OPENAI_API_KEY,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN,
];

/// `cmd` with every variable of [`SECRETS`] removed from its environment.
pub fn without_secrets(cmd: &mut std::process::Command) -> &mut std::process::Command {
    for v in SECRETS {
        cmd.env_remove(v);
    }
    cmd
}

// --- read by the `env` identity source, as the Anthropic SDKs read them ---
/// Path of a file holding the identity JWT; re-read on every exchange.
pub const ANTHROPIC_IDENTITY_TOKEN_FILE: &str = "ANTHROPIC_IDENTITY_TOKEN_FILE";
/// The identity JWT itself.
pub const ANTHROPIC_IDENTITY_TOKEN: &str = "ANTHROPIC_IDENTITY_TOKEN";

// --- read by the `env` identity source of an OpenAI profile ---
// OpenAI's SDKs read no such variables; these follow LiteLLM's
// `OPENAI_IDENTITY_TOKEN_FILE`, with the literal variant named as Anthropic's is.
/// Path of a file holding the identity JWT; re-read on every exchange.
pub const OPENAI_IDENTITY_TOKEN_FILE: &str = "OPENAI_IDENTITY_TOKEN_FILE";
/// The identity JWT itself.
pub const OPENAI_IDENTITY_TOKEN: &str = "OPENAI_IDENTITY_TOKEN";

// --- written for child processes by `env` and `exec` ---
/// The minted token; every Anthropic SDK sends it as `Authorization: Bearer`.
pub const ANTHROPIC_AUTH_TOKEN: &str = "ANTHROPIC_AUTH_TOKEN";
/// Set when the profile does not use the default API host.
pub const ANTHROPIC_BASE_URL: &str = "ANTHROPIC_BASE_URL";
/// A static key; it outranks `ANTHROPIC_AUTH_TOKEN` in every SDK, so `env` and
/// `exec` remove it unless `--keep-api-key`.
pub const ANTHROPIC_API_KEY: &str = "ANTHROPIC_API_KEY";
/// The minted OpenAI token: OpenAI clients send it as `Authorization: Bearer`,
/// and it replaces any static `sk-…` key the caller had there.
pub const OPENAI_API_KEY: &str = "OPENAI_API_KEY";

/// Where the Anthropic SDKs look for profiles (`exec --refresh` points it
/// at a private directory; `auth status` reads it).
pub const ANTHROPIC_CONFIG_DIR: &str = "ANTHROPIC_CONFIG_DIR";
/// The Anthropic SDK profile to use.
pub const ANTHROPIC_PROFILE: &str = "ANTHROPIC_PROFILE";

// --- the Anthropic SDKs' own federation variables: zero setup and `auth status` ---
pub const ANTHROPIC_FEDERATION_RULE_ID: &str = "ANTHROPIC_FEDERATION_RULE_ID";
pub const ANTHROPIC_ORGANIZATION_ID: &str = "ANTHROPIC_ORGANIZATION_ID";
pub const ANTHROPIC_SERVICE_ACCOUNT_ID: &str = "ANTHROPIC_SERVICE_ACCOUNT_ID";
pub const ANTHROPIC_WORKSPACE_ID: &str = "ANTHROPIC_WORKSPACE_ID";
/// The audience to ask ambient sources for; claude-code-action's name.
pub const ANTHROPIC_OIDC_AUDIENCE: &str = "ANTHROPIC_OIDC_AUDIENCE";

// --- OpenAI workload identity in zero setup: LiteLLM's names (OpenAI's
// --- SDKs read none), and an audience named after Anthropic's ---
pub const OPENAI_IDENTITY_PROVIDER_ID: &str = "OPENAI_IDENTITY_PROVIDER_ID";
pub const OPENAI_SERVICE_ACCOUNT_ID: &str = "OPENAI_SERVICE_ACCOUNT_ID";
/// The identity provider's audience (what `setup openai --audience` records).
pub const OPENAI_OIDC_AUDIENCE: &str = "OPENAI_OIDC_AUDIENCE";

// --- set by the platforms the ambient identity sources ask ---
/// `true` in GitHub Actions jobs.
pub const GITHUB_ACTIONS: &str = "GITHUB_ACTIONS";
/// GitHub Actions' OIDC token endpoint, set with `permissions: id-token: write`.
pub const ACTIONS_ID_TOKEN_REQUEST_URL: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";
/// The bearer token for that endpoint: a secret, never logged.
pub const ACTIONS_ID_TOKEN_REQUEST_TOKEN: &str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";
/// Host (and port) of Google's metadata server, as Google's libraries read
/// it; default `metadata.google.internal`.
pub const GCE_METADATA_HOST: &str = "GCE_METADATA_HOST";

// --- other tools' settings ---
/// The OpenAI API base the SDKs call (`auth status`, `setup codex`).
pub const OPENAI_BASE_URL: &str = "OPENAI_BASE_URL";
/// Codex's home (`setup codex`); default `~/.codex`.
pub const CODEX_HOME: &str = "CODEX_HOME";
/// How often Claude Code re-runs its `apiKeyHelper`, in milliseconds.
pub const CLAUDE_CODE_API_KEY_HELPER_TTL_MS: &str = "CLAUDE_CODE_API_KEY_HELPER_TTL_MS";
/// Claude Code's cloud provider switches: set, they outrank every Anthropic
/// credential, `apiKeyHelper` included (`setup claude-code`, `auth status`).
pub const CLAUDE_CODE_USE_BEDROCK: &str = "CLAUDE_CODE_USE_BEDROCK";
pub const CLAUDE_CODE_USE_VERTEX: &str = "CLAUDE_CODE_USE_VERTEX";
pub const CLAUDE_CODE_USE_FOUNDRY: &str = "CLAUDE_CODE_USE_FOUNDRY";
pub const CLAUDE_CODE_CLOUD_SWITCHES: [&str; 3] = [
    CLAUDE_CODE_USE_BEDROCK,
    CLAUDE_CODE_USE_VERTEX,
    CLAUDE_CODE_USE_FOUNDRY,
];

// --- the system's ---
/// The home directory: `~/` in identity file paths, tool settings, status.
pub const HOME: &str = "HOME";
/// Where programs are found (`auth status` looks identity commands up).
pub const PATH: &str = "PATH";
/// The XDG config home, scanned by `auth status`.
pub const XDG_CONFIG_HOME: &str = "XDG_CONFIG_HOME";
/// The login shell, used to pick `env`'s default output syntax.
pub const SHELL: &str = "SHELL";
/// The user's browser command, for sign-in.
pub const BROWSER: &str = "BROWSER";
/// Set in SSH sessions: no local browser to open.
pub const SSH_CONNECTION: &str = "SSH_CONNECTION";
/// An X11 display, for opening a browser.
pub const DISPLAY: &str = "DISPLAY";
/// A Wayland display, for opening a browser.
pub const WAYLAND_DISPLAY: &str = "WAYLAND_DISPLAY";
/// The D-Bus session bus the Secret Service keyring answers on.
pub const DBUS_SESSION_BUS_ADDRESS: &str = "DBUS_SESSION_BUS_ADDRESS";
/// The user's name on Windows, for the ledger's fallback directory.
pub const USERNAME: &str = "USERNAME";

// --- proxies, read as curl reads them (upper case first) ---
/// The proxy for http:// requests.
pub const HTTP_PROXY: &str = "HTTP_PROXY";
pub const HTTP_PROXY_LOWER: &str = "http_proxy";
/// The proxy for https:// requests (a CONNECT tunnel).
pub const HTTPS_PROXY: &str = "HTTPS_PROXY";
pub const HTTPS_PROXY_LOWER: &str = "https_proxy";
/// The proxy for both, where the scheme's own variable is unset.
pub const ALL_PROXY: &str = "ALL_PROXY";
pub const ALL_PROXY_LOWER: &str = "all_proxy";
/// Hosts reached directly; loopback is always reached directly.
pub const NO_PROXY: &str = "NO_PROXY";
pub const NO_PROXY_LOWER: &str = "no_proxy";
/// Set under CGI, where `HTTP_PROXY` may come from a request header
/// ("httpoxy"): no proxy variable is trusted then.
pub const REQUEST_METHOD: &str = "REQUEST_METHOD";
