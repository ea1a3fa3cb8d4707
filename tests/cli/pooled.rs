//! Requests after a wait never ride a connection the server may have closed.

use serde_json::json;

use crate::common::*;
use crate::fake_idp::FakeIdp;

/// Real providers close idle connections; one that closes it just as keyless
/// reuses it must not break the sign-in (CI saw "connection closed before
/// message completed" on the token request). This issuer keeps every
/// connection alive and drops whatever request comes on one it already
/// answered: device sign-in (discovery, device authorization, polling, JWKS)
/// and logout's revocation all still work.
#[test]
fn a_connection_the_server_closes_breaks_nothing() {
    let idp = FakeIdp::start_closing_reused(|ctx, _| {
        ctx.tokens(Some(ctx.id_token(json!({}))), Some("rt-1"))
    });
    let env = TestEnv::new();
    idp.setup_issuer(&env, &[]);
    let file_store = |c: &mut std::process::Command| {
        c.env("KEYLESS_SECRET_STORE", "file");
    };
    env.run_with(&["login", "--device", "--timeout", "30"], file_store)
        .success();
    env.run_with(&["logout"], file_store).success();
    let paths: Vec<String> = idp
        ._fake
        .requests
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.path.clone())
        .collect();
    for path in ["/device", "/token", "/jwks", "/revoke"] {
        assert!(paths.iter().any(|p| p == path), "{path} in {paths:?}");
    }
    assert_eq!(
        idp._fake.dropped.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "no request went to a reused connection"
    );
}
