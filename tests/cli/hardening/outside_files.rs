//! Defect 9: every file from outside (Claude Code's and Codex's settings,
//! `$ANTHROPIC_CONFIG_DIR/active_config`) is read capped, without blocking,
//! and only if it is a regular file: a FIFO does not hang keyless and a
//! link to `/dev/zero` does not run it out of memory.

use std::time::Duration;

use crate::common::*;

fn fifo(p: &std::path::Path) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    assert!(
        std::process::Command::new("mkfifo")
            .arg(p)
            .status()
            .unwrap()
            .success()
    );
}

/// keyless under a 1 GiB address-space limit, so that an unbounded read of
/// `/dev/zero` fails fast instead of taking the machine's memory.
fn limited(env: &TestEnv, args: &[&str]) -> std::process::Command {
    let mut c = env.external("sh");
    c.arg("-c")
        .arg("ulimit -v 1048576; exec \"$@\"")
        .arg("sh")
        .arg(BIN)
        .args(args);
    c
}

fn bounded(c: std::process::Command) -> Run {
    run_bounded(c, Duration::from_secs(10)).expect("keyless hung on a FIFO")
}

#[test]
fn setup_claude_code_refuses_a_fifo_and_a_device() {
    let env = TestEnv::new();
    let p = env.home().join(".claude/settings.json");
    fifo(&p);
    bounded(limited(&env, &["setup", "claude-code"])).fails(6, "not a regular file");
    std::fs::remove_file(&p).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &p).unwrap();
    bounded(limited(&env, &["setup", "claude-code"])).fails(6, "not a regular file");
}

#[test]
fn setup_codex_refuses_a_fifo_and_a_device() {
    let sb = Sandbox::start(&[]);
    let env = TestEnv::new();
    env.setup_openai_on(&sb);
    let p = env.home().join(".codex/config.toml");
    fifo(&p);
    bounded(limited(&env, &["setup", "codex"])).fails(6, "not a regular file");
    std::fs::remove_file(&p).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &p).unwrap();
    bounded(limited(&env, &["setup", "codex"])).fails(6, "not a regular file");
}

#[test]
fn auth_status_reads_active_config_without_blocking() {
    let env = TestEnv::new();
    let dir = env.path("anthropic-config");
    fifo(&dir.join("active_config"));
    let mut c = limited(&env, &["auth", "status"]);
    c.env("ANTHROPIC_CONFIG_DIR", &dir);
    let r = bounded(c);
    assert!(r.stdout.contains("active SDK profile"), "{}", r.stdout);
    std::fs::remove_file(dir.join("active_config")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.join("active_config")).unwrap();
    let mut c = limited(&env, &["auth", "status"]);
    c.env("ANTHROPIC_CONFIG_DIR", &dir);
    let r = bounded(c);
    assert!(r.stdout.contains("active SDK profile"), "{}", r.stdout);
    assert!(
        r.code == 0 || r.code == 1,
        "no crash: {} {}",
        r.code,
        r.stderr
    );
}
