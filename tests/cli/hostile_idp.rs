//! A hostile identity provider: what it sends must not run a program through
//! the browser, reach the terminal as control sequences, stretch `--timeout`,
//! or find a secret in the environment of a child keyless starts.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::*;
use crate::fake_idp::{FakeIdp, oauth_error};

fn setup_issuer(env: &TestEnv, idp: &FakeIdp) {
    idp.setup_issuer(env, &[]);
}

/// A `$BROWSER` stand-in that records its arguments (one a line) and its
/// environment. Returns (script, argv file, env file).
fn recording_browser(env: &TestEnv) -> (PathBuf, PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let script = env.path("browser.sh");
    let argv = env.path("browser.argv");
    let envf = env.path("browser.env");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nenv > '{}.tmp' && mv '{}.tmp' '{}'\nprintf '%s\\n' \"$@\" > '{}.tmp' && mv '{}.tmp' '{}'\n",
            envf.display(),
            envf.display(),
            envf.display(),
            argv.display(),
            argv.display(),
            argv.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, argv, envf)
}

/// The file once it exists (the browser is started without waiting), or None
/// after a grace period (generous: the stand-in writes within milliseconds).
fn wait_for(p: &std::path::Path) -> Option<String> {
    let end = Instant::now() + Duration::from_millis(800);
    while Instant::now() < end {
        if let Ok(s) = std::fs::read_to_string(p) {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

fn device_login_with_browser(env: &TestEnv, script: &std::path::Path) -> Run {
    env.run_with(&["login", "--device", "--timeout", "20"], |c| {
        c.env("KEYLESS_SECRET_STORE", "file")
            .env("BROWSER", script)
            .env("KEYLESS_CLIENT_SECRET", "client-secret-must-not-leak");
    })
}

#[test]
fn the_device_flow_opens_a_good_verification_url_re_serialized() {
    let idp = FakeIdp::start(|ctx, _| ctx.tokens(Some(ctx.id_token(json!({}))), Some("rt-1")));
    let env = TestEnv::new();
    setup_issuer(&env, &idp);
    let (script, argv, _) = recording_browser(&env);
    device_login_with_browser(&env, &script).success();
    let args = wait_for(&argv).expect("the browser stand-in ran");
    assert_eq!(
        args.trim_end(),
        format!("{}/activate?user_code=ABCD-EFGH", idp.ctx.issuer)
    );
}

#[test]
fn the_device_flow_refuses_verification_urls_that_are_not_https() {
    let base = "http://evil.example/activate".to_string();
    for hostile in [
        "--renderer-cmd-prefix=/tmp/evil.sh",
        "javascript:alert(1)",
        "file:///etc/passwd",
        base.as_str(),
        "-https://example.com/",
    ] {
        for field in ["verification_uri_complete", "verification_uri"] {
            let idp =
                FakeIdp::start(|ctx, _| ctx.tokens(Some(ctx.id_token(json!({}))), Some("rt-1")));
            *idp.ctx.device.lock().unwrap() = json!({ field: hostile });
            let env = TestEnv::new();
            setup_issuer(&env, &idp);
            let (script, argv, _) = recording_browser(&env);
            let r = device_login_with_browser(&env, &script);
            r.fails(4, field);
            assert!(
                !r.stderr.contains(hostile),
                "{field} {hostile:?} printed raw:\n{}",
                r.stderr
            );
            assert_eq!(
                wait_for(&argv),
                None,
                "{field} {hostile:?} reached the browser"
            );
            assert!(
                idp.ctx.token_calls.lock().unwrap().is_empty(),
                "{field} {hostile:?}: the sign-in went on"
            );
        }
    }
}

#[test]
fn the_browser_flow_refuses_an_authorization_endpoint_that_is_not_https() {
    for hostile in [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "http://evil.example/a",
    ] {
        let idp = FakeIdp::start(|ctx, _| ctx.tokens(Some(ctx.id_token(json!({}))), Some("rt")));
        let env = TestEnv::new();
        setup_issuer(&env, &idp);
        *idp.ctx.discovery.lock().unwrap() = json!({ "authorization_endpoint": hostile });
        let (script, argv, _) = recording_browser(&env);
        let r = env.run_with(&["login", "--browser", "--timeout", "5"], |c| {
            c.env("KEYLESS_SECRET_STORE", "file")
                .env("BROWSER", &script);
        });
        assert_ne!(r.code, 0, "{hostile}: {}", r.stderr);
        assert_eq!(wait_for(&argv), None, "{hostile} reached the browser");
    }
}

/// No child keyless starts for itself sees a secret keyless was given: not
/// the browser, not a `command:` identity program. The platforms' own
/// credentials and request tokens are kept for a `command:` program (the
/// platform's CLI, `command:aws sts …`, needs them) and only for it.
#[test]
fn helpers_keyless_starts_inherit_no_secret_variables() {
    let platform = [
        ("AWS_SECRET_ACCESS_KEY", "aws-secret-for-the-aws-cli"),
        ("AWS_SESSION_TOKEN", "aws-session-for-the-aws-cli"),
        (
            "AWS_CONTAINER_AUTHORIZATION_TOKEN",
            "aws-container-for-the-aws-cli",
        ),
    ];
    let secrets = [
        ("KEYLESS_CLIENT_SECRET", "client-secret-must-not-leak"),
        ("ANTHROPIC_IDENTITY_TOKEN", "identity-token-must-not-leak"),
        ("OPENAI_IDENTITY_TOKEN", "openai-identity-must-not-leak"),
        ("ANTHROPIC_API_KEY", "api-key-must-not-leak"),
        ("ANTHROPIC_AUTH_TOKEN", "auth-token-must-not-leak"),
        ("OPENAI_API_KEY", "openai-key-must-not-leak"),
    ];
    let check = |who: &str, environment: &str| {
        assert!(environment.contains("HOME="), "{who}: {environment}");
        for (name, value) in secrets {
            assert!(
                !environment.contains(value),
                "{who} inherited {name}:\n{environment}"
            );
        }
    };
    // the browser
    let idp = FakeIdp::start(|ctx, _| ctx.tokens(Some(ctx.id_token(json!({}))), Some("rt-1")));
    let env = TestEnv::new();
    setup_issuer(&env, &idp);
    let (script, _, envf) = recording_browser(&env);
    env.run_with(&["login", "--device", "--timeout", "20"], |c| {
        c.env("KEYLESS_SECRET_STORE", "file")
            .env("BROWSER", &script);
        for (k, v) in secrets.iter().chain(&platform) {
            c.env(k, v);
        }
    })
    .success();
    let browser = wait_for(&envf).expect("the browser ran");
    check("the browser", &browser);
    for (name, value) in platform {
        assert!(!browser.contains(value), "the browser inherited {name}");
    }
    // a command: identity program (the exchange after it may fail: no server)
    let env = TestEnv::new();
    let dump = env.path("identity.env");
    env.setup(
        &format!("http://127.0.0.1:{}", closed_port()),
        &format!("command:sh -c 'env > {}; echo not-a-jwt'", dump.display()),
    );
    env.run_with(&["credential", "anthropic"], |c| {
        for (k, v) in secrets.iter().chain(&platform) {
            c.env(k, v);
        }
    });
    let program = std::fs::read_to_string(&dump).expect("the identity command ran");
    check("the identity command", &program);
    for (name, value) in platform {
        assert!(
            program.contains(&format!("{name}={value}")),
            "the identity command lost {name}"
        );
    }
}
/// `login --device --timeout SECS`, killed (and the test failed) if it is
/// still running `limit` later.
fn bounded_device_login(env: &TestEnv, secs: &str, limit: Duration) -> Run {
    let mut child = env
        .cmd()
        .args(["login", "--device", "--no-browser", "--timeout", secs])
        .env("KEYLESS_SECRET_STORE", "file")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let end = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > end {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("login --device --timeout {secs} still ran after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Run::from(child.wait_with_output().unwrap())
}

#[test]
fn device_polling_keeps_to_the_timeout_whatever_the_interval() {
    // a huge interval
    let idp = FakeIdp::start(|_, _| oauth_error("authorization_pending"));
    *idp.ctx.device.lock().unwrap() = json!({"interval": 1_000_000_000u64});
    let env = TestEnv::new();
    setup_issuer(&env, &idp);
    bounded_device_login(&env, "3", Duration::from_secs(8)).fails(3, "timed out");
    // a slow_down loop: polls at 1 s, then 6 s later, past the 4 s
    // timeout: the second poll is never made
    let idp = FakeIdp::start(|_, _| oauth_error("slow_down"));
    let env = TestEnv::new();
    setup_issuer(&env, &idp);
    bounded_device_login(&env, "4", Duration::from_secs(15)).fails(3, "timed out");
    assert_eq!(
        idp.ctx.token_calls.lock().unwrap().len(),
        1,
        "polled past the timeout"
    );
}
