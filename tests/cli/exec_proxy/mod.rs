//! `keyless exec --proxy`: the child gets a loopback base URL and a per-run
//! capability, never the token; the proxy refuses what lacks the capability
//! or names another host, streams answers through, and keeps the token
//! renewed (tests/cli/exec_proxy/sdk.rs drives the official SDKs).

mod attack;
mod counting;
mod early_answer;
mod listener;
mod refused;
mod reuse;
mod sdk;
mod streaming;
pub mod upstream;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use upstream::Upstream;

/// A shell script printing a fresh, well-shaped JWT (unique jti) per run:
/// the upstream does not verify signatures, keyless's local checks pass.
const IDENTITY_SCRIPT: &str = r#"#!/bin/sh
now=$(date +%s); jti="$(date +%s%N)-$$"
b() { printf '%s' "$1" | base64 | tr -d '\n=' | tr '+/' '-_'; }
printf '%s.%s.c2lnbmF0dXJl' "$(b '{"alg":"ES256","kid":"k1","typ":"JWT"}')" \
  "$(b "{\"iss\":\"https://idp.example\",\"sub\":\"repo:acme/app:ref:refs/heads/main\",\"aud\":\"https://api.anthropic.com\",\"iat\":$now,\"exp\":$((now+3000)),\"jti\":\"$jti\"}")"
"#;

pub enum Serve {
    Anthropic,
    OpenAi,
    Both,
}

/// A TestEnv whose profile points at `up` for the providers in `serve`.
pub fn proxy_env(up: &Upstream, serve: Serve) -> TestEnv {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let script = env.path("identity.sh");
    std::fs::write(&script, IDENTITY_SCRIPT).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let identity = format!("command:{}", script.display());
    if matches!(serve, Serve::Anthropic | Serve::Both) {
        env.setup(&up.url, &identity);
    }
    if matches!(serve, Serve::OpenAi | Serve::Both) {
        env.setup_openai(&up.openai_token_endpoint(), &identity);
    }
    env
}

/// `keyless exec --proxy ARGS -- sh` whose child writes its environment to
/// a file and waits until the test tells it to exit with `code`.
pub struct Running {
    pub keyless: Child,
    pub vars: HashMap<String, String>,
    out: PathBuf,
}

impl Running {
    pub fn start(env: &TestEnv, args: &[&str]) -> Self {
        Self::start_with(env, args, |_| {})
    }

    /// [`Running::start`], with `adjust` applied to keyless's command first.
    pub fn start_with(
        env: &TestEnv,
        args: &[&str],
        adjust: impl FnOnce(&mut std::process::Command),
    ) -> Self {
        let out = env.path("out");
        std::fs::create_dir_all(&out).unwrap();
        let script = r#"env > "$OUT/env.tmp"; mv "$OUT/env.tmp" "$OUT/env";
            while [ ! -e "$OUT/stop" ]; do sleep 0.05; done; exit "$(cat "$OUT/stop")""#;
        let mut cmd = env.cmd();
        cmd.args(["exec", "--proxy"])
            .args(args)
            .args(["--", "sh", "-c", script])
            .env("OUT", &out)
            .env("ANTHROPIC_API_KEY", "sk-ant-api03-FAKE")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        adjust(&mut cmd);
        let keyless = cmd.spawn().unwrap();
        let file = out.join("env");
        let t0 = Instant::now();
        while !file.exists() {
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "the child never started"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let vars = std::fs::read_to_string(&file)
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Running { keyless, vars, out }
    }

    pub fn var(&self, name: &str) -> &str {
        self.vars.get(name).map(String::as_str).unwrap_or("")
    }

    /// `http://127.0.0.1:PORT` of one provider's listener.
    pub fn anthropic(&self) -> String {
        self.var("ANTHROPIC_BASE_URL").to_string()
    }

    /// Let the child exit with `code`; keyless's exit code and stderr.
    pub fn stop(mut self, code: i32) -> (i32, String) {
        std::fs::write(self.out.join("stop"), code.to_string()).unwrap();
        let status = self.keyless.wait().unwrap();
        let mut err = String::new();
        std::io::Read::read_to_string(self.keyless.stderr.as_mut().unwrap(), &mut err).unwrap();
        assert_no_secrets(&err);
        (status.code().unwrap_or(-1), err)
    }
}

/// A runtime and a client for the test's own requests to the proxy.
pub fn client() -> (tokio::runtime::Runtime, reqwest::Client) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let c = reqwest::Client::builder().no_proxy().build().unwrap();
    (rt, c)
}

