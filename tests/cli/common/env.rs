//! The hermetic environment a test runs keyless in (a clean environment, a
//! temporary HOME, config and cache dirs), and the `setup` steps tests share.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{BIN, HANG, OPENAI_SA, ORG, RULE, Run, SA, WIP, WS, run_bounded, shaped_jwt};

pub struct TestEnv {
    pub root: tempfile::TempDir,
}

impl TestEnv {
    pub fn new() -> Self {
        let root = tempfile::Builder::new()
            .prefix("keyless-test-")
            .tempdir()
            .unwrap();
        std::fs::create_dir_all(root.path().join("home")).unwrap();
        TestEnv { root }
    }
    pub fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }
    pub fn config_dir(&self) -> PathBuf {
        self.root.path().join("config")
    }
    pub fn cache_dir(&self) -> PathBuf {
        self.root.path().join("cache")
    }
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.path().join(rel)
    }

    /// The binary with a clean environment: HOME, PATH, and keyless's dirs.
    pub fn cmd(&self) -> Command {
        self.external(BIN)
    }

    /// `n` copies of keyless started at once with `args` (and `envs`), each
    /// waited for: the parallel-callers scenario.
    pub fn run_parallel(&self, n: usize, args: &[&str], envs: &[(&str, &str)]) -> Vec<Run> {
        let children: Vec<_> = (0..n)
            .map(|_| {
                let mut c = self.cmd();
                c.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
                for (k, v) in envs {
                    c.env(k, v);
                }
                c.spawn().unwrap()
            })
            .collect();
        children
            .into_iter()
            .map(|c| Run::from(c.wait_with_output().unwrap()))
            .collect()
    }

    /// Another program (a shell, `script`) in the same hermetic environment,
    /// so that the keyless it starts finds this env's config and cache.
    pub fn external(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("KEYLESS_CONFIG_DIR", self.config_dir())
            .env("KEYLESS_CACHE_DIR", self.cache_dir())
            // `auto` must not probe the real link-local metadata servers;
            // its probe tests remove this and point them at fakes.
            .env("KEYLESS_NO_METADATA_PROBE", "true")
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, |_| {})
    }

    pub fn run_with(&self, args: &[&str], f: impl FnOnce(&mut Command)) -> Run {
        let mut c = self.cmd();
        c.args(args);
        f(&mut c);
        Run::from(c.output().unwrap())
    }

    /// [`TestEnv::run_with`] for a run that must end by itself (give up on
    /// a silent server, a FIFO, a lingering child): it fails, rather than
    /// hangs, when keyless is still running after the [`HANG`] watchdog.
    #[track_caller]
    pub fn run_ending(&self, args: &[&str], f: impl FnOnce(&mut Command)) -> Run {
        let mut c = self.cmd();
        c.args(args);
        f(&mut c);
        run_bounded(c, HANG)
            .unwrap_or_else(|| panic!("keyless {args:?} still ran after {HANG:?}: it hung"))
    }

    /// `token.jwt` in the environment's directory, holding a fresh shaped
    /// JWT (valid 300 s): an identity token file.
    pub fn jwt_file(&self) -> PathBuf {
        let file = self.path("token.jwt");
        std::fs::write(&file, shaped_jwt(300)).unwrap();
        file
    }

    /// `keyless exec --proxy --type PROVIDER -- sh -c SCRIPT`, with `OUT`
    /// naming `out`, where the script leaves what it saw.
    pub fn exec_proxy_sh(&self, provider: &str, script: &str, out: &Path) -> Command {
        let mut c = self.cmd();
        c.args([
            "exec", "--proxy", "--type", provider, "--", "sh", "-c", script,
        ])
        .env("OUT", out);
        c
    }

    /// `setup anthropic` pointing at `base_url`, with an identity source.
    pub fn setup(&self, base_url: &str, identity: &str) {
        self.setup_with_audience(base_url, identity, None);
    }

    /// [`TestEnv::setup`], with `--audience` when one is given.
    pub fn setup_with_audience(&self, base_url: &str, identity: &str, audience: Option<&str>) {
        let mut extra = vec![
            "--service-account-id",
            SA,
            "--workspace-id",
            WS,
            "--identity",
            identity,
        ];
        if let Some(a) = audience {
            extra.extend(["--audience", a]);
        }
        self.setup_anthropic(base_url, &extra);
    }

    /// `setup anthropic` pointing at `base_url` with the sandbox's rule and
    /// organization, plus `extra` flags.
    pub fn setup_anthropic(&self, base_url: &str, extra: &[&str]) {
        let mut args = vec!["--base-url", base_url];
        args.extend_from_slice(extra);
        self.run(&setup_anthropic_args(&args)).success();
    }
}

