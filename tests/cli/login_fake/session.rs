//! Using the session against a scripted provider: refresh without a new
//! ID token, the non-interactive rule, status, both providers, client
//! credentials and parallel sign-ins.

use super::*;

/// After a device login, exchanges at a fake Anthropic endpoint use the session.
#[test]
fn refresh_without_a_new_id_token_falls_back_once_then_asks_for_sign_in() {
    let idp = idp_without_new_id_tokens();
    let api = Fake::start(|n, _| Reply::token(&format!("sk-ant-oat01-sess{n}_0123456789abc"), 600));
    let env = TestEnv::new();
    setup_issuer(&env, &idp, &[]);
    env.setup_anthropic(&api.url, &[]);
    let cfg = std::fs::read_to_string(env.config_dir().join("config.json")).unwrap();
    assert!(
        cfg.contains("\"type\": \"login\""),
        "the session is the default source once an issuer is set: {cfg}"
    );
    device_login(&env).success();
    let file_store = |c: &mut std::process::Command| {
        c.env("KEYLESS_SECRET_STORE", "file");
    };
    // the login's own ID token, never exchanged, serves the first exchange
    let r = env.run_with(&["credential", "anthropic"], file_store);
    r.success();
    assert!(r.stdout.starts_with("sk-ant-oat01-sess0"));
    let secrets = std::fs::read_to_string(env.config_dir().join("secrets.json")).unwrap();
    // (quoted: a rotated token is rt-<random hex>, which may start with 0)
    assert!(
        !secrets.contains("\"rt-0\""),
        "the rotated refresh token replaced the old one: {secrets}"
    );
    // now it is spent: the next exchange needs a sign-in, and says why
    let r = env.run_with(&["credential", "anthropic", "--force-refresh"], file_store);
    r.fails(3, "returned no new ID token on refresh");
    assert!(
        r.stderr.contains("hint: run `keyless login`"),
        "{}",
        r.stderr
    );
    assert_eq!(api.count(), 1);
}

