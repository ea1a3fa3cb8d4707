//! `keyless agent` over minutes, with real readers: the Anthropic Python
//! and TypeScript SDKs on a profile sink, an identity source that goes
//! down for longer than a token lives, a one-token-per-job identity.
//! These sleep most of the time: they run beside the rest of the suite.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::agent_support::*;
use crate::common::*;
use crate::real_clients::{Trap, clients, hermetic, run_bounded, script};

fn renewals(log: &str) -> u64 {
    log.matches("agent: renewed the token").count() as u64
}

fn result(out: &str, what: &str) -> serde_json::Value {
    let line = out.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{what}: {e}: {out}"))
}

/// Four Python and four TypeScript SDK processes, nothing of keyless in
/// their process tree or environment but `ANTHROPIC_CONFIG_DIR`, call the
/// API every second for three minutes on 60 s tokens: not one call fails,
/// and the exchanges are the agent's renewals (plus its first), not a
/// number that grows with the readers.
#[test]
fn eight_sdk_processes_on_one_profile_sink_for_three_minutes() {
    let Some(py) = python_with("anthropic") else {
        return;
    };
    let Some(nm) = clients() else { return };
    let (sb, env) = anthropic_env(60);
    let dir = env.path("shared/anthropic");
    let agent = Agent::start(&env, &[format!("anthropic-profile:{}", dir.display())], &[]);
    let trap = Trap::start();
    let mut readers = Vec::new();
    for i in 0..8 {
        let mut c = if i % 2 == 0 {
            let mut c = hermetic(&env, Path::new(&py), &trap);
            c.args(["-c", &py_loop(PY_ANTHROPIC), "180", "1"]);
            c
        } else {
            let mut c = hermetic(&env, Path::new("node"), &trap);
            c.env("NODE_PATH", &nm)
                .arg(script("anthropic_sdk.cjs"))
                .args(["170", "1"]);
            c
        };
        c.env("ANTHROPIC_CONFIG_DIR", &dir);
        let what = format!("reader {i}");
        readers.push(std::thread::spawn(move || {
            let (ok, out, err) = run_bounded(&mut c, 300, &what);
            assert!(ok, "{what}: {out}\n{err}");
            result(&out, &what)
        }));
    }
    for (i, r) in readers.into_iter().enumerate() {
        let v = r.join().unwrap();
        assert_eq!(v["failed"], 0, "reader {i}: {v}");
        assert!(v["ok"].as_u64().unwrap() >= 100, "reader {i}: {v}");
    }
    let (code, log) = agent.stop();
    assert_eq!(code, 0, "{log}");
    let n = renewals(&log);
    assert!(
        n >= 8,
        "renewed every quarter life of a 60 s token: {n}\n{log}"
    );
    assert_eq!(exchanges(&sb), n + 1, "one exchange per renewal\n{log}");
    assert_eq!(api_unauthorized(&sb), 0);
    trap.assert_nothing_left();
}

fn api_unauthorized(sb: &Sandbox) -> u64 {
    sb.history()["api_unauthorized"].as_u64().unwrap()
}

