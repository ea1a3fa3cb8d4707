//! The test harness: the real binary in a hermetic environment (env_clear, a
//! temporary HOME, config and cache dirs), plus helpers every module uses.
//! Every run checks that nothing token-shaped reached stderr.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_keyless");

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
        let mut c = Command::new(BIN);
        c.env_clear()
            .env("HOME", self.home())
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("KEYLESS_CONFIG_DIR", self.config_dir())
            .env("KEYLESS_CACHE_DIR", self.cache_dir())
            // `auto` must not probe the real link-local metadata servers;
            // its probe tests remove this and point them at fakes.
            .env("KEYLESS_NO_METADATA_PROBE", "true")
            .stdin(Stdio::null());
        c
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

    /// `setup anthropic` pointing at `base_url`, with an identity source.
    pub fn setup(&self, base_url: &str, identity: &str) {
        self.setup_anthropic(
            base_url,
            &[
                "--service-account-id",
                SA,
                "--workspace-id",
                WS,
                "--identity",
                identity,
            ],
        );
    }

    /// `setup anthropic` pointing at `base_url` with the sandbox's rule and
    /// organization, plus `extra` flags.
    pub fn setup_anthropic(&self, base_url: &str, extra: &[&str]) {
        let mut args = vec![
            "setup",
            "anthropic",
            "--base-url",
            base_url,
            "--federation-rule-id",
            RULE,
            "--organization-id",
            ORG,
        ];
        args.extend_from_slice(extra);
        self.run(&args).success();
    }
}

impl TestEnv {
    /// `setup issuer` for an issuer that is never contacted (`--no-verify`).
    pub fn setup_issuer_offline(&self, client_id: &str) {
        self.run(&[
            "setup",
            "issuer",
            "--issuer",
            "https://login.example.com",
            "--client-id",
            client_id,
            "--no-verify",
        ])
        .success();
    }

    /// `setup openai` pointing at `token_endpoint`, with an identity source.
    pub fn setup_openai(&self, token_endpoint: &str, identity: &str) {
        self.setup_openai_with(token_endpoint, &["--identity", identity]);
    }

    /// `setup openai` pointing at `token_endpoint` with the sandbox's
    /// identity provider and service account, plus `extra` flags.
    pub fn setup_openai_with(&self, token_endpoint: &str, extra: &[&str]) {
        let mut args = vec![
            "setup",
            "openai",
            "--token-endpoint",
            token_endpoint,
            "--identity-provider-id",
            WIP,
            "--service-account-id",
            OPENAI_SA,
        ];
        args.extend_from_slice(extra);
        self.run(&args).success();
    }
}

pub const WIP: &str = "wip_01sandbox";
pub const OPENAI_SA: &str = "sa_01sandbox";
pub const OPENAI_AUDIENCE: &str = "https://api.openai.com/v1";
/// Where the sandbox serves OpenAI's token exchange.
pub const OPENAI_TOKEN_PATH: &str = "/openai/oauth/token";

pub const RULE: &str = "fdrl_01sandboxdefault";
pub const ORG: &str = "5a4d8b0c-1e55-4e7a-9d3b-5a4db0c1e550";
pub const SA: &str = "svac_01sandbox";
pub const WS: &str = "wrkspc_01sandbox";

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        let r = Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        };
        assert_no_secrets(&r.stderr);
        r
    }
}

impl Run {
    #[track_caller]
    pub fn success(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
    /// A failure: the exit code, an empty stdout, and stderr containing `needle`.
    #[track_caller]
    pub fn fails(&self, code: i32, needle: &str) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        assert_eq!(self.stdout, "", "stdout must stay empty on failure");
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }
}

/// One error class of an exchange, as every provider must show it: run
/// `credential PROVIDER` at -vv (where debug detail must not leak either),
/// then the exit code and each needle on stderr, an empty stdout, one request
/// made, and an untouched cache.
#[track_caller]
pub fn assert_error_class(
    env: &TestEnv,
    provider: &str,
    requests: impl Fn() -> usize,
    code: i32,
    needles: &[&str],
) {
    let r = env.run(&["-vv", "credential", provider]);
    for n in needles {
        r.fails(code, n);
    }
    assert_eq!(requests(), 1);
    assert!(
        cache_files(&env.cache_dir()).is_empty(),
        "the cache must stay untouched"
    );
}

/// No token, assertion or key on stderr: nothing shaped like `sk-ant-…-…`,
/// `sk-…` OpenAI keys, or a JWT.
#[track_caller]
pub fn assert_no_secrets(stderr: &str) {
    // In a GitHub Actions job the runner takes `::add-mask::` lines (the
    // masking command) and never shows them: tests/cli/github_mask.rs.
    let kept: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect();
    let stderr = kept.join("\n");
    let stderr = stderr.as_str();
    for (i, _) in stderr.match_indices("sk-ant-") {
        let rest = &stderr[i + 7..];
        let word: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        assert!(
            !word.contains('-') || word.len() < 8,
            "a token reached stderr: {stderr}"
        );
    }
    assert!(!stderr.contains("eyJ"), "a JWT reached stderr: {stderr}");
}

