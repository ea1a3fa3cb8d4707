//! Single-use JWTs: keyless never presents one assertion twice, and says
//! when a file source will likely rotate instead of provoking `jti_reused`.

use crate::common::*;
use crate::fake::{Fake, Reply};

#[test]
fn an_exchanged_file_token_is_never_sent_again() {
    let fake = Fake::start(|n, _| Reply::token(&format!("sk-ant-oat01-tok{n}_abcdefghijkl"), 600));
    let (env, _) = env_with_file_source(&fake.url);
    env.run(&["credential", "anthropic"]).success();
    let r = env.run(&["credential", "anthropic", "--force-refresh"]);
    r.fails(3, "was already exchanged");
    assert!(r.stderr.contains("single-use"), "{}", r.stderr);
    assert!(r.stderr.contains("will likely be rotated"), "{}", r.stderr);
    assert_eq!(fake.count(), 1, "the spent JWT was not sent again");
}

#[test]
fn the_ledger_spans_profiles_and_configurations() {
    let fake = Fake::start(|n, _| Reply::token(&format!("sk-ant-oat01-tok{n}_abcdefghijkl"), 600));
    let (env, file) = env_with_file_source(&fake.url);
    env.run(&["credential", "anthropic"]).success();
    // a second profile reading the same file must not spend the same JWT
    let src = format!("file:{}", file.display());
    env.setup_anthropic(&fake.url, &["--identity", &src, "--profile", "other"]);
    env.run(&["--profile", "other", "credential", "anthropic"])
        .fails(3, "already exchanged");
    assert_eq!(fake.count(), 1);
}

#[test]
fn a_denied_jwt_is_spent_too() {
    let fake = Fake::start(|_, _| {
        Reply::json(
            401,
            serde_json::json!({"error": {"type": "authentication_error", "message": "Authentication failed"}}),
        )
    });
    let (env, _) = env_with_file_source(&fake.url);
    env.run(&["credential", "anthropic"]).fails(5, "denied");
    env.run(&["credential", "anthropic"])
        .fails(3, "already exchanged");
    assert_eq!(fake.count(), 1);
}

#[test]
fn env_source_reads_the_sdk_variables() {
    let fake = Fake::start(|n, _| Reply::token(&format!("sk-ant-oat01-tok{n}_abcdefghijkl"), 600));
    let env = TestEnv::new();
    env.setup(&fake.url, "env");
    env.run(&["credential", "anthropic"])
        .fails(3, "ANTHROPIC_IDENTITY_TOKEN_FILE");
    let jwt = shaped_jwt(300);
    env.run_with(&["credential", "anthropic"], |c| {
        c.env("ANTHROPIC_IDENTITY_TOKEN", &jwt);
    })
    .success();
    assert_eq!(fake.last().json()["assertion"], jwt.as_str());
    // the file variable wins over the literal one
    let file = env.path("f.jwt");
    let jwt2 = shaped_jwt(300);
    std::fs::write(&file, format!("  {jwt2}\n")).unwrap();
    env.run_with(&["credential", "anthropic", "--force-refresh"], |c| {
        c.env("ANTHROPIC_IDENTITY_TOKEN", &jwt)
            .env("ANTHROPIC_IDENTITY_TOKEN_FILE", &file);
    })
    .success();
    assert_eq!(
        fake.last().json()["assertion"],
        jwt2.as_str(),
        "trimmed file contents"
    );
}

#[test]
fn command_source_runs_without_a_shell() {
    let fake = Fake::start(|n, _| Reply::token(&format!("sk-ant-oat01-tok{n}_abcdefghijkl"), 600));
    let env = TestEnv::new();
    let jwt = shaped_jwt(300);
    let file = env.path("j w t");
    std::fs::write(&file, &jwt).unwrap();
    // a path with spaces, and a $VAR a shell would expand
    env.setup(
        &fake.url,
        &format!("command:cat '{}' '$HOME'", file.display()),
    );
    env.run(&["credential", "anthropic"])
        .fails(3, "identity command `cat` failed");
    env.setup(&fake.url, &format!("command:cat '{}'", file.display()));
    env.run(&["credential", "anthropic"]).success();
    assert_eq!(fake.last().json()["assertion"], jwt.as_str());
    env.setup(&fake.url, "command:/nonexistent/printer");
    env.run(&["credential", "anthropic", "--force-refresh"])
        .fails(6, "cannot run the identity command");
    env.setup(&fake.url, "command:sh -c 'echo oops >&2; exit 3'");
    let r = env.run(&["credential", "anthropic", "--force-refresh"]);
    r.fails(3, "failed");
    assert!(
        r.stderr.contains("oops"),
        "the command's stderr passes through"
    );
}

#[test]
fn a_still_valid_token_is_served_while_the_file_has_not_rotated() {
    let fake = Fake::start(|n, _| Reply::token(&format!("sk-ant-oat01-tok{n}_abcdefghijkl"), 600));
    let (env, _) = env_with_file_source(&fake.url);
    let first = env.run(&["credential", "anthropic"]);
    first.success();
    // past the refresh point (200 s left < 300), still valid
    let entry = cache_files(&env.cache_dir())[0].clone();
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&entry).unwrap()).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    v["obtained_at"] = (now - 400).into();
    v["expires_at"] = (now + 200).into();
    std::fs::write(&entry, v.to_string()).unwrap();
    let r = env.run(&["credential", "anthropic"]);
    r.success();
    assert_eq!(r.stdout, first.stdout);
    assert!(r.stderr.contains("serving the cached one"), "{}", r.stderr);
    assert_eq!(fake.count(), 1);
    // with 20 s left it is no longer worth handing out
    v["expires_at"] = (now + 20).into();
    std::fs::write(&entry, v.to_string()).unwrap();
    env.run(&["credential", "anthropic"])
        .fails(3, "already exchanged");
}

#[test]
fn identity_commands_are_bounded_in_time_and_output() {
    let fake = Fake::start(|n, _| Reply::token(&format!("sk-ant-oat01-tok{n}_abcdefghijkl"), 600));
    let env = TestEnv::new();
    // closes stdout, then lingers past the watchdog: the deadline covers
    // the exit too (keyless waiting for the exit would be killed as hung)
    env.setup(
        &fake.url,
        "command:sh -c 'echo a.b.c; exec >&-; sleep 3600'",
    );
    env.run_ending(&["credential", "anthropic"], |_| {})
        .fails(4, "did not finish within 30s");
    // a flood of output neither hangs nor is taken for a token
    env.setup(
        &fake.url,
        "command:sh -c 'head -c 2000000 /dev/zero | tr \"\\0\" a'",
    );
    env.run(&["credential", "anthropic"])
        .fails(6, "printed 2000000 bytes");
    assert_eq!(fake.count(), 0);
}

#[test]
fn without_a_cache_dir_the_ledger_still_holds() {
    let fake = Fake::start(|n, _| Reply::token(&format!("sk-ant-oat01-tok{n}_abcdefghijkl"), 600));
    let (env, _) = env_with_file_source(&fake.url);
    let blocker = env.path("blocker");
    std::fs::write(&blocker, b"").unwrap();
    let no_cache = |c: &mut std::process::Command| {
        c.env("KEYLESS_CACHE_DIR", blocker.join("cache"))
            .env("TMPDIR", env.path("tmp"));
    };
    std::fs::create_dir_all(env.path("tmp")).unwrap();
    env.run_with(&["credential", "anthropic"], no_cache)
        .success();
    env.run_with(&["credential", "anthropic"], no_cache)
        .fails(3, "already exchanged");
    assert_eq!(fake.count(), 1);
}
