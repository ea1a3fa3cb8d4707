//! Every environment variable keyless reads or writes, as documented
//! constants: its own settings, the SDKs' variables it reads or hands on,
//! and the system's (`HOME`, `PATH`, …). No other module spells a variable's
//! name; a test in `tests/cli/layout.rs` keeps it so.

/// Reads one variable: the process environment, or a test's stand-in.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Blank means unset: a variable exported as the empty string or as white
/// space alone is read as not set, by every reader of a variable keyless
/// takes its own input from. (The Anthropic SDKs' precedence, which
/// `auth status` reports, is another matter: there an empty string claims
/// its slot.) The value itself is returned as it is.
pub fn non_blank<S: AsRef<str>>(v: Option<S>) -> Option<S> {
    v.filter(|v| !v.as_ref().trim().is_empty())
}

/// The process environment's `name`, blank meaning unset ([`non_blank`]).
pub fn var(name: &str) -> Option<String> {
    non_blank(std::env::var(name).ok())
}

/// The process environment's `name` as a path (any bytes the platform
/// allows), blank meaning unset ([`non_blank`]).
pub fn path(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.to_string_lossy().trim().is_empty())
        .map(std::path::PathBuf::from)
}

/// `name` read through `get`, blank meaning unset ([`non_blank`]).
pub fn lookup(get: Lookup, name: &str) -> Option<String> {
    non_blank(get(name))
}

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
/// The Azure IMDS base URL (scheme, host, port) in place of
/// `http://169.254.169.254`: for tests and emulators.
pub const KEYLESS_AZURE_IMDS_ENDPOINT: &str = "KEYLESS_AZURE_IMDS_ENDPOINT";
/// The directory Azure Arc's challenge key files must be in, in place of
/// the agent's (`/var/opt/azcmagent/tokens`): for tests and emulators.
pub const KEYLESS_AZURE_ARC_KEY_DIR: &str = "KEYLESS_AZURE_ARC_KEY_DIR";
/// `true` keeps `auto` from probing cloud metadata servers.
pub const KEYLESS_NO_METADATA_PROBE: &str = "KEYLESS_NO_METADATA_PROBE";
/// Seconds `exec --proxy` lets what the program left running (a daemon it
/// started) go on after the program exits, before SIGTERM, then SIGKILL
/// 3 s later, on Linux [default: 10].
pub const KEYLESS_PROXY_GRACE: &str = "KEYLESS_PROXY_GRACE";

// --- what build.rs recorded at build time, for `keyless version` ---
/// The commit built (`KEYLESS_BUILD_COMMIT` from scripts/package, else git's HEAD).
pub const BUILD_COMMIT: &str = env!("KEYLESS_BUILD_COMMIT");
/// The build time, in seconds since the epoch (`SOURCE_DATE_EPOCH` when set).
pub const BUILD_EPOCH: &str = env!("KEYLESS_BUILD_EPOCH");
/// The target triple built for.
pub const BUILD_TARGET: &str = env!("KEYLESS_BUILD_TARGET");
/// Cargo's profile (`release`, `debug`).
pub const BUILD_PROFILE: &str = env!("KEYLESS_BUILD_PROFILE");
/// `true` for a release artifact (`KEYLESS_BUILD_RELEASE=1`, release profile).
pub const BUILD_RELEASE: &str = env!("KEYLESS_BUILD_RELEASE");

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
];

/// The platforms' own credentials and request tokens, which the native
/// sources send and never print. A `command:` identity program may be the
/// platform's own CLI (`command:aws sts …`, `command:buildkite-agent oidc
/// request-token …`, `command:curl` to GitHub's request URL), so
/// [`without_secrets`] keeps them; a browser needs none:
/// [`without_any_credentials`] removes these too.
pub const PLATFORM_CREDENTIALS: &[&str] = &[
    ACTIONS_ID_TOKEN_REQUEST_TOKEN,
    IDENTITY_HEADER,
    BUILDKITE_AGENT_ACCESS_TOKEN,
    SYSTEM_ACCESSTOKEN,
    AWS_SECRET_ACCESS_KEY,
    AWS_SESSION_TOKEN,
    AWS_CONTAINER_AUTHORIZATION_TOKEN,
];

