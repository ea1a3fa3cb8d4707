//! The one policy for what a program keyless hands a token to inherits:
//! every mode that starts a child (`exec`, `exec --refresh`, `exec
//! --proxy`, later `keyless agent`), and `env`'s output, which a shell
//! applies to itself, take their removals from [`RULES`]. A rule that
//! differs between modes is a field per mode, so a new mode is a new
//! column and a new variable is a new row with its reason.
//!
//! | variable | `env` output | `exec` | `exec --refresh` | `exec --proxy` | why |
//! |---|---|---|---|---|---|
//! | `KEYLESS_CLIENT_SECRET` | kept | removed | removed | removed | keyless's own secret, never a child's business |
//! | `ANTHROPIC_API_KEY` | removed if Anthropic is served, unless `--keep-api-key` | same as `env` | removed unless `--keep-api-key` | removed | outranks the token (or profile, or capability) in every Anthropic SDK |
//! | `ANTHROPIC_AUTH_TOKEN` | set: the token | set: the token | removed | set: the per-run capability | outranks a profile in every SDK |
//! | `ANTHROPIC_IDENTITY_TOKEN`, `OPENAI_IDENTITY_TOKEN` | kept | kept | kept | removed | an identity JWT buys a token at the token endpoint: behind the proxy the child holds only the capability |
//! | `ANTHROPIC_IDENTITY_TOKEN_FILE`, `OPENAI_IDENTITY_TOKEN_FILE` | kept | kept | kept | removed | they name a file holding such a JWT |
//! | `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, `SYSTEM_ACCESSTOKEN`, `BUILDKITE_AGENT_ACCESS_TOKEN`, `IDENTITY_HEADER` | kept | kept | kept | removed | a platform's request token buys such a JWT from its OIDC endpoint |
//! | `TFC_WORKLOAD_IDENTITY_TOKEN`, `BITBUCKET_STEP_OIDC_TOKEN`, `CIRCLE_OIDC_TOKEN_V2` | kept | kept | kept | removed | a CI platform's identity JWT, which the `auto` source exchanges |
//! | `AZURE_FEDERATED_TOKEN_FILE` | kept | kept | kept | removed | names AKS's projected identity JWT, which the `auto` source exchanges |
//! | the variable of an `env:NAME` source (GitLab's `id_tokens`) | kept | kept | kept | removed | the JWT the profile exchanges ([`NAMED_SOURCE`]) |
//!
//! The one rule of `--proxy`: the child holds no way to an identity JWT
//! keyless would exchange (the JWT, a file naming one, a platform's request
//! token), only the capability. Other credentials (AWS keys, cloud CLIs'
//! logins) serve the child's own work and stay. This keeps the token out of
//! the child's environment and logs; it does not contain a hostile program
//! running as the same user, which can still read keyless's cache, run
//! `keyless credential`, or read an identity token file itself.
//!
//! What each mode *sets* comes from the stage that owns the value, applied
//! after the removals: the token assignments ([`super::assignments`]: the
//! token, `ANTHROPIC_BASE_URL` when the profile names a host, removed when
//! an inherited one names another), the SDK profile
//! ([`super::sdk_profile`]: `ANTHROPIC_CONFIG_DIR`, `ANTHROPIC_PROFILE`,
//! `ANTHROPIC_BASE_URL`), the proxy (loopback base URLs, the capability in
//! `ANTHROPIC_AUTH_TOKEN` / `OPENAI_API_KEY`, loopback added to `NO_PROXY`).

use std::ffi::OsString;
use std::process::Command;

use super::Assignment;
use crate::env_vars;
use crate::output;
use crate::provider::Provider;

/// Who the environment is for: one column of [`RULES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `keyless env`: assignments the caller's shell applies to itself.
    Env,
    /// `keyless exec`: the token in the child's environment.
    Exec,
    /// `keyless exec --refresh`: an SDK profile keyless keeps current.
    Refresh,
    /// `keyless exec --proxy`: a capability for the local proxy.
    Proxy,
}

