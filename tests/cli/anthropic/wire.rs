//! The exchange on the wire, pinned against the independent fake, and every
//! error class: exit code, message, empty stdout, untouched cache.

use std::time::Duration;

use serde_json::json;

use crate::common::*;
use crate::fake::{Fake, Reply};

const TOKEN: &str = "sk-ant-oat01-fakeTOKENvalue_0123456789";

#[test]
fn request_matches_the_sdks_byte_for_byte() {
    let fake = Fake::start(|_, _| Reply::token(TOKEN, 600));
    let (env, file) = env_with_file_source(&fake.url);
    let jwt = std::fs::read_to_string(&file).unwrap();
    let r = env.run(&["credential", "anthropic"]);
    r.success();
    assert_eq!(
        r.stdout, TOKEN,
        "the bare token, no newline when stdout is not a terminal"
    );
    assert_eq!(r.stderr, "", "success leaves stderr empty");

    let req = fake.last();
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/v1/oauth/token");
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(
        req.header("anthropic-beta"),
        Some("oauth-2025-04-20,oidc-federation-2026-04-01")
    );
    assert!(req.header("user-agent").unwrap().starts_with("keyless/"));
    assert_eq!(req.header("authorization"), None);
    assert_eq!(req.header("x-api-key"), None);
    assert_eq!(
        req.json(),
        json!({
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": jwt,
            "federation_rule_id": RULE,
            "organization_id": ORG,
            "service_account_id": SA,
            "workspace_id": WS,
        })
    );
}

#[test]
fn optional_fields_are_omitted_when_unset() {
    let fake = Fake::start(|_, _| Reply::token(TOKEN, 600));
    let env = TestEnv::new();
    let file = env.path("t.jwt");
    std::fs::write(&file, shaped_jwt(300)).unwrap();
    env.setup_anthropic(
        &fake.url,
        &["--identity", &format!("file:{}", file.display())],
    );
    env.run(&["credential", "anthropic"]).success();
    let body = fake.last().json();
    assert!(body.get("service_account_id").is_none());
    assert!(body.get("workspace_id").is_none());
    assert!(body.get("scope").is_none());
}

