//! Codex (`codex exec`, non-interactive) through the auth command that
//! `setup codex` writes, against the sandbox's streamed `/v1/responses`.

use std::path::Path;
use std::process::Command;

use super::*;

/// Codex's own switches for calling home (tests/clients/NOTES.md): the
/// curated plugin sync (GitHub, chatgpt.com) and analytics.
const QUIET: [&str; 6] = [
    "-c",
    "features.plugins=false",
    "-c",
    "analytics.enabled=false",
    "-c",
    "check_for_update_on_startup=false",
];

fn codex_exec(env: &TestEnv, nm: &Path, trap: &Trap) -> Command {
    let mut c = hermetic(env, &nm.join(".bin/codex"), trap);
    let work = env.path("work");
    std::fs::create_dir_all(&work).unwrap();
    c.current_dir(work)
        .arg("exec")
        .arg("--skip-git-repo-check")
        .args(QUIET)
        .arg("say hi");
    c
}

#[test]
fn codex_exec_through_setup_codex() {
    let Some(nm) = clients() else { return };
    let (sb, env) = sandbox_env(60);
    env.run(&["setup", "codex"]).success();
    let trap = Trap::start();
    let (out, _) = finish(&mut codex_exec(&env, &nm, &trap), 120, "codex exec");
    assert!(out.contains(REPLY), "{out}");
    assert!(
        out.contains("proj_01sandbox"),
        "an OpenAI token reached the Responses API: {out}"
    );
    assert_served_never_refused(&sb);
    trap.assert_nothing_left();
}

#[test]
fn codex_recovers_when_the_served_token_is_revoked() {
    let Some(nm) = clients() else { return };
    let (sb, env) = sandbox_env(600);
    env.run(&["setup", "codex"]).success();
    let trap = Trap::start();
    let (out, _) = finish(&mut codex_exec(&env, &nm, &trap), 120, "codex exec");
    assert!(out.contains(REPLY), "{out}");
    assert!(revoke(&sb, "{}") >= 1);
    // Codex re-runs its auth command on the 401: keyless must exchange again
    // rather than serve the revoked token from its cache.
    let (ok, out, err) = run_bounded(&mut codex_exec(&env, &nm, &trap), 180, "codex exec");
    let (_, refused) = api_counts(&sb);
    assert!(
        ok && out.contains(REPLY),
        "after revocation ({refused} calls refused):\nstdout: {out}\nstderr: {}",
        tail(&err, 2000)
    );
    assert!(
        refused <= 3,
        "recovered within the retry budget: {refused} refused"
    );
    trap.assert_nothing_left();
}
