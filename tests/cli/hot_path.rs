//! What a cache hit does, pinned by its system calls rather than by a
//! timing (issue 12): under `strace -f`, `credential <provider>` on a hit
//! opens the config and the cache file (both with O_NOFOLLOW), tries the
//! managed configuration's fixed path (issue 23; absent here), and nothing
//! else beyond what the dynamic loader and the Rust runtime open, starts no
//! thread, process or event loop (an async runtime), and makes no socket.

use std::path::Path;

use crate::common::*;
use crate::fake::{Fake, Reply};

/// What the loader and std may open in any process: the loader's cache,
/// the shared libraries the binary links (by file name, wherever the
/// distribution keeps them), and `/proc/self/maps`, which glibc's
/// `pthread_getattr_np` reads when std sets up the main thread's stack guard.
const RUNTIME_FILES: &[&str] = &["/etc/ld.so.cache", "/proc/self/maps"];
/// The managed configuration's fixed path (Linux).
const MANAGED: &str = "/etc/keyless/config.json";
const RUNTIME_LIBRARIES: &[&str] = &[
    "libc.so.6",
    "libgcc_s.so.1",
    "libm.so.6",
    "libpthread.so.0",
    "libdl.so.2",
    "librt.so.1",
    "libutil.so.1",
];

fn strace_available() -> bool {
    require_tool(
        "strace",
        std::process::Command::new("strace")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success()),
    )
}

/// The system calls of one `keyless <args>` run, one per line.
fn trace(env: &TestEnv, args: &[&str]) -> (Run, Vec<String>) {
    let log = env.path("strace.log");
    let mut c = env.external("strace");
    c.args(["-f", "-qq", "-s", "4096", "-o"])
        .arg(&log)
        .args([
            "-e",
            "trace=%file,%process,%network,%desc",
            "-e",
            "signal=none",
        ])
        .arg(BIN)
        .args(args);
    let run = Run::from(c.output().unwrap());
    let calls = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    (run, calls)
}

/// The system call of a line of strace's output (`PID name(args) = rc`).
fn call_name(line: &str) -> &str {
    line.split_once('(')
        .map_or("", |(c, _)| c.rsplit(' ').next().unwrap_or(""))
}

/// The path an open-family call names, if the line is one.
fn opened(line: &str) -> Option<&str> {
    if !matches!(call_name(line), "open" | "openat" | "openat2" | "creat") {
        return None;
    }
    let start = line.find('"')? + 1;
    let len = line[start..].find('"')?;
    Some(&line[start..start + len])
}

fn is_runtime(path: &str) -> bool {
    RUNTIME_FILES.contains(&path)
        || Path::new(path)
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| RUNTIME_LIBRARIES.contains(&n))
}

/// Everything wrong with the hit's system calls, as messages.
fn check_hit(env: &TestEnv, calls: &[String]) -> Vec<String> {
    let config = env.config_dir().join("config.json");
    let cache = cache_files(&env.cache_dir());
    assert_eq!(cache.len(), 1, "one cache file");
    let cache = &cache[0];
    let mut wrong = Vec::new();
    let mut seen = (false, false);
    for line in calls {
        let call = call_name(line);
        if let Some(path) = opened(line) {
            let ours =
                Path::new(path) == config || Path::new(path) == cache.as_path() || path == MANAGED;
            if Path::new(path) == config {
                seen.0 = true;
            }
            if Path::new(path) == cache.as_path() {
                seen.1 = true;
            }
            if ours && !line.contains("O_NOFOLLOW") {
                wrong.push(format!("opened without O_NOFOLLOW: {line}"));
            }
            if !ours && !is_runtime(path) {
                wrong.push(format!("opened something else: {line}"));
            }
        }
        if matches!(call, "clone" | "clone3" | "fork" | "vfork") {
            wrong.push(format!("started a thread or process: {line}"));
        }
        // An async runtime's I/O driver, even a current-thread one.
        if matches!(
            call,
            "epoll_create" | "epoll_create1" | "eventfd" | "eventfd2" | "timerfd_create"
        ) {
            wrong.push(format!("started an event loop: {line}"));
        }
        if matches!(call, "socket" | "connect" | "socketpair") {
            wrong.push(format!("made a socket: {line}"));
        }
        if call == "execve" && !line.contains(BIN) {
            wrong.push(format!("ran another program: {line}"));
        }
    }
    if !seen.0 {
        wrong.push("never opened the config".into());
    }
    if !seen.1 {
        wrong.push("never opened the cache file".into());
    }
    wrong
}

#[test]
fn a_hit_opens_only_the_config_and_the_cache_file_and_starts_no_thread() {
    if !strace_available() {
        return;
    }
    let fake = Fake::start(|_, _| Reply::token("sk-ant-oat01-hot_path_token", 3600));
    let (env, token_file) = env_with_file_source(&fake.url);
    env.run(&["credential", "anthropic"]).success();
    for args in [
        &["credential", "anthropic"][..],
        &["-v", "credential", "anthropic", "--format", "json"],
        // not the fast parse: clap's path must be as quiet on a hit
        &["credential", "anthropic", "--min-ttl", "+5"],
    ] {
        let (run, calls) = trace(&env, args);
        run.success();
        assert!(
            run.stdout.contains("sk-ant-oat01-hot_path_token"),
            "{args:?}"
        );
        let wrong = check_hit(&env, &calls);
        assert!(wrong.is_empty(), "{args:?}:\n{}", wrong.join("\n"));
        // (the config's content, as read, names it: only calls on paths count)
        let token_file = token_file.to_string_lossy();
        let touched = calls
            .iter()
            .filter(|l| !matches!(call_name(l), "read" | "pread64" | "write"))
            .find(|l| l.contains(token_file.as_ref()));
        assert!(
            touched.is_none(),
            "{args:?}: a hit touched the identity token file: {touched:?}"
        );
    }
    assert_eq!(fake.count(), 1, "the traced runs were hits");
}

/// The check itself fails on what it is there to catch: a miss (which
/// reads the token file, takes the lock and connects) is reported.
#[test]
fn the_check_sees_a_miss_for_what_it_is() {
    if !strace_available() {
        return;
    }
    let fake = Fake::start(|n, _| Reply::token(&format!("sk-ant-oat01-miss{n}"), 3600));
    let (env, token_file) = env_with_file_source(&fake.url);
    env.run(&["credential", "anthropic"]).success();
    std::fs::write(&token_file, shaped_jwt(300)).unwrap();
    let (run, calls) = trace(&env, &["credential", "anthropic", "--force-refresh"]);
    run.success();
    let wrong = check_hit(&env, &calls).join("\n");
    for what in ["opened something else", "made a socket"] {
        assert!(wrong.contains(what), "{what} not reported:\n{wrong}");
    }
    assert!(
        wrong.contains(".lock"),
        "the lock file not reported:\n{wrong}"
    );
}
