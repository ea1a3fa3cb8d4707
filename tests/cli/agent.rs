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

/// A gid that is not the test's own, so an ignored --sink-group shows.
const OTHER_GID: u32 = 4242;

#[test]
fn a_requested_mode_and_group_are_applied() {
    // SAFETY: geteuid and getegid have no preconditions.
    let (euid, egid) = unsafe { (libc::geteuid(), libc::getegid()) };
    if euid != 0 {
        // Giving a file to a group one is not in takes root (CI runs as root).
        if std::env::var_os("CI").is_some() || std::env::var_os("KEYLESS_TEST_STRICT").is_some() {
            panic!(
                "a_requested_mode_and_group_are_applied needs root to set a group other than its own (CI and scripts/test run as root)"
            );
        }
        skipping("--sink-group with another group needs root");
        return;
    }
    assert_ne!(egid, OTHER_GID);
    let (_sb, env) = anthropic_env(600);
    let out = env.path("shared");
    let tmpl = env.path("in.tmpl");
    std::fs::write(&tmpl, "key={{ anthropic.token }}\n").unwrap();
    let agent = Agent::start(
        &env,
        &[
            format!("file:{}/token", out.display()),
            format!("template:{}:{}/conf", tmpl.display(), out.display()),
        ],
        &[
            "--sink-mode",
            "0640",
            "--sink-group",
            &OTHER_GID.to_string(),
        ],
    );
    for f in ["token", "conf"] {
        let m = std::fs::metadata(out.join(f)).unwrap();
        assert_eq!(m.mode() & 0o777, 0o640, "{f}");
        assert_eq!(m.gid(), OTHER_GID, "{f}: --sink-group applied");
    }
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
    let deadline = std::time::Instant::now() + HANG;
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

/// The one-agent lock does not live in the cache directory: an agent
/// with a cache of its own, or naming the sink by another path (a
/// symbolic link to its directory), is still the second agent on it.
#[test]
fn a_second_agent_with_another_cache_dir_or_path_is_still_refused() {
    let (sb, env) = anthropic_env(600);
    let real = env.path("run");
    let sink = format!("file:{}/token", real.display());
    let first = Agent::start(&env, std::slice::from_ref(&sink), &[]);
    let other_cache = env.path("other-cache");
    let second = env.run_ending(&["agent", "--sink", &sink], |c| {
        c.env("KEYLESS_CACHE_DIR", &other_cache);
    });
    second.fails(2, &format!("another keyless agent (pid {})", first.pid()));
    let alias = env.path("alias");
    std::os::unix::fs::symlink(env.path(""), &alias).unwrap();
    let aliased = format!("file:{}/run/token", alias.display());
    env.run_ending(&["agent", "--sink", &aliased], |_| {})
        .fails(2, &format!("another keyless agent (pid {})", first.pid()));
    assert_eq!(exchanges(&sb), 1);
    env.run_with(&["agent", "--rejected", "--sink", &sink], |c| {
        c.env("KEYLESS_CACHE_DIR", &other_cache);
    })
    .success();
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

/// kill -9 mid-run, after a renewal, with readers reading: no read ever
/// finds a sink torn, empty or missing; after the kill the readers keep
/// the last token (still valid); a restarted agent takes over from the
/// cache without a second exchange while that token is fresh.
#[test]
fn after_sigkill_mid_run_readers_keep_the_last_token_and_a_restart_takes_over() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let (sb, env) = anthropic_env(600);
    let dir = env.path("profile");
    let file = env.path("token");
    let sinks = vec![
        format!("anthropic-profile:{}", dir.display()),
        format!("file:{}", file.display()),
    ];
    let first = Agent::start(&env, &sinks, &[]);
    let t1 = std::fs::read_to_string(&file).unwrap();
    // 0: first agent, 1: it was killed, 2: a second agent runs, 3: stop.
    let phase = Arc::new(AtomicUsize::new(0));
    let after_kill = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> = (0..4)
        .map(|i| {
            let (dir, file, phase) = (dir.clone(), file.clone(), phase.clone());
            let after_kill = after_kill.clone();
            std::thread::spawn(move || {
                let mut reads = Vec::new();
                loop {
                    let p = phase.load(Ordering::SeqCst);
                    if p == 3 {
                        return reads;
                    }
                    let token = if i % 2 == 0 {
                        std::fs::read_to_string(&file)
                            .unwrap_or_else(|e| panic!("reader {i} in phase {p}: {e}"))
                    } else {
                        let text = std::fs::read_to_string(dir.join("credentials/default.json"))
                            .unwrap_or_else(|e| panic!("reader {i} in phase {p}: {e}"));
                        let v: serde_json::Value =
                            serde_json::from_str(&text).unwrap_or_else(|e| {
                                panic!("reader {i} in phase {p}: torn: {e}: {text:?}")
                            });
                        let exp = v["expires_at"].as_i64().unwrap();
                        assert!(exp as f64 > now(), "reader {i}: an expired token");
                        v["access_token"].as_str().unwrap().to_string()
                    };
                    if p == 1 {
                        after_kill.fetch_add(1, Ordering::SeqCst);
                    }
                    reads.push((p, token));
                }
            })
        })
        .collect();
    // A renewal while they read.
    env.run(&["agent", "--rejected", "--sink", &sinks[1]])
        .success();
    wait_for("the renewal", HANG, || {
        std::fs::read_to_string(&file).is_ok_and(|t| t != t1)
    });
    let t2 = std::fs::read_to_string(&file).unwrap();
    // Killed once the renewal is in every sink (the profile is written
    // after the file): from then on every read must find t2.
    wait_for("the renewal in the profile", HANG, || {
        profile_token(&dir, "default").is_some_and(|(t, _)| t == t2)
    });
    assert_eq!(exchanges(&sb), 2);
    first.signal(libc::SIGKILL);
    drop(first);
    phase.store(1, Ordering::SeqCst);
    wait_for("reads with no agent", HANG, || {
        after_kill.load(Ordering::SeqCst) >= 100
    });
    let second = Agent::start(&env, &sinks, &[]);
    phase.store(2, Ordering::SeqCst);
    assert_eq!(
        exchanges(&sb),
        2,
        "the restarted agent took the cached token"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), t2);
    phase.store(3, Ordering::SeqCst);
    for (i, r) in readers.into_iter().enumerate() {
        let reads = r.join().unwrap();
        for (p, t) in reads {
            match p {
                0 => assert!(t == t1 || t == t2, "reader {i}: a torn token {t:?}"),
                _ => assert_eq!(t, t2, "reader {i} after the kill"),
            }
        }
    }
    assert_eq!(profile_token(&dir, "default").unwrap().0, t2);
    let (code, err) = second.stop();
    assert_eq!(code, 0, "{err}");
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
    rereads_the_configuration_when(|agent, _, _| agent.signal(libc::SIGHUP));
}

/// `keyless agent --reload` with the same sinks: what Windows has instead
/// of SIGHUP, on Unix too (it sends SIGHUP to the pid the lock names).
#[test]
fn reload_flag_rereads_the_configuration() {
    rereads_the_configuration_when(|_, env, sink| {
        let r = env.run(&["agent", "--reload", "--sink", sink]);
        r.success();
        assert!(
            r.stderr.contains("re-read its configuration"),
            "{}",
            r.stderr
        );
    });
}

fn rereads_the_configuration_when(tell: impl Fn(&Agent, &TestEnv, &str)) {
    let (sb, env) = anthropic_env(600);
    let token = env.path("token");
    let sink = format!("file:{}", token.display());
    let agent = Agent::start(&env, std::slice::from_ref(&sink), &[]);
    let other = Sandbox::start(&["--token-lifetime", "600"]);
    env.setup(&other.url, &other.identity_command());
    tell(&agent, &env, &sink);
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
