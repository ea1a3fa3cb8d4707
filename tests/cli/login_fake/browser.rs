//! The browser sign-in against a scripted provider: PKCE, state and
//! nonce are sent and checked, and the listener times out.

use super::*;
use crate::fake_idp::{browser_login, query};

fn get(url: &str) -> String {
    http::get(url).text()
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
    // nobody ever comes back to the callback: keyless ends by itself
    env.run_ending(
        &["login", "--browser", "--no-browser", "--timeout", "2"],
        |_| {},
    )
    .fails(3, "timed out waiting for the browser");
}
