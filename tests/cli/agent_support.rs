//! Running `keyless agent` in tests: start it in a TestEnv, wait for its
//! ready file, signal it, read its stderr afterwards.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// A running agent; SIGKILLed on drop if still running.
pub struct Agent {
    pub child: Child,
    pub ready: PathBuf,
    /// Its stderr, drained as it comes (a full pipe would block the agent).
    err: Option<std::thread::JoinHandle<String>>,
}

impl Agent {
    /// `keyless agent --ready-file READY SINKS… EXTRA…`, waited for until ready.
    pub fn start(env: &TestEnv, sinks: &[String], extra: &[&str]) -> Agent {
        Self::start_with(env, sinks, extra, |_| {})
    }

    pub fn start_with(
        env: &TestEnv,
        sinks: &[String],
        extra: &[&str],
        f: impl FnOnce(&mut std::process::Command),
    ) -> Agent {
        let a = Self::spawn(env, sinks, extra, f);
        a.wait_ready(Duration::from_secs(30));
        a
    }

    /// Started, not waited for.
    pub fn spawn(
        env: &TestEnv,
        sinks: &[String],
        extra: &[&str],
        f: impl FnOnce(&mut std::process::Command),
    ) -> Agent {
        let ready = env.path(&format!("ready-{}", rand_suffix()));
        let mut c = env.cmd();
        c.arg("agent")
            .arg("--ready-file")
            .arg(&ready)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for s in sinks {
            c.arg("--sink").arg(s);
        }
        c.args(extra);
        f(&mut c);
        let mut child = c.spawn().unwrap();
        let mut pipe = child.stderr.take().unwrap();
        let err = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = pipe.read_to_string(&mut s);
            s
        });
        Agent {
            child,
            ready,
            err: Some(err),
        }
    }

    pub fn wait_ready(&self, limit: Duration) {
        let start = Instant::now();
        while !self.ready.exists() {
            assert!(
                start.elapsed() < limit,
                "the agent was not ready within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on the agent this test started.
        assert_eq!(unsafe { libc::kill(self.pid(), sig) }, 0);
    }

    /// SIGTERM, then its exit code and stderr (checked for secrets).
    pub fn stop(mut self) -> (i32, String) {
        self.signal(libc::SIGTERM);
        self.finish()
    }

    /// Wait for it to exit by itself: its exit code and stderr.
    pub fn finish(&mut self) -> (i32, String) {
        let status = self.child.wait().unwrap();
        let err = self.err.take().unwrap().join().unwrap();
        assert_no_secrets(&err);
        (status.code().unwrap_or(-1), err)
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::SeqCst).to_string()
}

/// A sandbox minting `lifetime`-second tokens and a TestEnv set up for
/// Anthropic against it.
pub fn anthropic_env(lifetime: u32) -> (Sandbox, TestEnv) {
    let sb = Sandbox::start(&["--token-lifetime", &lifetime.to_string()]);
    let env = TestEnv::new();
    env.setup(&sb.url, &sb.identity_command());
    (sb, env)
}

pub fn exchanges(sb: &Sandbox) -> u64 {
    sb.history()["exchanges"].as_u64().unwrap()
}

/// The token in an SDK profile's credentials file, and its expiry.
pub fn profile_token(dir: &Path, name: &str) -> Option<(String, i64)> {
    let text =
        std::fs::read_to_string(dir.join("credentials").join(format!("{name}.json"))).ok()?;
    let v: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text:?}"));
    Some((
        v["access_token"].as_str()?.to_string(),
        v["expires_at"].as_i64()?,
    ))
}

pub fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// The Anthropic Python SDK's `call()`: one Messages call (for [`py_loop`]).
pub const PY_ANTHROPIC: &str = r#"
import json, sys, time, anthropic
secs, gap = float(sys.argv[1]), float(sys.argv[2])
client = anthropic.Anthropic(max_retries=0)
def call():
    client.messages.create(model="claude-sandbox-1", max_tokens=8, messages=[{"role": "user", "content": "ping"}])
"#;

/// A Python script (argv: `secs`, `gap`, then the client's own) that runs
/// `client`, which defines `call()`, then calls it every `gap` seconds for
/// `secs` seconds and prints `{"ok": N, "failed": N, "errors": [...]}`.
pub fn py_loop(client: &str) -> String {
    [client, PY_LOOP].concat()
}

const PY_LOOP: &str = r#"
ok, errors = 0, []
end = time.time() + secs
while time.time() < end:
    try:
        call()
        ok += 1
    except Exception as e:
        errors.append(f"{time.time():.1f} {type(e).__name__}: {e}"[:200])
    time.sleep(gap)
print(json.dumps({"ok": ok, "failed": len(errors), "errors": errors}), flush=True)
"#;
/// An identity command for `sb` that records each call in `calls`, fails
/// while `down` exists, and mints a 30 s JWT (Anthropic's 60 s minimum
/// token) unless `long` exists (then an hour's: an hour's token).
pub fn switchable_identity(env: &TestEnv, sb: &Sandbox) -> (String, Switches) {
    let sw = Switches {
        down: env.path("idp-down"),
        long: env.path("idp-long"),
        calls: env.path("idp-calls"),
    };
    let script = env.path("idp-switchable.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho x >> '{calls}'\nif [ -e '{down}' ]; then echo 'identity provider down' >&2; exit 1; fi\nlife=30; [ -e '{long}' ] && life=3600\nexec '{BIN}' sandbox identity-token --issuer '{url}' --lifetime $life\n",
            calls = sw.calls.display(),
            down = sw.down.display(),
            long = sw.long.display(),
            url = sb.url
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    (format!("command:{}", script.display()), sw)
}

/// The files [`switchable_identity`]'s script looks at.
pub struct Switches {
    pub down: PathBuf,
    pub long: PathBuf,
    pub calls: PathBuf,
}

impl Switches {
    /// How many times the identity command ran.
    pub fn calls(&self) -> usize {
        std::fs::read_to_string(&self.calls)
            .map(|s| s.lines().count())
            .unwrap_or(0)
    }
}

/// Wait until `cond` holds, failing with `what` if it does not within
/// `limit` (a bound on a hang, not a measurement).
pub fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One Messages call through a proxy sink on `port`: its status and body.
pub fn call_proxy(env: &TestEnv, port: u16, key: &str) -> (u16, String) {
    let o = env
        .external("curl")
        .args(["-s", "-w", "\n%{http_code}"])
        .args(["-H", &format!("x-api-key: {key}")])
        .args(["-H", "anthropic-version: 2023-06-01"])
        .args(["-H", "content-type: application/json"])
        .args([
            "-d",
            r#"{"model":"claude-sandbox-1","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}"#,
        ])
        .arg(format!("http://127.0.0.1:{port}/v1/messages"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let (body, code) = out.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_string())
}
