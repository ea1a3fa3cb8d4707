//! Sign-in failure handling against a scripted provider: state, nonce,
//! signature, expiry, device-flow errors and pacing, refresh without a new ID
//! token, the non-interactive rule, and the file secret store.

mod browser;
mod races;
mod session;

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::*;
use crate::fake::{Fake, Reply};
use crate::fake_idp::{FakeIdp, IdpCtx, oauth_error};

fn setup_issuer(env: &TestEnv, idp: &FakeIdp, extra: &[&str]) {
    idp.setup_issuer(env, extra);
}

/// An issuer whose refreshes rotate the refresh token but mint no new ID
/// token, so the sign-in's own ID token is the only one there is.
fn idp_without_new_id_tokens() -> FakeIdp {
    FakeIdp::start(|ctx, req| {
        if FakeIdp::form(req)["grant_type"] == "refresh_token" {
            Reply::json(
                200,
                json!({"access_token": "opaque", "token_type": "Bearer", "expires_in": 300, "refresh_token": format!("rt-{}", crate::fake_idp::rand_hex())}),
            )
        } else {
            ctx.tokens(Some(ctx.id_token(json!({}))), Some("rt-0"))
        }
    })
}

fn device_login(env: &TestEnv) -> Run {
    env.run_with(&["login", "--device", "--timeout", "30"], |c| {
        c.env("KEYLESS_SECRET_STORE", "file");
    })
}

#[test]
fn device_login_saves_the_session_in_a_private_file_store_with_a_warning() {
    let idp = FakeIdp::start(|ctx, _| ctx.tokens(Some(ctx.id_token(json!({}))), Some("rt-1")));
    let env = TestEnv::new();
    setup_issuer(&env, &idp, &[]);
    // auto store without a session bus: the file, with one warning
    let r = env.run(&["login", "--device", "--timeout", "30"]);
    r.success();
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr.contains("enter the code ABCD-EFGH"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("activate?user_code=ABCD-EFGH"),
        "{}",
        r.stderr
    );
    assert_eq!(
        r.stderr.matches("warning: no usable OS keyring").count(),
        1,
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("Signed in to") && r.stderr.contains("as alice (alice@example.test)"),
        "{}",
        r.stderr
    );
    let secrets = env.config_dir().join("secrets.json");
    assert_eq!(mode(&secrets), 0o600);
    assert!(std::fs::read_to_string(&secrets).unwrap().contains("rt-1"));
    // asking for the keyring explicitly where there is none is an error
    let r = env.run_with(&["login", "--device"], |c| {
        c.env("KEYLESS_SECRET_STORE", "keyring");
    });
    r.fails(6, "the OS keyring is not usable");
}

#[test]
fn device_flow_honours_interval_and_slow_down() {
    let idp = FakeIdp::start(|ctx, _| {
        let n = ctx.token_calls.lock().unwrap().len();
        match n {
            1 => oauth_error("authorization_pending"),
            2 => oauth_error("slow_down"),
            _ => ctx.tokens(Some(ctx.id_token(json!({}))), Some("rt")),
        }
    });
    let env = TestEnv::new();
    setup_issuer(&env, &idp, &[]);
    device_login(&env).success();
    let calls = idp.ctx.token_calls.lock().unwrap();
    assert_eq!(calls.len(), 3);
    let gap1 = calls[1].0 - calls[0].0;
    let gap2 = calls[2].0 - calls[1].0;
    assert!(gap1 >= Duration::from_millis(950), "interval 1 s: {gap1:?}");
    assert!(
        gap2 >= Duration::from_millis(5900),
        "slow_down adds 5 s: {gap2:?}"
    );
    assert_eq!(
        FakeIdp::form(&calls[0].1)["grant_type"],
        "urn:ietf:params:oauth:grant-type:device_code"
    );
}

#[test]
fn device_flow_denied_and_expired() {
    let idp = FakeIdp::start(|_, _| oauth_error("access_denied"));
    let env = TestEnv::new();
    setup_issuer(&env, &idp, &[]);
    device_login(&env).fails(5, "the device sign-in was denied");
    let idp = FakeIdp::start(|_, _| oauth_error("expired_token"));
    let env = TestEnv::new();
    setup_issuer(&env, &idp, &[]);
    device_login(&env).fails(3, "the device code expired");
}

