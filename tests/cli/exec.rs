//! `keyless exec`: the child's environment, exit status and signals.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::common::*;
use crate::fake::{Fake, Reply};

const TOKEN: &str = "sk-ant-oat01-execTOKEN_0123456789";

fn env_ready() -> (Fake, TestEnv) {
    let fake = Fake::start(|_, _| Reply::token(TOKEN, 600));
    let (env, _) = env_with_file_source(&fake.url);
    (fake, env)
}

#[test]
fn the_child_gets_the_token_and_loses_the_api_key() {
    let (fake, env) = env_ready();
    let r = env.run_with(
        &["exec", "--", "sh", "-c", "printf '%s|%s|%s' \"$ANTHROPIC_AUTH_TOKEN\" \"$ANTHROPIC_BASE_URL\" \"${ANTHROPIC_API_KEY-unset}\""],
        |c| {
            c.env("ANTHROPIC_API_KEY", "sk-ant-api03-static");
        },
    );
    r.success();
    assert_eq!(r.stdout, format!("{TOKEN}|{}|unset", fake.url));
    assert!(
        r.stderr.contains("removing ANTHROPIC_API_KEY"),
        "{}",
        r.stderr
    );
    let r = env.run_with(
        &[
            "exec",
            "--keep-api-key",
            "--",
            "sh",
            "-c",
            "printf %s \"$ANTHROPIC_API_KEY\"",
        ],
        |c| {
            c.env("ANTHROPIC_API_KEY", "sk-ant-api03-static");
        },
    );
    assert_eq!(r.stdout, "sk-ant-api03-static");
    assert_eq!(fake.count(), 1, "both runs were served by one exchange");
}

#[test]
fn the_token_is_not_in_the_childs_argv() {
    let (_fake, env) = env_ready();
    let r = env.run(&[
        "exec",
        "--",
        "sh",
        "-c",
        "cat /proc/$$/cmdline | tr '\\0' ' '",
    ]);
    r.success();
    assert!(!r.stdout.contains("sk-ant"), "{}", r.stdout);
}

#[test]
fn exit_status_is_the_childs() {
    let (_fake, env) = env_ready();
    for code in [0, 3, 7, 42] {
        let r = env.run(&["exec", "--", "sh", "-c", &format!("exit {code}")]);
        assert_eq!(r.code, code);
    }
}

#[test]
fn missing_and_non_executable_commands() {
    let (_fake, env) = env_ready();
    env.run(&["exec", "--", "definitely-not-a-command-xyz"])
        .fails(127, "command not found");
    let script = env.path("noexec.sh");
    std::fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
    env.run(&["exec", "--", script.to_str().unwrap()])
        .fails(126, "permission denied");
    env.run(&["exec"]).fails(2, "CMD");
}

#[test]
fn sigterm_reaches_the_child() {
    let (_fake, env) = env_ready();
    let mut child = env
        .cmd()
        .args([
            "exec",
            "--",
            "sh",
            "-c",
            "trap 'echo got-term; exit 42' TERM; echo ready; while :; do sleep 0.05; done",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    // SAFETY: kill(2) on a pid we own.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    line.clear();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "got-term\n");
    assert_eq!(child.wait().unwrap().code(), Some(42));
}

#[test]
fn a_failed_exchange_runs_nothing() {
    let fake = Fake::start(|_, _| {
        Reply::json(
            503,
            serde_json::json!({"error": {"type": "overloaded_error", "message": "busy"}}),
        )
    });
    let (env, _) = env_with_file_source(&fake.url);
    let marker = env.path("ran");
    env.run(&["exec", "--", "touch", marker.to_str().unwrap()])
        .fails(4, "503");
    assert!(!marker.exists());
}
