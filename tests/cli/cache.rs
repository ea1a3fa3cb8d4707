//! The token cache: hits make no request, near-expiry makes one, corrupt files
//! recover, modes are private, and parallel callers share one exchange.

use std::os::unix::fs::PermissionsExt;

use crate::common::*;
use crate::fake::{Fake, Reply};

fn counter_token(n: usize) -> String {
    format!("sk-ant-oat01-fake{n:04}_abcdefghijklmnop")
}

#[test]
fn a_hit_makes_no_request() {
    let fake = Fake::start(|n, _| Reply::token(&counter_token(n), 600));
    let (env, file) = env_with_file_source(&fake.url);
    let first = env.run(&["credential", "anthropic"]);
    first.success();
    // the file still holds the spent JWT: a hit must not even read it
    std::fs::remove_file(&file).unwrap();
    for _ in 0..3 {
        let again = env.run(&["credential", "anthropic"]);
        again.success();
        assert_eq!(again.stdout, first.stdout);
    }
    assert_eq!(fake.count(), 1);
}

#[test]
fn a_near_expiry_token_makes_one_request() {
    let fake = Fake::start(|n, _| Reply::token(&counter_token(n), 600));
    let (env, file) = env_with_file_source(&fake.url);
    env.run(&["credential", "anthropic"]).success();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    // 600 s token with 200 s left: below min(300, 300) → refresh
    rewrite_cache_entry(&env.cache_dir(), |v| {
        v["obtained_at"] = (now - 400).into();
        v["expires_at"] = (now + 200).into();
    });
    std::fs::write(&file, shaped_jwt(300)).unwrap();
    let r = env.run(&["credential", "anthropic"]);
    r.success();
    assert_eq!(r.stdout, counter_token(1));
    assert_eq!(fake.count(), 2);
    // --min-ttl 100: 200 s left is enough, so no request
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    rewrite_cache_entry(&env.cache_dir(), |v| {
        v["obtained_at"] = (now - 400).into();
        v["expires_at"] = (now + 200).into();
    });
    env.run(&["credential", "anthropic", "--min-ttl", "100"])
        .success();
    env.run_with(&["credential", "anthropic"], |c| {
        c.env("KEYLESS_MIN_TTL", "100");
    })
    .success();
    assert_eq!(fake.count(), 2);
}

#[test]
fn force_refresh_exchanges_even_on_a_hit() {
    let fake = Fake::start(|n, _| Reply::token(&counter_token(n), 600));
    let (env, file) = env_with_file_source(&fake.url);
    env.run(&["credential", "anthropic"]).success();
    std::fs::write(&file, shaped_jwt(300)).unwrap();
    let r = env.run(&["credential", "anthropic", "--force-refresh"]);
    r.success();
    assert_eq!(r.stdout, counter_token(1));
    assert_eq!(fake.count(), 2);
}

#[test]
fn a_corrupt_or_foreign_file_is_a_miss_and_is_rewritten() {
    let fake = Fake::start(|n, _| Reply::token(&counter_token(n), 600));
    let (env, file) = env_with_file_source(&fake.url);
    env.run(&["credential", "anthropic"]).success();
    let entry = cache_files(&env.cache_dir())[0].clone();
    std::fs::write(&entry, b"{\"version\":1,\"access_tok").unwrap();
    std::fs::write(&file, shaped_jwt(300)).unwrap();
    let r = env.run(&["credential", "anthropic"]);
    r.success();
    assert_eq!(r.stdout, counter_token(1));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&entry).unwrap()).unwrap();
    assert_eq!(v["access_token"], counter_token(1));
    // a foreign entry (another configuration's key) is a miss too
    rewrite_cache_entry(&env.cache_dir(), |v| {
        v["cache_key"] = "0123456789abcdef0123456789abcdef".into()
    });
    std::fs::write(&file, shaped_jwt(300)).unwrap();
    env.run(&["credential", "anthropic"]).success();
    assert_eq!(fake.count(), 3);
}