/// The arguments of `setup anthropic` with the sandbox's rule and
/// organization, then `extra` (`--base-url`, `--profile`, …): for a test
/// that runs it its own way (expecting a failure, in a mount namespace).
pub fn setup_anthropic_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "setup",
        "anthropic",
        "--federation-rule-id",
        RULE,
        "--organization-id",
        ORG,
    ];
    v.extend_from_slice(extra);
    v
}

/// The arguments of `setup openai` with the sandbox's identity provider and
/// service account, then `extra` (`--token-endpoint`, …).
pub fn setup_openai_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "setup",
        "openai",
        "--identity-provider-id",
        WIP,
        "--service-account-id",
        OPENAI_SA,
    ];
    v.extend_from_slice(extra);
    v
}

/// The arguments of `setup issuer` for `issuer` and `client_id`, then
/// `extra`.
pub fn setup_issuer_args<'a>(
    issuer: &'a str,
    client_id: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut v = vec![
        "setup",
        "issuer",
        "--issuer",
        issuer,
        "--client-id",
        client_id,
    ];
    v.extend_from_slice(extra);
    v
}

/// The arguments of `setup issuer` for `issuer` and `client_id`, never
/// contacted (`--no-verify`).
pub fn setup_issuer_offline_args<'a>(issuer: &'a str, client_id: &'a str) -> Vec<&'a str> {
    setup_issuer_args(issuer, client_id, &["--no-verify"])
}

impl TestEnv {
    /// `setup issuer` for an issuer that is never contacted (`--no-verify`).
    pub fn setup_issuer_offline(&self, client_id: &str) {
        self.run(&setup_issuer_offline_args(
            "https://login.example.com",
            client_id,
        ))
        .success();
    }

    /// `setup openai` at `sb`'s token endpoint, with its identity command
    /// for OpenAI's audience.
    pub fn setup_openai_on(&self, sb: &super::Sandbox) {
        self.setup_openai(
            &sb.openai_token_endpoint(),
            &sb.identity_command_for(&[super::OPENAI_AUDIENCE]),
        );
    }

    /// `setup openai` pointing at `token_endpoint`, with an identity source.
    pub fn setup_openai(&self, token_endpoint: &str, identity: &str) {
        self.setup_openai_with(token_endpoint, &["--identity", identity]);
    }

    /// `setup openai` pointing at `token_endpoint` with the sandbox's
    /// identity provider and service account, plus `extra` flags.
    pub fn setup_openai_with(&self, token_endpoint: &str, extra: &[&str]) {
        let mut args = vec!["--token-endpoint", token_endpoint];
        args.extend_from_slice(extra);
        self.run(&setup_openai_args(&args)).success();
    }
}

/// A TestEnv set up for OpenAI against `token_endpoint` with a file identity
/// source holding a fresh shaped JWT of `lifetime` seconds; returns its path.
pub fn openai_env_with_file_source(token_endpoint: &str, lifetime: i64) -> (TestEnv, PathBuf) {
    let env = TestEnv::new();
    let file = env.path("token.jwt");
    std::fs::write(&file, shaped_jwt(lifetime)).unwrap();
    env.setup_openai(token_endpoint, &format!("file:{}", file.display()));
    (env, file)
}

/// `keyless exec` with a child that prints the Anthropic token it was
/// handed, and nothing else.
pub const EXEC_PRINTING_THE_TOKEN: &[&str] = &[
    "exec",
    "--",
    "sh",
    "-c",
    "printf %s \"$ANTHROPIC_AUTH_TOKEN\"",
];

/// A TestEnv set up against `base_url` with a file identity source holding a
/// fresh shaped JWT; returns the token file path.
pub fn env_with_file_source(base_url: &str) -> (TestEnv, PathBuf) {
    let env = TestEnv::new();
    let file = env.jwt_file();
    env.setup(base_url, &format!("file:{}", file.display()));
    (env, file)
}
