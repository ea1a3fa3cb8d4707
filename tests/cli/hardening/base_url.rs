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
