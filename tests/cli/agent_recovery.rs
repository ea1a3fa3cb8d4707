//! `keyless agent` when things go wrong: a start that cannot finish, a
//! reload that cannot, an outage longer than a token lives and the way
//! back from it (ready file, proxy answers).

use std::time::Duration;

use crate::agent_support::*;
use crate::common::*;

fn api_unauthorized(sb: &Sandbox) -> u64 {
    sb.history()["api_unauthorized"].as_u64().unwrap()
}

/// A start that fails after its configuration loads (the proxy's port is
/// taken, the capability file is unsafe) spends no exchange and leaves no
/// token on disk that no agent keeps fresh.
#[test]
fn a_start_that_cannot_listen_leaves_no_token_and_spends_no_exchange() {
    let (sb, env) = anthropic_env(600);
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let token = env.path("run/token");
    let dir = env.path("run/profile");
    let cap = env.path("run/cap");
    let sinks = [
        format!("file:{}", token.display()),
        format!("anthropic-profile:{}", dir.display()),
    ];
    let run = |proxy: &str, cap: &std::path::Path| {
        env.run(&[
            "agent",
            "--sink",
            &sinks[0],
            "--sink",
            &sinks[1],
            "--sink",
            proxy,
            "--capability-file",
            cap.to_str().unwrap(),
        ])
    };
    let r = run(&format!("proxy:anthropic=127.0.0.1:{port}"), &cap);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("cannot listen on"), "{}", r.stderr);
    assert!(!token.exists(), "a token left behind by a failed start");
    assert!(profile_token(&dir, "default").is_none());
    assert_eq!(
        exchanges(&sb),
        0,
        "an exchange spent on a start that failed"
    );
    // An unsafe capability file: refused before any exchange too.
    let victim = env.path("victim");
    std::fs::write(&victim, "keep").unwrap();
    let link = env.path("run/cap-link");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let r = run(&format!("proxy:anthropic=127.0.0.1:{}", free_port()), &link);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("symbolic link"), "{}", r.stderr);
    assert!(!token.exists());
    assert_eq!(exchanges(&sb), 0);
    drop(taken);
}

/// The sinks were removed (the identity source was down until the token
/// expired); the renewal that brings them back is the one SIGUSR1 asks
/// for, not the agent's own: the ready file comes back with them.
#[test]
fn the_ready_file_comes_back_with_the_sinks_whoever_renews() {
    let sb = Sandbox::start(&["--token-lifetime", "3600"]);
    let env = TestEnv::new();
    let (identity, sw) = switchable_identity(&env, &sb);
    env.setup(&sb.url, &identity);
    let token = env.path("shared/token");
    let agent = Agent::start(&env, &[format!("file:{}", token.display())], &[]);
    std::fs::write(&sw.down, "").unwrap();
    wait_for(
        "the sink removed before its 60 s token expired",
        2 * HANG,
        || !token.exists(),
    );
    assert!(!agent.ready.exists(), "ready with no valid token");
    // Just after a failed retry the agent's next one is a backoff (6 s by
    // now) away: the signal's renewal comes first.
    let n = sw.calls();
    wait_for("a retry", HANG, || sw.calls() > n);
    std::fs::write(&sw.long, "").unwrap();
    std::fs::remove_file(&sw.down).unwrap();
    agent.signal(libc::SIGUSR1);
    wait_for("the signal's renewal", HANG, || token.exists());
    // The new token lives an hour: the agent's own next renewal is half an
    // hour away, so only the signal's renewal can have brought the ready
    // file back. The main thread handles one signal to its end before the
    // next: once a second SIGUSR1 (past the 5 s between forced exchanges)
    // has exchanged, the first one's handling is over.
    let n = exchanges(&sb);
    std::thread::sleep(Duration::from_secs(6));
    agent.signal(libc::SIGUSR1);
    wait_for("the second signal's exchange", HANG, || exchanges(&sb) > n);
    assert!(
        agent.ready.exists(),
        "the sinks hold a valid token again, the ready file is missing"
    );
    let (code, log) = agent.stop();
    assert_eq!(code, 0, "{log}");
    assert!(
        log.contains("told the Anthropic token was rejected"),
        "{log}"
    );
}