#[test]
fn expired_or_wrongly_signed_id_tokens_are_refused() {
    let idp = FakeIdp::start(|ctx, _| {
        let now = IdpCtx::now();
        ctx.tokens(
            Some(ctx.id_token(json!({"iat": now - 900, "exp": now - 600}))),
            Some("rt"),
        )
    });
    let env = TestEnv::new();
    setup_issuer(&env, &idp, &[]);
    device_login(&env).fails(5, "it has expired");
    assert!(
        !env.config_dir().join("secrets.json").exists(),
        "nothing is kept from a refused sign-in"
    );

    let idp = FakeIdp::start(|ctx, _| {
        let now = IdpCtx::now();
        let claims = json!({"iss": ctx.issuer, "sub": "alice", "aud": "keyless-cli", "iat": now, "exp": now + 300});
        // signed by another key under the published kid
        ctx.tokens(Some(ctx.other_key.sign("good", &claims)), Some("rt"))
    });
    let env = TestEnv::new();
    setup_issuer(&env, &idp, &[]);
    device_login(&env).fails(5, "its signature does not verify");

    let idp = FakeIdp::start(|ctx, _| {
        ctx.tokens(
            Some(ctx.id_token(json!({"aud": "someone-else"}))),
            Some("rt"),
        )
    });
    let env = TestEnv::new();
    setup_issuer(&env, &idp, &[]);
    device_login(&env).fails(5, "its audience is not this client");
}

#[test]
fn setup_issuer_checks_discovery_and_keeps_secrets_out_of_argv_and_config() {
    let idp = FakeIdp::start(|ctx, _| ctx.tokens(Some(ctx.id_token(json!({}))), Some("rt")));
    let env = TestEnv::new();
    // the published issuer has no trailing slash: a byte-exact mismatch
    env.run(&[
        "setup",
        "issuer",
        "--issuer",
        &format!("{}/", idp.ctx.issuer),
        "--client-id",
        "keyless-cli",
    ])
    .fails(6, "the discovery document names issuer");
    env.run(&setup_issuer_args("http://idp.example.com", "x", &[]))
        .fails(2, "plain http");
    let r = env.run_with(
        &setup_issuer_args(&idp.ctx.issuer, "keyless-ci", &[]),
        |c| {
            c.env("KEYLESS_CLIENT_SECRET", "s3cret-value")
                .env("KEYLESS_SECRET_STORE", "file");
        },
    );
    r.success();
    let cfg = std::fs::read_to_string(env.config_dir().join("config.json")).unwrap();
    assert!(
        !cfg.contains("s3cret-value") && cfg.contains("\"confidential\": true"),
        "{cfg}"
    );
    assert!(
        std::fs::read_to_string(env.config_dir().join("secrets.json"))
            .unwrap()
            .contains("s3cret-value")
    );
    // --client-secret is not an option at all: secrets never go in argv
    env.run(&setup_issuer_args(
        &idp.ctx.issuer,
        "x",
        &["--client-secret", "y"],
    ))
    .fails(2, "unexpected argument");
}

#[test]
fn auto_flow_uses_the_device_code_without_a_display_and_warns_about_api_keys() {
    let idp = FakeIdp::start(|ctx, _| ctx.tokens(Some(ctx.id_token(json!({}))), Some("rt")));
    let env = TestEnv::new();
    setup_issuer(&env, &idp, &[]);
    // env_clear: no BROWSER, no DISPLAY, so no browser can be opened
    let r = env.run_with(&["login", "--timeout", "30"], |c| {
        c.env("KEYLESS_SECRET_STORE", "file")
            .env("ANTHROPIC_API_KEY", "sk-ant-api03-leftover");
    });
    r.success();
    assert!(
        r.stderr.contains("enter the code ABCD-EFGH"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("ANTHROPIC_API_KEY is set"),
        "{}",
        r.stderr
    );
}

#[test]
fn access_token_mode_refuses_an_opaque_access_token() {
    // the fake's access tokens are opaque strings
    let idp = FakeIdp::start(|ctx, _| ctx.tokens(Some(ctx.id_token(json!({}))), Some("rt")));
    let env = TestEnv::new();
    setup_issuer(&env, &idp, &["--assertion", "access-token"]);
    device_login(&env).fails(6, "opaque access token");
}

#[test]
fn logout_always_succeeds_locally() {
    let idp = FakeIdp::start(|ctx, _| ctx.tokens(Some(ctx.id_token(json!({}))), Some("rt-l")));
    let env = TestEnv::new();
    setup_issuer(&env, &idp, &[]);
    device_login(&env).success();
    let session = env.cache_dir().join("session-default.json");
    assert!(session.exists());
    // a secret file others can read is refused by the store, but logout goes on
    let secrets = env.config_dir().join("secrets.json");
    std::fs::set_permissions(
        &secrets,
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    let r = env.run_with(&["logout"], |c| {
        c.env("KEYLESS_SECRET_STORE", "file");
    });
    r.success();
    assert!(r.stderr.contains("warning: cannot"), "{}", r.stderr);
    assert!(!session.exists(), "the session is gone");
}