#[test]
fn without_a_session_non_interactive_callers_exit_3_and_open_nothing() {
    let idp = FakeIdp::start(|ctx, _| ctx.tokens(Some(ctx.id_token(json!({}))), Some("rt")));
    let env = TestEnv::new();
    setup_issuer(&env, &idp, &[]);
    env.setup_anthropic("http://127.0.0.1:9", &[]);
    let log = env.path("browser.log");
    let browser = env.path("browser.sh");
    std::fs::write(
        &browser,
        format!("#!/bin/sh\necho \"$1\" >> {}\n", log.display()),
    )
    .unwrap();
    std::fs::set_permissions(
        &browser,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    for args in [
        vec!["credential", "anthropic"],
        vec!["env", "--no-login"],
        vec!["exec", "--", "true"],
    ] {
        let r = env.run_with(&args, |c| {
            c.env("BROWSER", &browser)
                .env("KEYLESS_SECRET_STORE", "file");
        });
        r.fails(3, "sign-in required: no sign-in session");
        assert!(
            r.stderr.contains("hint: run `keyless login`"),
            "{}",
            r.stderr
        );
    }
    assert!(!log.exists(), "no browser was opened");
    assert!(idp.ctx.token_calls.lock().unwrap().is_empty());
}

#[test]
fn auth_status_reports_the_session() {
    let idp = FakeIdp::start(|ctx, _| ctx.tokens(Some(ctx.id_token(json!({}))), Some("rt-s")));
    let env = TestEnv::new();
    setup_issuer(&env, &idp, &[]);
    let status = |env: &TestEnv| {
        let r = env.run_with(&["auth", "status", "--json"], |c| {
            c.env("KEYLESS_SECRET_STORE", "file");
        });
        crate::status::validate(&r.stdout);
        serde_json::from_str::<serde_json::Value>(&r.stdout).unwrap()
    };
    // `profile list` says whether each profile is signed in (issue 23).
    let listed = |env: &TestEnv| {
        let r = env.run_with(&["profile", "list", "--json"], |c| {
            c.env("KEYLESS_SECRET_STORE", "file");
        });
        serde_json::from_str::<serde_json::Value>(&r.stdout).unwrap()[0]["signed_in"].clone()
    };
    let v = status(&env);
    assert_eq!(v["keyless"]["session"]["signed_in"], false);
    assert_eq!(listed(&env), false);
    device_login(&env).success();
    assert_eq!(listed(&env), true);
    let v = status(&env);
    let s = &v["keyless"]["session"];
    assert_eq!(s["signed_in"], true);
    assert_eq!(s["subject"], "alice");
    assert_eq!(s["email"], "alice@example.test");
    assert_eq!(s["refresh_token_present"], true);
    assert!(s["id_token_expires_at"].is_i64());
    assert!(
        s["refresh_token_store"]
            .as_str()
            .unwrap()
            .contains("secrets.json")
    );
    let r = env.run_with(&["auth", "status"], |c| {
        c.env("KEYLESS_SECRET_STORE", "file");
    });
    assert!(
        r.stdout.contains("signed in as alice (alice@example.test)"),
        "{}",
        r.stdout
    );
    // logout removes it all, locally, even though revocation is best effort
    env.run_with(&["logout"], |c| {
        c.env("KEYLESS_SECRET_STORE", "file");
    })
    .success();
    let v = status(&env);
    assert_eq!(v["keyless"]["session"]["signed_in"], false);
    assert_eq!(v["keyless"]["session"]["refresh_token_present"], false);
}

#[test]
fn the_session_serves_openai_as_an_id_token_and_each_provider_spends_it_once() {
    let idp = idp_without_new_id_tokens();
    let oai = Fake::start(|_, _| crate::openai::granted(Some(600)));
    let api = Fake::start(|n, _| Reply::token(&format!("sk-ant-oat01-sess{n}_0123456789abc"), 600));
    let env = TestEnv::new();
    setup_issuer(&env, &idp, &[]);
    env.setup_openai_with(&format!("{}/oauth/token", oai.url), &[]);
    env.setup_anthropic(&api.url, &[]);
    let cfg = std::fs::read_to_string(env.config_dir().join("config.json")).unwrap();
    assert_eq!(
        cfg.matches("\"type\": \"login\"").count(),
        2,
        "the session is both providers' default source once an issuer is set: {cfg}"
    );
    device_login(&env).success();
    let session: serde_json::Value = serde_json::from_slice(
        &std::fs::read(env.cache_dir().join("session-default.json")).unwrap(),
    )
    .unwrap();
    let id_token = session["id_token"].as_str().unwrap().to_string();
    let file_store = |c: &mut std::process::Command| {
        c.env("KEYLESS_SECRET_STORE", "file");
    };

    let r = env.run_with(&["credential", "openai"], file_store);
    r.success();
    assert_eq!(r.stdout, crate::openai::TOKEN);
    let sent = oai.last().json();
    assert_eq!(
        sent["subject_token_type"],
        "urn:ietf:params:oauth:token-type:id_token"
    );
    assert_eq!(sent["subject_token"], id_token.as_str());

    // spent at OpenAI, not at Anthropic: the ledger is per provider
    let r = env.run_with(&["credential", "anthropic"], file_store);
    r.success();
    assert!(r.stdout.starts_with("sk-ant-oat01-sess0"), "{}", r.stdout);
    assert_eq!(api.last().json()["assertion"], id_token.as_str());

    // and spent at both now
    let r = env.run_with(&["credential", "openai", "--force-refresh"], file_store);
    r.fails(3, "returned no new ID token on refresh");
    assert_eq!(oai.count(), 1);
    assert_eq!(api.count(), 1);

    // logout removes both providers' cached tokens
    let r = env.run_with(&["logout"], file_store);
    r.success();
    assert!(r.stderr.contains("2 cached tokens removed"), "{}", r.stderr);
    assert!(cache_files(&env.cache_dir()).is_empty());
}

#[test]
fn client_credentials_ask_for_each_providers_audience_and_openai_gets_a_jwt() {
    let idp = FakeIdp::start(|ctx, req| {
        let f = FakeIdp::form(req);
        assert_eq!(f["grant_type"], "client_credentials");
        let now = IdpCtx::now();
        let at = ctx.key.sign(
            "good",
            &json!({"iss": ctx.issuer, "sub": "svc-batch", "aud": f["resource"], "iat": now,
                "exp": now + 300, "jti": format!("cc-{}", crate::fake_idp::rand_hex())}),
        );
        Reply::json(
            200,
            json!({"access_token": at, "token_type": "Bearer", "expires_in": 300}),
        )
    });
    let oai = Fake::start(|_, _| crate::openai::granted(Some(600)));
    let api = Fake::start(|n, _| Reply::token(&format!("sk-ant-oat01-cc{n}_0123456789abc"), 600));
    let env = TestEnv::new();
    let secret = |c: &mut std::process::Command| {
        c.env("KEYLESS_SECRET_STORE", "file")
            .env("KEYLESS_CLIENT_SECRET", "s3cret-value");
    };
    env.run_with(
        &setup_issuer_args(&idp.ctx.issuer, "keyless-batch", &[]),
        secret,
    )
    .success();
    env.setup_openai_with(
        &format!("{}/oauth/token", oai.url),
        &[
            "--audience",
            OPENAI_AUDIENCE,
            "--identity",
            "client-credentials",
        ],
    );
    env.setup_anthropic(&api.url, &["--identity", "client-credentials"]);

    let r = env.run_with(&["credential", "openai"], secret);
    r.success();
    assert_eq!(r.stderr, "", "no audience warning: the JWT is for OpenAI");
    let sent = oai.last().json();
    assert_eq!(
        sent["subject_token_type"],
        "urn:ietf:params:oauth:token-type:jwt"
    );
    assert_eq!(
        jwt_claims(sent["subject_token"].as_str().unwrap())["aud"],
        OPENAI_AUDIENCE
    );

    env.run_with(&["credential", "anthropic"], secret).success();
    let calls = idp.ctx.token_calls.lock().unwrap();
    let resources: Vec<String> = calls
        .iter()
        .map(|(_, req)| FakeIdp::form(req)["resource"].clone())
        .collect();
    assert_eq!(resources, [OPENAI_AUDIENCE, "https://api.anthropic.com"]);
    assert_eq!(
        jwt_claims(api.last().json()["assertion"].as_str().unwrap())["aud"],
        "https://api.anthropic.com"
    );
}

#[test]
fn parallel_logins_share_one_sign_in() {
    let idp = FakeIdp::start(|ctx, _| {
        // a slow approval, so the second login starts while the first waits
        std::thread::sleep(Duration::from_millis(1500));
        ctx.tokens(Some(ctx.id_token(json!({}))), Some("rt-p"))
    });
    let env = TestEnv::new();
    setup_issuer(&env, &idp, &[]);
    let spawn = || {
        let mut c = env.cmd();
        c.args(["login", "--device", "--timeout", "30"])
            .env("KEYLESS_SECRET_STORE", "file")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c.spawn().unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (
        Run::from(a.wait_with_output().unwrap()),
        Run::from(b.wait_with_output().unwrap()),
    );
    a.success();
    b.success();
    let both = format!("{}{}", a.stderr, b.stderr);
    assert_eq!(
        both.matches("enter the code").count(),
        1,
        "one sign-in: {both}"
    );
    assert!(both.contains("by another keyless process"), "{both}");
    assert_eq!(idp.ctx.token_calls.lock().unwrap().len(), 1);
}