/// What happens to one variable in one mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Kept,
    Removed,
    /// Removed unless `--keep-api-key`.
    RemovedUnlessKept,
    /// Removed when this provider is served, unless `--keep-api-key`.
    RemovedIfServedUnlessKept(Provider),
}

/// One row of the policy: a variable, its rule per mode, and why.
pub struct Row {
    pub var: &'static str,
    pub env: Rule,
    pub exec: Rule,
    pub refresh: Rule,
    pub proxy: Rule,
    /// Said on stderr ("note: removing VAR, which …") when the caller's
    /// environment holds it; `None` removes it silently.
    pub note: Option<&'static str>,
    /// Why the rule is what it is (the table above, for readers of the code).
    pub why: &'static str,
}

impl Row {
    pub fn rule(&self, mode: Mode) -> Rule {
        match mode {
            Mode::Env => self.env,
            Mode::Exec => self.exec,
            Mode::Refresh => self.refresh,
            Mode::Proxy => self.proxy,
        }
    }
}

/// The policy, one row per variable keyless removes somewhere.
pub const RULES: &[Row] = &[
    Row {
        var: env_vars::KEYLESS_CLIENT_SECRET,
        env: Rule::Kept,
        exec: Rule::Removed,
        refresh: Rule::Removed,
        proxy: Rule::Removed,
        note: None,
        why: "keyless's own secret (the issuer's client secret), never a child's business",
    },
    Row {
        var: env_vars::ANTHROPIC_API_KEY,
        env: Rule::RemovedIfServedUnlessKept(Provider::Anthropic),
        exec: Rule::RemovedIfServedUnlessKept(Provider::Anthropic),
        refresh: Rule::RemovedUnlessKept,
        proxy: Rule::Removed,
        note: Some("would shadow the token in every Anthropic SDK"),
        why: "a static key outranks the token, the refreshed profile and the proxy's capability in every Anthropic SDK",
    },
    Row {
        var: env_vars::ANTHROPIC_AUTH_TOKEN,
        env: Rule::Kept,
        exec: Rule::Kept,
        refresh: Rule::Removed,
        proxy: Rule::Kept,
        note: None,
        why: "outranks a profile in every SDK (env, exec and the proxy set it themselves)",
    },
    proxy_only(
        env_vars::ANTHROPIC_IDENTITY_TOKEN,
        "an identity JWT buys a token at the token endpoint",
    ),
    proxy_only(
        env_vars::OPENAI_IDENTITY_TOKEN,
        "an identity JWT buys a token at the token endpoint",
    ),
    proxy_only(
        env_vars::ANTHROPIC_IDENTITY_TOKEN_FILE,
        "names a file holding an identity JWT",
    ),
    proxy_only(
        env_vars::OPENAI_IDENTITY_TOKEN_FILE,
        "names a file holding an identity JWT",
    ),
    proxy_only(
        env_vars::ACTIONS_ID_TOKEN_REQUEST_TOKEN,
        "GitHub Actions' request token buys an identity JWT",
    ),
    proxy_only(
        env_vars::SYSTEM_ACCESSTOKEN,
        "Azure Pipelines' request token buys an identity JWT",
    ),
    proxy_only(
        env_vars::BUILDKITE_AGENT_ACCESS_TOKEN,
        "the Buildkite agent's token buys an identity JWT",
    ),
    proxy_only(
        env_vars::IDENTITY_HEADER,
        "App Service's managed-identity secret buys an identity JWT",
    ),
    proxy_only(
        env_vars::TFC_WORKLOAD_IDENTITY_TOKEN,
        "HCP Terraform's identity JWT, which the auto source exchanges",
    ),
    proxy_only(
        env_vars::BITBUCKET_STEP_OIDC_TOKEN,
        "Bitbucket Pipelines' identity JWT, which the auto source exchanges",
    ),
    proxy_only(
        env_vars::CIRCLE_OIDC_TOKEN_V2,
        "CircleCI's identity JWT, which the auto source exchanges",
    ),
    proxy_only(
        env_vars::AZURE_FEDERATED_TOKEN_FILE,
        "names AKS's projected identity JWT, which the auto source exchanges",
    ),
];

