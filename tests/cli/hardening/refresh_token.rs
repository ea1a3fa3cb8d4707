//! Defect 10's fix must not touch what is parsed: a provider that returns
//! the same refresh token it was sent (no rotation, e.g. Okta with rotation
//! off) keeps the session working across refreshes. Scrubbing the request's
//! secrets out of a successful answer stored "[redacted]" as the refresh
//! token, and the next refresh failed with invalid_grant.

use serde_json::json;

use crate::common::*;
use crate::fake::Reply;
use crate::fake_idp::{FakeIdp, oauth_error};

const RT: &str = "rt-non-rotating-0123456789";

#[test]
fn a_non_rotating_refresh_token_survives_two_refreshes() {
    let idp = FakeIdp::start(|ctx, req| {
        let form = FakeIdp::form(req);
        if form["grant_type"] == "refresh_token" && form["refresh_token"] != RT {
            return oauth_error("invalid_grant");
        }
        // the same refresh token every time, echoed back as sent
        ctx.tokens(Some(ctx.id_token(json!({}))), Some(RT))
    });
    let api = crate::fake::Fake::start(|n, _| {
        Reply::token(&format!("sk-ant-oat01-nonrot{n}_0123456789abc"), 600)
    });
    let env = TestEnv::new();
    idp.setup_issuer(&env, &[]);
    env.setup_anthropic(&api.url, &[]);
    let file_store = |c: &mut std::process::Command| {
        c.env("KEYLESS_SECRET_STORE", "file");
    };
    env.run_with(&["login", "--device", "--timeout", "30"], file_store)
        .success();
    env.run_with(&["credential", "anthropic"], file_store)
        .success();
    for round in 1..=2 {
        let r = env.run_with(&["credential", "anthropic", "--force-refresh"], file_store);
        assert_eq!(r.code, 0, "refresh {round}: {}", r.stderr);
        assert!(
            r.stdout.starts_with(&format!("sk-ant-oat01-nonrot{round}")),
            "refresh {round}: {}",
            r.stdout
        );
        let secrets = std::fs::read_to_string(env.config_dir().join("secrets.json")).unwrap();
        assert!(
            secrets.contains(RT) && !secrets.contains("redacted"),
            "refresh {round} kept the refresh token as sent: {secrets}"
        );
    }
    let calls = idp.ctx.token_calls.lock().unwrap();
    let sent: Vec<String> = calls
        .iter()
        .map(|(_, r)| FakeIdp::form(r))
        .filter(|f| f["grant_type"] == "refresh_token")
        .map(|f| f["refresh_token"].clone())
        .collect();
    assert!(sent.len() >= 2, "{sent:?}");
    assert!(
        sent.iter().all(|t| t == RT),
        "every refresh sent the token as issued: {sent:?}"
    );
}