/// A running `keyless sandbox`, killed on drop.
pub struct Sandbox {
    pub url: String,
    child: std::process::Child,
}

impl Sandbox {
    pub fn start(extra: &[&str]) -> Self {
        use std::io::BufRead;
        let mut child = Command::new(BIN)
            .arg("sandbox")
            .args(extra)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = std::io::BufReader::new(stdout).lines();
        let url = loop {
            let line = lines
                .next()
                .expect("sandbox exited before listening")
                .unwrap();
            if let Some(u) = line.strip_prefix("listening on ") {
                break u.trim().to_string();
            }
        };
        // keep draining stdout so the sandbox never blocks on a full pipe
        std::thread::spawn(move || for _ in lines {});
        Sandbox { url, child }
    }

    pub fn identity_command(&self) -> String {
        format!("command:{BIN} sandbox identity-token --issuer {}", self.url)
    }

    /// An identity command whose JWTs name these audiences.
    pub fn identity_command_for(&self, audiences: &[&str]) -> String {
        let mut c = self.identity_command();
        for a in audiences {
            c.push_str(&format!(" --audience {a}"));
        }
        c
    }

    pub fn openai_token_endpoint(&self) -> String {
        format!("{}{OPENAI_TOKEN_PATH}", self.url)
    }

    /// A fresh JWT from the sandbox issuer.
    pub fn mint_jwt(&self, extra: &[&str]) -> String {
        let o = Command::new(BIN)
            .args(["sandbox", "identity-token", "--issuer", &self.url])
            .args(extra)
            .env_clear()
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    }

    /// The exchange history (count and events), like the Console's.
    pub fn history(&self) -> serde_json::Value {
        http_get_json(&format!("{}/_sandbox/history", self.url))
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A tiny blocking HTTP GET for loopback test servers.
pub fn http_get_json(url: &str) -> serde_json::Value {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut s = std::net::TcpStream::connect(host).unwrap();
    write!(
        s,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).unwrap();
    let body = buf.split_once("\r\n\r\n").unwrap().1;
    // a chunked body (the OIDC provider's) has size lines around the JSON
    let json = match (body.find(['{', '[']), body.rfind(['}', ']'])) {
        (Some(a), Some(b)) if b >= a => &body[a..=b],
        _ => body,
    };
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {body}"))
}

pub fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// Cache entry files (not locks, not the ledger).
pub fn cache_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default()
}

/// True when the named external tool must exist (CI) — else tests needing it skip.
pub fn require_tool(name: &str, present: bool) -> bool {
    if present {
        return true;
    }
    if std::env::var_os("CI").is_some() || std::env::var_os("KEYLESS_TEST_STRICT").is_some() {
        panic!(
            "{name} is required (CI or scripts/test); scripts/test installs it as root, else install it first"
        );
    }
    skipping(&format!(
        "{name} is not installed (the README's test command installs it)"
    ));
    false
}

/// Say that (part of) a test is skipped and why, where cargo test shows it.
pub fn skipping(why: &str) {
    // the lints allow printing here only
    #[allow(clippy::print_stderr)]
    {
        eprintln!("skipping: {why}");
    }
}

/// A JWT with the right shape for keyless's local checks (ES256, kid, live
/// `exp`, unique `jti`) but no real signature: for fakes that do not verify.
pub fn shaped_jwt(lifetime: i64) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let jti = format!(
        "jti-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    let claims = serde_json::json!({
        "iss": "https://idp.example", "sub": "repo:acme/app:ref:refs/heads/main",
        "aud": "https://api.anthropic.com", "iat": now, "exp": now + lifetime, "jti": jti,
    });
    format!(
        "{}.{}.c2lnbmF0dXJl",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256","kid":"k1","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// A loopback port nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// The claims of a JWT, unverified (tests read `exp` and `jti`).
pub fn jwt_claims(jwt: &str) -> serde_json::Value {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let part = jwt.trim().split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
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

/// A TestEnv set up against `base_url` with a file identity source holding a
/// fresh shaped JWT; returns the token file path.
pub fn env_with_file_source(base_url: &str) -> (TestEnv, PathBuf) {
    let env = TestEnv::new();
    let file = env.path("token.jwt");
    std::fs::write(&file, shaped_jwt(300)).unwrap();
    env.setup(base_url, &format!("file:{}", file.display()));
    (env, file)
}

/// The test Python (`KEYLESS_TEST_PYTHON`), when it can import `module`;
/// under strict runs a missing one fails the test.
pub fn python_with(module: &str) -> Option<String> {
    let p = std::env::var("KEYLESS_TEST_PYTHON")
        .ok()
        .filter(|p| !p.is_empty());
    let ok = p.as_deref().is_some_and(|p| {
        Command::new(p)
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if require_tool(&format!("KEYLESS_TEST_PYTHON with {module}"), ok) {
        p
    } else {
        None
    }
}