/// An identity command that fails while `down` exists.
fn flaky_identity(env: &TestEnv, sb: &Sandbox, down: &Path) -> String {
    let script = env.path("idp.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nif [ -e '{}' ]; then echo 'identity provider down' >&2; exit 1; fi\nexec '{BIN}' sandbox identity-token --issuer '{}'\n",
            down.display(),
            sb.url
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    format!("command:{}", script.display())
}

/// The identity source is down for 90 s, longer than a 60 s token lives:
/// the sinks keep the current token while it is valid, are removed (ready
/// file too) before it expires, so no read ever finds an expired token,
/// and come back by themselves once the source does.
#[test]
fn identity_source_down_longer_than_a_token_lives() {
    let sb = Sandbox::start(&["--token-lifetime", "60"]);
    let env = TestEnv::new();
    let down = env.path("down");
    env.setup(&sb.url, &flaky_identity(&env, &sb, &down));
    let dir = env.path("shared/anthropic");
    let token_file = env.path("shared/token");
    let agent = Agent::start(
        &env,
        &[
            format!("anthropic-profile:{}", dir.display()),
            format!("file:{}", token_file.display()),
        ],
        &[],
    );
    let start = Instant::now();
    std::fs::write(&down, "").unwrap();
    let mut saw_gone = false;
    let mut restored_at = None;
    let mut reads = 0;
    while start.elapsed() < Duration::from_secs(150) {
        if start.elapsed() > Duration::from_secs(90) && down.exists() {
            std::fs::remove_file(&down).unwrap();
        }
        let t = now();
        match profile_token(&dir, "default") {
            Some((_, exp)) => {
                reads += 1;
                assert!(
                    exp as f64 > t,
                    "read an expired token ({:.1} s past) at {:?}",
                    t - exp as f64,
                    start.elapsed()
                );
                if saw_gone && !down.exists() && restored_at.is_none() {
                    restored_at = Some(start.elapsed());
                }
            }
            None => {
                // the ready file goes with the sinks (the credentials
                // file is removed last of the three; it may be back already)
                saw_gone = true;
            }
        }
        if restored_at.is_some_and(|r| start.elapsed() > r + Duration::from_secs(5)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        saw_gone,
        "the sinks were emptied while nothing valid was left"
    );
    restored_at.expect("the agent recovered by itself");
    assert!(agent.ready.exists() && token_file.exists());
    assert!(reads > 200);
    let (code, log) = agent.stop();
    assert_eq!(code, 0);
    assert!(log.contains("renewing the token failed"), "{log}");
    assert!(log.contains("no valid Anthropic token left"), "{log}");
}

/// A one-token-per-job identity (GitLab's `id_tokens:`, a single-use JWT
/// in a file): four programs reading the agent's sinks cost one exchange,
/// and the single-use token is never offered twice.
#[test]
fn a_one_token_per_job_identity_read_by_four_programs_is_one_exchange() {
    let Some(py) = python_with("anthropic") else {
        return;
    };
    let sb = Sandbox::start(&["--token-lifetime", "600"]);
    let env = TestEnv::new();
    let jwt = env.path("job.jwt");
    std::fs::write(&jwt, sb.mint_jwt(&[])).unwrap();
    env.setup(&sb.url, &format!("file:{}", jwt.display()));
    let dir = env.path("shared/anthropic");
    let token = env.path("shared/token");
    let agent = Agent::start(
        &env,
        &[
            format!("anthropic-profile:{}", dir.display()),
            format!("file:{}", token.display()),
        ],
        &[],
    );
    let trap = Trap::start();
    let mut programs = Vec::new();
    for i in 0..4 {
        let mut c = if i < 3 {
            let mut c = hermetic(&env, Path::new(&py), &trap);
            c.args(["-c", &py_loop(PY_ANTHROPIC), "3", "1"])
                .env("ANTHROPIC_CONFIG_DIR", &dir);
            c
        } else {
            // a tool that reads a key from a file
            let mut c = env.external("sh");
            c.args([
                "-c",
                "curl -sf -o /dev/null -H \"Authorization: Bearer $(cat \"$TOKEN\")\" -H 'anthropic-version: 2023-06-01' -H 'content-type: application/json' -d '{\"model\":\"claude-sandbox-1\",\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}' \"$URL/v1/messages\" && echo '{\"ok\":1,\"failed\":0}'",
            ])
            .env("TOKEN", &token)
            .env("URL", &sb.url);
            c
        };
        let what = format!("program {i}");
        programs.push(std::thread::spawn(move || {
            let (ok, out, err) = run_bounded(&mut c, 60, &what);
            assert!(ok, "{what}: {out}\n{err}");
            result(&out, &what)
        }));
    }
    for p in programs {
        let v = p.join().unwrap();
        assert_eq!(v["failed"], 0, "{v}");
    }
    let h = sb.history();
    assert_eq!(h["exchanges"], 1, "{h}");
    assert!(!h.to_string().contains("jti_reused"), "{h}");
    assert!(h["api_calls"].as_u64().unwrap() >= 4, "{h}");
    agent.stop();
}
