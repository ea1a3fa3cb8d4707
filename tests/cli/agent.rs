//! `keyless agent`: its sinks, their modes and refusals, templates, the
//! single-instance lock, signals, `--rejected`, a restart after SIGKILL.
//! The long runs with real SDKs are in agent_long.rs.

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use crate::agent_support::*;
use crate::common::*;

fn s(x: String) -> String {
    x
}

#[test]
fn every_file_sink_gets_the_one_exchanged_token_0600_and_goes_on_stop() {
    let (sb, env) = anthropic_env(600);
    let out = env.path("out");
    let tmpl = env.path("in.tmpl");
    std::fs::write(
        &tmpl,
        "[anthropic]\nkey = \"{{ anthropic.token }}\"\nexpires = {{anthropic.expires_at}}\nurl = \"{{ anthropic.base_url }}\"\n",
    )
    .unwrap();
    let sinks = vec![
        s(format!("anthropic-profile:{}/profile", out.display())),
        s(format!("anthropic-profile:{}/profile:ci", out.display())),
        s(format!("file:{}/token", out.display())),
        s(format!(
            "template:{}:{}/conf.toml",
            tmpl.display(),
            out.display()
        )),
    ];
    let agent = Agent::start(&env, &sinks, &[]);
    assert_eq!(exchanges(&sb), 1, "one exchange for four sinks");
    let token = std::fs::read_to_string(out.join("token")).unwrap();
    assert!(
        token.starts_with("sk-ant-oat01-"),
        "the raw token, no newline"
    );
    let (t1, exp) = profile_token(&out.join("profile"), "default").unwrap();
    let (t2, _) = profile_token(&out.join("profile"), "ci").unwrap();
    assert_eq!((t1.as_str(), t2.as_str()), (token.as_str(), token.as_str()));
    let conf = std::fs::read_to_string(out.join("conf.toml")).unwrap();
    assert_eq!(
        conf,
        format!(
            "[anthropic]\nkey = \"{token}\"\nexpires = {exp}\nurl = \"{}\"\n",
            sb.url
        )
    );
    let cfg: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("profile/configs/default.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(cfg["authentication"]["type"], "user_oauth");
    assert_eq!(cfg["base_url"], sb.url.as_str());
    for f in [
        "token",
        "conf.toml",
        "profile/credentials/default.json",
        "profile/configs/ci.json",
    ] {
        assert_eq!(mode(&out.join(f)) & 0o777, 0o600, "{f}");
    }
    assert_eq!(mode(&out.join("profile")) & 0o777, 0o700);
    let (code, err) = agent.stop();
    assert_eq!(code, 0, "{err}");
    for f in ["token", "conf.toml", "profile/credentials/default.json"] {
        assert!(!out.join(f).exists(), "{f} is removed when the agent stops");
    }
}

#[test]
fn a_requested_mode_and_group_are_applied() {
    let (_sb, env) = anthropic_env(600);
    let out = env.path("shared");
    // SAFETY: getegid has no preconditions.
    let gid = unsafe { libc::getegid() };
    let agent = Agent::start(
        &env,
        &[format!("file:{}/token", out.display())],
        &["--sink-mode", "0640", "--sink-group", &gid.to_string()],
    );
    let m = std::fs::metadata(out.join("token")).unwrap();
    assert_eq!(m.mode() & 0o777, 0o640);
    assert_eq!(m.gid(), gid);
    assert_eq!(mode(&out) & 0o777, 0o750, "the group may enter the new dir");
    agent.stop();
}

/// The agent refuses to start (exits by itself, non-zero, saying `needle`).
fn refused(env: &TestEnv, sinks: &[String], extra: &[&str], needle: &str) {
    let mut c = env.cmd();
    c.arg("agent");
    for s in sinks {
        c.arg("--sink").arg(s);
    }
    c.args(extra);
    let what = format!("agent {sinks:?} {extra:?}");
    let mut child = c
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stderr.take().unwrap();
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut pipe, &mut s);
        s
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let code = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s.code();
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} was not refused: it ran");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let stderr = err.join().unwrap();
    assert_ne!(code, Some(0), "{what} was accepted");
    assert!(stderr.contains(needle), "{what}: {stderr}");
}

