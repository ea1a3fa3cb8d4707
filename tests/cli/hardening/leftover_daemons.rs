//! `exec --proxy` does not wait for ever for what the program left
//! running: a detached daemon (gradle, sccache, bazel, ssh-agent) kept
//! keyless, and a CI step with it, waiting for hours. After the program
//! exits its leftovers get a grace period (`KEYLESS_PROXY_GRACE`, here 0),
//! then SIGTERM, then SIGKILL, and keyless exits with the program's status.

use super::port_lifetime::{alive, ready, spawn_quiet, wait_for};
use crate::common::*;

/// The program starts a daemon in a session of its own that ignores TERM
/// (so only the SIGKILL ends it), and exits 7 once it runs.
#[test]
fn a_daemon_the_program_left_is_stopped_and_keyless_exits_as_the_program_did() {
    let (_up, env, out) = ready();
    let script = r#"setsid sh -c 'trap "" TERM; echo $$ > "$OUT/daemon.tmp"; mv "$OUT/daemon.tmp" "$OUT/daemon"; while :; do sleep 1; done' </dev/null >/dev/null 2>&1 &
while [ ! -e "$OUT/daemon" ]; do sleep 0.05; done; exit 7"#;
    let mut keyless = spawn_quiet(&env, script, &out, "0");
    let daemon: i32 = wait_for(&out.join("daemon")).trim().parse().unwrap();
    // On a hang, the kill -9 of keyless takes the daemon with it.
    let status = wait_bounded(&mut keyless, HANG);
    let daemon_alive = alive(daemon);
    if daemon_alive {
        // SAFETY: clean up the orphan this test caused.
        unsafe { libc::kill(daemon, libc::SIGKILL) };
    }
    assert!(
        status.is_some(),
        "keyless still waited for the program's daemon after {HANG:?}"
    );
    assert_eq!(status.unwrap().code(), Some(7), "the program's status");
    assert!(!daemon_alive, "the daemon outlived keyless and its port");
}

/// A grace period that is not a whole number of seconds is refused before
/// anything runs, naming the variable; its value, from the environment,
/// reaches the terminal scrubbed of control characters.
#[test]
fn a_bad_grace_is_refused_before_the_program_runs_and_shown_scrubbed() {
    let (_up, env, out) = ready();
    let output = env
        .exec_proxy_sh("anthropic", r#"echo ran > "$OUT/ran""#, &out)
        .env("KEYLESS_PROXY_GRACE", "10s\x1b]0;owned\x07")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "stdout: {:?}", output.stdout);
    assert!(stderr.contains("KEYLESS_PROXY_GRACE"), "{stderr}");
    assert!(
        !stderr.contains('\x1b') && !stderr.contains('\x07'),
        "control characters reached the terminal: {stderr:?}"
    );
    assert!(!out.join("ran").exists(), "the program ran");
}
