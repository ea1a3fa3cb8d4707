//! The sandbox's OpenAI side: it validates like OpenAI, answers in
//! OAuth shape, and its printed setup command works.

use super::*;

// --- the sandbox ---

fn sandbox_exchange(sb: &Sandbox, sa: &str, subject_token: &str) -> (u16, serde_json::Value) {
    sandbox_exchange_at(sb, WIP, sa, subject_token)
}

fn sandbox_exchange_at(
    sb: &Sandbox,
    wip: &str,
    sa: &str,
    subject_token: &str,
) -> (u16, serde_json::Value) {
    request(
        &sb.url,
        "POST",
        OPENAI_TOKEN_PATH,
        &[("content-type", "application/json")],
        &json!({
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "subject_token": subject_token,
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "identity_provider_id": wip,
            "service_account_id": sa,
        })
        .to_string(),
    )
}

fn last_event(sb: &Sandbox) -> serde_json::Value {
    sb.history()["events"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone()
}

#[test]
fn the_sandbox_validates_like_openai_and_answers_in_oauth_shape() {
    let sb = Sandbox::start(&[]);
    let good = sb.mint_jwt(&["--audience", OPENAI_AUDIENCE]);
    let (s, v) = sandbox_exchange(&sb, OPENAI_SA, &good);
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(
        v["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    let life = v["expires_in"].as_i64().unwrap();
    assert!(
        (290..=300).contains(&life),
        "capped by the JWT's 300 s: {life}"
    );
    let e = last_event(&sb);
    assert_eq!(
        (e["provider"].as_str(), e["identity_provider_id"].as_str()),
        (Some("openai"), Some(WIP))
    );

    let (s, v) = sandbox_exchange(&sb, OPENAI_SA, &good);
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("invalid_subject_token"))
    );
    assert!(v["error_description"].is_string());
    assert_eq!(last_event(&sb)["reason"], "jti_reused");

    let cases: Vec<(String, &str, &str, &str)> = vec![
        (
            sb.mint_jwt(&[]),
            OPENAI_SA,
            "invalid_subject_token",
            "aud_mismatch",
        ),
        (
            sb.mint_jwt(&["--audience", OPENAI_AUDIENCE, "--subject", "intruder"]),
            OPENAI_SA,
            "invalid_grant",
            "attribute_matchers_not_satisfied",
        ),
        (
            sb.mint_jwt(&["--audience", OPENAI_AUDIENCE]),
            "sa_01unmapped",
            "invalid_grant",
            "service_account_not_mapped",
        ),
        (
            sb.mint_jwt(&["--audience", OPENAI_AUDIENCE]),
            "sa_01sandboxdenied",
            "invalid_grant",
            "attribute_matchers_not_satisfied",
        ),
    ];
    for (jwt, sa, code, reason) in cases {
        let (s, v) = sandbox_exchange(&sb, sa, &jwt);
        assert_eq!((s, v["error"].as_str()), (400, Some(code)), "{reason}");
        assert_eq!(last_event(&sb)["reason"], reason);
    }
    // a forged signature
    let real = sb.mint_jwt(&["--audience", OPENAI_AUDIENCE]);
    let other = sb.mint_jwt(&["--audience", OPENAI_AUDIENCE, "--subject", "x"]);
    let (r, o): (Vec<&str>, Vec<&str>) = (real.split('.').collect(), other.split('.').collect());
    sandbox_exchange(&sb, OPENAI_SA, &format!("{}.{}.{}", r[0], o[1], r[2]));
    assert_eq!(last_event(&sb)["reason"], "jwt_signature_invalid");
    // an unknown identity provider, and malformed requests
    let (s, v) = sandbox_exchange_at(
        &sb,
        "wip_01unknown",
        OPENAI_SA,
        &sb.mint_jwt(&["--audience", OPENAI_AUDIENCE]),
    );
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")));
    assert_eq!(last_event(&sb)["reason"], "identity_provider_not_found");
    let (s, v) = request(
        &sb.url,
        "POST",
        OPENAI_TOKEN_PATH,
        &[("content-type", "application/json")],
        r#"{"grant_type":"urn:ietf:params:oauth:grant-type:jwt-bearer"}"#,
    );
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
}

#[test]
fn one_models_route_serves_both_apis_in_their_own_shapes() {
    let sb = Sandbox::start(&[]);
    let (_, v) = sandbox_exchange(
        &sb,
        OPENAI_SA,
        &sb.mint_jwt(&["--audience", OPENAI_AUDIENCE]),
    );
    let bearer = format!("Bearer {}", v["access_token"].as_str().unwrap());
    // as OpenAI clients send it: Bearer only, no anthropic-version
    let (s, v) = request(
        &sb.url,
        "GET",
        "/v1/models",
        &[("authorization", &bearer)],
        "",
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["object"], "list");
    let m = &v["data"][0];
    assert_eq!(m["object"], "model");
    assert!(m["id"].is_string() && m["created"].is_i64() && m["owned_by"].is_string());
    // an OpenAI token is not a Claude API token
    let (s, _) = request(
        &sb.url,
        "POST",
        "/v1/messages",
        &[
            ("authorization", &bearer),
            ("anthropic-version", "2023-06-01"),
            ("content-type", "application/json"),
        ],
        r#"{"model":"m","max_tokens":5,"messages":[]}"#,
    );
    assert_eq!(s, 401);
    // unknown tokens: a 401 in OpenAI's error shape
    let (s, v) = request(
        &sb.url,
        "GET",
        "/v1/models",
        &[("authorization", "Bearer made-up")],
        "",
    );
    assert_eq!(s, 401);
    assert_eq!(v["error"]["code"], "invalid_api_key");
    let (s, _) = request(&sb.url, "GET", "/v1/models", &[], "");
    assert_eq!(s, 401);
}

#[test]
fn the_printed_setup_command_works_and_a_denial_exits_5() {
    let sb = Sandbox::start(&[]);
    let env = TestEnv::new();
    env.setup_openai_on(&sb);
    let r = env.run(&["-vv", "credential", "openai"]);
    r.success();
    assert_eq!(jwt_claims(&r.stdout)["sub"], OPENAI_SA);
    assert!(r.stderr.contains("request-id req_sandbox_"), "{}", r.stderr);
    env.run(&[
        "setup",
        "openai",
        "--service-account-id",
        "sa_01sandboxdenied",
    ])
    .success();
    let r = env.run(&["credential", "openai"]);
    r.fails(5, "OpenAI denied the token exchange (400: invalid_grant");
    assert!(r.stderr.contains("sa_01sandboxdenied"), "{}", r.stderr);
}

/// The banner's `keyless setup openai …` line, run as printed, gives a
/// working profile.
#[test]
fn the_banners_setup_openai_command_works_as_printed() {
    let sb = Sandbox::start_until(&[], "Press Ctrl-C");
    let banner = &sb.printed;
    let setup = banner
        .iter()
        .map(|l| l.trim())
        .find(|l| l.starts_with("keyless setup openai "))
        .unwrap_or_else(|| panic!("{banner:?}"));
    assert!(
        banner
            .iter()
            .any(|l| l.trim() == "keyless credential openai")
    );
    let env = TestEnv::new();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(setup.replacen("keyless", BIN, 1))
        .env_clear()
        .env("HOME", env.home())
        .env("KEYLESS_CONFIG_DIR", env.config_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = env.run(&["credential", "openai"]);
    r.success();
    assert_eq!(jwt_claims(&r.stdout)["sub"], OPENAI_SA);
}

#[test]
fn the_demo_covers_openai() {
    let env = TestEnv::new();
    let r = env.run(&["demo"]);
    r.success();
    for step in [
        "5. The same for OpenAI",
        "keyless setup openai --token-endpoint http://127.0.0.1:",
        "6. keyless credential openai",
        "/v1/models with it as OPENAI_API_KEY would send it → 200: gpt-sandbox-1",
    ] {
        assert!(r.stderr.contains(step), "{step}: {}", r.stderr);
    }
}
