//! The real programs users run, driven non-interactively against the
//! sandbox: Claude Code, Codex, the Anthropic TypeScript SDK and the OpenAI
//! Node SDK, pinned in tests/clients/package.json and installed once by
//! tests/clients/install.sh into .cache/clients (KEYLESS_TEST_CLIENTS
//! overrides). Missing clients fail the tests under CI or
//! KEYLESS_TEST_STRICT=1, else they skip.
//!
//! Every client runs hermetically: the TestEnv's HOME, an emptied
//! environment, the variables that stop it calling home
//! (tests/clients/NOTES.md says which matter), and every proxy variable
//! pointing at a [`Trap`] that refuses and records whatever still tries to
//! leave 127.0.0.1 (NO_PROXY keeps loopback direct).

mod claude;
mod codex;
mod node_sdk;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};

use crate::common::*;

/// The installed clients' node_modules, or None (skip) when not installed.
pub fn clients() -> Option<PathBuf> {
    let root = std::env::var_os("KEYLESS_TEST_CLIENTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".cache/clients"));
    let nm = root.join("node_modules");
    let present = nm.join(".bin/claude").exists()
        && nm.join(".bin/codex").exists()
        && nm.join("@anthropic-ai/sdk/package.json").exists()
        && nm.join("openai/package.json").exists();
    require_tool(
        "the real-client install (tests/clients/install.sh puts it in .cache/clients)",
        present,
    )
    .then_some(nm)
}

/// A script shipped in tests/clients.
pub fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients")
        .join(name)
}

/// A loopback "proxy" that refuses every request and remembers its first
/// line (`CONNECT api.anthropic.com:443 …`): what a client tried to reach
/// beyond 127.0.0.1. Stops with the test process.
pub struct Trap {
    pub url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Trap {
    pub fn start() -> Self {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        std::thread::spawn(move || {
            for mut conn in l.incoming().flatten() {
                let _ = conn.set_read_timeout(Some(std::time::Duration::from_secs(5)));
                let mut line = String::new();
                let _ = BufReader::new(&conn).read_line(&mut line);
                s.lock().unwrap().push(line.trim().to_string());
                let _ = conn.write_all(
                    b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        Trap { url, seen }
    }

    /// What tried to leave loopback so far.
    pub fn attempts(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    pub fn assert_nothing_left(&self) {
        let a = self.attempts();
        assert!(a.is_empty(), "a client tried to call home: {a:?}");
    }
}

/// `program` in the TestEnv's hermetic environment (HOME, PATH, keyless's
/// dirs), with every call-home switch set and every proxy at `trap`.
pub fn hermetic(env: &TestEnv, program: &std::path::Path, trap: &Trap) -> Command {
    let mut c = env.external(program.to_str().unwrap());
    for (k, v) in [
        // Claude Code: the one that matters is the last, which implies the others
        ("DISABLE_AUTOUPDATER", "1"),
        ("DISABLE_TELEMETRY", "1"),
        ("DISABLE_ERROR_REPORTING", "1"),
        ("DISABLE_BUG_COMMAND", "1"),
        ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1"),
        // Node: no update check, no warnings about our loopback TLS-less URLs
        ("NO_UPDATE_NOTIFIER", "1"),
        // Everything else that still tries gets the trap
        ("HTTPS_PROXY", &trap.url),
        ("HTTP_PROXY", &trap.url),
        ("ALL_PROXY", &trap.url),
        ("https_proxy", &trap.url),
        ("http_proxy", &trap.url),
        ("all_proxy", &trap.url),
        ("NO_PROXY", "127.0.0.1,localhost"),
        ("no_proxy", "127.0.0.1,localhost"),
    ] {
        c.env(k, v);
    }
    c
}

/// A sandbox minting `lifetime`-second tokens and a TestEnv set up for
/// both providers against it.
pub fn sandbox_env(lifetime: u32) -> (Sandbox, TestEnv) {
    let sb = Sandbox::start(&["--token-lifetime", &lifetime.to_string()]);
    let env = TestEnv::new();
    env.setup(&sb.url, &sb.identity_command());
    env.setup_openai_on(&sb);
    (sb, env)
}

/// The sandbox's count of API calls served and refused (401).
pub fn api_counts(sb: &Sandbox) -> (u64, u64) {
    let h = sb.history();
    (
        h["api_calls"].as_u64().unwrap(),
        h["api_unauthorized"].as_u64().unwrap(),
    )
}

/// The client's calls reached the sandbox's API, and none was refused.
#[track_caller]
pub fn assert_served_never_refused(sb: &Sandbox) {
    let (served, refused) = api_counts(sb);
    assert!(
        served >= 1 && refused == 0,
        "served {served}, refused {refused}"
    );
}

/// One HTTP/1.1 request to the sandbox: (status, JSON body).
pub fn http(
    sb: &Sandbox,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, serde_json::Value) {
    let mut with_type = headers.to_vec();
    with_type.push(("Content-Type", "application/json"));
    let r = crate::common::http::call(&sb.url, method, path, &with_type, body);
    let v = r.json();
    assert!(!v.is_null(), "no JSON: {}", r.text());
    (r.status, v)
}

/// `POST /_sandbox/revoke` with `body`; how many tokens it revoked.
pub fn revoke(sb: &Sandbox, body: &str) -> u64 {
    let (status, v) = http(sb, "POST", "/_sandbox/revoke", &[], body);
    assert_eq!(status, 200, "{v}");
    v["revoked"].as_u64().unwrap()
}

/// The reply every sandbox turn carries.
pub const REPLY: &str = "Hello from the keyless sandbox.";

/// Run a client to its end, killed after `secs` (a client stuck retrying
/// fails the test instead of hanging the suite); (status ok, stdout, stderr).
pub fn run_bounded(c: &mut Command, secs: u64, what: &str) -> (bool, String, String) {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = c
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out_pipe.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err_pipe.read_to_string(&mut s);
        s
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let (out, mut err) = (out.join().unwrap(), err.join().unwrap());
    if status.is_none() {
        err.push_str(&format!("\n[killed after {secs} s]"));
    }
    (status.is_some_and(|s| s.success()), out, err)
}

/// Like [`run_bounded`], asserting success; (stdout, stderr).
pub fn finish(c: &mut Command, secs: u64, what: &str) -> (String, String) {
    let (ok, out, err) = run_bounded(c, secs, what);
    assert!(ok, "{what} failed:\nstdout: {out}\nstderr: {err}");
    (out, err)
}

/// The last `n` bytes or so of a client's output, cut at a char boundary.
pub fn tail(s: &str, n: usize) -> &str {
    let mut i = s.len().saturating_sub(n);
    while !s.is_char_boundary(i) {
        i += 1;
    }
    &s[i..]
}