/// The row for the variable an `env:NAME` source reads (GitLab CI's
/// `id_tokens`, named by the job): its name comes from the profile, so
/// [`ChildEnv::with_named_sources`] supplies it per run.
pub const NAMED_SOURCE: Row = proxy_only(
    "env:NAME",
    "the variable the profile's env:NAME source exchanges holds an identity JWT",
);

/// A way to an identity JWT: kept everywhere but behind the proxy, where
/// the child holds only the capability (the one rule of `--proxy`).
const fn proxy_only(var: &'static str, why: &'static str) -> Row {
    Row {
        var,
        env: Rule::Kept,
        exec: Rule::Kept,
        refresh: Rule::Kept,
        proxy: Rule::Removed,
        note: None,
        why,
    }
}

/// The policy applied: what one run removes.
pub struct ChildEnv {
    pub mode: Mode,
    /// The removed variables, in [`RULES`]' order.
    pub removed: Vec<&'static Row>,
    /// The variables of the served profiles' `env:NAME` sources removed by
    /// [`NAMED_SOURCE`].
    pub named: Vec<String>,
    keep_api_key: bool,
}

impl ChildEnv {
    /// The policy for `mode`, serving `served`, with `--keep-api-key` as given.
    pub fn new(mode: Mode, served: &[Provider], keep_api_key: bool) -> Self {
        let removed = RULES
            .iter()
            .filter(|row| match row.rule(mode) {
                Rule::Kept => false,
                Rule::Removed => true,
                Rule::RemovedUnlessKept => !keep_api_key,
                Rule::RemovedIfServedUnlessKept(p) => !keep_api_key && served.contains(&p),
            })
            .collect();
        ChildEnv {
            mode,
            removed,
            named: Vec::new(),
            keep_api_key,
        }
    }

    /// Also apply [`NAMED_SOURCE`] to `names`, the variables the served
    /// profiles' `env:NAME` sources read.
    pub fn with_named_sources(mut self, names: impl IntoIterator<Item = String>) -> Self {
        if NAMED_SOURCE.rule(self.mode) == Rule::Removed {
            self.named.extend(names);
        }
        self
    }

    /// Whether `var` is removed in this run.
    pub fn removes(&self, var: &str) -> bool {
        self.removed.iter().any(|r| r.var == var) || self.named.iter().any(|n| n == var)
    }

    /// Say on stderr what is removed from the caller's environment (and,
    /// with `--keep-api-key`, what then outranks the token). `can_unset`
    /// is false for outputs that cannot remove a variable (`.env`): they
    /// warn instead.
    pub fn announce(&self, can_unset: bool) {
        for row in &self.removed {
            let (Some(why), true) = (row.note, std::env::var_os(row.var).is_some()) else {
                continue;
            };
            if !can_unset {
                output::warn(&format!(
                    ".env files cannot unset {}, which {why}; remove it yourself",
                    row.var
                ));
                continue;
            }
            let keep = matches!(
                row.rule(self.mode),
                Rule::RemovedUnlessKept | Rule::RemovedIfServedUnlessKept(_)
            );
            output::note(&format!(
                "note: removing {}, which {why}{}",
                row.var,
                if keep {
                    " (--keep-api-key keeps it)"
                } else {
                    ""
                }
            ));
        }
        if self.keep_api_key && self.mode == Mode::Refresh {
            output::warn(
                "--keep-api-key: ANTHROPIC_API_KEY outranks the refreshed profile in every SDK",
            );
        }
    }

