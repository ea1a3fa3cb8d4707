//! A finished run of keyless, and what every run must show: nothing
//! token-shaped on stderr.

use std::io::Write;
use std::process::{Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use super::{TestEnv, cache_files};

/// The watchdog against hangs: a run that must end by itself and has not
/// after this long counts as hung. Generous on purpose: it never measures
/// speed (a timed assertion fails under load), it only keeps a hang (a
/// silent server waited for, a FIFO read, a child waited on) from stalling
/// the suite.
pub const HANG: Duration = Duration::from_secs(120);

/// Runs `c` with `input` on its stdin (piped; what else it pipes is the
/// caller's choice) and waits for it.
pub fn output_with_stdin(c: &mut Command, input: &[u8]) -> Output {
    let mut child = c.stdin(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// Run `c` to completion, or kill it after `limit` and return `None`: the
/// hang shows as a failure, not a stuck test run.
pub fn run_bounded(mut c: Command, limit: Duration) -> Option<Run> {
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let t0 = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t0.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(Run::from(child.wait_with_output().unwrap()))
}

/// Wait for `child` (started by the caller), or kill it after `limit` and
/// return `None`: the hang shows as a failure, not a stuck test run.
pub fn wait_bounded(child: &mut std::process::Child, limit: Duration) -> Option<ExitStatus> {
    let t0 = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

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
