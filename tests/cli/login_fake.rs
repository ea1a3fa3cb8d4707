//! Sign-in failure handling against a scripted provider: state, nonce,
//! signature, expiry, device-flow errors and pacing, refresh without a new ID
//! token, the non-interactive rule, and the file secret store.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::*;
use crate::fake::{Fake, Reply};
use crate::fake_idp::{FakeIdp, IdpCtx, oauth_error};

fn setup_issuer(env: &TestEnv, idp: &FakeIdp, extra: &[&str]) {
    let mut args = vec![
        "setup",
        "issuer",
        "--issuer",
        &idp.ctx.issuer,
        "--client-id",
        "keyless-cli",
    ];
    args.extend_from_slice(extra);
    env.run(&args).success();
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

/// Start a browser login without a browser; return the child, the
/// authorization URL it printed, and the rest of its stderr when it ends.
fn browser_login(
    env: &TestEnv,
) -> (
    std::process::Child,
    url::Url,
    std::thread::JoinHandle<String>,
) {
    let mut child = env
        .cmd()
        .args(["login", "--browser", "--no-browser", "--timeout", "20"])
        .env("KEYLESS_SECRET_STORE", "file")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let url = loop {
        let mut line = String::new();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "keyless printed no URL"
        );
        if let Some(u) = line.trim().strip_prefix("http") {
            break url::Url::parse(&format!("http{u}")).unwrap();
        }
    };
    let rest = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut rest);
        assert_no_secrets(&rest);
        rest
    });
    (child, url, rest)
}

fn query(u: &url::Url, k: &str) -> String {
    u.query_pairs()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn get(url: &str) -> String {
    use std::io::{Read, Write};
    let u = url::Url::parse(url).unwrap();
    let mut s = std::net::TcpStream::connect((u.host_str().unwrap(), u.port().unwrap())).unwrap();
    write!(
        s,
        "GET {}?{} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        u.path(),
        u.query().unwrap_or("")
    )
    .unwrap();
    let mut b = String::new();
    let _ = s.read_to_string(&mut b);
    b
}

#[test]
fn browser_login_sends_pkce_state_and_nonce_and_checks_them() {
    let idp = FakeIdp::start(|ctx, _| ctx.tokens(Some(ctx.id_token(json!({}))), Some("rt-b")));
    let env = TestEnv::new();
    setup_issuer(&env, &idp, &[]);
    let (child, url, stderr) = browser_login(&env);
    assert_eq!(url.path(), "/authorize");
    assert_eq!(query(&url, "code_challenge_method"), "S256");
    assert_eq!(query(&url, "response_type"), "code");
    let redirect = query(&url, "redirect_uri");
    assert!(
        redirect.starts_with("http://127.0.0.1:") && redirect.ends_with("/callback"),
        "{redirect}"
    );
    *idp.ctx.nonce.lock().unwrap() = Some(query(&url, "nonce"));
    let page = get(&format!(
        "{redirect}?code=c0de&state={}",
        query(&url, "state")
    ));
    assert!(page.contains("Signed in"), "{page}");
    let out = Run::from(child.wait_with_output().unwrap());
    out.success();
    assert!(stderr.join().unwrap().contains("Signed in to"));
    let calls = idp.ctx.token_calls.lock().unwrap();
    let form = FakeIdp::form(&calls[0].1);
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["code"], "c0de");
    assert_eq!(form["redirect_uri"], redirect);
    // the verifier hashes to the challenge that was sent
    use base64::Engine;
    use sha2::Digest;
    let hashed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(form["code_verifier"].as_bytes()));
    assert_eq!(hashed, query(&url, "code_challenge"));
}

#[test]
fn a_callback_with_the_wrong_state_is_refused_and_does_not_end_the_sign_in() {
    let idp = FakeIdp::start(|ctx, _| ctx.tokens(Some(ctx.id_token(json!({}))), Some("rt")));
    let env = TestEnv::new();
    setup_issuer(&env, &idp, &[]);
    let (child, url, stderr) = browser_login(&env);
    let redirect = query(&url, "redirect_uri");
    let page = get(&format!("{redirect}?code=forged-code&state=forged"));
    assert!(page.contains("Sign-in failed"), "{page}");
    assert!(
        idp.ctx.token_calls.lock().unwrap().is_empty(),
        "a forged code is never redeemed"
    );
    // the real callback still completes this sign-in
    *idp.ctx.nonce.lock().unwrap() = Some(query(&url, "nonce"));
    let page = get(&format!(
        "{redirect}?code=c0de&state={}",
        query(&url, "state")
    ));
    assert!(page.contains("Signed in"), "{page}");
    Run::from(child.wait_with_output().unwrap()).success();
    let err = stderr.join().unwrap();
    assert!(
        err.contains("ignored a sign-in callback whose state does not match"),
        "{err}"
    );
    let calls = idp.ctx.token_calls.lock().unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(FakeIdp::form(&calls[0].1)["code"], "c0de");
}

#[test]
fn an_id_token_with_the_wrong_nonce_is_refused() {
    let idp = FakeIdp::start(|ctx, _| {
        ctx.tokens(
            Some(ctx.id_token(json!({"nonce": "not-this-sign-in"}))),
            Some("rt"),
        )
    });
    let env = TestEnv::new();
    setup_issuer(&env, &idp, &[]);
    let (child, url, stderr) = browser_login(&env);
    get(&format!(
        "{}?code=c0de&state={}",
        query(&url, "redirect_uri"),
        query(&url, "state")
    ));
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(5));
    let stderr = stderr.join().unwrap();
    assert!(stderr.contains("nonce does not match"), "{stderr}");
}

#[test]
fn the_browser_login_times_out() {
    let idp = FakeIdp::start(|ctx, _| ctx.tokens(Some(ctx.id_token(json!({}))), Some("rt")));
    let env = TestEnv::new();
    setup_issuer(&env, &idp, &[]);
    let t = Instant::now();
    env.run(&["login", "--browser", "--no-browser", "--timeout", "2"])
        .fails(3, "timed out waiting for the browser");
    assert!(t.elapsed() < Duration::from_secs(10));
}

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
    assert!(
        !secrets.contains("rt-0"),
        "the rotated refresh token replaced the old one"
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
    let v = status(&env);
    assert_eq!(v["keyless"]["session"]["signed_in"], false);
    device_login(&env).success();
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
        &[
            "setup",
            "issuer",
            "--issuer",
            &idp.ctx.issuer,
            "--client-id",
            "keyless-batch",
        ],
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
    env.run(&[
        "setup",
        "issuer",
        "--issuer",
        "http://idp.example.com",
        "--client-id",
        "x",
    ])
    .fails(2, "plain http");
    let r = env.run_with(
        &[
            "setup",
            "issuer",
            "--issuer",
            &idp.ctx.issuer,
            "--client-id",
            "keyless-ci",
        ],
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
    env.run(&[
        "setup",
        "issuer",
        "--issuer",
        &idp.ctx.issuer,
        "--client-id",
        "x",
        "--client-secret",
        "y",
    ])
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
