//! OpenAI on the wire: the RFC 8693 request pinned against the
//! independent fake, every error class, and the lifetime rules.

use super::*;

// --- the wire ---

#[test]
fn request_matches_the_sdks_byte_for_byte() {
    let fake = Fake::start(|_, _| granted(Some(600)));
    let (env, file) = openai_env_with_file_source(&endpoint(&fake), 900);
    let jwt = std::fs::read_to_string(&file).unwrap();
    let r = env.run(&["credential", "openai"]);
    r.success();
    assert_eq!(r.stdout, TOKEN, "the bare token, no newline");
    assert_eq!(r.stderr, "", "success leaves stderr empty");

    let req = fake.last();
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/oauth/token");
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(req.header("accept"), Some("application/json"));
    assert!(req.header("user-agent").unwrap().starts_with("keyless/"));
    for absent in [
        "authorization",
        "anthropic-beta",
        "x-api-key",
        "openai-beta",
    ] {
        assert_eq!(req.header(absent), None, "{absent}");
    }
    assert_eq!(
        req.json(),
        json!({
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "subject_token": jwt,
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "identity_provider_id": WIP,
            "service_account_id": OPENAI_SA,
        })
    );
}

#[test]
fn a_hit_makes_no_request_and_the_cache_file_is_openais_own() {
    let fake = Fake::start(|_, _| granted(Some(600)));
    let (env, file) = openai_env_with_file_source(&endpoint(&fake), 900);
    let first = env.run(&["credential", "openai"]);
    first.success();
    std::fs::remove_file(&file).unwrap();
    let again = env.run(&["-v", "credential", "openai"]);
    again.success();
    assert_eq!(again.stdout, first.stdout);
    assert!(again.stderr.contains("serving the cached token"));
    assert_eq!(fake.count(), 1);
    let files = cache_files(&env.cache_dir());
    assert_eq!(files.len(), 1);
    let name = files[0].file_name().unwrap().to_str().unwrap().to_string();
    assert!(name.starts_with("openai-"), "{name}");
    assert_eq!(mode(&files[0]), 0o600);
}

/// One error class: the reply, the exit code, and what stderr must say.
fn error_case(reply: Reply, code: i32, needles: &[&str]) {
    let fake = Fake::start(move |_, _| reply.clone());
    let (env, _) = openai_env_with_file_source(&endpoint(&fake), 300);
    assert_error_class(&env, "openai", || fake.count(), code, needles);
}

#[test]
fn invalid_grant_and_invalid_subject_token_are_denials_with_hints() {
    let hints = [
        "OpenAI denied the token exchange",
        WIP,
        OPENAI_SA,
        "request-id req_fake_oai",
        "1. the JWT's audience (https://api.anthropic.com) is not the audience configured on identity provider",
        "2. the JWT's issuer (https://idp.example) is not the provider's issuer",
        "kid k1",
        "3. no service account mapping",
        "attribute matchers",
        "sub repo:acme/app:ref:refs/heads/main",
        "Workload Identity Provider",
    ];
    let with = |extra: &'static str| {
        let mut v = hints.to_vec();
        v.push(extra);
        v
    };
    error_case(
        oauth(
            400,
            json!({"error": "invalid_grant", "error_description": "no mapping matched"}),
        ),
        5,
        &with("400: invalid_grant: no mapping matched"),
    );
    error_case(
        oauth(
            400,
            json!({"error": "invalid_subject_token", "error_description": "bad audience"}),
        ),
        5,
        &with("invalid_subject_token: bad audience"),
    );
    error_case(
        oauth(401, json!({"error": "invalid_subject_token"})),
        5,
        &with("401: invalid_subject_token"),
    );
    error_case(
        oauth(403, json!({"error": "access_denied"})),
        5,
        &with("403: access_denied"),
    );
}

#[test]
fn a_malformed_request_shows_the_server_message() {
    error_case(
        oauth(
            400,
            json!({"error": "invalid_request", "error_description": "service_account_id is required"}),
        ),
        6,
        &[
            "rejected the request as malformed: invalid_request: service_account_id is required",
            "keyless setup openai",
        ],
    );
}

#[test]
fn server_errors_and_odd_bodies_are_network_class() {
    error_case(
        oauth(500, json!({"error": "server_error"})),
        4,
        &["failed with 500"],
    );
    error_case(
        oauth(429, json!({"error": "rate_limited"})),
        4,
        &["rate limiting"],
    );
    error_case(
        Reply::raw(502, "text/html", "<html><body>Bad gateway</body></html>"),
        4,
        &["HTML page", "--token-endpoint"],
    );
    error_case(
        Reply::raw(200, "text/html", "<!doctype html><title>Wi-Fi</title>"),
        4,
        &["HTML page", "captive portal"],
    );
    error_case(Reply::raw(200, "text/plain", "ok"), 4, &["not JSON"]);
    error_case(
        Reply::raw(200, "application/json", vec![b' '; 2 * 1024 * 1024]),
        4,
        &["larger than 1 MiB"],
    );
    error_case(
        oauth(404, json!({"error": "not_found"})),
        4,
        &[
            "answered 404",
            "--token-endpoint",
            "auth.openai.com/oauth/token",
        ],
    );
    let mut redirect = Reply::raw(302, "text/plain", "");
    redirect.headers.push((
        "location".into(),
        "https://elsewhere.example/oauth/token".into(),
    ));
    error_case(redirect, 4, &["does not follow redirects"]);
}

