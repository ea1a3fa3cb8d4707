//! `keyless exec --refresh`: the child's SDK profile, exit statuses, signals,
//! cleanup, and a real SDK client kept signed in across token lifetimes.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::common::*;

fn sandbox_env(lifetime: &str) -> (Sandbox, TestEnv) {
    let sb = Sandbox::start(&["--token-lifetime", lifetime]);
    let env = TestEnv::new();
    env.setup(&sb.url, &sb.identity_command());
    (sb, env)
}

#[test]
fn the_child_gets_a_private_rotated_profile_and_nothing_that_outranks_it() {
    let (sb, env) = sandbox_env("600");
    let script = r#"d="$ANTHROPIC_CONFIG_DIR"; echo "$d" > "$OUT/dir";
        stat -c '%a' "$d" "$d/credentials/keyless.json" > "$OUT/modes";
        cp "$d/configs/keyless.json" "$OUT/profile.json"; cp "$d/credentials/keyless.json" "$OUT/creds.json";
        printf '%s|%s|%s' "$ANTHROPIC_PROFILE" "${ANTHROPIC_API_KEY-gone}" "${ANTHROPIC_AUTH_TOKEN-gone}""#;
    let out = env.path("out");
    std::fs::create_dir_all(&out).unwrap();
    let r = env.run_with(&["exec", "--refresh", "--", "sh", "-c", script], |c| {
        c.env("OUT", &out)
            .env("ANTHROPIC_API_KEY", "sk-ant-api03-static")
            .env("ANTHROPIC_AUTH_TOKEN", "sk-ant-oat01-stale-foreign");
    });
    r.success();
    assert_eq!(r.stdout, "keyless|gone|gone");
    assert_eq!(
        std::fs::read_to_string(out.join("modes")).unwrap(),
        "700\n600\n"
    );
    let profile: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("profile.json")).unwrap()).unwrap();
    assert_eq!(profile["authentication"]["type"], "user_oauth");
    assert!(
        profile["authentication"].get("client_id").is_none(),
        "externally rotated: no client_id"
    );
    assert_eq!(profile["base_url"], sb.url.as_str());
    let creds: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("creds.json")).unwrap()).unwrap();
    assert_eq!(creds["version"], "1.0");
    assert_eq!(creds["type"], "oauth_token");
    assert!(
        creds["access_token"]
            .as_str()
            .unwrap()
            .starts_with("sk-ant-oat01-")
    );
    assert!(creds["expires_at"].is_i64(), "an integer expires_at");
    let dir = std::fs::read_to_string(out.join("dir")).unwrap();
    assert!(
        !std::path::Path::new(dir.trim()).exists(),
        "the private dir is removed"
    );
}

/// The externally rotated profile as the SDKs see it, with 60 s tokens (the
/// shortest any provider issues): started on a cached token with 20 s left
/// (under the SDKs' 30 s), the child's first read already holds a new one,
/// and every later read holds a token with at least 40 s left, replaced
/// more than once, at sub-second precision.
#[test]
fn a_sixty_second_token_is_replaced_in_time_even_from_a_nearly_spent_cache() {
    let (_sb, env) = sandbox_env("60");
    env.run(&["credential", "anthropic"]).success();
    let stale = age_cache(&env.cache_dir(), 40);
    let log = env.path("reads.log");
    let script = r#"end=$(( $(date +%s) + 34 ));
        while [ "$(date +%s)" -lt "$end" ]; do
          printf '%s ' "$(date +%s%N)"; cat "$ANTHROPIC_CONFIG_DIR/credentials/keyless.json"; echo; sleep 0.1;
        done > "$LOG""#;
    let r = env.run_with(&["exec", "--refresh", "--", "sh", "-c", script], |c| {
        c.env("LOG", &log);
    });
    r.success();
    let text = std::fs::read_to_string(&log).unwrap();
    let reads: Vec<(f64, String, i64)> = text
        .lines()
        .filter_map(|l| {
            let (ns, json) = l.split_once(' ')?;
            let v: serde_json::Value = serde_json::from_str(json).ok()?;
            Some((
                ns.parse::<f64>().ok()? / 1e9,
                v["access_token"].as_str()?.to_string(),
                v["expires_at"].as_i64()?,
            ))
        })
        .collect();
    assert!(reads.len() > 100, "{text}");
    assert_ne!(
        reads[0].1, stale,
        "the nearly spent token was replaced first"
    );
    let min_left = reads
        .iter()
        .map(|(t, _, exp)| *exp as f64 - t)
        .fold(f64::MAX, f64::min);
    assert!(min_left >= 40.0, "a read saw only {min_left:.1} s left");
    let mut tokens: Vec<&str> = reads.iter().map(|r| r.1.as_str()).collect();
    tokens.dedup();
    assert!(
        tokens.len() >= 3,
        "rotated at least twice in 34 s: {}",
        tokens.len()
    );
}

