//! The session against concurrent and surprising events: a logout while an
//! exchange is in flight, sign-ins in the same second, a refresh that
//! names another account.

use super::*;

fn file_store(c: &mut std::process::Command) {
    c.env("KEYLESS_SECRET_STORE", "file");
}

#[test]
fn logout_during_an_exchange_leaves_no_token_to_serve() {
    let idp = FakeIdp::start(|ctx, _| ctx.tokens(Some(ctx.id_token(json!({}))), Some("rt-x")));
    // a slow token endpoint: the exchange is in flight while logout runs
    let api = Fake::start(|n, _| {
        std::thread::sleep(Duration::from_millis(1500));
        Reply::token(&format!("sk-ant-oat01-race{n}_0123456789abc"), 600)
    });
    let env = TestEnv::new();
    setup_issuer(&env, &idp, &[]);
    env.setup_anthropic(&api.url, &[]);
    device_login(&env).success();
    let mut c = env.cmd();
    c.args(["credential", "anthropic"])
        .env("KEYLESS_SECRET_STORE", "file")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let inflight = c.spawn().unwrap();
    let start = Instant::now();
    while api.count() == 0 {
        assert!(start.elapsed() < HANG, "no exchange");
        std::thread::sleep(Duration::from_millis(20));
    }
    env.run_with(&["logout"], file_store).success();
    let first = Run::from(inflight.wait_with_output().unwrap());
    assert!(first.code != 0 || first.stdout.starts_with("sk-ant-oat01-race0"));
    let r = env.run_with(&["credential", "anthropic", "--no-login"], file_store);
    r.fails(3, "sign-in required");
    assert_eq!(r.stdout, "");
    assert!(
        cache_files(&env.cache_dir()).is_empty(),
        "no token file after logout: {:?}",
        cache_files(&env.cache_dir())
    );
}

#[test]
fn logins_one_after_the_other_each_sign_in_even_within_a_second() {
    let idp = FakeIdp::start(|ctx, _| ctx.tokens(Some(ctx.id_token(json!({}))), Some("rt-s")));
    let env = TestEnv::new();
    setup_issuer(&env, &idp, &[]);
    // Each pair runs back to back, so the second starts in the second the
    // first signed in (three pairs: a pair may straddle a second's edge).
    for _ in 0..3 {
        for _ in 0..2 {
            let r = device_login(&env);
            r.success();
            assert!(
                !r.stderr.contains("another keyless process"),
                "{}",
                r.stderr
            );
        }
    }
    let authorizations = idp
        .ctx
        .token_calls
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, req)| {
            FakeIdp::form(req)["grant_type"] == "urn:ietf:params:oauth:grant-type:device_code"
        })
        .count();
    assert_eq!(authorizations, 6, "every login signed in");
}

#[test]
fn a_refresh_for_another_account_is_refused_and_asks_for_sign_in() {
    let idp = FakeIdp::start(|ctx, req| {
        if FakeIdp::form(req)["grant_type"] == "refresh_token" {
            let id = ctx.id_token(json!({"sub": "mallory", "email": "mallory@example.test"}));
            ctx.tokens(Some(id), Some("rt-m"))
        } else {
            ctx.tokens(Some(ctx.id_token(json!({}))), Some("rt-a"))
        }
    });
    let api = Fake::start(|n, _| Reply::token(&format!("sk-ant-oat01-sub{n}_0123456789abc"), 600));
    let env = TestEnv::new();
    setup_issuer(&env, &idp, &[]);
    env.setup_anthropic(&api.url, &[]);
    device_login(&env).success();
    let session_path = env.cache_dir().join("session-default.json");
    let before = std::fs::read(&session_path).unwrap();
    let r = env.run_with(&["credential", "anthropic", "--no-login"], file_store);
    r.fails(3, "another account");
    assert!(
        r.stderr.contains("hint: run `keyless login`"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stdout, "");
    assert_eq!(api.count(), 0, "the other account's token was not used");
    assert_eq!(
        std::fs::read(&session_path).unwrap(),
        before,
        "the session was not rewritten"
    );
    let session: serde_json::Value = serde_json::from_slice(&before).unwrap();
    assert_eq!(session["sub"], "alice");
}