#[test]
fn malformed_success_responses_are_refused() {
    error_case(
        oauth(200, json!({"token_type": "Bearer", "expires_in": 600})),
        4,
        &["without an access_token"],
    );
    error_case(
        oauth(
            200,
            json!({"access_token": TOKEN, "token_type": "mac", "expires_in": 600}),
        ),
        4,
        &["other than Bearer"],
    );
    error_case(
        oauth(200, json!({"access_token": TOKEN, "expires_in": "soon"})),
        4,
        &["non-numeric expires_in"],
    );
    error_case(
        oauth(200, json!({"access_token": "has space", "expires_in": 60})),
        4,
        &["malformed access_token"],
    );
}

#[test]
fn only_error_fields_are_printed_and_scrubbed() {
    let leaked = shaped_jwt(60);
    error_case(
        oauth(
            400,
            json!({
                "error": "invalid_request",
                "error_description": format!("bad subject_token {leaked} near sk-proj-LEAKEDkey123"),
                "debug": "INTERNAL-DETAIL",
            }),
        ),
        6,
        &["bad subject_token [redacted] near [redacted]"],
    );
    let fake = Fake::start(|_, _| {
        oauth(
            503,
            json!({"error": "temporarily_unavailable", "trace": "INTERNAL-DETAIL"}),
        )
    });
    let (env, _) = openai_env_with_file_source(&endpoint(&fake), 300);
    let r = env.run(&["-vv", "credential", "openai"]);
    r.fails(4, "503");
    assert!(!r.stderr.contains("INTERNAL-DETAIL"), "{}", r.stderr);
}

#[test]
fn connection_refused_exits_4_and_keeps_the_jwt_unspent() {
    let url = format!("http://127.0.0.1:{}/oauth/token", closed_port());
    let (env, _) = openai_env_with_file_source(&url, 300);
    for _ in 0..2 {
        env.run(&["credential", "openai"])
            .fails(4, "cannot connect");
    }
}

#[test]
fn a_spent_jwt_is_not_sent_again() {
    let fake = Fake::start(|_, _| oauth(400, json!({"error": "invalid_grant"})));
    let (env, _) = openai_env_with_file_source(&endpoint(&fake), 300);
    env.run(&["credential", "openai"]).fails(5, "denied");
    let r = env.run(&["credential", "openai"]);
    r.fails(3, "already exchanged");
    assert_eq!(fake.count(), 1);
}

/// Issue 18 #5: no longer a warning followed by a certain denial that
/// spends the JWT: refused before sending.
#[test]
fn a_recorded_audience_the_jwt_lacks_is_refused_unsent() {
    let fake = Fake::start(|_, _| granted(Some(600)));
    let (env, _) = openai_env_with_file_source(&endpoint(&fake), 300);
    env.run(&["setup", "openai", "--audience", OPENAI_AUDIENCE])
        .success();
    env.run(&["credential", "openai"]).fails(
        6,
        "is for audience https://api.anthropic.com, but the profile records",
    );
    assert_eq!(fake.count(), 0, "the JWT stays unspent");
}

// --- lifetimes ---

/// `credential openai --format json` against a fake answering `expires_in`
/// (or none), with an identity JWT of `subject_life` seconds. Returns
/// (expires_at, the JWT's exp, the cached entry's expires_at, stderr at -v).
fn lifetime_case(expires_in: Option<i64>, subject_life: i64) -> (i64, i64, i64, String) {
    let fake = Fake::start(move |_, _| granted(expires_in));
    let (env, file) = openai_env_with_file_source(&endpoint(&fake), subject_life);
    let exp = jwt_claims(&std::fs::read_to_string(&file).unwrap())["exp"]
        .as_i64()
        .unwrap();
    let r = env.run(&["-v", "credential", "openai", "--format", "json"]);
    r.success();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let files = cache_files(&env.cache_dir());
    let cached: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
    (
        v["expires_at"].as_i64().unwrap(),
        exp,
        cached["expires_at"].as_i64().unwrap(),
        r.stderr,
    )
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[test]
fn expires_in_decides_when_the_subject_token_lives_longer() {
    let (at, _, cached, stderr) = lifetime_case(Some(120), 900);
    assert!((now() + 115..=now() + 120).contains(&at), "{at}");
    assert_eq!(cached, at);
    assert!(!stderr.contains("identity token expires in"), "{stderr}");
}

#[test]
fn the_cached_token_never_outlives_the_subject_token() {
    let (at, exp, cached, stderr) = lifetime_case(Some(3600), 300);
    assert!(
        (exp - 1..=exp).contains(&at),
        "expires_at {at}, subject exp {exp}"
    );
    assert_eq!(cached, at);
    assert!(
        stderr.contains("granted 60m, but the identity token expires in"),
        "{stderr}"
    );
}

#[test]
fn without_expires_in_the_subject_token_decides_capped_at_an_hour() {
    let (at, exp, _, stderr) = lifetime_case(None, 300);
    assert!(
        (exp - 1..=exp).contains(&at),
        "expires_at {at}, subject exp {exp}"
    );
    assert!(stderr.contains("named no expires_in"), "{stderr}");
    let (at, exp, _, stderr) = lifetime_case(None, 7200);
    assert!(at < exp - 3000, "capped well below the JWT's {exp}: {at}");
    assert!((now() + 3595..=now() + 3600).contains(&at), "{at}");
    assert!(stderr.contains("at most 60m: 60m"), "{stderr}");
}
