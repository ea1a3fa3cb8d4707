//! OpenAI: `setup openai`, the RFC 8693 exchange on the wire (pinned against
//! the independent fake) with every error class, the lifetime rules, `env`
//! and `exec --type openai`, the sandbox's OpenAI side, and one identity
//! source serving both providers with separate caches.

mod sandbox;
mod wire;

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
    let r = env.run(&setup_openai_args(&["--audience", OPENAI_AUDIENCE]));
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
    env.run(&setup_anthropic_args(&[])).success();
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
