//! Issue 10 #7: identity token files are read with bounds. A device that
//! never ends (`/dev/zero`), a FIFO nobody writes, or a file over the 16 KiB
//! limit fails at once with a message naming it; nothing blocks or grows,
//! in `credential` and in `auth status` alike.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::*;

/// Run keyless with `args`; kill it if it takes longer than `limit`.
fn run_bounded(env: &TestEnv, args: &[&str], limit: Duration) -> (Option<i32>, String, Duration) {
    let mut c = env.cmd();
    c.args(args).stdout(Stdio::null()).stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = c.spawn().unwrap();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            assert_no_secrets(&err);
            return (status.code(), err, started.elapsed());
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return (None, "(killed: still running)".into(), started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn unbounded_or_blocking_identity_files_fail_fast() {
    let env = TestEnv::new();
    let fifo = env.path("token.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let big = env.path("big.jwt");
    std::fs::write(&big, "e".repeat(20 * 1024)).unwrap();
    for (path, needle) in [
        ("/dev/zero", "not a regular file"),
        (fifo.to_str().unwrap(), "not a regular file"),
        (big.to_str().unwrap(), "16 KiB"),
    ] {
        env.setup("http://127.0.0.1:9", &format!("file:{path}"));
        let (code, err, took) =
            run_bounded(&env, &["credential", "anthropic"], Duration::from_secs(10));
        assert_eq!(code, Some(6), "{path}: {err}");
        assert!(err.contains(path) && err.contains(needle), "{path}: {err}");
        assert!(took < Duration::from_secs(5), "{path}: took {took:?}");
        let (code, err, took) =
            run_bounded(&env, &["auth", "status", "--json"], Duration::from_secs(10));
        assert_eq!(code, Some(1), "{path}: status: {err}");
        assert!(
            took < Duration::from_secs(5),
            "{path}: status took {took:?}"
        );
    }
}

#[test]
fn a_symlinked_token_file_is_followed_as_kubernetes_mounts_need() {
    // Projected service account tokens are symlinks (token -> ..data/token).
    let env = TestEnv::new();
    let real = env.path("..data-token");
    std::fs::write(&real, shaped_jwt(300)).unwrap();
    let link = env.path("token");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    env.setup("http://127.0.0.1:9", &format!("file:{}", link.display()));
    let r = env.run(&["auth", "status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v["keyless"]["providers"][0]["identity"]["available"], true,
        "{v:#}"
    );
}

#[test]
fn a_fifo_where_the_scan_looks_does_not_hang_auth_status() {
    let env = TestEnv::new();
    let file = env.path("token.jwt");
    std::fs::write(&file, shaped_jwt(300)).unwrap();
    env.setup("http://127.0.0.1:9", &format!("file:{}", file.display()));
    let project = env.path("project");
    std::fs::create_dir_all(project.join(".git")).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(project.join(".env"))
        .status()
        .unwrap();
    assert!(made.success());
    let mut c = env.cmd();
    c.args(["auth", "status", "--json"])
        .current_dir(&project)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let started = Instant::now();
    let mut child = c.spawn().unwrap();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("auth status blocked on a FIFO named .env");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