#[test]
fn json_format() {
    let fake = Fake::start(|_, _| Reply::token(TOKEN, 600));
    let (env, _) = env_with_file_source(&fake.url);
    let r = env.run(&["credential", "anthropic", "--format", "json"]);
    r.success();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["access_token"], TOKEN);
    assert_eq!(v["token_type"], "Bearer");
    let exp = v["expires_at"].as_i64().unwrap();
    assert!(v["expiration"].as_str().unwrap().ends_with('Z'));
    let parsed = time::OffsetDateTime::parse(
        v["expiration"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(parsed.unix_timestamp(), exp);
    assert_eq!(v.as_object().unwrap().len(), 4);
}

/// One error class: the reply, the exit code, and what stderr must say.
fn error_case(reply: Reply, code: i32, needles: &[&str]) {
    let fake = Fake::start(move |_, _| reply.clone());
    let (env, _) = env_with_file_source(&fake.url);
    assert_error_class(&env, "anthropic", || fake.count(), code, needles);
}

#[test]
fn denial_401_authentication_error() {
    error_case(
        Reply::json(
            401,
            json!({"type": "error", "error": {"type": "authentication_error", "message": "Authentication failed"}, "request_id": "req_fake_123"}),
        ),
        5,
        &[
            "denied",
            RULE,
            ORG,
            "req_fake_123",
            // built from what keyless sees: the issuer, and no jti_reused
            // for a JWT its ledger shows was never sent (issue 18 #5)
            "1. the JWT's issuer (https://idp.example)",
            "2. the subject (repo:acme/app:ref:refs/heads/main) or audience",
            "3. the rule does not cover workspace wrkspc_01sandbox",
            "4. the service account svac_01sandbox",
            // the Console page, and what to look for there (issue 23)
            "authentication history (https://platform.claude.com/settings/workload-identity-federation?tab=history: Settings > Workload identity, History tab): find the attempt at this time for rule",
        ],
    );
}

#[test]
fn denial_400_invalid_grant_older_form() {
    error_case(
        Reply::json(
            400,
            json!({"error": "invalid_grant", "error_description": "assertion rejected"}),
        ),
        5,
        &["denied", "400 invalid_grant", RULE],
    );
}

#[test]
fn invalid_request_shows_the_server_message() {
    error_case(
        Reply::json(
            400,
            json!({"type": "error", "error": {"type": "invalid_request_error", "message": "federation_rule_id is not a well-formed fdrl_ tagged ID"}}),
        ),
        6,
        &[
            "federation_rule_id is not a well-formed fdrl_ tagged ID",
            "hint:",
        ],
    );
}

#[test]
fn server_errors_and_odd_bodies_are_network_class() {
    error_case(
        Reply::json(
            500,
            json!({"error": {"type": "api_error", "message": "Internal"}}),
        ),
        4,
        &["failed with 500"],
    );
    error_case(
        Reply::raw(
            503,
            "text/html",
            "<html><body>Service Unavailable</body></html>",
        ),
        4,
        &["HTML page"],
    );
    error_case(
        Reply::raw(
            200,
            "text/html",
            "<!doctype html><title>Sign in to Wi-Fi</title>",
        ),
        4,
        &["HTML page", "captive portal"],
    );
    error_case(Reply::raw(200, "text/plain", "ok"), 4, &["not JSON"]);
    error_case(
        Reply::raw(200, "application/json", vec![b' '; 2 * 1024 * 1024]),
        4,
        &["larger than 1 MiB"],
    );
    let chunked = Reply {
        chunked: true,
        ..Reply::raw(200, "application/json", vec![b' '; 2 * 1024 * 1024])
    };
    error_case(chunked, 4, &["larger than 1 MiB"]);
    error_case(
        Reply::json(
            404,
            json!({"error": {"type": "not_found_error", "message": "Not found"}}),
        ),
        4,
        &["answered 404", "--base-url"],
    );
    error_case(
        Reply::json(
            429,
            json!({"error": {"type": "rate_limit_error", "message": "slow down"}}),
        ),
        4,
        &["rate limiting"],
    );
}

#[test]
fn malformed_success_responses_are_refused() {
    error_case(
        Reply::json(
            200,
            json!({"access_token": TOKEN, "token_type": "mac", "expires_in": 600}),
        ),
        4,
        &["other than Bearer"],
    );
    error_case(
        Reply::json(200, json!({"access_token": TOKEN, "token_type": "Bearer"})),
        4,
        &["without expires_in"],
    );
    error_case(
        Reply::json(200, json!({"token_type": "Bearer", "expires_in": 600})),
        4,
        &["without an access_token"],
    );
    error_case(
        Reply::json(
            200,
            json!({"access_token": "sk-ant-oat01-has space", "token_type": "Bearer", "expires_in": 600}),
        ),
        4,
        &["malformed access_token"],
    );
}

#[test]
fn redirects_are_not_followed() {
    let mut reply = Reply::raw(302, "text/plain", "");
    reply.headers.push((
        "location".into(),
        "https://elsewhere.example/v1/oauth/token".into(),
    ));
    error_case(reply, 4, &["redirect", "does not follow redirects"]);
}

#[test]
fn only_error_fields_of_a_body_are_printed_and_scrubbed() {
    let fake_jwt = shaped_jwt(60);
    let body = json!({
        "error": {"type": "invalid_request_error", "message": format!("bad assertion {fake_jwt} for sk-ant-oat01-LEAKEDtoken123")},
        "debug": "INTERNAL-DETAIL-should-not-print",
    });
    error_case(Reply::json(400, body), 6, &["bad assertion [redacted]"]);
    let fake = Fake::start(|_, _| {
        Reply::json(
            500,
            json!({"error": {"type": "x", "message": "m"}, "trace": "INTERNAL-DETAIL"}),
        )
    });
    let (env, _) = env_with_file_source(&fake.url);
    let r = env.run(&["credential", "anthropic", "-vv"]);
    assert!(!r.stderr.contains("INTERNAL-DETAIL"), "{}", r.stderr);
}

#[test]
fn connection_refused_exits_4_and_keeps_the_jwt_unspent() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (env, _) = env_with_file_source(&format!("http://127.0.0.1:{port}"));
    env.run(&["credential", "anthropic"])
        .fails(4, "cannot connect");
    // the JWT never left the machine, so a retry may send it
    env.run(&["credential", "anthropic"])
        .fails(4, "cannot connect");
    assert!(cache_files(&env.cache_dir()).is_empty());
}