/// Status and body of one request from the test.
pub fn call(
    rt: &tokio::runtime::Runtime,
    c: &reqwest::Client,
    url: &str,
    headers: &[(&str, &str)],
) -> (u16, String) {
    rt.block_on(async {
        let mut req = c.get(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = req.send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    })
}

/// VmHWM (peak resident set) of a process, in KiB.
pub(crate) fn peak_rss_kib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = s.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn the_child_gets_a_capability_and_a_loopback_base_url_never_the_token() {
    let up = Upstream::start(600);
    let env = proxy_env(&up, Serve::Both);
    let run = Running::start(&env, &[]);
    let cap = run.var("ANTHROPIC_AUTH_TOKEN").to_string();
    assert!(
        cap.starts_with("keyless-proxy-") && cap.len() >= 14 + 43,
        "{cap}"
    );
    assert_eq!(run.var("OPENAI_API_KEY").len(), cap.len());
    assert!(run.anthropic().starts_with("http://127.0.0.1:"));
    assert!(run.var("OPENAI_BASE_URL").starts_with("http://127.0.0.1:"));
    assert!(run.var("OPENAI_BASE_URL").ends_with("/v1"));
    assert!(
        !run.vars.contains_key("ANTHROPIC_API_KEY"),
        "the static key is removed"
    );
    let minted = up.minted_tokens();
    assert_eq!(minted.len(), 2, "one token per provider");
    for (k, v) in &run.vars {
        for t in &minted {
            assert!(!v.contains(t.as_str()), "{k} holds a real token");
        }
    }
    let (code, _) = run.stop(0);
    assert_eq!(code, 0);
}

#[test]
fn a_missing_or_wrong_capability_or_host_is_refused_and_never_forwarded() {
    let up = Upstream::start(600);
    let env = proxy_env(&up, Serve::Both);
    let run = Running::start(&env, &["-vv"]);
    let (rt, c) = client();
    let cap = run.var("ANTHROPIC_AUTH_TOKEN").to_string();
    let models = format!("{}/v1/models", run.anthropic());
    let bearer = format!("Bearer {cap}");
    let anthropic_token = up
        .minted_tokens()
        .into_iter()
        .find(|t| t.starts_with("sk-ant-"));
    let real = format!("Bearer {}", anthropic_token.unwrap());
    let port = run.anthropic().rsplit(':').next().unwrap().to_string();
    let refused: [(&[(&str, &str)], u16); 7] = [
        (&[], 401),
        (&[("authorization", "Bearer keyless-proxy-guess")], 401),
        (&[("x-api-key", "sk-ant-api03-static")], 401),
        // a real token is no capability either
        (&[("authorization", &real)], 401),
        (&[("authorization", &bearer), ("x-api-key", "other")], 401),
        (&[("authorization", &bearer), ("host", "evil.example")], 403),
        (&[("x-api-key", &cap), ("host", "attacker.example:80")], 403),
    ];
    for (headers, want) in refused {
        let (status, body) = call(&rt, &c, &models, headers);
        assert_eq!(status, want, "{headers:?}: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["type"], "error", "Anthropic's error shape: {body}");
    }
    // Paths outside the API: 404, not forwarded.
    let (status, _) = call(
        &rt,
        &c,
        &format!("{}/v1/../admin", run.anthropic()),
        &[("x-api-key", &cap)],
    );
    assert_eq!(status, 404);
    let (status, _) = call(
        &rt,
        &c,
        &format!("{}/_x", run.anthropic()),
        &[("x-api-key", &cap)],
    );
    assert_eq!(status, 404);
    assert_eq!(up.api_count(), 0, "nothing refused reached the API");
    // OpenAI's listener answers in OpenAI's shape.
    let (status, body) = call(
        &rt,
        &c,
        &format!("{}/models", run.var("OPENAI_BASE_URL")),
        &[],
    );
    assert_eq!(status, 401);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"]["code"], "invalid_api_key", "{body}");
    assert_eq!(up.api_count(), 0);
    // The capability, as x-api-key or Bearer, and localhost too, goes through.
    let local = format!("http://localhost:{port}/v1/models");
    for (url, h) in [
        (&models, ("x-api-key", cap.as_str())),
        (&local, ("authorization", bearer.as_str())),
    ] {
        let (status, body) = call(&rt, &c, url, &[h]);
        assert_eq!(status, 200, "{body}");
    }
    let seen = up.seen().api.clone();
    assert_eq!(seen.len(), 2);
    for s in &seen {
        assert_eq!(s.authorization.as_deref(), Some(real.as_str()));
        assert_eq!(s.x_api_key, None, "the capability never goes upstream");
        assert_eq!(s.anthropic_beta.as_deref(), Some("oauth-2025-04-20"));
        assert_eq!(s.anthropic_version.as_deref(), Some("2023-06-01"));
        assert_eq!(
            s.host.as_deref(),
            Some(up.url.trim_start_matches("http://"))
        );
    }
    let minted = up.minted_tokens();
    let (code, err) = run.stop(0);
    assert_eq!(code, 0);
    assert!(
        err.contains("proxy: GET /v1/models"),
        "-vv names method and path: {err}"
    );
    assert!(!err.contains(&cap), "the capability never reaches stderr");
    for t in minted {
        assert!(!err.contains(&t), "a token reached stderr");
    }
}

#[test]
fn another_local_users_process_without_the_capability_is_refused() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        skipping("a second uid needs root (setpriv)");
        return;
    }
    let up = Upstream::start(600);
    let env = proxy_env(&up, Serve::Anthropic);
    let run = Running::start(&env, &["--type", "anthropic"]);
    let url = format!("{}/v1/models", run.anthropic());
    let as_nobody = |extra: &[&str]| {
        let o = std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .args([
                "curl",
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--noproxy",
                "*",
            ])
            .args(extra)
            .arg(&url)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    if !require_program("curl") {
        return;
    }
    assert_eq!(
        as_nobody(&[]),
        "401",
        "another uid reaches the port but not the API"
    );
    assert_eq!(as_nobody(&["-H", "x-api-key: sk-ant-api03-guess"]), "401");
    assert_eq!(up.api_count(), 0, "nothing of theirs was forwarded");
    // The same uid with the capability (what the child has) gets through.
    let cap = format!("x-api-key: {}", run.var("ANTHROPIC_AUTH_TOKEN"));
    assert_eq!(
        as_nobody(&["-H", &cap]),
        "200",
        "the capability is what decides"
    );
    assert_eq!(up.api_count(), 1);
    assert_eq!(run.stop(0).0, 0);
}

#[test]
fn a_token_revoked_mid_run_is_replaced_and_the_call_retried() {
    let up = Upstream::start(600);
    let env = proxy_env(&up, Serve::Anthropic);
    let run = Running::start(&env, &["--type", "anthropic"]);
    let (rt, c) = client();
    let cap = run.var("ANTHROPIC_AUTH_TOKEN").to_string();
    let url = format!("{}/v1/messages", run.anthropic());
    let post = |body: serde_json::Value| {
        rt.block_on(async {
            let r = c
                .post(&url)
                .header("x-api-key", &cap)
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        })
    };
    assert_eq!(post(serde_json::json!({"n": 1})).0, 200);
    assert_eq!(up.seen().exchanges, 1);
    up.revoke_all();
    let (status, body) = post(serde_json::json!({"n": 2}));
    assert_eq!(status, 200, "recovered within the same call: {body}");
    {
        let seen = up.seen();
        assert_eq!(seen.exchanges, 2, "one new exchange");
        assert_eq!(seen.rejected, 1, "the revoked token was tried once");
        let auths: Vec<_> = seen.api.iter().map(|s| s.authorization.clone()).collect();
        assert_eq!(auths.len(), 3);
        assert_eq!(auths[0], auths[1], "the retry is the revoked token's call");
        assert_ne!(auths[1], auths[2], "…retried with a new token");
    }
    // Later calls use the new token straight away.
    assert_eq!(post(serde_json::json!({"n": 3})).0, 200);
    assert_eq!(up.seen().rejected, 1);
    assert_eq!(up.seen().exchanges, 2);

    // A body past the 32 MiB hold streams through whole, and a 401 on it
    // is the client's (keyless no longer has the body to retry with); the
    // next call gets a new token.
    let echo = format!("{}/v1/echo", run.anthropic());
    let big = |rt: &tokio::runtime::Runtime| {
        rt.block_on(async {
            let body = vec![b'{'; 40 << 20];
            let r = c
                .post(&echo)
                .header("x-api-key", &cap)
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        })
    };
    let (status, body) = big(&rt);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        format!("{{\"len\":{}}}", 40 << 20),
        "the whole body arrived"
    );
    // Forced exchanges are at most one every 5 s: a rule that denies each
    // new token must not turn every call into an exchange.
    up.revoke_all();
    assert_eq!(post(serde_json::json!({"n": 5})).0, 401, "rate-limited");
    assert_eq!(up.seen().exchanges, 2);
    std::thread::sleep(Duration::from_millis(5200));
    assert_eq!(big(&rt).0, 401, "not retried");
    assert_eq!(up.seen().exchanges, 3, "…but renewed for the next call");
    assert_eq!(post(serde_json::json!({"n": 4})).0, 200);
    assert_eq!(up.seen().exchanges, 3);
    assert_eq!(run.stop(0).0, 0);
}

#[test]
fn exit_codes_and_signals_are_the_childs() {
    let up = Upstream::start(600);
    let env = proxy_env(&up, Serve::Anthropic);
    let run = Running::start(&env, &["--type", "anthropic"]);
    let (code, _) = run.stop(3);
    assert_eq!(code, 3);
    let sh = format!("{BIN} exec --proxy -- sh -c 'kill -9 $$'; echo \"status $?\"");
    let o = env.external("sh").args(["-c", &sh]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "status 137\n");
    // TERM to keyless reaches the child, whose trap decides the exit code.
    let mut k = env
        .cmd()
        .args(["exec", "--proxy", "--", "sh", "-c"])
        .arg("trap 'exit 42' TERM; echo up; while :; do sleep 0.05; done")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(k.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line, "up\n");
    // SAFETY: kill(2) on the keyless process we started.
    assert_eq!(unsafe { libc::kill(k.id() as i32, libc::SIGTERM) }, 0);
    assert_eq!(k.wait().unwrap().code(), Some(42));
    // A command that does not exist: 127, as exec.
    let r = env.run(&["exec", "--proxy", "--", "/nonexistent/program"]);
    assert_eq!(r.code, 127, "{}", r.stderr);
}
