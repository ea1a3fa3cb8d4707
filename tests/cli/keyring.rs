//! The real OS keyring: gnome-keyring's Secret Service on a private D-Bus
//! session bus (dbus-run-session), with a login keyring unlocked by a
//! password from stdin. Also a bus where no Secret Service answers.

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::*;
use crate::crash_session::{Rotation, rotating_idp};
use crate::fake::{Fake, Reply};
use crate::fake_idp::{FakeIdp, oauth_error};
use crate::secrets::setup_issuer;

/// Start gnome-keyring in the foreground (so it ends with the bus, and holds
/// none of the test's pipes), unlock the login keyring, wait until it owns
/// the Secret Service name, run the command, stop the daemon.
const WITH_KEYRING: &str = r#"
printf pw | gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>&1 &
kr=$!
[ -n "$KEYRING_PID_FILE" ] && echo $kr > "$KEYRING_PID_FILE"
i=0
until dbus-send --session --dest=org.freedesktop.DBus --type=method_call --print-reply \
    /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q true; do
  i=$((i+1)); [ $i -gt 200 ] && { echo "gnome-keyring-daemon did not start" >&2; exit 97; }
  sleep 0.05
done
"$@"; rc=$?
kill $kr 2>/dev/null; wait $kr 2>/dev/null
exit $rc
"#;

fn tools() -> bool {
    let have = |p: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {p}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    require_tool("dbus-run-session (dbus-bin)", have("dbus-run-session"))
        && require_tool(
            "gnome-keyring-daemon (gnome-keyring)",
            have("gnome-keyring-daemon"),
        )
        && require_tool("secret-tool (libsecret-tools)", have("secret-tool"))
        && require_tool("dbus-send (dbus-bin)", have("dbus-send"))
}

/// `argv` (keyless's arguments, or another program) on a fresh session bus
/// with the test home's login keyring unlocked; the keyring lives in HOME, so
/// it persists from one bus to the next as a user's does across logins.
fn in_keyring(env: &TestEnv, store: &str, argv: &[&str]) -> Run {
    let mut c = env.external("dbus-run-session");
    c.args(["--", "sh", "-c", WITH_KEYRING, "sh"]);
    if argv[0] == "secret-tool" {
        c.args(argv);
    } else {
        c.arg(BIN).args(argv);
    }
    c.env("KEYLESS_SECRET_STORE", store);
    Run::from(c.output().unwrap())
}

/// What the keyring holds for keyless (service "keyless").
fn keyring_items(env: &TestEnv) -> String {
    let r = in_keyring(
        env,
        "keyring",
        &["secret-tool", "search", "--all", "service", "keyless"],
    );
    r.stdout
}

#[test]
fn the_keyring_keeps_the_session_from_login_through_rotation_to_logout() {
    if !tools() {
        return;
    }
    for store in ["keyring", "auto"] {
        let (idp, state) = rotating_idp();
        let api =
            Fake::start(|n, _| Reply::token(&format!("sk-ant-oat01-kr{n}_0123456789abc"), 600));
        let env = TestEnv::new();
        setup_issuer(&env, &idp);
        env.setup_anthropic(&api.url, &[]);
        let r = in_keyring(&env, store, &["login", "--device", "--timeout", "30"]);
        r.success();
        assert!(
            r.stderr.contains("Refresh token kept in the OS keyring"),
            "{store}: {}",
            r.stderr
        );
        assert!(!r.stderr.contains("warning"), "{store}: {}", r.stderr);
        assert!(!env.config_dir().join("secrets.json").exists(), "{store}");
        let first = state.lock().unwrap().valid.clone().unwrap();
        assert!(
            keyring_items(&env).contains(&format!("secret = {first}")),
            "{store}"
        );
        for _ in 0..2 {
            let r = in_keyring(&env, store, &["credential", "anthropic", "--force-refresh"]);
            r.success();
            assert!(
                r.stdout.starts_with("sk-ant-oat01-kr"),
                "{store}: {}",
                r.stdout
            );
        }
        let newest = state.lock().unwrap().valid.clone().unwrap();
        assert_ne!(first, newest);
        let items = keyring_items(&env);
        assert!(
            items.contains(&format!("secret = {newest}")),
            "{store}: {items}"
        );
        assert!(
            !items.contains(&format!("secret = {first}")),
            "{store}: {items}"
        );
        let r = in_keyring(&env, store, &["logout"]);
        r.success();
        assert!(
            r.stderr.contains("Revoked the refresh token"),
            "{store}: {}",
            r.stderr
        );
        assert!(!keyring_items(&env).contains("secret = rt-"), "{store}");
        assert!(!env.config_dir().join("secrets.json").exists(), "{store}");
    }
}

