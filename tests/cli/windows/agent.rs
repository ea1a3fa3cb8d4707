//! `keyless agent` on Windows, under Wine, against the Linux-side sandbox:
//! a file sink, an Anthropic SDK profile sink, a template sink and a proxy
//! sink on a loopback port that a Linux-side client calls; `--ready-file`;
//! one agent per sink (the second names the first's pid, as the first
//! logs it); `--rejected` and `--reload` reaching it
//! through its named events; Ctrl-C stopping it and removing the sinks.
//!
//! Ctrl-C arrives as Wine delivers it: SIGINT to the Wine process runs the
//! console control handlers with CTRL_C_EVENT. Ctrl-Break, closing the
//! console, logoff and shutdown cannot be raised under Wine: which of them
//! stop the agent, and which hold the process until the sinks are removed,
//! is unit-tested in `agent::control::tests`. That the sinks' access lists
//! keep other accounts out cannot be shown either (Wine neither enforces
//! ACLs nor has a second account): `private_fs::acl`'s unit tests, and the
//! Windows runner of the release workflow.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use super::wine::{WinEnv, win, wine};
use super::{SANDBOX_REPLY, post_messages};
use crate::common::*;

/// Wait (bounded, for a failure message) until `f` holds.
fn until(what: &str, log: &Path, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "{what} never happened; the agent's log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The pid the agent says it has (its first "agent (pid N): serving" line).
fn logged_pid(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap();
    let rest = text
        .split("agent (pid ")
        .nth(1)
        .unwrap_or_else(|| panic!("no pid in the log: {text}"));
    rest.split(')').next().unwrap().to_string()
}

/// A child killed and waited for when dropped.
pub(super) struct Killed(pub Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn agent_keeps_its_sinks_and_answers_rejected_reload_and_ctrl_c() {
    let Some(w) = wine() else { return };
    let sb = Sandbox::start(&[]);
    let env = WinEnv::new(w);
    env.setup_sandbox(&sb.url);
    let sinks: PathBuf = env.path("sinks");
    let token = sinks.join("token");
    let profile = sinks.join("anthropic");
    let input = env.path("in.toml");
    let rendered = sinks.join("out.toml");
    std::fs::write(&input, "key = \"{{ anthropic.token }}\"\n").unwrap();
    let ready = env.path("ready");
    let cap = env.path("cap");
    let log = env.path("agent.log");
    let port = free_port();
    let file_sink = format!("--sink=file:{}", win(&token));
    let mut c = env.cmd();
    c.arg("agent")
        .arg(&file_sink)
        .arg(format!("--sink=anthropic-profile:{}", win(&profile)))
        .arg(format!(
            "--sink=template:{}:{}",
            win(&input),
            win(&rendered)
        ))
        .arg(format!("--sink=proxy:anthropic=127.0.0.1:{port}"))
        .args([
            "--ready-file",
            &win(&ready),
            "--capability-file",
            &win(&cap),
        ])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    let mut agent = Killed(c.spawn().unwrap());
    until("the ready file", &log, || ready.exists());

    let first = std::fs::read_to_string(&token).unwrap();
    assert!(first.starts_with("sk-ant-oat01-"), "{first}");
    let creds: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(profile.join("credentials/default.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(creds["access_token"], first.as_str());
    assert!(profile.join("configs/default.json").is_file());
    assert_eq!(
        std::fs::read_to_string(&rendered).unwrap(),
        format!("key = \"{first}\"\n")
    );
    assert_eq!(sb.history()["exchanges"], 1);

    // One agent per sink: the second names the first's pid.
    let pid = logged_pid(&log);
    env.run(&["agent", &file_sink]).fails(
        2,
        &format!("another keyless agent (pid {pid}) already serves"),
    );

    // A Linux-side client through the proxy sink, with the capability.
    let key = std::fs::read_to_string(&cap).unwrap();
    let (status, body) = post_messages(&format!("http://127.0.0.1:{port}"), &key);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(SANDBOX_REPLY), "{body}");

    // --rejected: a new token in every sink, from a second exchange.
    let asked = env.run(&["agent", "--rejected", &file_sink]);
    asked.success();
    assert!(
        asked.stderr.contains(&format!("pid {pid}")),
        "{}",
        asked.stderr
    );
    until("a new token in the file sink", &log, || {
        std::fs::read_to_string(&token).is_ok_and(|t| t != first && !t.is_empty())
    });
    assert_eq!(sb.history()["exchanges"], 2);

    // --reload: the configuration is read again.
    env.run(&["agent", "--reload", &file_sink]).success();
    until("the reload", &log, || {
        std::fs::read_to_string(&log).is_ok_and(|l| l.contains("told to reload"))
    });

    // Ctrl-C (SIGINT to the Wine process): a clean stop, sinks removed.
    // SAFETY: kill(2) on the process this test started.
    assert_eq!(unsafe { libc::kill(agent.0.id() as i32, libc::SIGINT) }, 0);
    let status = agent.0.wait().unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(status.code(), Some(0), "{text}");
    assert!(text.contains("Ctrl-C: removing the sinks"), "{text}");
    for gone in [
        &token,
        &rendered,
        &ready,
        &profile.join("credentials/default.json"),
    ] {
        assert!(!gone.exists(), "{} is left", gone.display());
    }
    assert_no_secrets(&text);
}

/// The Unix notions are refused on Windows with a message, before any
/// exchange: `--sink-mode`, `--sink-group`, a `proxy:unix:PATH` sink.
#[test]
fn agent_refuses_unix_modes_groups_and_sockets() {
    let Some(w) = wine() else { return };
    let sb = Sandbox::start(&[]);
    let env = WinEnv::new(w);
    env.setup_sandbox(&sb.url);
    let sink = format!("--sink=file:{}", win(&env.path("t")));
    env.run(&["agent", &sink, "--sink-mode", "0640"])
        .fails(2, "--sink-mode is a Unix file mode or group");
    env.run(&["agent", &sink, "--sink-group", "users"])
        .fails(2, "--sink-group is a Unix file mode or group");
    let sock = format!("--sink=proxy:anthropic=unix:{}", win(&env.path("s")));
    let cap = win(&env.path("cap"));
    env.run(&["agent", &sock, "--capability-file", &cap]).fails(
        2,
        "is a Unix socket, which keyless does not serve on Windows",
    );
    assert_eq!(sb.history()["exchanges"], 0);
}
