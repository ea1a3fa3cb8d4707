//! The one way tests start `keyless sandbox`: the real binary, a clean
//! environment, killed on drop.

use std::io::BufRead;
use std::process::{Command, Stdio};

use super::{BIN, OPENAI_TOKEN_PATH, http};

/// A running `keyless sandbox`, killed on drop.
pub struct Sandbox {
    pub url: String,
    /// What it printed before it was ready (the banner, `--print-env`'s
    /// variables), in order.
    pub printed: Vec<String>,
    child: std::process::Child,
}

impl Sandbox {
    /// `keyless sandbox EXTRA…`, ready once it says where it listens.
    pub fn start(extra: &[&str]) -> Self {
        Self::start_until(extra, "listening on ")
    }

    /// `keyless sandbox ARGS…`, its stdout read up to and including the
    /// first line that starts with `last` (`# ` and white space aside: the
    /// `--print-env` lines are comments); the URL is the `listening on`
    /// line's.
    pub fn start_until(args: &[&str], last: &str) -> Self {
        let mut child = Command::new(BIN)
            .arg("sandbox")
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let mut printed = Vec::new();
        let mut url = None;
        loop {
            let line = lines
                .next()
                .expect("sandbox exited before it was ready")
                .unwrap();
            let bare = line.trim_start_matches('#').trim();
            if let Some(u) = bare.strip_prefix("listening on ") {
                url = Some(u.trim().to_string());
            }
            let done = bare.starts_with(last.trim_start_matches('#').trim());
            printed.push(line);
            if done {
                break;
            }
        }
        // keep draining stdout so the sandbox never blocks on a full pipe
        std::thread::spawn(move || for _ in lines {});
        Sandbox {
            url: url.expect("the sandbox did not say where it listens"),
            printed,
            child,
        }
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
        http::get_json(&format!("{}/_sandbox/history", self.url))
    }
}

/// A fresh sandbox and an environment set up for OpenAI on it
/// ([`super::TestEnv::setup_openai_on`]).
pub fn openai_sandbox_env() -> (Sandbox, super::TestEnv) {
    let sb = Sandbox::start(&[]);
    let env = super::TestEnv::new();
    env.setup_openai_on(&sb);
    (sb, env)
}

/// The sandbox's rule that denies every identity.
pub const DENIED_RULE: &str = "fdrl_01sandboxdenied";

/// A fresh sandbox and an environment set up for it whose rule is
/// [`DENIED_RULE`]: every exchange is denied.
pub fn denied_rule_env() -> (Sandbox, super::TestEnv) {
    let sb = Sandbox::start(&[]);
    let env = super::TestEnv::new();
    env.setup(&sb.url, &sb.identity_command());
    env.run(&["setup", "anthropic", "--federation-rule-id", DENIED_RULE])
        .success();
    (sb, env)
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