/// A session bus of its own, from `conf` (extra XML inside <busconfig>).
fn on_bus(env: &TestEnv, conf: &str, store: &str, args: &[&str]) -> Run {
    on_bus_with(env, conf, false, store, args)
}

/// Like [`on_bus`], with gnome-keyring on it when `keyring`.
fn on_bus_with(env: &TestEnv, conf: &str, keyring: bool, store: &str, args: &[&str]) -> Run {
    let path = env.path("bus.conf");
    std::fs::write(
        &path,
        format!(
            "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\" \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n\
             <busconfig><type>session</type><listen>unix:tmpdir=/tmp</listen><auth>EXTERNAL</auth>\
             <policy context=\"default\"><allow send_destination=\"*\" eavesdrop=\"true\"/><allow eavesdrop=\"true\"/><allow own=\"*\"/></policy>\
             {conf}</busconfig>"
        ),
    )
    .unwrap();
    let mut c = env.external("dbus-run-session");
    c.arg(format!("--config-file={}", path.display())).arg("--");
    if keyring {
        c.args(["sh", "-c", WITH_KEYRING, "sh"])
            .env("KEYRING_PID_FILE", env.path("keyring.pid"));
    }
    c.arg(BIN).args(args).env("KEYLESS_SECRET_STORE", store);
    Run::from(c.output().unwrap())
}