#[test]
fn a_stalled_endpoint_times_out_after_30s() {
    // an endpoint that never answers: keyless ends by itself, says after
    // what, hangs up, and did wait that long first (a lower bound: load
    // only lengthens a run)
    let fake = Fake::start(|_, _| Reply::silent());
    let (env, _) = env_with_file_source(&fake.url);
    let t = std::time::Instant::now();
    env.run_ending(&["credential", "anthropic"], |_| {})
        .fails(4, "within 30s");
    assert!(t.elapsed() >= Duration::from_secs(29), "{:?}", t.elapsed());
    fake.assert_abandoned(1);
    assert!(cache_files(&env.cache_dir()).is_empty());
}

#[test]
fn bad_identity_tokens_are_refused_before_sending() {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let fake = Fake::start(|_, _| Reply::token(TOKEN, 600));
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let jwt = |h: &str, c: serde_json::Value| {
        format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(h),
            URL_SAFE_NO_PAD.encode(c.to_string())
        )
    };
    let cases = [
        (
            jwt(
                r#"{"alg":"ES256","kid":"k"}"#,
                json!({"iat": now - 600, "exp": now - 300}),
            ),
            3,
            "expired",
        ),
        (
            jwt(
                r#"{"alg":"ES256","kid":"k"}"#,
                json!({"iat": now, "nbf": now + 600, "exp": now + 900}),
            ),
            3,
            "not valid before",
        ),
        (
            jwt(r#"{"alg":"ES256"}"#, json!({"iat": now, "exp": now + 300})),
            6,
            "no `kid`",
        ),
        (
            jwt(
                r#"{"alg":"HS256","kid":"k"}"#,
                json!({"iat": now, "exp": now + 300}),
            ),
            6,
            "HS256",
        ),
        (
            jwt(
                r#"{"alg":"none","kid":"k"}"#,
                json!({"iat": now, "exp": now + 300}),
            ),
            6,
            "none",
        ),
        ("not-a-jwt".to_string(), 6, "not a JWT"),
        ("x".repeat(17 * 1024), 6, "16 KiB"),
    ];
    for (token, code, needle) in cases {
        let env = TestEnv::new();
        let file = env.path("t.jwt");
        std::fs::write(&file, &token).unwrap();
        env.setup(&fake.url, &format!("file:{}", file.display()));
        env.run(&["credential", "anthropic"]).fails(code, needle);
    }
    assert_eq!(fake.count(), 0, "nothing may be sent for a refused token");
}

#[test]
fn long_lived_identity_tokens_draw_a_warning() {
    let fake = Fake::start(|_, _| Reply::token(TOKEN, 600));
    let env = TestEnv::new();
    let file = env.path("t.jwt");
    std::fs::write(&file, shaped_jwt(7200)).unwrap();
    env.setup(&fake.url, &format!("file:{}", file.display()));
    let r = env.run(&["credential", "anthropic"]);
    r.success();
    assert!(r.stderr.contains("more than an hour"), "{}", r.stderr);
    assert_eq!(fake.count(), 1);
}

