//! Claude Code (`claude -p`, non-interactive) against the sandbox: through
//! `setup claude-code` (apiKeyHelper), under `exec`, `exec --refresh` and
//! `exec --proxy`,
//! a long session with 60-second tokens, and a token revoked mid-session.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use super::*;

fn claude(env: &TestEnv, nm: &Path, trap: &Trap) -> Command {
    let mut c = hermetic(env, &nm.join(".bin/claude"), trap);
    let work = env.path("work");
    std::fs::create_dir_all(&work).unwrap();
    c.current_dir(work);
    c
}

/// keyless (exec …) starting Claude Code: the base URL comes from keyless.
fn keyless_running_claude(env: &TestEnv, nm: &Path, trap: &Trap, exec: &[&str]) -> Command {
    let mut c = keyless_starting_claude(env, nm, trap, exec);
    c.args(["-p", "say hi"]);
    c
}

/// `keyless EXEC… -- claude` with Claude's arguments still to add.
fn keyless_starting_claude(env: &TestEnv, nm: &Path, trap: &Trap, exec: &[&str]) -> Command {
    let mut c = hermetic(env, Path::new(BIN), trap);
    c.args(exec).arg("--").arg(nm.join(".bin/claude"));
    let work = env.path("work");
    std::fs::create_dir_all(&work).unwrap();
    c.current_dir(work);
    c
}

#[test]
fn claude_p_through_setup_claude_code() {
    let Some(nm) = clients() else { return };
    let (sb, env) = sandbox_env(60);
    env.run(&["setup", "claude-code"]).success();
    let trap = Trap::start();
    let (out, _) = finish(
        claude(&env, &nm, &trap)
            .env("ANTHROPIC_BASE_URL", &sb.url)
            .args(["-p", "say hi"]),
        120,
        "claude -p with apiKeyHelper",
    );
    assert!(out.contains(REPLY), "{out}");
    assert_served_never_refused(&sb);
    trap.assert_nothing_left();
}

#[test]
fn claude_p_under_exec() {
    let Some(nm) = clients() else { return };
    let (sb, env) = sandbox_env(60);
    let trap = Trap::start();
    let (out, _) = finish(
        &mut keyless_running_claude(&env, &nm, &trap, &["exec", "--type", "anthropic"]),
        120,
        "keyless exec -- claude -p",
    );
    assert!(out.contains(REPLY), "{out}");
    assert_eq!(api_counts(&sb).1, 0);
    trap.assert_nothing_left();
}

#[test]
fn claude_p_under_exec_refresh_reads_the_rotated_profile() {
    let Some(nm) = clients() else { return };
    let (sb, env) = sandbox_env(60);
    let trap = Trap::start();
    let (out, _) = finish(
        &mut keyless_running_claude(&env, &nm, &trap, &["exec", "--refresh"]),
        120,
        "keyless exec --refresh -- claude -p",
    );
    assert!(out.contains(REPLY), "{out}");
    assert_eq!(api_counts(&sb).1, 0);
}

#[test]
fn claude_p_under_exec_refresh_sends_nothing_beyond_the_profiles_base_url() {
    let Some(nm) = clients() else { return };
    let (_sb, env) = sandbox_env(60);
    let trap = Trap::start();
    finish(
        &mut keyless_running_claude(&env, &nm, &trap, &["exec", "--refresh"]),
        120,
        "keyless exec --refresh -- claude -p",
    );
    // Claude Code fetches /api/claude_code/policy_limits from
    // ANTHROPIC_BASE_URL or else api.anthropic.com, never from the profile's
    // base_url: with the base URL only in the profile, the token would go
    // to another host than the one that minted it.
    trap.assert_nothing_left();
}

#[test]
fn claude_p_under_exec_refresh_with_the_helper_configured_keeps_the_base_url() {
    let Some(nm) = clients() else { return };
    let (sb, env) = sandbox_env(60);
    env.run(&["setup", "claude-code"]).success();
    let trap = Trap::start();
    let (ok, out, err) = run_bounded(
        &mut keyless_running_claude(&env, &nm, &trap, &["exec", "--refresh"]),
        120,
        "keyless exec --refresh -- claude -p",
    );
    assert!(
        ok && out.contains(REPLY),
        "apiKeyHelper outranks the profile, so Claude Code needs ANTHROPIC_BASE_URL:\nstdout: {out}\nstderr: {err}\ntried to reach: {:?}",
        trap.attempts()
    );
    assert!(api_counts(&sb).0 >= 1);
    trap.assert_nothing_left();
}

