//! `keyless agent`'s proxy sinks with real clients for three minutes on
//! 60 s tokens: the Anthropic Python SDK on a loopback port, the OpenAI
//! Python SDK on a Unix socket, curl on both; tokens revoked mid-run are
//! replaced on the first 401, and every renewal is one exchange.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::agent_support::*;
use crate::common::*;
use crate::real_clients::{Trap, hermetic, revoke, run_bounded, sandbox_env};

/// The OpenAI Python SDK over the Unix socket argv[3]: its `call()`, one chat
/// completion (for [`py_loop`]).
const PY_OPENAI_UDS: &str = r#"
import json, sys, time, openai
import httpx2 as httpx  # the pinned openai SDK is built on httpx2
secs, gap, sock = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
client = openai.OpenAI(max_retries=0, base_url="http://localhost/v1",
                       http_client=httpx.Client(transport=httpx.HTTPTransport(uds=sock)))
def call():
    client.chat.completions.create(model="gpt-sandbox-1", messages=[{"role": "user", "content": "ping"}])
"#;

/// curl against both listeners, every second; the same JSON summary.
const CURL_LOOP: &str = r#"
ok=0; failed=0; end=$(( $(date +%s) + SECS ))
while [ "$(date +%s)" -lt "$end" ]; do
  if curl -sf -o /dev/null -H "x-api-key: $KEY" -H 'anthropic-version: 2023-06-01' -H 'content-type: application/json' \
       -d '{"model":"claude-sandbox-1","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}' "$A/v1/messages" \
     && curl -sf -o /dev/null --unix-socket "$SOCK" -H "Authorization: Bearer $KEY" -H 'content-type: application/json' \
       -d '{"model":"gpt-sandbox-1","messages":[{"role":"user","content":"hi"}]}' http://localhost/v1/chat/completions
  then ok=$((ok+1)); else failed=$((failed+1)); fi
  sleep 1
done
echo "{\"ok\": $ok, \"failed\": $failed}"
"#;

#[test]
fn proxy_sinks_serve_three_clients_for_three_minutes_and_replace_a_revoked_token() {
    let Some(py) = python_with("openai") else {
        return;
    };
    let (sb, env) = sandbox_env(60);
    let port = free_port();
    let sock = env.path("run/openai.sock");
    let cap = env.path("run/capability");
    let (ta, to) = (
        env.path("run/anthropic.token"),
        env.path("run/openai.token"),
    );
    let sinks = vec![
        format!("proxy:anthropic=127.0.0.1:{port}"),
        format!("proxy:openai=unix:{}", sock.display()),
        format!("file:anthropic={}", ta.display()),
        format!("file:openai={}", to.display()),
    ];
    let agent = Agent::start_with(
        &env,
        &sinks,
        &["--capability-file", cap.to_str().unwrap()],
        |c| {
            c.env("OPENAI_BASE_URL", format!("{}/v1", sb.url));
        },
    );
    assert_eq!(mode(&sock) & 0o777, 0o600);
    assert_eq!(mode(&cap) & 0o777, 0o600);
    let key = std::fs::read_to_string(&cap).unwrap();
    let trap = Trap::start();
    let secs = "180";
    let mut clients: Vec<(String, Command)> = Vec::new();
    let mut c = hermetic(&env, Path::new(&py), &trap);
    c.args(["-c", &py_loop(PY_ANTHROPIC), secs, "1"])
        .env("ANTHROPIC_BASE_URL", format!("http://127.0.0.1:{port}"))
        .env("ANTHROPIC_AUTH_TOKEN", &key);
    clients.push(("the Anthropic SDK".into(), c));
    let mut c = hermetic(&env, Path::new(&py), &trap);
    let script = py_loop(PY_OPENAI_UDS);
    c.args(["-c", &script, secs, "1", sock.to_str().unwrap()])
        .env("OPENAI_API_KEY", &key);
    clients.push(("the OpenAI SDK".into(), c));
    let mut c = env.external("sh");
    c.args(["-c", &CURL_LOOP.replace("SECS", secs)])
        .env("KEY", &key)
        .env("A", format!("http://127.0.0.1:{port}"))
        .env("SOCK", &sock);
    clients.push(("curl".into(), c));
    let running: Vec<_> = clients
        .into_iter()
        .map(|(what, mut c)| {
            std::thread::spawn(move || {
                let (ok, out, err) = run_bounded(&mut c, 300, &what);
                assert!(ok, "{what}: {out}\n{err}");
                let v: serde_json::Value =
                    serde_json::from_str(out.lines().last().unwrap_or_default())
                        .unwrap_or_else(|e| panic!("{what}: {e}: {out}"));
                (what, v)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(90));
    let before = api_unauthorized(&sb);
    for f in [&ta, &to] {
        let t = std::fs::read_to_string(f).unwrap();
        assert_eq!(revoke(&sb, &format!("{{\"token\":\"{t}\"}}")), 1);
    }
    for r in running {
        let (what, v) = r.join().unwrap();
        assert_eq!(v["failed"], 0, "{what}: {v}");
        assert!(v["ok"].as_u64().unwrap() >= 100, "{what}: {v}");
    }
    // Each revoked token is replaced on its first 401; a request already
    // in flight with it (two clients per provider) may meet one 401 too,
    // and is retried with the replacement: none fails, none is refused later.
    let refused = api_unauthorized(&sb) - before;
    assert!(
        (2..=4).contains(&refused),
        "each revoked token was replaced on its first 401: {refused} refused"
    );
    assert_eq!(
        api_unauthorized(&sb),
        refused,
        "no 401 before the revocation"
    );
    let (code, log) = agent.stop();
    assert_eq!(code, 0, "{log}");
    let renewals = log.matches("agent: renewed the token").count() as u64;
    assert!(
        renewals >= 16,
        "both tokens renewed all along: {renewals}\n{log}"
    );
    assert_eq!(
        exchanges(&sb),
        renewals + 2,
        "one exchange per renewal (and the first two)\n{log}"
    );
    assert!(!sock.exists(), "the socket is removed on stop");
    trap.assert_nothing_left();
}

fn api_unauthorized(sb: &Sandbox) -> u64 {
    sb.history()["api_unauthorized"].as_u64().unwrap()
}

/// A proxy sink needs its key file; the key is kept across restarts.
#[test]
fn the_capability_is_required_and_kept_across_restarts() {
    let (_sb, env) = crate::agent_support::anthropic_env(600);
    let port = free_port();
    let sink = format!("proxy:anthropic=127.0.0.1:{port}");
    env.run(&["agent", "--sink", &sink])
        .fails(2, "a proxy sink needs --capability-file");
    let cap = env.path("cap");
    let args = ["--capability-file", cap.to_str().unwrap()];
    let a = Agent::start(&env, std::slice::from_ref(&sink), &args);
    let key = std::fs::read_to_string(&cap).unwrap();
    assert!(key.starts_with("keyless-proxy-"));
    a.stop();
    let a = Agent::start(&env, std::slice::from_ref(&sink), &args);
    assert_eq!(std::fs::read_to_string(&cap).unwrap(), key);
    let o = env
        .external("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
        .args(["-H", &format!("x-api-key: {key}")])
        .args(["-H", "anthropic-version: 2023-06-01"])
        .arg(format!("http://127.0.0.1:{port}/v1/models"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "200");
    let o = env
        .external("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
        .args(["-H", "x-api-key: keyless-proxy-wrong"])
        .arg(format!("http://127.0.0.1:{port}/v1/models"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "401");
    a.stop();
}
