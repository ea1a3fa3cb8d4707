//! Defect 1: the proxy's port must not outlive the proxy. On Linux the
//! child dies with keyless (kill -9 included), and keyless stays until
//! every descendant has exited (or the grace period after the child's exit
//! has passed: hardening::leftover_daemons), answering 503 meanwhile
//! (src/handoff/contain.rs).

use std::time::{Duration, Instant};

use crate::common::*;
use crate::exec_proxy::upstream::Upstream;

pub(super) fn ready() -> (Upstream, TestEnv, std::path::PathBuf) {
    let up = Upstream::start(600);
    let env = TestEnv::new();
    let file = env.jwt_file();
    env.setup(&up.url, &format!("file:{}", file.display()));
    let out = env.path("out");
    std::fs::create_dir_all(&out).unwrap();
    (up, env, out)
}

pub(super) fn wait_for(p: &std::path::Path) -> String {
    let t0 = Instant::now();
    loop {
        if let Ok(s) = std::fs::read_to_string(p)
            && s.ends_with('\n')
        {
            return s;
        }
        assert!(t0.elapsed() < HANG, "no {}", p.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What the child leaves running may run an hour after it here: these
/// tests wait for it.
const HOUR: &str = "3600";

/// `exec --proxy` for Anthropic running `script`, its output discarded,
/// what the child leaves running given `grace` seconds after it (not the
/// 10 s default: the tests wait for it, or say 0, never on the clock).
pub(super) fn spawn_quiet(
    env: &TestEnv,
    script: &str,
    out: &std::path::Path,
    grace: &str,
) -> std::process::Child {
    env.exec_proxy_sh("anthropic", script, out)
        .env("KEYLESS_PROXY_GRACE", grace)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// `exec --proxy` running `script`, which leaves a pid in `$OUT/NAME`: once
/// it has, keyless is killed, and the answer is whether that process
/// survives it.
fn survives_keyless_killed_under(script: &str, name: &str) -> bool {
    let (_up, env, out) = ready();
    let mut keyless = spawn_quiet(&env, script, &out, HOUR);
    let pid: i32 = wait_for(&out.join(name)).trim().parse().unwrap();
    assert!(alive(pid));
    survives_a_killed_keyless(&mut keyless, pid)
}

/// SIGKILL `keyless`, then whether `pid` (its child, or what the child left)
/// is still alive once the watchdog has passed (killed then: no orphan
/// outlives the test).
fn survives_a_killed_keyless(keyless: &mut std::process::Child, pid: i32) -> bool {
    // SAFETY: kill(2) on the keyless this test started.
    unsafe { libc::kill(keyless.id() as i32, libc::SIGKILL) };
    let _ = keyless.wait();
    let t0 = Instant::now();
    while alive(pid) && t0.elapsed() < HANG {
        std::thread::sleep(Duration::from_millis(20));
    }
    let survived = alive(pid);
    if survived {
        // SAFETY: clean up the orphan this test caused.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    survived
}

/// Alive and not a zombie (a zombie holds no socket and runs nothing).
pub(super) fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

#[cfg(target_os = "linux")]
#[test]
fn the_child_dies_with_a_killed_keyless() {
    let script = r#"echo $$ > "$OUT/child.tmp"; mv "$OUT/child.tmp" "$OUT/child"; exec sleep 300"#;
    let survived = survives_keyless_killed_under(script, "child");
    assert!(!survived, "the child outlived keyless and its port");
}

/// Without timing: the background job runs until the test says so; while
/// it does keyless is still there, answering it 503, and once it ends
/// keyless exits.
#[cfg(target_os = "linux")]
#[test]
fn keyless_outlives_a_background_job_and_answers_it_503() {
    let (_up, env, out) = ready();
    let script = r#"( env > "$OUT/env.tmp"; mv "$OUT/env.tmp" "$OUT/env"; while [ ! -e "$OUT/stop" ]; do sleep 0.05; done ) & echo $$ > "$OUT/child.tmp"; mv "$OUT/child.tmp" "$OUT/child"; exit 0"#;
    let mut keyless = spawn_quiet(&env, script, &out, HOUR);
    let vars = wait_for_env(&out.join("env"));
    let var = |n: &str| assigned(&vars, n);
    let addr = var("ANTHROPIC_BASE_URL")
        .trim_start_matches("http://")
        .to_string();
    let cap = var("ANTHROPIC_AUTH_TOKEN");
    // the direct child has exited (and been reaped); the worker still runs
    let child: i32 = wait_for(&out.join("child")).trim().parse().unwrap();
    let t0 = Instant::now();
    while alive(child) && t0.elapsed() < HANG {
        std::thread::sleep(Duration::from_millis(20));
    }
    let bearer = format!("Bearer {cap}");
    let url = format!("http://{addr}/v1/models");
    // keyless learns of the exit a moment after it: ask until it answers 503
    let mut answer = String::new();
    while !answer.starts_with("HTTP/1.1 503")
        && t0.elapsed() < HANG
        && keyless.try_wait().unwrap().is_none()
    {
        answer = match http::try_request("GET", &url, &[("Authorization", &bearer)], "") {
            Ok(r) => r.text(),
            Err(e) => format!("no listener or no answer: {e}"),
        };
    }
    let waiting = keyless.try_wait().unwrap().is_none();
    std::fs::write(out.join("stop"), "").unwrap();
    let status = keyless.wait().unwrap();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(waiting, "keyless exited before the background job");
    assert!(status.success());
}

fn wait_for_env(p: &std::path::Path) -> String {
    let t0 = Instant::now();
    loop {
        if let Ok(s) = std::fs::read_to_string(p) {
            return s;
        }
        assert!(t0.elapsed() < HANG, "no {}", p.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The child's own background job (a grandchild, which no death signal
/// reaches) dies with a killed keyless too: a supervisor that is the
/// subreaper of the child's tree kills all of it when keyless dies.
#[cfg(target_os = "linux")]
#[test]
fn a_background_job_of_the_child_dies_with_a_killed_keyless() {
    let script =
        r#"sleep 300 & echo $! > "$OUT/job.tmp"; mv "$OUT/job.tmp" "$OUT/job"; exec sleep 300"#;
    let survived = survives_keyless_killed_under(script, "job");
    assert!(
        !survived,
        "the child's background job outlived keyless and its port"
    );
}

/// While keyless waits for what the child left running (answering 503), a
/// TERM sent to keyless still reaches them, as it reached the child: the
/// leftover job ends on it, and keyless with it.
#[cfg(target_os = "linux")]
#[test]
fn term_reaches_what_the_child_left_running() {
    let (_up, env, out) = ready();
    let script = r#"sh -c 'trap "echo term > \"$OUT/term\"; exit 0" TERM; echo $$ > "$OUT/job.tmp"; mv "$OUT/job.tmp" "$OUT/job"; while :; do sleep 1; done' & echo $$ > "$OUT/child.tmp"; mv "$OUT/child.tmp" "$OUT/child"; exit 0"#;
    let mut keyless = spawn_quiet(&env, script, &out, HOUR);
    let child: i32 = wait_for(&out.join("child")).trim().parse().unwrap();
    let job: i32 = wait_for(&out.join("job")).trim().parse().unwrap();
    let t0 = Instant::now();
    while alive(child) && t0.elapsed() < HANG {
        std::thread::sleep(Duration::from_millis(20));
    }
    // the direct child is gone; keyless is draining
    assert!(keyless.try_wait().unwrap().is_none());
    // SAFETY: kill(2) on the keyless this test started.
    unsafe { libc::kill(keyless.id() as i32, libc::SIGTERM) };
    let t0 = Instant::now();
    let mut ended = None;
    while ended.is_none() && t0.elapsed() < HANG {
        ended = keyless.try_wait().unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    if ended.is_none() {
        let _ = keyless.kill();
        let _ = keyless.wait();
    }
    if alive(job) {
        // SAFETY: clean up the orphan this test caused.
        unsafe { libc::kill(job, libc::SIGKILL) };
    }
    assert!(
        out.join("term").exists(),
        "the TERM sent to keyless never reached the leftover job"
    );
    assert!(ended.is_some(), "keyless kept waiting after TERM");
}