/// The identity source is down and the token has expired: between the
/// backoff's retries the proxy sink answers in the provider's error shape
/// and forwards nothing (an expired token upstream would be a 401, and
/// each 401 an exchange attempt past the backoff).
#[test]
fn during_an_outage_the_proxy_never_forwards_an_expired_token() {
    let sb = Sandbox::start(&["--token-lifetime", "60"]);
    let env = TestEnv::new();
    let (identity, sw) = switchable_identity(&env, &sb);
    env.setup(&sb.url, &identity);
    let port = free_port();
    let cap = env.path("run/cap");
    let dir = env.path("run/profile");
    let agent = Agent::start(
        &env,
        &[
            format!("proxy:anthropic=127.0.0.1:{port}"),
            format!("anthropic-profile:{}", dir.display()),
        ],
        &["--capability-file", cap.to_str().unwrap()],
    );
    let key = std::fs::read_to_string(&cap).unwrap();
    let (_, exp) = profile_token(&dir, "default").unwrap();
    std::fs::write(&sw.down, "").unwrap();
    assert_eq!(call_proxy(&env, port, &key).0, 200);
    let mut after = Vec::new();
    wait_for("ten calls after the token expired", 2 * HANG, || {
        let sent = now();
        let answer = call_proxy(&env, port, &key);
        if sent > exp as f64 {
            after.push(answer);
        }
        std::thread::sleep(Duration::from_millis(250));
        after.len() >= 10
    });
    for (code, body) in &after {
        assert_eq!(*code, 503, "{body}");
        let v: serde_json::Value =
            serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
        assert_eq!(v["type"], "error", "{body}");
        assert_eq!(v["error"]["type"], "api_error", "{body}");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.contains("no token to forward with"), "{msg}");
    }
    assert_eq!(
        api_unauthorized(&sb),
        0,
        "an expired token was forwarded upstream"
    );
    let (code, log) = agent.stop();
    assert_eq!(code, 0, "{log}");
}

/// SIGHUP with a configuration that loads but whose first exchange fails
/// (the new identity source is down): the agent goes on as it was, sinks
/// and proxy included.
#[test]
fn a_reload_that_cannot_start_goes_on_as_it_was() {
    let (sb, env) = anthropic_env(600);
    let token = env.path("run/token");
    let port = free_port();
    let cap = env.path("run/cap");
    let mut agent = Agent::start(
        &env,
        &[
            format!("file:{}", token.display()),
            format!("proxy:anthropic=127.0.0.1:{port}"),
        ],
        &["--capability-file", cap.to_str().unwrap()],
    );
    let key = std::fs::read_to_string(&cap).unwrap();
    let before = std::fs::read_to_string(&token).unwrap();
    let other = Sandbox::start(&["--token-lifetime", "600"]);
    let (identity, sw) = switchable_identity(&env, &other);
    std::fs::write(&sw.down, "").unwrap();
    env.setup(&other.url, &identity);
    agent.signal(libc::SIGHUP);
    wait_for("the new identity source tried", HANG, || sw.calls() > 0);
    // Signals are handled in order: this one after the reload's outcome.
    agent.signal(libc::SIGUSR1);
    wait_for("the old setup renewing on SIGUSR1", HANG, || {
        if let Some(s) = agent.child.try_wait().unwrap() {
            let (_, log) = agent.finish();
            panic!("the agent exited ({s}) after a failed reload:\n{log}");
        }
        exchanges(&sb) == 2
    });
    wait_for("the new token in place", HANG, || {
        std::fs::read_to_string(&token).is_ok_and(|t| t != before && !t.is_empty())
    });
    assert!(agent.ready.exists());
    let (code, body) = call_proxy(&env, port, &key);
    assert_eq!(code, 200, "the proxy sink after a failed reload: {body}");
    let (code, log) = agent.stop();
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("going on with the old one"), "{log}");
}

/// The agent's lock directory when XDG_RUNTIME_DIR is `rt`.
fn agents_dir(rt: &std::path::Path) -> std::path::PathBuf {
    rt.join("keyless/agents")
}

fn pid_files(rt: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(agents_dir(rt))
        .map(|d| {
            d.map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "pid"))
                .collect()
        })
        .unwrap_or_default()
}