/// `exec --proxy`: Claude Code holds only the run's capability and the
/// proxy's loopback URL; keyless adds the token and forwards to the sandbox.
#[test]
fn claude_p_under_exec_proxy() {
    let Some(nm) = clients() else { return };
    let (sb, env) = sandbox_env(60);
    let trap = Trap::start();
    let (out, _) = finish(
        &mut keyless_running_claude(
            &env,
            &nm,
            &trap,
            &["exec", "--proxy", "--type", "anthropic"],
        ),
        120,
        "keyless exec --proxy -- claude -p",
    );
    assert!(out.contains(REPLY), "{out}");
    assert_served_never_refused(&sb);
    trap.assert_nothing_left();
}

/// One long-lived `claude -p` reading user turns as stream-json from stdin:
/// the process (and its apiKeyHelper TTL) lives across token lifetimes.
struct Session {
    child: Child,
    stdin: Option<ChildStdin>,
    results: Receiver<serde_json::Value>,
}

impl Session {
    fn start(mut c: Command) -> Self {
        let mut child = c
            .args([
                "-p",
                "--input-format",
                "stream-json",
                "--output-format",
                "stream-json",
                "--verbose",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
                    && v["type"] == "result"
                    && tx.send(v).is_err()
                {
                    break;
                }
            }
        });
        Session {
            stdin: child.stdin.take(),
            child,
            results: rx,
        }
    }

    /// Send one user turn; the result, or an error text when none came.
    fn turn(&mut self, wait: Duration) -> Result<String, String> {
        let msg = r#"{"type":"user","message":{"role":"user","content":"say hi"}}"#;
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{msg}").map_err(|e| format!("claude's stdin: {e}"))?;
        stdin.flush().unwrap();
        let r = self
            .results
            .recv_timeout(wait)
            .map_err(|_| format!("no result within {} s", wait.as_secs()))?;
        let text = r["result"].as_str().unwrap_or_default().to_string();
        if r["is_error"] == true || r["subtype"] != "success" {
            return Err(format!("{}: {text}", r["subtype"]));
        }
        Ok(text)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Turns every 10 s for `secs` in one session; (turns ok, failures).
fn long_session(c: Command, secs: u64) -> (usize, Vec<String>) {
    let mut s = Session::start(c);
    let start = Instant::now();
    let (mut ok, mut failed) = (0, Vec::new());
    while start.elapsed() < Duration::from_secs(secs) {
        let t = Instant::now();
        match s.turn(Duration::from_secs(60)) {
            Ok(text) if text.contains(REPLY) => ok += 1,
            Ok(text) => failed.push(format!("unexpected reply: {text}")),
            Err(e) => failed.push(e),
        }
        std::thread::sleep(Duration::from_secs(10).saturating_sub(t.elapsed()));
    }
    (ok, failed)
}

/// Zero failed turns over the long session, and the token was replaced as
/// it expired. (A 401 that Claude Code papers over by re-running the helper
/// is not a failed turn: `the_helper_ttl_leaves_a_turn_of_margin` pins why
/// those happen with setup claude-code and 60 s tokens.)
fn assert_stayed_signed_in(sb: &Sandbox, ok: usize, failed: &[String], secs: u64) {
    let h = sb.history();
    let (served, refused) = api_counts(sb);
    assert!(
        failed.is_empty(),
        "{ok} ok, failed: {failed:?} ({served} calls served, {refused} refused)"
    );
    assert!(ok as u64 >= secs / 15, "only {ok} turns in {secs} s");
    assert!(
        h["exchanges"].as_u64().unwrap() > secs / 60,
        "the token was replaced as it expired: {h}"
    );
}

#[test]
fn claude_code_with_setup_claude_code_stays_signed_in_across_60_second_tokens() {
    let Some(nm) = clients() else { return };
    let (sb, env) = sandbox_env(60);
    env.run(&["setup", "claude-code"]).success();
    let trap = Trap::start();
    let mut c = claude(&env, &nm, &trap);
    c.env("ANTHROPIC_BASE_URL", &sb.url);
    // 150 s: two and a half token lifetimes, a turn every 10 s
    let (ok, failed) = long_session(c, 150);
    assert_stayed_signed_in(&sb, ok, &failed, 150);
    trap.assert_nothing_left();
}

#[test]
fn claude_code_under_exec_refresh_stays_signed_in_across_60_second_tokens() {
    let Some(nm) = clients() else { return };
    let (sb, env) = sandbox_env(60);
    let trap = Trap::start();
    let c = keyless_starting_claude(&env, &nm, &trap, &["exec", "--refresh"]);
    let (ok, failed) = long_session(c, 150);
    assert_stayed_signed_in(&sb, ok, &failed, 150);
}

#[test]
fn claude_code_under_exec_proxy_stays_signed_in_across_60_second_tokens() {
    let Some(nm) = clients() else { return };
    let (sb, env) = sandbox_env(60);
    let trap = Trap::start();
    let c = keyless_starting_claude(
        &env,
        &nm,
        &trap,
        &["exec", "--proxy", "--type", "anthropic"],
    );
    let (ok, failed) = long_session(c, 150);
    assert_stayed_signed_in(&sb, ok, &failed, 150);
    trap.assert_nothing_left();
}

/// Claude Code keeps a helper's token for CLAUDE_CODE_API_KEY_HELPER_TTL_MS
/// and uses it for every call of a turn that starts inside that time, so a
/// token keyless serves must outlive the TTL by a turn's length. Found by
/// the long run above: with 60 s tokens setup writes a 30 s TTL and
/// `credential` serves a cached token with 30 s left, so a turn that starts
/// at the end of the TTL gets 401s (2 in 15 turns) and Claude Code re-runs
/// the helper to recover. No client needed to show it.
#[test]
fn the_helper_ttl_leaves_a_turn_of_margin() {
    let (_sb, env) = sandbox_env(60);
    // setup sizes the TTL from the lifetimes in the cache
    env.run(&["credential", "anthropic"]).success();
    env.run(&["setup", "claude-code"]).success();
    let settings: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(env.home().join(".claude/settings.json")).unwrap(),
    )
    .unwrap();
    let ttl_s: i64 = settings["env"]["CLAUDE_CODE_API_KEY_HELPER_TTL_MS"]
        .as_str()
        .unwrap()
        .parse::<i64>()
        .unwrap()
        / 1000;
    // what the helper setup wrote runs: credential with --helper-ttl
    let helper: String = settings["apiKeyHelper"].as_str().unwrap().into();
    assert!(
        helper.ends_with(&format!("--helper-ttl {ttl_s}")),
        "{helper}"
    );
    let served = |env: &TestEnv| -> serde_json::Value {
        let ttl = ttl_s.to_string();
        let args = [
            "credential",
            "anthropic",
            "--format",
            "json",
            "--helper-ttl",
            &ttl,
        ];
        let r = env.run(&args);
        serde_json::from_str(&r.success().stdout).unwrap()
    };
    let first = served(&env);
    // ask again as late as keyless still serves the cached token
    let exp = first["expires_at"].as_i64().unwrap();
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    };
    let until = exp - 32;
    while now() < until {
        std::thread::sleep(Duration::from_millis(200));
    }
    let second = served(&env);
    let left = second["expires_at"].as_i64().unwrap() - now();
    assert!(
        left >= ttl_s + 15,
        "served a token with {left} s left for a {ttl_s} s helper TTL"
    );
}

#[test]
fn claude_code_recovers_when_the_served_token_is_revoked_mid_session() {
    let Some(nm) = clients() else { return };
    let (sb, env) = sandbox_env(600);
    env.run(&["setup", "claude-code"]).success();
    let trap = Trap::start();
    let mut c = claude(&env, &nm, &trap);
    c.env("ANTHROPIC_BASE_URL", &sb.url);
    let mut s = Session::start(c);
    assert!(s.turn(Duration::from_secs(60)).unwrap().contains(REPLY));
    assert_eq!(revoke(&sb, "{}"), 1, "the one token served so far");
    // Claude Code re-runs apiKeyHelper on the 401: keyless must exchange
    // again rather than serve the revoked token from its cache.
    let after = s.turn(Duration::from_secs(90));
    let (_, refused) = api_counts(&sb);
    assert!(
        after.as_deref().is_ok_and(|t| t.contains(REPLY)),
        "after revocation: {after:?} ({refused} calls refused)"
    );
    assert!(s.turn(Duration::from_secs(60)).is_ok());
    assert!(
        refused <= 3,
        "recovered within the retry budget: {refused} refused"
    );
    trap.assert_nothing_left();
}
