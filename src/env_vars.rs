//! Every environment variable keyless reads or writes, as documented constants.

// --- keyless's own settings ---
/// Overrides the config directory (`--config-dir`).
pub const KEYLESS_CONFIG_DIR: &str = "KEYLESS_CONFIG_DIR";
/// Overrides the token cache directory (default `~/.cache/keyless`).
pub const KEYLESS_CACHE_DIR: &str = "KEYLESS_CACHE_DIR";
/// Selects the profile (`--profile`).
pub const KEYLESS_PROFILE: &str = "KEYLESS_PROFILE";
/// Minimum remaining life, in seconds, for a cached token to be served (`--min-ttl`).
pub const KEYLESS_MIN_TTL: &str = "KEYLESS_MIN_TTL";
/// Where secrets go: auto (keyring, else a 0600 file), keyring, or file.
pub const KEYLESS_SECRET_STORE: &str = "KEYLESS_SECRET_STORE";
/// A confidential client's secret, instead of the secret store.
pub const KEYLESS_CLIENT_SECRET: &str = "KEYLESS_CLIENT_SECRET";

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

// --- read to decide how to talk to people ---
/// The login shell, used to pick `env`'s default output syntax.
pub const SHELL: &str = "SHELL";