    /// The removals as assignments, for `env`'s output.
    pub fn unsets(&self) -> Vec<Assignment> {
        self.removed
            .iter()
            .map(|r| Assignment::Unset(r.var))
            .collect()
    }

    /// `argv` as a command whose environment is the caller's minus the
    /// removals (announced on stderr), with `sets` applied after.
    pub fn command(&self, argv: &[OsString], sets: &[Assignment]) -> Command {
        self.announce(true);
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..]);
        for row in &self.removed {
            cmd.env_remove(row.var);
        }
        for name in &self.named {
            cmd.env_remove(name);
        }
        for a in sets {
            match a {
                Assignment::Set(n, v) => {
                    cmd.env(n, v.expose());
                }
                Assignment::Unset(n) => {
                    cmd.env_remove(n);
                }
            }
        }
        cmd
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn removed(mode: Mode, served: &[Provider], keep: bool) -> Vec<&'static str> {
        ChildEnv::new(mode, served, keep)
            .removed
            .iter()
            .map(|r| r.var)
            .collect()
    }

    #[test]
    fn each_mode_removes_what_the_table_says() {
        use Provider::*;
        assert_eq!(
            removed(Mode::Env, &[Anthropic], false),
            [env_vars::ANTHROPIC_API_KEY]
        );
        assert!(removed(Mode::Env, &[Openai], false).is_empty());
        assert_eq!(
            removed(Mode::Exec, &[Anthropic], false),
            [env_vars::KEYLESS_CLIENT_SECRET, env_vars::ANTHROPIC_API_KEY]
        );
        assert_eq!(
            removed(Mode::Exec, &[Anthropic], true),
            [env_vars::KEYLESS_CLIENT_SECRET]
        );
        assert_eq!(
            removed(Mode::Refresh, &[Anthropic], false),
            [
                env_vars::KEYLESS_CLIENT_SECRET,
                env_vars::ANTHROPIC_API_KEY,
                env_vars::ANTHROPIC_AUTH_TOKEN
            ]
        );
        assert_eq!(
            removed(Mode::Proxy, &[Openai], false),
            [
                env_vars::KEYLESS_CLIENT_SECRET,
                env_vars::ANTHROPIC_API_KEY,
                env_vars::ANTHROPIC_IDENTITY_TOKEN,
                env_vars::OPENAI_IDENTITY_TOKEN,
                env_vars::ANTHROPIC_IDENTITY_TOKEN_FILE,
                env_vars::OPENAI_IDENTITY_TOKEN_FILE,
                env_vars::ACTIONS_ID_TOKEN_REQUEST_TOKEN,
                env_vars::SYSTEM_ACCESSTOKEN,
                env_vars::BUILDKITE_AGENT_ACCESS_TOKEN,
                env_vars::IDENTITY_HEADER,
                env_vars::TFC_WORKLOAD_IDENTITY_TOKEN,
                env_vars::BITBUCKET_STEP_OIDC_TOKEN,
                env_vars::CIRCLE_OIDC_TOKEN_V2,
                env_vars::AZURE_FEDERATED_TOKEN_FILE
            ]
        );
        let named = || ["GITLAB_OIDC".to_string()];
        assert!(
            ChildEnv::new(Mode::Proxy, &[Openai], false)
                .with_named_sources(named())
                .removes("GITLAB_OIDC")
        );
        for mode in [Mode::Env, Mode::Exec, Mode::Refresh] {
            assert!(
                !ChildEnv::new(mode, &[Openai], false)
                    .with_named_sources(named())
                    .removes("GITLAB_OIDC")
            );
        }
    }

    /// Every row says why, and names a variable only once.
    #[test]
    fn every_row_has_a_reason_and_a_distinct_variable() {
        for (i, row) in RULES.iter().enumerate() {
            assert!(!row.why.is_empty(), "{}", row.var);
            assert!(
                RULES[i + 1..].iter().all(|r| r.var != row.var),
                "{} twice",
                row.var
            );
        }
    }
}