/// A bus where nothing provides the Secret Service (the keyring refuses), and
/// one where activating it never finishes (the keyring times out): `auto`
/// keeps the session in the file with one warning, rotation included;
/// `keyring` refuses with exit 6.
#[test]
fn a_keyring_that_refuses_or_never_answers_falls_back_to_the_file() {
    if !tools() {
        return;
    }
    let env0 = TestEnv::new();
    let stall = env0.path("stall.sh");
    std::fs::write(&stall, "#!/bin/sh\nexec >/dev/null 2>&1\nexec sleep 5\n").unwrap();
    std::fs::set_permissions(&stall, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let services = env0.path("services");
    std::fs::create_dir(&services).unwrap();
    std::fs::write(
        services.join("org.freedesktop.secrets.service"),
        format!(
            "[D-BUS Service]\nName=org.freedesktop.secrets\nExec={}\n",
            stall.display()
        ),
    )
    .unwrap();
    let stalling = format!(
        "<servicedir>{}</servicedir><limit name=\"service_start_timeout\">20000</limit>",
        services.display()
    );
    for (conf, why) in [
        ("", "org.freedesktop.secrets"),
        (stalling.as_str(), "no answer within 3s"),
    ] {
        let (idp, state) = rotating_idp();
        let api =
            Fake::start(|n, _| Reply::token(&format!("sk-ant-oat01-fb{n}_0123456789abc"), 600));
        let env = TestEnv::new();
        setup_issuer(&env, &idp);
        env.setup_anthropic(&api.url, &[]);
        let r = on_bus(
            &env,
            conf,
            "keyring",
            &["login", "--device", "--timeout", "30"],
        );
        r.fails(6, "the OS keyring is not usable");
        assert!(r.stderr.contains(why), "{}", r.stderr);
        let r = on_bus(
            &env,
            conf,
            "auto",
            &["login", "--device", "--timeout", "30"],
        );
        r.success();
        assert_eq!(
            r.stderr.matches("warning: no usable OS keyring").count(),
            1,
            "{}",
            r.stderr
        );
        assert!(r.stderr.contains(why), "{}", r.stderr);
        let r = on_bus(
            &env,
            conf,
            "auto",
            &["credential", "anthropic", "--force-refresh"],
        );
        r.success();
        assert_eq!(r.stderr.matches("warning:").count(), 1, "{}", r.stderr);
        let newest = state.lock().unwrap().valid.clone().unwrap();
        let secrets = std::fs::read_to_string(env.config_dir().join("secrets.json")).unwrap();
        assert!(
            secrets.contains(&newest),
            "the rotated token is in the file: {secrets}"
        );
        assert_eq!(mode(&env.config_dir().join("secrets.json")), 0o600);
    }
}

/// The keyring vanishes while the provider rotates the refresh token (the
/// test's provider stops gnome-keyring before it answers): the rotated token
/// goes to the 0600 file with a warning, is used from there next time, and
/// moves to the keyring once it answers again.
#[test]
fn a_rotated_token_the_keyring_fails_to_take_is_kept_in_the_file() {
    if !tools() {
        return;
    }
    let env = TestEnv::new();
    let pid_file = env.path("keyring.pid");
    let kill_keyring = Arc::new(AtomicBool::new(false));
    let state = Arc::new(Mutex::new(Rotation::default()));
    let (s, kill, pids) = (state.clone(), kill_keyring.clone(), pid_file.clone());
    let idp = FakeIdp::start(move |ctx, req| {
        let form = FakeIdp::form(req);
        let mut st = s.lock().unwrap();
        if form["grant_type"] == "refresh_token" {
            if st.valid.as_deref() != Some(form["refresh_token"].as_str()) {
                return oauth_error("invalid_grant");
            }
            if kill.load(Ordering::SeqCst) {
                let pid = std::fs::read_to_string(&pids).unwrap();
                Command::new("kill").arg(pid.trim()).status().unwrap();
                let proc = std::path::PathBuf::from(format!("/proc/{}", pid.trim()));
                let deadline = Instant::now() + Duration::from_secs(5);
                while proc.exists() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }
        let new = format!("rt-{}-{}", st.issued.len(), crate::fake_idp::rand_hex());
        st.valid = Some(new.clone());
        st.issued.push(new.clone());
        ctx.tokens(Some(ctx.id_token(json!({}))), Some(&new))
    });
    let api = Fake::start(|n, _| Reply::token(&format!("sk-ant-oat01-kf{n}_0123456789abc"), 600));
    setup_issuer(&env, &idp);
    env.setup_anthropic(&api.url, &[]);
    // no service files: a vanished daemon is not started again behind our back
    let run = |args: &[&str]| on_bus_with(&env, "", true, "keyring", args);
    run(&["login", "--device", "--timeout", "30"]).success();
    let first = state.lock().unwrap().valid.clone().unwrap();
    kill_keyring.store(true, Ordering::SeqCst);
    let r = run(&["credential", "anthropic", "--force-refresh"]);
    kill_keyring.store(false, Ordering::SeqCst);
    r.success();
    assert_eq!(
        r.stderr
            .matches("warning: the OS keyring did not take")
            .count(),
        1,
        "{}",
        r.stderr
    );
    let rotated = state.lock().unwrap().valid.clone().unwrap();
    let secrets = env.config_dir().join("secrets.json");
    assert!(
        std::fs::read_to_string(&secrets)
            .unwrap()
            .contains(&rotated)
    );
    assert_eq!(mode(&secrets), 0o600);
    assert!(keyring_items(&env).contains(&format!("secret = {first}")));
    // next time the file's copy is used, and the newer token moves to the keyring
    let r = run(&["credential", "anthropic", "--force-refresh"]);
    r.success();
    assert!(!r.stderr.contains("warning"), "{}", r.stderr);
    let newest = state.lock().unwrap().valid.clone().unwrap();
    assert_ne!(newest, rotated);
    let items = keyring_items(&env);
    assert!(items.contains(&format!("secret = {newest}")), "{items}");
    assert!(!items.contains(&format!("secret = {first}")), "{items}");
    assert!(!std::fs::read_to_string(&secrets).unwrap().contains("rt-"));
}