/// Claude Code ranks its apiKeyHelper above the profile and then reads the
/// base URL only from ANTHROPIC_BASE_URL: the child keeps it, pointing at the
/// host that minted the token (the SDKs take the profile's base_url first,
/// so for them it changes nothing).
#[test]
fn the_child_keeps_the_base_url_for_clients_whose_helper_outranks_the_profile() {
    let (sb, env) = sandbox_env("600");
    env.run(&["setup", "claude-code"]).success();
    let r = env.run_with(
        &[
            "exec",
            "--refresh",
            "--",
            "sh",
            "-c",
            "printf %s \"$ANTHROPIC_BASE_URL\"",
        ],
        |c| {
            c.env("ANTHROPIC_BASE_URL", "https://elsewhere.example");
        },
    );
    r.success();
    assert_eq!(r.stdout, sb.url);
}

#[test]
fn exit_codes_come_back_unchanged_and_the_dir_is_always_removed() {
    let (_sb, env) = sandbox_env("600");
    for code in [0, 3] {
        let r = env.run(&[
            "exec",
            "--refresh",
            "--",
            "sh",
            "-c",
            &format!("echo \"$ANTHROPIC_CONFIG_DIR\"; exit {code}"),
        ]);
        assert_eq!(r.code, code);
        assert!(!std::path::Path::new(r.stdout.trim()).exists());
    }
    // a child killed by SIGKILL: keyless dies by the same signal, so a shell sees 137
    let sh = format!(
        "{BIN} exec --refresh -- sh -c 'echo \"$ANTHROPIC_CONFIG_DIR\"; kill -9 $$'; echo \"status $?\""
    );
    let o = env.external("sh").args(["-c", &sh]).output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    let mut lines = text.lines();
    let dir = lines.next().unwrap();
    assert_eq!(lines.next(), Some("status 137"), "{text}");
    assert!(!std::path::Path::new(dir).exists());
}

fn signal_reaches_child(sig: i32, name: &str) {
    let (_sb, env) = sandbox_env("600");
    let script = format!(
        "trap 'echo got-{name}; exit 42' {name}; echo \"$ANTHROPIC_CONFIG_DIR\"; while :; do sleep 0.05; done"
    );
    let mut child = env
        .cmd()
        .args(["exec", "--refresh", "--", "sh", "-c", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut dir = String::new();
    out.read_line(&mut dir).unwrap();
    // SAFETY: kill(2) on the keyless process we started.
    assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, format!("got-{name}\n"));
    assert_eq!(child.wait().unwrap().code(), Some(42));
    assert!(
        !std::path::Path::new(dir.trim()).exists(),
        "removed after a signal too"
    );
}

#[test]
fn sigint_reaches_the_child() {
    signal_reaches_child(libc::SIGINT, "INT");
}

#[test]
fn sigterm_reaches_the_child() {
    signal_reaches_child(libc::SIGTERM, "TERM");
}

#[test]
fn openai_cannot_be_refreshed_and_says_why() {
    let (_sb, env) = sandbox_env("600");
    env.run(&["exec", "--refresh", "--type", "openai", "--", "true"])
        .fails(2, "OpenAI's SDKs read only OPENAI_API_KEY");
}

const LONG_RUN: &str = r#"
import sys, time, anthropic
client = anthropic.Anthropic(max_retries=0)
failures = 0
stop_at_first = len(sys.argv) > 1
end = time.time() + 240
while time.time() < end:
    try:
        client.messages.create(model="claude-sandbox-1", max_tokens=8, messages=[{"role": "user", "content": "ping"}])
    except Exception as e:
        failures += 1
        print("failure:", type(e).__name__, flush=True)
        if stop_at_first:
            break
    time.sleep(2)
print("failures", failures, flush=True)
"#;

fn python() -> Option<String> {
    let p = std::env::var("KEYLESS_TEST_PYTHON")
        .ok()
        .filter(|p| !p.is_empty());
    require_tool("KEYLESS_TEST_PYTHON with the anthropic SDK", p.is_some()).then(|| p.unwrap())
}

/// The official SDK, a Messages call every 2 s for 4 minutes, 60 s tokens
/// (the shortest the providers issue): under --refresh, not one call fails.
#[test]
fn a_four_minute_sdk_session_survives_one_minute_tokens() {
    let Some(py) = python() else { return };
    let (sb, env) = sandbox_env("60");
    let r = env.run(&["exec", "--refresh", "--", &py, "-c", LONG_RUN]);
    r.success();
    assert!(r.stdout.ends_with("failures 0\n"), "{}", r.stdout);
    let h = sb.history();
    assert!(
        h["exchanges"].as_u64().unwrap() >= 8,
        "the token was rotated: {h}"
    );
}

/// The same program under plain exec fails once its first token expires:
/// the reason --refresh exists.
#[test]
fn plain_exec_fails_when_the_first_token_expires() {
    let Some(py) = python() else { return };
    let (_sb, env) = sandbox_env("60");
    let t = std::time::Instant::now();
    let r = env.run(&["exec", "--", &py, "-c", LONG_RUN, "stop-at-first"]);
    assert!(
        r.stdout.contains("failure: AuthenticationError"),
        "{}",
        r.stdout
    );
    assert!(
        t.elapsed() >= std::time::Duration::from_secs(40),
        "it worked until the token expired"
    );
}
