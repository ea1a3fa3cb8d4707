//! `keyless env`: assignments that survive real bash, zsh and fish with
//! hostile token contents; PowerShell pinned by snapshot.

use std::process::Command;

use crate::common::*;
use crate::fake::{Fake, Reply};

/// Printable ASCII, no spaces, and every character a shell cares about: a
/// token no shell could hold safely, refused at the exchange (issue 10 #5).
const NASTY: &str = "sk-ant-oat01-a'b\"c$(touch${IFS}pwned)`touch${IFS}pwned2`\\d;e|f&g*h#i!j~k{l}";

/// The trickiest token the exchange accepts: every character RFC 7235's
/// token68 allows besides letters and digits. Values with any other
/// character are quoted correctly too: `properties::shell_quoting_*`
/// pushes generated ones through the same real shells.
const TRICKY: &str = "sk-ant-oat01-a~b+c/d.e_f-g~h==";

fn have(shell: &str) -> bool {
    Command::new(shell)
        .arg("-c")
        .arg("true")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn round_trip(shell: &str, kind: &str) {
    if !require_tool(shell, have(shell)) {
        return;
    }
    let fake = Fake::start(|_, _| Reply::token(TRICKY, 600));
    let (env, _) = env_with_file_source(&fake.url);
    let work = env.path("work");
    std::fs::create_dir_all(&work).unwrap();
    let script = match kind {
        "fish" => format!(
            "{BIN} -vv env --shell fish | source; printf '%s\\n' \"$ANTHROPIC_AUTH_TOKEN\"; printf '%s\\n' \"$ANTHROPIC_BASE_URL\"; set -q ANTHROPIC_API_KEY; and echo KEY-STILL-SET; or echo key-unset"
        ),
        _ => format!(
            "eval \"$({BIN} -vv env --shell {kind})\"; printf '%s\\n' \"$ANTHROPIC_AUTH_TOKEN\"; printf '%s\\n' \"$ANTHROPIC_BASE_URL\"; if [ -n \"${{ANTHROPIC_API_KEY+x}}\" ]; then echo KEY-STILL-SET; else echo key-unset; fi"
        ),
    };
    let out = Command::new(shell)
        .args(["-c", &script])
        .current_dir(&work)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("HOME", env.home())
        .env("KEYLESS_CONFIG_DIR", env.config_dir())
        .env("KEYLESS_CACHE_DIR", env.cache_dir())
        .env("ANTHROPIC_API_KEY", "sk-ant-api03-static")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_no_secrets(&stderr);
    assert!(out.status.success(), "{shell}: {stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        vec![TRICKY, fake.url.as_str(), "key-unset"],
        "{shell}: {stderr}"
    );
    assert!(
        !work.join("pwned").exists() && !work.join("pwned2").exists(),
        "{shell} ran code from a value"
    );
    assert!(
        stderr.contains("removing ANTHROPIC_API_KEY"),
        "{shell}: {stderr}"
    );
}

#[test]
fn bash_round_trip() {
    round_trip("bash", "bash");
}

#[test]
fn zsh_round_trip() {
    round_trip("zsh", "zsh");
}

#[test]
fn fish_round_trip() {
    round_trip("fish", "fish");
}

#[test]
fn a_token_no_shell_could_hold_safely_is_refused_at_the_exchange() {
    let fake = Fake::start(|_, _| Reply::token(NASTY, 600));
    let (env, _) = env_with_file_source(&fake.url);
    let r = env.run(&["env", "--shell", "bash"]);
    r.fails(4, "malformed access_token");
    assert_eq!(r.stdout, "");
    assert!(
        !r.stderr.contains("touch"),
        "the value is never echoed: {}",
        r.stderr
    );
    assert!(cache_files(&env.cache_dir()).is_empty(), "nothing cached");
}

fn env_output(args: &[&str], extra_env: &[(&str, &str)]) -> Run {
    let fake = Fake::start(|_, _| Reply::token(TRICKY, 600));
    let (env, _) = env_with_file_source(&fake.url);
    let mut full = vec!["env"];
    full.extend_from_slice(args);
    let r = env.run_with(&full, |c| {
        for (k, v) in extra_env {
            c.env(k, v);
        }
    });
    Run {
        code: r.code,
        stdout: r.stdout.replace(&fake.url, "http://127.0.0.1:PORT"),
        stderr: r.stderr,
    }
}

#[test]
fn powershell_output_is_pinned() {
    let r = env_output(&["--shell", "powershell"], &[]);
    r.success();
    insta::assert_snapshot!(r.stdout, @r#"
    $env:ANTHROPIC_AUTH_TOKEN = 'sk-ant-oat01-a~b+c/d.e_f-g~h=='
    $env:ANTHROPIC_BASE_URL = 'http://127.0.0.1:PORT'
    Remove-Item -Path Env:ANTHROPIC_API_KEY -ErrorAction SilentlyContinue
    "#);
}

#[test]
fn shell_defaults_from_shell_var_and_other_formats() {
    let r = env_output(&[], &[("SHELL", "/usr/bin/fish")]);
    r.success();
    assert!(
        r.stdout.starts_with("set -gx ANTHROPIC_AUTH_TOKEN "),
        "{}",
        r.stdout
    );
    let r = env_output(&[], &[("SHELL", "/bin/zsh")]);
    assert!(
        r.stdout.starts_with("export ANTHROPIC_AUTH_TOKEN='"),
        "{}",
        r.stdout
    );
    let r = env_output(&["--shell", "json"], &[]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["set"]["ANTHROPIC_AUTH_TOKEN"], TRICKY);
    assert_eq!(v["unset"][0], "ANTHROPIC_API_KEY");
    // .env: quoted; a value it cannot write is refused (handoff::shell's
    // unit test `dotenv_refuses_what_it_cannot_quote`)
    let r = env_output(&["--shell", "dotenv"], &[]);
    r.success();
    assert!(
        r.stdout
            .starts_with(&format!("ANTHROPIC_AUTH_TOKEN='{TRICKY}'")),
        "{}",
        r.stdout
    );
}

#[test]
fn keep_api_key_and_default_base_url() {
    let fake = Fake::start(|_, _| Reply::token("sk-ant-oat01-plainTOKEN_123456", 600));
    let (env, _) = env_with_file_source(&fake.url);
    let r = env.run_with(&["env", "--shell", "bash", "--keep-api-key"], |c| {
        c.env("ANTHROPIC_API_KEY", "sk-ant-api03-static");
    });
    r.success();
    assert!(!r.stdout.contains("ANTHROPIC_API_KEY"), "{}", r.stdout);
    assert!(!r.stderr.contains("removing"), "{}", r.stderr);
    let r = env.run(&["env", "--shell", "dotenv"]);
    r.success();
    assert!(
        r.stdout
            .contains("ANTHROPIC_AUTH_TOKEN='sk-ant-oat01-plainTOKEN_123456'\n")
    );
    // every line is an assignment
    for line in env.run(&["env", "--shell", "bash"]).stdout.lines() {
        assert!(
            line.starts_with("export ") || line.starts_with("unset "),
            "{line}"
        );
    }
}

#[test]
fn fish_output_succeeds_when_nothing_needs_unsetting() {
    if !require_tool("fish", have("fish")) {
        return;
    }
    let fake = Fake::start(|_, _| Reply::token("sk-ant-oat01-plainTOKEN_123456", 600));
    let (env, _) = env_with_file_source(&fake.url);
    let out = env
        .external("fish")
        .args([
            "-c",
            &format!("{BIN} env --shell fish | source; and echo sourced-ok"),
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "sourced-ok\n");
}