/// [`without_secrets`], and the [`PLATFORM_CREDENTIALS`] as well.
pub fn without_any_credentials(cmd: &mut std::process::Command) -> &mut std::process::Command {
    for v in PLATFORM_CREDENTIALS {
        cmd.env_remove(v);
    }
    without_secrets(cmd)
}

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
/// The file a GitHub Actions step appends `NAME<<DELIMITER` blocks to, to
/// set variables for the job's later steps (`env --shell github`).
pub const GITHUB_ENV: &str = "GITHUB_ENV";
/// GitHub Actions' OIDC token endpoint, set with `permissions: id-token: write`.
pub const ACTIONS_ID_TOKEN_REQUEST_URL: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";
/// The bearer token for that endpoint: a secret, never logged.
pub const ACTIONS_ID_TOKEN_REQUEST_TOKEN: &str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";
/// Host (and port) of Google's metadata server, as Google's libraries read
/// it; default `metadata.google.internal`.
pub const GCE_METADATA_HOST: &str = "GCE_METADATA_HOST";
/// `ip:port` of Google's metadata server for the detection ping, as
/// Google's libraries read it; default `169.254.169.254`.
pub const GCE_METADATA_IP: &str = "GCE_METADATA_IP";
/// `true` turns the detection ping of Google's metadata server off, as in
/// Google's libraries.
pub const NO_GCE_CHECK: &str = "NO_GCE_CHECK";
/// Azure App Service / Functions / Container Apps / Arc: the local
/// managed-identity endpoint.
pub const IDENTITY_ENDPOINT: &str = "IDENTITY_ENDPOINT";
/// Azure App Service: the header value that endpoint wants: a secret.
pub const IDENTITY_HEADER: &str = "IDENTITY_HEADER";
/// Azure Arc: the agent's local endpoint (with `IDENTITY_ENDPOINT`).
pub const IMDS_ENDPOINT: &str = "IMDS_ENDPOINT";
/// Azure: a user-assigned managed identity's client id, as Azure's
/// identity libraries read it.
pub const AZURE_CLIENT_ID: &str = "AZURE_CLIENT_ID";
/// AKS workload identity: the projected service-account JWT.
pub const AZURE_FEDERATED_TOKEN_FILE: &str = "AZURE_FEDERATED_TOKEN_FILE";
/// `true` in Buildkite jobs.
pub const BUILDKITE: &str = "BUILDKITE";
/// The Buildkite agent's API token in a job: a secret, never logged.
pub const BUILDKITE_AGENT_ACCESS_TOKEN: &str = "BUILDKITE_AGENT_ACCESS_TOKEN";
/// The Buildkite agent API base; default `https://agent.buildkite.com/v3`.
pub const BUILDKITE_AGENT_ENDPOINT: &str = "BUILDKITE_AGENT_ENDPOINT";
/// The Buildkite job the OIDC token is requested for.
pub const BUILDKITE_JOB_ID: &str = "BUILDKITE_JOB_ID";
/// `True` in Azure Pipelines jobs.
pub const TF_BUILD: &str = "TF_BUILD";
/// Azure Pipelines' OIDC token endpoint for the job.
pub const SYSTEM_OIDCREQUESTURI: &str = "SYSTEM_OIDCREQUESTURI";
/// Azure Pipelines' job access token, mapped into the step's env: a secret.
pub const SYSTEM_ACCESSTOKEN: &str = "SYSTEM_ACCESSTOKEN";
/// `true` in GitLab CI jobs (their `id_tokens` need `env:NAME`).
pub const GITLAB_CI: &str = "GITLAB_CI";
/// HCP Terraform's workload identity token of the run phase.
pub const TFC_WORKLOAD_IDENTITY_TOKEN: &str = "TFC_WORKLOAD_IDENTITY_TOKEN";
/// Bitbucket Pipelines' OIDC token of a step with `oidc: true`.
pub const BITBUCKET_STEP_OIDC_TOKEN: &str = "BITBUCKET_STEP_OIDC_TOKEN";
/// CircleCI's OIDC token (audience: the organization's id).
pub const CIRCLE_OIDC_TOKEN_V2: &str = "CIRCLE_OIDC_TOKEN_V2";

