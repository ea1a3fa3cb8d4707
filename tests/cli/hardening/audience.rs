//! Defect 5: a JWT whose `aud` is not the audience the profile records is
//! refused locally, for both providers, before the single-use JWT is spent;
//! `auth status` flags it and `--check` fails on it; the "likely causes" of
//! a denial are built from what keyless can see.

use crate::common::*;

const WANTED: &str = "https://wanted.example";
const OTHER: &str = "https://other.example";

fn jwt_file(env: &TestEnv, sb: &Sandbox, aud: &str) -> String {
    let file = env.path("token.jwt");
    std::fs::write(&file, sb.mint_jwt(&["--audience", aud])).unwrap();
    format!("file:{}", file.display())
}

fn refused_unspent(r: &Run, sb: &Sandbox) {
    assert_ne!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr.contains(OTHER),
        "names the JWT's audience: {}",
        r.stderr
    );
    assert!(
        r.stderr.contains(WANTED),
        "names the recorded one: {}",
        r.stderr
    );
    assert!(r.stderr.contains("did not send it"), "{}", r.stderr);
    assert_eq!(sb.history()["exchanges"], 0, "the JWT stays unspent");
}

#[test]
fn anthropic_refuses_a_jwt_for_another_audience_before_sending_it() {
    let sb = Sandbox::start(&[]);
    let env = TestEnv::new();
    let identity = jwt_file(&env, &sb, OTHER);
    env.setup_anthropic(
        &sb.url,
        &[
            "--service-account-id",
            SA,
            "--workspace-id",
            WS,
            "--audience",
            WANTED,
            "--identity",
            &identity,
        ],
    );
    refused_unspent(&env.run(&["credential", "anthropic"]), &sb);
    // auth status flags it; --check fails on it, still without sending
    let st = env.run(&["auth", "status"]);
    assert!(
        st.stdout.contains(OTHER) && st.stdout.contains(WANTED),
        "{}",
        st.stdout
    );
    let check = env.run(&["auth", "status", "--check"]);
    assert_ne!(check.code, 0, "{}", check.stdout);
    assert_eq!(sb.history()["exchanges"], 0);
}

#[test]
fn openai_refuses_a_jwt_for_another_audience_before_sending_it() {
    let sb = Sandbox::start(&[]);
    let env = TestEnv::new();
    let identity = jwt_file(&env, &sb, OTHER);
    env.setup_openai_with(
        &sb.openai_token_endpoint(),
        &["--audience", WANTED, "--identity", &identity],
    );
    refused_unspent(&env.run(&["credential", "openai"]), &sb);
}

/// A denial of a JWT the ledger shows was never sent does not blame
/// `jti_reused`; the issuer is among the causes.
#[test]
fn anthropic_likely_causes_name_the_issuer_and_not_a_reuse_the_ledger_rules_out() {
    let sb = Sandbox::start(&[]);
    let env = TestEnv::new();
    // the sandbox's rule wants its own issuer: a JWT of another issuer is denied
    let file = env.jwt_file();
    env.setup(&sb.url, &format!("file:{}", file.display()));
    let r = env.run(&["credential", "anthropic"]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(!r.stderr.contains("jti_reused"), "{}", r.stderr);
    assert!(r.stderr.contains("issuer"), "{}", r.stderr);
}

/// The profile's issuer is known (`setup issuer`): a client-credentials
/// JWT issued by another issuer is a certain denial, refused before it is
/// spent, naming both; `auth status --check` fails on it the same way.
#[test]
fn a_jwt_from_another_issuer_than_the_profiles_is_refused_before_sending_it() {
    use crate::fake::{Fake, Reply};
    use crate::fake_idp::{FakeIdp, IdpCtx};
    const ELSEWHERE: &str = "https://elsewhere.example";
    let idp = FakeIdp::start(|ctx, req| {
        assert_eq!(FakeIdp::form(req)["grant_type"], "client_credentials");
        let now = IdpCtx::now();
        let claims = serde_json::json!({"iss": ELSEWHERE, "sub": "ci", "aud": "https://api.anthropic.com",
            "iat": now, "exp": now + 300, "jti": format!("cc-{}", crate::fake_idp::rand_hex())});
        Reply::json(
            200,
            serde_json::json!({"access_token": ctx.key.sign("good", &claims), "token_type": "Bearer", "expires_in": 300}),
        )
    });
    let api = Fake::start(|n, _| Reply::token(&format!("sk-ant-oat01-iss{n}_0123456789abc"), 600));
    let env = TestEnv::new();
    let secret = |c: &mut std::process::Command| {
        c.env("KEYLESS_CLIENT_SECRET", "s3cret-value-for-ci");
    };
    env.run_with(
        &setup_issuer_args(&idp.ctx.issuer, "keyless-ci", &[]),
        secret,
    )
    .success();
    env.setup_anthropic(&api.url, &["--identity", "client-credentials"]);
    for args in [
        vec!["credential", "anthropic"],
        vec!["auth", "status", "--check"],
    ] {
        let r = env.run_with(&args, secret);
        assert_ne!(r.code, 0, "{args:?}: {}{}", r.stdout, r.stderr);
        let all = format!("{}{}", r.stdout, r.stderr);
        assert!(
            all.contains(ELSEWHERE) && all.contains(&idp.ctx.issuer),
            "{args:?} names both issuers: {all}"
        );
        assert!(all.contains("did not send it"), "{args:?}: {all}");
    }
    assert_eq!(api.count(), 0, "the JWT stays unspent");
}
