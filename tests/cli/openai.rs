//! OpenAI: `setup openai`, the RFC 8693 exchange on the wire (pinned against
//! the independent fake) with every error class, the lifetime rules, `env`
//! and `exec --type openai`, the sandbox's OpenAI side, and one identity
//! source serving both providers with separate caches.

use serde_json::json;

use crate::common::*;
use crate::fake::{Fake, Reply};
use crate::sandbox::request;

/// JWT-shaped, as OpenAI's access tokens may be, so that the harness's scan
/// of stderr would catch it.
pub const TOKEN: &str =
    "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJzYV8wMXNhbmRib3gifQ.b3BlbmFpLWZha2UtdG9rZW4";

/// The fake's token endpoint, at the path OpenAI serves it on.
fn endpoint(fake: &Fake) -> String {
    format!("{}/oauth/token", fake.url)
}

/// An OAuth-style answer with OpenAI's `x-request-id`.
fn oauth(status: u16, body: serde_json::Value) -> Reply {
    let mut r = Reply::json(status, body);
    r.headers = vec![
        ("content-type".into(), "application/json".into()),
        ("x-request-id".into(), "req_fake_oai".into()),
    ];
    r
}

pub fn granted(expires_in: Option<i64>) -> Reply {
    let mut body = json!({
        "access_token": TOKEN,
        "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
        "token_type": "Bearer",
    });
    if let Some(e) = expires_in {
        body["expires_in"] = e.into();
    }
    oauth(200, body)
}

fn config(env: &TestEnv) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(env.config_dir().join("config.json")).unwrap()).unwrap()
}

// --- setup ---

#[test]
fn setup_saves_under_openai_and_updates_in_place() {
    let env = TestEnv::new();
    env.run(&["setup", "openai", "--service-account-id", OPENAI_SA])
        .fails(2, "--identity-provider-id is required");
    let r = env.run(&[
        "setup",
        "openai",
        "--identity-provider-id",
        WIP,
        "--service-account-id",
        OPENAI_SA,
        "--audience",
        OPENAI_AUDIENCE,
    ]);
    r.success();
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr.contains(WIP) && r.stderr.contains("https://auth.openai.com/oauth/token"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("Next: keyless credential openai"));
    let o = &config(&env)["profiles"]["default"]["openai"];
    assert_eq!(o["identity_provider_id"], WIP);
    assert_eq!(o["service_account_id"], OPENAI_SA);
    assert_eq!(o["audience"], OPENAI_AUDIENCE);
    assert_eq!(o["identity"]["type"], "env", "the default source");
    assert!(
        o.get("token_endpoint").is_none(),
        "the default is not stored"
    );

    // re-running changes only what is given; Anthropic's part is untouched
    env.run(&[
        "setup",
        "anthropic",
        "--federation-rule-id",
        RULE,
        "--organization-id",
        ORG,
    ])
    .success();
    env.run(&[
        "setup",
        "openai",
        "--token-endpoint",
        "http://127.0.0.1:9/oauth/token/",
        "--identity",
        "file:/var/run/secrets/openai/token",
    ])
    .success();
    let v = config(&env);
    let o = &v["profiles"]["default"]["openai"];
    assert_eq!(o["token_endpoint"], "http://127.0.0.1:9/oauth/token");
    assert_eq!(o["identity"]["path"], "/var/run/secrets/openai/token");
    assert_eq!(o["service_account_id"], OPENAI_SA);
    assert_eq!(o["audience"], OPENAI_AUDIENCE);
    assert_eq!(
        v["profiles"]["default"]["anthropic"]["federation_rule_id"],
        RULE
    );
}

#[test]
fn setup_checks_the_provider_id_and_endpoint_but_not_the_service_account_prefix() {
    let env = TestEnv::new();
    let base = |wip: &'static str, sa: &'static str| {
        vec![
            "setup",
            "openai",
            "--identity-provider-id",
            wip,
            "--service-account-id",
            sa,
        ]
    };
    for bad in ["idp_01x", "wip_", "wip_01 x"] {
        env.run(&base(bad, OPENAI_SA))
            .fails(2, "not a well-formed wip_ ID");
    }
    let mut args = base(WIP, OPENAI_SA);
    args.extend(["--token-endpoint", "http://auth.example.com/oauth/token"]);
    env.run(&args).fails(2, "plain http");
    let mut args = base(WIP, OPENAI_SA);
    args.extend(["--token-endpoint", "https://auth.example.com/t?x=1"]);
    env.run(&args)
        .fails(2, "--token-endpoint must not have a query");
    env.run(&base(WIP, "has space")).fails(2, "without spaces");
    assert!(!env.config_dir().join("config.json").exists());
    // public sources disagree on the prefix: any of these is accepted
    for sa in ["sa_01x", "user-abc123", "svac_01x"] {
        env.run(&base(WIP, sa)).success();
        assert_eq!(
            config(&env)["profiles"]["default"]["openai"]["service_account_id"],
            sa
        );
    }
}