// --- the `aws` source: the AWS SDKs' own variables, read as they read them ---
pub const AWS_ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
/// A secret, never logged.
pub const AWS_SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
/// A secret, never logged.
pub const AWS_SESSION_TOKEN: &str = "AWS_SESSION_TOKEN";
/// EKS IRSA: a projected token for `AssumeRoleWithWebIdentity`, with the role.
pub const AWS_WEB_IDENTITY_TOKEN_FILE: &str = "AWS_WEB_IDENTITY_TOKEN_FILE";
pub const AWS_ROLE_ARN: &str = "AWS_ROLE_ARN";
pub const AWS_ROLE_SESSION_NAME: &str = "AWS_ROLE_SESSION_NAME";
/// ECS task roles: a path on `169.254.170.2`.
pub const AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: &str = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
/// EKS Pod Identity and others: a full URL (https, or http to a local host).
pub const AWS_CONTAINER_CREDENTIALS_FULL_URI: &str = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
/// The `Authorization` value for that URL: a secret, never logged.
pub const AWS_CONTAINER_AUTHORIZATION_TOKEN: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
/// A file holding it (read on each request; it wins over the variable).
pub const AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";
/// `true` turns the EC2 instance metadata service off.
pub const AWS_EC2_METADATA_DISABLED: &str = "AWS_EC2_METADATA_DISABLED";
/// The IMDS base URL [default: `http://169.254.169.254`].
pub const AWS_EC2_METADATA_SERVICE_ENDPOINT: &str = "AWS_EC2_METADATA_SERVICE_ENDPOINT";
/// `IPv6` selects `http://[fd00:ec2::254]` as the IMDS base.
pub const AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: &str = "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE";
pub const AWS_REGION: &str = "AWS_REGION";
pub const AWS_DEFAULT_REGION: &str = "AWS_DEFAULT_REGION";
/// STS's endpoint, then every service's, instead of `https://sts.REGION.amazonaws.com`.
pub const AWS_ENDPOINT_URL_STS: &str = "AWS_ENDPOINT_URL_STS";
pub const AWS_ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";
/// `true`: the two above are ignored, as in the SDKs.
pub const AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: &str = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS";

// --- printed by `keyless sandbox --print-env`: the platforms' variables
// --- that point a shell (and the platforms' own clients) at its stand-ins ---
/// The IMDS base URL azure-identity and MSAL read.
pub const AZURE_POD_IDENTITY_AUTHORITY_HOST: &str = "AZURE_POD_IDENTITY_AUTHORITY_HOST";
/// The service connection the AzureCLI task names (Azure's SDKs read it).
pub const AZURESUBSCRIPTION_SERVICE_CONNECTION_ID: &str = "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID";

// --- other tools' settings ---
/// The OpenAI API base the SDKs call (`auth status`, `setup codex`); held to the `--base-url` rule (https, or http on this machine) wherever keyless hands a token to it.
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
/// The home directory on Windows, where Claude Code and Codex keep
/// `.claude` and `.codex` (before `HOME`).
pub const USERPROFILE: &str = "USERPROFILE";
/// Windows' program data directory (Azure Arc's key files are under it).
pub const PROGRAMDATA: &str = "ProgramData";
/// Windows' programs directory: PowerShell 7's all-users profiles, scanned
/// by `auth status`.
pub const PROGRAMFILES: &str = "ProgramFiles";
/// Windows' own directory: Windows PowerShell's all-users profiles, scanned
/// by `auth status`.
pub const SYSTEMROOT: &str = "SystemRoot";
/// Where programs are found (`auth status` looks identity commands up).
pub const PATH: &str = "PATH";
/// The XDG config home, scanned by `auth status`.
pub const XDG_CONFIG_HOME: &str = "XDG_CONFIG_HOME";
/// The user's runtime directory (`/run/user/UID`): where `keyless agent`
/// keeps its one-agent locks when set.
pub const XDG_RUNTIME_DIR: &str = "XDG_RUNTIME_DIR";
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