#[test]
fn verbose_runs_never_show_tokens() {
    let fake = Fake::start(|_, _| Reply::token(TOKEN, 600));
    let (env, _) = env_with_file_source(&fake.url);
    let r = env.run(&["credential", "anthropic", "-vv"]);
    r.success();
    assert!(r.stderr.contains("exchanging"), "{}", r.stderr);
    assert!(r.stderr.contains("request-id req_fake_123"), "{}", r.stderr);
    // assert_no_secrets ran on every Run; check the specific values too
    assert!(!r.stderr.contains(TOKEN));
    let r = env.run(&["credential", "anthropic", "-vv"]);
    assert!(r.stderr.contains("cached token"), "{}", r.stderr);
}

#[test]
fn the_token_ends_with_a_newline_only_on_a_terminal() {
    let has_script = std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_ok();
    if !require_tool("script (util-linux)", has_script) {
        return;
    }
    let fake = Fake::start(|_, _| Reply::token(TOKEN, 600));
    let (env, _) = env_with_file_source(&fake.url);
    // `script` gives the command a pseudo-terminal as stdout
    let out = env
        .cmd()
        .env_remove("TERM")
        .args(["credential", "anthropic"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), TOKEN);
    let mut c = std::process::Command::new("script");
    c.args(["-qec", &format!("{BIN} credential anthropic"), "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("HOME", env.home())
        .env("KEYLESS_CONFIG_DIR", env.config_dir())
        .env("KEYLESS_CACHE_DIR", env.cache_dir())
        .stdin(std::process::Stdio::null());
    let out = c.output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{TOKEN}\r\n"));
}

#[test]
fn a_hand_edited_plain_http_base_url_is_refused() {
    let fake = Fake::start(|_, _| Reply::token(TOKEN, 600));
    let (env, _) = env_with_file_source(&fake.url);
    let path = env.config_dir().join("config.json");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace(&fake.url, "http://example.com");
    std::fs::write(&path, text).unwrap();
    env.run(&["credential", "anthropic"])
        .fails(6, "base_url \"http://example.com\" uses plain http");
    assert_eq!(fake.count(), 0);
}

#[test]
fn the_config_dir_flag_overrides_the_environment() {
    let fake = Fake::start(|_, _| Reply::token(TOKEN, 600));
    let (env, _) = env_with_file_source(&fake.url);
    let moved = env.path("elsewhere");
    std::fs::rename(env.config_dir(), &moved).unwrap();
    env.run(&["credential", "anthropic"])
        .fails(6, "no Anthropic configuration");
    env.run(&[
        "--config-dir",
        moved.to_str().unwrap(),
        "credential",
        "anthropic",
    ])
    .success();
}

/// HTTPS_PROXY and NO_PROXY are honoured for a remote host: the proxy is
/// asked for a CONNECT tunnel to it (this stand-in refuses, so the exchange
/// fails); NO_PROXY for the host goes direct. Loopback is never proxied
/// (tests/cli/http_proxy.rs), and a tunnel that works is in tests/cli/tls.rs.
#[test]
fn proxies_are_honoured() {
    let proxy = Fake::start(|_, _| Reply::token(TOKEN, 600));
    // a name that does not resolve (RFC 6761 .test): only a proxy reaches it
    let host = format!("api.keyless.test:{}", closed_port());
    let (env, file) = env_with_file_source(&format!("https://{host}"));
    let r = env.run_with(&["credential", "anthropic"], |c| {
        c.env("HTTPS_PROXY", &proxy.url);
    });
    r.fails(4, "api.keyless.test");
    let req = proxy.last();
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("CONNECT", host.as_str())
    );
    // NO_PROXY: the same host is looked up directly, and does not resolve
    std::fs::write(&file, shaped_jwt(300)).unwrap();
    let r = env.run_with(&["credential", "anthropic", "--force-refresh"], |c| {
        c.env("HTTPS_PROXY", &proxy.url)
            .env("NO_PROXY", "keyless.test");
    });
    r.fails(4, "cannot connect");
    assert_eq!(proxy.count(), 1);
}
