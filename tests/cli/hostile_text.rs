//! Text from outside that keyless prints (JWT claims at -vv and in denials,
//! the ID token's `sub` and `email`, discovered endpoints) reaches stderr
//! without a character a terminal would act on.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use crate::common::*;
use crate::fake::{Fake, Reply};
use crate::fake_idp::FakeIdp;

/// Sets the window title, rings, rewrites the line, reverses, hides, and
/// starts a new line that looks like keyless's own.
const HOSTILE: &str = "x\u{1b}]0;pwned\u{7}\u{1b}[2J\r\u{202e}evil\u{2066}\u{200b}\u{2028}\u{9b}31m\nerror: forged line";

#[track_caller]
fn assert_terminal_safe(stderr: &str) {
    for c in [
        '\u{1b}', '\u{7}', '\r', '\u{202e}', '\u{2066}', '\u{200b}', '\u{2028}', '\u{9b}',
    ] {
        assert!(
            !stderr.contains(c),
            "stderr holds U+{:04X}:\n{stderr:?}",
            c as u32
        );
    }
    assert!(
        !stderr.lines().any(|l| l.starts_with("error: forged line")),
        "a claim started a line of its own:\n{stderr}"
    );
}

/// An ES256-shaped JWT whose every printed claim is hostile.
fn hostile_jwt() -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let header = json!({"alg": "ES256", "kid": HOSTILE, "typ": "JWT"});
    let claims = json!({"iss": HOSTILE, "sub": HOSTILE, "aud": [HOSTILE, "https://api.anthropic.com"],
        "jti": HOSTILE, "iat": now, "exp": now + 300});
    format!(
        "{}.{}.c2lnbmF0dXJl",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

#[test]
fn hostile_claims_are_scrubbed_at_vv_and_in_anthropic_denials() {
    let fake = Fake::start(|_, _| {
        Reply::json(
            401,
            json!({"type": "error", "error": {"type": "authentication_error", "message": "no"}}),
        )
    });
    let (env, file) = env_with_file_source(&fake.url);
    std::fs::write(&file, hostile_jwt()).unwrap();
    let r = env.run(&["-vv", "credential", "anthropic"]);
    r.fails(5, "identity token: iss=");
    assert!(r.stderr.contains("evil"), "{}", r.stderr);
    assert_terminal_safe(&r.stderr);
}

#[test]
fn hostile_claims_are_scrubbed_in_openai_denials() {
    let fake = Fake::start(|_, _| {
        Reply::json(
            401,
            json!({"error": {"message": "no", "type": "invalid_request_error", "code": "invalid_subject_token"}}),
        )
    });
    let (env, file) = openai_env_with_file_source(&format!("{}/oauth/token", fake.url), 300);
    std::fs::write(&file, hostile_jwt()).unwrap();
    let r = env.run(&["credential", "openai"]);
    r.fails(5, "OpenAI denied");
    assert!(r.stderr.contains("evil"), "{}", r.stderr);
    assert_terminal_safe(&r.stderr);
}

#[test]
fn a_hostile_id_token_subject_and_email_are_scrubbed_when_signed_in() {
    let idp = FakeIdp::start(|ctx, _| {
        ctx.tokens(
            Some(ctx.id_token(json!({"sub": HOSTILE, "email": HOSTILE}))),
            Some("rt-1"),
        )
    });
    let env = TestEnv::new();
    idp.setup_issuer(&env, &[]);
    let r = env.run_with(
        &["login", "--device", "--no-browser", "--timeout", "20"],
        |c| {
            c.env("KEYLESS_SECRET_STORE", "file");
        },
    );
    r.success();
    assert!(r.stderr.contains("Signed in to"), "{}", r.stderr);
    assert_terminal_safe(&r.stderr);
    let r = env.run(&["auth", "status"]);
    assert_terminal_safe(&r.stderr);
    assert_terminal_safe(&r.stdout);
}

#[test]
fn discovered_endpoints_are_printed_re_serialized() {
    let idp = FakeIdp::start(|ctx, _| ctx.tokens(Some(ctx.id_token(json!({}))), Some("rt")));
    let token = format!("{}/token/{HOSTILE}", idp.ctx.issuer);
    *idp.ctx.discovery.lock().unwrap() = json!({ "token_endpoint": token });
    let env = TestEnv::new();
    let r = env.run(&[
        "-v",
        "setup",
        "issuer",
        "--issuer",
        &idp.ctx.issuer,
        "--client-id",
        "keyless-cli",
    ]);
    r.success();
    assert!(r.stderr.contains("token endpoint"), "{}", r.stderr);
    assert_terminal_safe(&r.stderr);
}