#[test]
fn symlinks_loose_directories_and_unknown_template_names_are_refused_at_start() {
    let (sb, env) = anthropic_env(600);
    let loose = env.path("loose");
    std::fs::create_dir(&loose).unwrap();
    std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o777)).unwrap();
    refused(
        &env,
        &[format!("file:{}/token", loose.display())],
        &[],
        "other users can write to it",
    );
    let victim = env.path("victim");
    std::fs::write(&victim, "keep").unwrap();
    let link = env.path("link");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    refused(
        &env,
        &[format!("file:{}", link.display())],
        &[],
        "symbolic link",
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    let real = env.path("realdir");
    std::fs::create_dir(&real).unwrap();
    let dirlink = env.path("dirlink");
    std::os::unix::fs::symlink(&real, &dirlink).unwrap();
    refused(
        &env,
        &[format!("file:{}/token", dirlink.display())],
        &[],
        "symbolic link",
    );
    refused(
        &env,
        &[format!("file:{}", env.path("realdir").display())],
        &[],
        "not a regular file",
    );
    let tmpl = env.path("bad.tmpl");
    std::fs::write(&tmpl, "key={{ anthropic.secret_key }}").unwrap();
    refused(
        &env,
        &[format!(
            "template:{}:{}",
            tmpl.display(),
            env.path("out.conf").display()
        )],
        &[],
        "\"anthropic.secret_key\", which keyless does not know",
    );
    assert!(!env.path("out.conf").exists());
    refused(
        &env,
        &[format!("anthropic-profile:{}", env.path("p").display())],
        &["--sink-mode", "0640"],
        "the Anthropic SDKs refuse a credentials file other users can read",
    );
    refused(
        &env,
        &["proxy:openai=0.0.0.0:9".into()],
        &[],
        "not loopback",
    );
    refused(&env, &["socket:/x".into()], &[], "unknown kind");
    // The ready file is checked like a sink: an orchestrator would wait
    // for a file the agent could never safely write.
    let ok_sink = [format!("file:{}", env.path("ok/token").display())];
    let ready_in_loose = loose.join("ready");
    refused(
        &env,
        &ok_sink,
        &["--ready-file", ready_in_loose.to_str().unwrap()],
        "other users can write to it",
    );
    refused(
        &env,
        &ok_sink,
        &["--ready-file", link.to_str().unwrap()],
        "symbolic link",
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    assert!(!env.path("ok/token").exists());
    assert_eq!(exchanges(&sb), 0, "nothing exchanged for a refused start");
}

#[test]
fn a_second_agent_on_the_same_sinks_names_the_first() {
    let (_sb, env) = anthropic_env(600);
    let sink = format!("file:{}", env.path("token").display());
    let first = Agent::start(&env, std::slice::from_ref(&sink), &[]);
    let r = env.run(&["agent", "--sink", &sink, "--sink", "file:/dev/null/other"]);
    r.fails(2, &format!("another keyless agent (pid {})", first.pid()));
    first.stop();
}

#[test]
fn rejected_exchanges_a_new_token_for_every_sink_at_once() {
    let (sb, env) = anthropic_env(600);
    let token = env.path("token");
    let sink = format!("file:{}", token.display());
    let agent = Agent::start(&env, std::slice::from_ref(&sink), &[]);
    let before = std::fs::read_to_string(&token).unwrap();
    env.run(&["agent", "--rejected", "--sink", &sink]).success();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::fs::read_to_string(&token).unwrap() == before {
        assert!(std::time::Instant::now() < deadline, "not replaced");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(exchanges(&sb), 2);
    let (code, err) = agent.stop();
    assert_eq!(code, 0);
    assert!(err.contains("rejected"), "{err}");
    env.run(&["agent", "--rejected", "--sink", &sink])
        .fails(1, "no keyless agent serves these sinks");
}

/// SIGKILL leaves the sinks in place (readers keep the last token, nothing
/// torn); a new agent takes over from the cache without an exchange.
#[test]
fn after_sigkill_a_restarted_agent_takes_over_without_a_second_exchange() {
    let (sb, env) = anthropic_env(600);
    let dir = env.path("profile");
    let sink = format!("anthropic-profile:{}", dir.display());
    let first = Agent::start(&env, std::slice::from_ref(&sink), &[]);
    let (token, _) = profile_token(&dir, "default").unwrap();
    first.signal(libc::SIGKILL);
    drop(first);
    assert_eq!(profile_token(&dir, "default").unwrap().0, token);
    let second = Agent::start(&env, std::slice::from_ref(&sink), &[]);
    assert_eq!(profile_token(&dir, "default").unwrap().0, token);
    assert_eq!(exchanges(&sb), 1);
    second.stop();
}

#[test]
fn json_logs_are_one_object_a_line() {
    let (_sb, env) = anthropic_env(600);
    let agent = Agent::start(
        &env,
        &[format!("file:{}", env.path("t").display())],
        &["--log-format", "json"],
    );
    let (code, err) = agent.stop();
    assert_eq!(code, 0);
    assert!(err.lines().count() >= 2, "{err}");
    for line in err.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v["level"].is_string() && v["message"].is_string() && v["time"].is_string());
    }
}

/// SIGHUP re-reads the configuration: a profile pointed at another host
/// is served from then on (a new exchange there), the sinks stay in place.
#[test]
fn sighup_rereads_the_configuration() {
    let (sb, env) = anthropic_env(600);
    let token = env.path("token");
    let agent = Agent::start(&env, &[format!("file:{}", token.display())], &[]);
    let other = Sandbox::start(&["--token-lifetime", "600"]);
    env.setup(&other.url, &other.identity_command());
    agent.signal(libc::SIGHUP);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while exchanges(&other) == 0 {
        assert!(std::time::Instant::now() < deadline, "not re-read");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(token.exists());
    assert_eq!(exchanges(&sb), 1);
    let (code, _) = agent.stop();
    assert_eq!(code, 0);
}