#[test]
fn a_hand_edited_plain_http_endpoint_is_refused() {
    let env = TestEnv::new();
    env.setup_openai("https://auth.example.com/oauth/token", "env");
    let path = env.config_dir().join("config.json");
    let mut v = config(&env);
    v["profiles"]["default"]["openai"]["token_endpoint"] = "http://auth.example.com/x".into();
    std::fs::write(&path, v.to_string()).unwrap();
    env.run(&["credential", "openai"])
        .fails(6, "plain http to a host that is not this machine");
}

#[test]
fn missing_configuration_names_the_setup_command() {
    let env = TestEnv::new();
    let r = env.run(&["credential", "openai"]);
    r.fails(6, "no OpenAI configuration");
    assert!(
        r.stderr
            .contains("keyless setup openai --identity-provider-id"),
        "{}",
        r.stderr
    );
    env.run(&["exec", "--", "true"])
        .fails(6, "no provider configured");
}

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

#[test]
fn a_recorded_audience_the_jwt_lacks_draws_a_warning() {
    let fake = Fake::start(|_, _| granted(Some(600)));
    let (env, _) = openai_env_with_file_source(&endpoint(&fake), 300);
    env.run(&["setup", "openai", "--audience", OPENAI_AUDIENCE])
        .success();
    let r = env.run(&["credential", "openai"]);
    r.success();
    assert!(
        r.stderr
            .contains("is for audience https://api.anthropic.com, but the profile records"),
        "{}",
        r.stderr
    );
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

// --- identity sources ---

#[test]
fn the_env_source_reads_openai_variables() {
    let fake = Fake::start(|_, _| granted(Some(600)));
    let env = TestEnv::new();
    env.setup_openai(&endpoint(&fake), "env");
    let anthropic_jwt = shaped_jwt(300);
    env.run_with(&["credential", "openai"], |c| {
        c.env("ANTHROPIC_IDENTITY_TOKEN", &anthropic_jwt);
    })
    .fails(
        3,
        "neither OPENAI_IDENTITY_TOKEN_FILE nor OPENAI_IDENTITY_TOKEN is set",
    );
    let jwt = shaped_jwt(300);
    env.run_with(&["credential", "openai"], |c| {
        c.env("OPENAI_IDENTITY_TOKEN", &jwt);
    })
    .success();
    assert_eq!(fake.last().json()["subject_token"], jwt.as_str());
    // spent: the hint names the OpenAI variable
    env.run_with(&["credential", "openai", "--force-refresh"], |c| {
        c.env("OPENAI_IDENTITY_TOKEN", &jwt);
    })
    .fails(3, "put a fresh token in OPENAI_IDENTITY_TOKEN");
    let file = env.path("f.jwt");
    let jwt2 = shaped_jwt(300);
    std::fs::write(&file, format!("{jwt2}\n")).unwrap();
    env.run_with(&["credential", "openai", "--force-refresh"], |c| {
        c.env("OPENAI_IDENTITY_TOKEN", &jwt)
            .env("OPENAI_IDENTITY_TOKEN_FILE", &file);
    })
    .success();
    assert_eq!(
        fake.last().json()["subject_token"],
        jwt2.as_str(),
        "the file variable wins"
    );
}

// --- env and exec ---

#[test]
fn exec_replaces_a_static_key_and_says_so_without_showing_it() {
    let fake = Fake::start(|_, _| granted(Some(600)));
    let (env, _) = openai_env_with_file_source(&endpoint(&fake), 300);
    let static_key = "sk-proj-STATICkey0123456789";
    let r = env.run_with(
        &[
            "exec",
            "--type",
            "openai",
            "--",
            "sh",
            "-c",
            "printf %s \"$OPENAI_API_KEY\"",
        ],
        |c| {
            c.env("OPENAI_API_KEY", static_key);
        },
    );
    r.success();
    assert_eq!(r.stdout, TOKEN);
    assert!(
        r.stderr
            .contains("replacing the static OPENAI_API_KEY (sk-…)"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains(static_key), "{}", r.stderr);
    // nothing to say when no static key was there
    let r = env.run(&["exec", "--type", "openai", "--", "true"]);
    r.success();
    assert_eq!(r.stderr, "");
    assert_eq!(fake.count(), 1);
}

#[test]
fn env_sets_openai_api_key() {
    let fake = Fake::start(|_, _| granted(Some(600)));
    let (env, _) = openai_env_with_file_source(&endpoint(&fake), 300);
    let r = env.run(&["env", "--type", "openai", "--shell", "bash"]);
    r.success();
    assert_eq!(r.stdout, format!("export OPENAI_API_KEY='{TOKEN}'\n"));
    let r = env.run(&["env", "--shell", "json"]);
    r.success();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v, json!({"set": {"OPENAI_API_KEY": TOKEN}, "unset": []}));
    env.run(&["env", "--type", "anthropic"])
        .fails(6, "no Anthropic configuration");
}

#[test]
fn with_no_type_every_configured_provider_is_served() {
    let anthropic = Fake::start(|_, _| Reply::token("sk-ant-oat01-bothTOKEN_0123456789", 600));
    let openai = Fake::start(|_, _| granted(Some(600)));
    let env = TestEnv::new();
    let jwt_a = env.path("a.jwt");
    let jwt_o = env.path("o.jwt");
    std::fs::write(&jwt_a, shaped_jwt(300)).unwrap();
    std::fs::write(&jwt_o, shaped_jwt(300)).unwrap();
    env.setup(&anthropic.url, &format!("file:{}", jwt_a.display()));
    env.setup_openai(&endpoint(&openai), &format!("file:{}", jwt_o.display()));
    let r = env.run_with(
        &[
            "exec",
            "--",
            "sh",
            "-c",
            "printf '%s|%s|%s' \"$ANTHROPIC_AUTH_TOKEN\" \"$OPENAI_API_KEY\" \"${ANTHROPIC_API_KEY-unset}\"",
        ],
        |c| {
            c.env("ANTHROPIC_API_KEY", "sk-ant-api03-static");
        },
    );
    r.success();
    assert_eq!(
        r.stdout,
        format!("sk-ant-oat01-bothTOKEN_0123456789|{TOKEN}|unset")
    );
    assert_eq!((anthropic.count(), openai.count()), (1, 1));
}

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
    env.setup_openai(
        &sb.openai_token_endpoint(),
        &sb.identity_command_for(&[OPENAI_AUDIENCE]),
    );
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
    use std::io::BufRead;
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = std::process::Command::new(BIN)
        .arg("sandbox")
        .env_clear()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _guard = Kill(child);
    let banner: Vec<String> = std::io::BufReader::new(stdout)
        .lines()
        .map(Result::unwrap)
        .take_while(|l| !l.starts_with("Press Ctrl-C"))
        .collect();
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

// --- one identity source, both providers ---

#[test]
fn one_source_serves_both_providers_with_separate_caches() {
    let sb = Sandbox::start(&[]);
    let env = TestEnv::new();
    let both = sb.identity_command_for(&["https://api.anthropic.com", OPENAI_AUDIENCE]);
    env.setup(&sb.url, &both);
    env.setup_openai(&sb.openai_token_endpoint(), &both);
    let a = env.run(&["credential", "anthropic"]);
    a.success();
    let o = env.run(&["credential", "openai"]);
    o.success();
    assert!(a.stdout.starts_with("sk-ant-oat01-sandbox-"));
    assert_eq!(jwt_claims(&o.stdout)["sub"], OPENAI_SA);
    let h = sb.history();
    let events = h["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{h}");
    assert_eq!(
        (
            events[0]["provider"].as_str(),
            events[1]["provider"].as_str()
        ),
        (Some("anthropic"), Some("openai"))
    );
    assert!(events.iter().all(|e| e["outcome"] == "success"), "{h}");
    assert_ne!(
        events[0]["jti"], events[1]["jti"],
        "each exchange spent a JWT of its own"
    );
    // separate caches: both are hits now, and neither evicts the other
    let names: Vec<String> = cache_files(&env.cache_dir())
        .iter()
        .map(|p| p.file_name().unwrap().to_str().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("anthropic-")));
    assert!(names.iter().any(|n| n.starts_with("openai-")));
    assert_eq!(env.run(&["credential", "anthropic"]).stdout, a.stdout);
    assert_eq!(env.run(&["credential", "openai"]).stdout, o.stdout);
    assert_eq!(sb.history()["exchanges"], 2);
}

#[test]
fn exchanging_for_one_provider_never_consumes_the_jwt_for_the_other() {
    let sb = Sandbox::start(&[]);
    let env = TestEnv::new();
    // one JWT in a file, for both audiences, as a projected token would be
    let file = env.path("token.jwt");
    let jwt = sb.mint_jwt(&[
        "--audience",
        "https://api.anthropic.com",
        "--audience",
        OPENAI_AUDIENCE,
    ]);
    std::fs::write(&file, &jwt).unwrap();
    let src = format!("file:{}", file.display());
    env.setup(&sb.url, &src);
    env.setup_openai(&sb.openai_token_endpoint(), &src);
    env.run(&["credential", "anthropic"]).success();
    env.run(&["credential", "openai"]).success();
    let h = sb.history();
    let events = h["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{h}");
    assert!(events.iter().all(|e| e["outcome"] == "success"), "{h}");
    assert_eq!(
        events[0]["jti"], events[1]["jti"],
        "the same JWT, once at each"
    );
    // spent once per provider: neither sends it twice
    for p in ["anthropic", "openai"] {
        env.run(&["credential", p, "--force-refresh"])
            .fails(3, "already exchanged");
    }
    assert_eq!(sb.history()["exchanges"], 2);
}