#[test]
fn files_are_private() {
    let fake = Fake::start(|n, _| Reply::token(&counter_token(n), 600));
    let (env, _) = env_with_file_source(&fake.url);
    env.run(&["credential", "anthropic"]).success();
    assert_eq!(mode(&env.cache_dir()), 0o700);
    assert_eq!(mode(&env.config_dir()), 0o700);
    assert_eq!(mode(&env.config_dir().join("config.json")), 0o600);
    for f in std::fs::read_dir(env.cache_dir()).unwrap().flatten() {
        let p = f.path();
        let want = if p.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(&p), want, "{}", p.display());
    }
    // a cache file others can read is not served, and is replaced
    let entry = cache_files(&env.cache_dir())[0].clone();
    std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (_, file) = (0, env.path("token.jwt"));
    std::fs::write(&file, shaped_jwt(300)).unwrap();
    let r = env.run(&["credential", "anthropic"]);
    r.success();
    assert!(r.stderr.contains("other users can read it"), "{}", r.stderr);
    assert_eq!(mode(&entry), 0o600);
    assert_eq!(fake.count(), 2);
}

#[test]
fn cache_files_are_per_configuration() {
    let fake = Fake::start(|n, _| Reply::token(&counter_token(n), 600));
    let (env, file) = env_with_file_source(&fake.url);
    env.run(&["credential", "anthropic"]).success();
    // another workspace → another key → another exchange
    env.run(&["setup", "anthropic", "--workspace-id", "default"])
        .success();
    std::fs::write(&file, shaped_jwt(300)).unwrap();
    let r = env.run(&["credential", "anthropic"]);
    r.success();
    assert_eq!(r.stdout, counter_token(1));
    assert_eq!(cache_files(&env.cache_dir()).len(), 2);
    // the key never contains the token: file names are digests
    for f in cache_files(&env.cache_dir()) {
        let name = f.file_name().unwrap().to_str().unwrap().to_string();
        assert!(
            name.starts_with("anthropic-") && !name.contains("sk-ant"),
            "{name}"
        );
    }
}

#[test]
fn an_unusable_cache_dir_degrades_with_one_warning() {
    let fake = Fake::start(|n, _| Reply::token(&counter_token(n), 600));
    let (env, _) = env_with_file_source(&fake.url);
    let blocker = env.path("not-a-dir");
    std::fs::write(&blocker, b"").unwrap();
    let r = env.run_with(&["credential", "anthropic"], |c| {
        c.env("KEYLESS_CACHE_DIR", blocker.join("cache"));
    });
    r.success();
    assert_eq!(r.stdout, counter_token(0));
    assert_eq!(
        r.stderr.matches("warning: token cache disabled").count(),
        1,
        "{}",
        r.stderr
    );
}

#[test]
fn parallel_callers_on_a_cold_cache_make_one_exchange() {
    let sandbox = Sandbox::start(&[]);
    let env = TestEnv::new();
    env.setup(&sandbox.url, &sandbox.identity_command());
    let outs = env.run_parallel(32, &["credential", "anthropic"], &[]);
    for o in &outs {
        o.success();
        assert_eq!(
            o.stdout, outs[0].stdout,
            "every caller prints the same token"
        );
    }
    assert!(outs[0].stdout.starts_with("sk-ant-oat01-"));
    let h = sandbox.history();
    assert_eq!(h["exchanges"], 1, "{h}");
}

/// Issue 9: a reader that went away (`keyless credential anthropic | head
/// -c0`) is not a failure to report: exit 141 as SIGPIPE would, nothing on
/// stderr, no panic.
#[test]
fn a_closed_stdout_exits_141_quietly() {
    let fake = Fake::start(|n, _| Reply::token(&counter_token(n), 600));
    let (env, _file) = env_with_file_source(&fake.url);
    env.run(&["credential", "anthropic"]).success();
    for args in [
        &["credential", "anthropic"][..],
        &["env", "--shell", "bash"][..],
        &["completions", "bash"][..],
    ] {
        // No reader is left, from before the child starts (a hit is fast
        // enough to write before a reader dropped after spawn is gone): the
        // first write gets EPIPE.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut c = env.cmd();
        c.args(args)
            .stdout(writer)
            .stderr(std::process::Stdio::piped());
        let out = c.spawn().unwrap().wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(141), "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?}");
    }
}
