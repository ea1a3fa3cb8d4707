//! Defect 3: every base URL taken from the environment gets the https rule
//! of `--base-url`, with the same message, wherever keyless would send a
//! token to it (`auth status --check`, `setup codex`, `exec --proxy`), and
//! `setup` names where each value it writes came from.

use crate::common::*;

const CLEARTEXT: &str = "http://gateway.example/v1";

#[test]
fn check_refuses_a_cleartext_openai_base_url_before_minting() {
    let (sb, env) = openai_sandbox_env();
    let r = env.run_with(&["auth", "status", "--check"], |c| {
        c.env("OPENAI_BASE_URL", CLEARTEXT);
    });
    assert_ne!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("OPENAI_BASE_URL is not an API base keyless can send a token to"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("plain http"), "{}", r.stderr);
    assert_eq!(sb.history()["exchanges"], 0, "no token minted for it");
}

#[test]
fn setup_codex_refuses_a_cleartext_openai_base_url_and_writes_nothing() {
    let (_sb, env) = openai_sandbox_env();
    let r = env.run_with(&["setup", "codex"], |c| {
        c.env("OPENAI_BASE_URL", CLEARTEXT);
    });
    r.fails(
        6,
        "OPENAI_BASE_URL is not an API base keyless can send a token to",
    );
    assert!(!env.home().join(".codex/config.toml").exists());
}

#[test]
fn setup_codex_names_where_the_base_url_came_from() {
    let (sb, env) = openai_sandbox_env();
    let r = env.run_with(&["setup", "codex"], |c| {
        c.env("OPENAI_BASE_URL", "https://gateway.example/v1");
    });
    r.success();
    assert!(
        r.stderr
            .contains("base_url = https://gateway.example/v1 (from OPENAI_BASE_URL)"),
        "{}",
        r.stderr
    );
    let env2 = TestEnv::new();
    env2.setup_openai_on(&sb);
    let r = env2.run(&["setup", "codex"]);
    r.success();
    assert!(
        r.stderr.contains(&format!(
            "base_url = {}/v1 (from the profile's token endpoint)",
            sb.url
        )),
        "{}",
        r.stderr
    );
}

/// Plain `exec --type openai` and `env` hand the token to a program (or a
/// shell) that inherits `OPENAI_BASE_URL`: a cleartext one to another
/// machine is refused as `--base-url` would be, before anything is minted.
#[test]
fn exec_and_env_refuse_a_cleartext_openai_base_url_before_minting() {
    let (sb, env) = openai_sandbox_env();
    for args in [
        vec!["exec", "--type", "openai", "--", "true"],
        vec!["env", "--type", "openai"],
    ] {
        let r = env.run_with(&args, |c| {
            c.env("OPENAI_BASE_URL", CLEARTEXT);
        });
        r.fails(
            6,
            "OPENAI_BASE_URL is not an API base keyless can send a token to",
        );
        assert!(r.stderr.contains("plain http"), "{args:?}: {}", r.stderr);
        assert_eq!(r.stdout, "", "{args:?}: nothing for a shell to apply");
    }
    assert_eq!(sb.history()["exchanges"], 0, "no token minted for it");
    // https, or http on this machine, passes
    let r = env.run_with(&["env", "--type", "openai"], |c| {
        c.env("OPENAI_BASE_URL", "http://127.0.0.1:9/v1");
    });
    r.success();
}

/// Plain `auth status` shows the base URL the SDKs would call; a cleartext
/// one from the environment is flagged, with the same message.
#[test]
fn status_flags_a_cleartext_openai_base_url() {
    let (_sb, env) = openai_sandbox_env();
    let r = env.run_with(&["auth", "status"], |c| {
        c.env("OPENAI_BASE_URL", CLEARTEXT);
    });
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(
        all.contains("OPENAI_BASE_URL is not an API base keyless can send a token to"),
        "{all}"
    );
    let r = env.run_with(&["auth", "status", "--json"], |c| {
        c.env("OPENAI_BASE_URL", CLEARTEXT);
    });
    assert!(
        r.stdout
            .contains("OPENAI_BASE_URL is not an API base keyless can send a token to"),
        "{}",
        r.stdout
    );
}

/// `setup` writes the profile and both directories into the helper line a
/// tool runs for good; each can come from the environment or a
/// `.keyless-profile`, so it says where each came from.
#[test]
fn setup_names_where_the_helper_lines_values_came_from() {
    let (_sb, env) = openai_sandbox_env();
    let r = env.run(&["setup", "codex", "--dry-run"]);
    r.success();
    assert!(
        r.stderr.contains("profile \"default\" (from the default"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!(
            "--config-dir {} (from KEYLESS_CONFIG_DIR)",
            env.config_dir().display()
        )),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!(
            "--cache-dir {} (from KEYLESS_CACHE_DIR)",
            env.cache_dir().display()
        )),
        "{}",
        r.stderr
    );
    let other = env.path("other-cache");
    let r = env.run(&[
        "setup",
        "codex",
        "--dry-run",
        "--cache-dir",
        other.to_str().unwrap(),
    ]);
    r.success();
    assert!(
        r.stderr.contains(&format!(
            "--cache-dir {} (from --cache-dir)",
            other.display()
        )),
        "{}",
        r.stderr
    );
}