/// `--reload`/`--rejected` signal only an agent that holds the sinks'
/// lock, never the pid a stale pid file names: an agent that ends
/// normally removes its pid file; after a kill -9 the file stays, naming
/// a pid the system may give to anyone (here a `sleep` of the test's),
/// and whether nobody holds the lock or a new agent holds it before it
/// has written its own pid, the `sleep` is never signalled.
#[test]
fn reload_never_signals_the_pid_of_a_stale_pid_file() {
    let (_sb, env) = anthropic_env(600);
    let rt = env.path("rt");
    let in_rt = |c: &mut std::process::Command| {
        c.env("XDG_RUNTIME_DIR", &rt);
    };
    let sink = format!("file:{}", env.path("token").display());
    let sinks = std::slice::from_ref(&sink);
    let agent = Agent::start_with(&env, sinks, &[], in_rt);
    assert!(!pid_files(&rt).is_empty(), "the agent records its pid");
    let (code, err) = agent.stop();
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        pid_files(&rt),
        Vec::<std::path::PathBuf>::new(),
        "left by a normal stop"
    );
    let agent = Agent::start_with(&env, sinks, &[], in_rt);
    agent.signal(libc::SIGKILL);
    drop(agent);
    let stale = pid_files(&rt);
    assert!(!stale.is_empty(), "kill -9 leaves the pid file");
    let mut bystander = std::process::Command::new("sleep")
        .arg("300")
        .spawn()
        .unwrap();
    for f in &stale {
        std::fs::write(f, bystander.id().to_string()).unwrap();
    }
    let reload = || env.run_with(&["agent", "--reload", "--sink", &sink], in_rt);
    reload().fails(1, "no keyless agent serves these sinks");
    // The locks held, as by an agent that has not yet written its pid.
    let _held: Vec<std::fs::File> = stale
        .iter()
        .map(|f| {
            let lock = std::fs::File::open(f.with_extension("lock")).unwrap();
            // SAFETY: flock(2) on a file this test opened.
            let r = unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&lock), libc::LOCK_EX) };
            assert_eq!(r, 0);
            lock
        })
        .collect();
    reload().fails(1, "does not hold");
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        bystander.try_wait().unwrap().is_none(),
        "the bystander was signalled"
    );
    bystander.kill().unwrap();
    bystander.wait().unwrap();
}

/// A renewal whose write fails (the sink's directory replaced by a file)
/// does not count as in the sinks: when the token they do hold expires,
/// the ready file goes (the agent does not go on claiming valid sinks on
/// the strength of a token it could not write), and once the directory
/// is back the next retry writes a fresh token and brings the ready file
/// back.
#[test]
fn a_token_whose_write_failed_is_not_counted_as_in_the_sinks() {
    let (sb, env) = anthropic_env(60);
    let run = env.path("run");
    let token = run.join("token");
    let start = std::time::Instant::now();
    let agent = Agent::start(&env, &[format!("file:{}", token.display())], &[]);
    let first = std::fs::read_to_string(&token).unwrap();
    std::fs::rename(&run, env.path("run.away")).unwrap();
    std::fs::write(&run, "not a directory").unwrap();
    // The agent's own renewal (due well before the first token expires)
    // exchanges, and cannot write.
    wait_for("the renewal", 2 * HANG, || exchanges(&sb) >= 2);
    let first_gone = Duration::from_secs(63);
    std::thread::sleep(first_gone.saturating_sub(start.elapsed()));
    assert!(
        !agent.ready.exists(),
        "ready though the sink never received a token that is still valid"
    );
    std::fs::remove_file(&run).unwrap();
    // The agent's next retry may make the directory first.
    let made =
        std::os::unix::fs::DirBuilderExt::mode(&mut std::fs::DirBuilder::new(), 0o700).create(&run);
    assert!(made.is_ok() || run.is_dir(), "{made:?}");
    wait_for("the retried write", 2 * HANG, || {
        std::fs::read_to_string(&token).is_ok_and(|t| t != first)
    });
    wait_for("the ready file back", HANG, || agent.ready.exists());
    let (code, log) = agent.stop();
    assert_eq!(code, 0, "{log}");
}

/// keyless makes itself non-dumpable, which closes /proc/PID/fd to its own
/// user: `--reload` checking the agent's pid must not depend on that (it
/// reads /proc/locks). Run as root, the agent and `--reload` run as
/// another user (65534), as they would for anyone but root.
#[test]
fn reload_reaches_an_agent_of_an_ordinary_user() {
    use std::os::unix::process::CommandExt;
    let (_sb, env) = anthropic_env(600);
    let rt = env.path("rt");
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if root {
        let chown = std::process::Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(env.path(""))
            .status()
            .unwrap();
        assert!(chown.success());
    }
    let as_user = |c: &mut std::process::Command| {
        c.env("XDG_RUNTIME_DIR", &rt);
        if root {
            c.uid(65534).gid(65534);
        }
    };
    let sink = format!("file:{}", env.path("token").display());
    let agent = Agent::start_with(&env, std::slice::from_ref(&sink), &[], as_user);
    let r = env.run_with(&["agent", "--reload", "--sink", &sink], as_user);
    r.success();
    let (code, log) = agent.stop();
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("told to reload"), "{log}");
}
