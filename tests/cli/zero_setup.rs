//! Issue 11 §1: zero setup. With no configuration for a provider,
//! `credential`, `env`, `exec` and `auth status` build one from the SDKs'
//! own variables (Anthropic's migration guide: four variables and no API
//! key). A profile's fields win; a partial set names what is missing.

use crate::common::*;
use crate::fake::{Fake, Reply};

fn token(n: usize) -> String {
    format!("sk-ant-oat01-zero{n:04}_abcdefghijkl")
}

fn federation(c: &mut std::process::Command, base: &str, file: &std::path::Path) {
    c.env("ANTHROPIC_FEDERATION_RULE_ID", RULE)
        .env("ANTHROPIC_ORGANIZATION_ID", ORG)
        .env("ANTHROPIC_SERVICE_ACCOUNT_ID", SA)
        .env("ANTHROPIC_WORKSPACE_ID", WS)
        .env("ANTHROPIC_BASE_URL", base)
        .env("ANTHROPIC_IDENTITY_TOKEN_FILE", file);
}

#[test]
fn the_sdk_variables_alone_are_enough() {
    let fake = Fake::start(|n, _| Reply::token(&token(n), 600));
    let env = TestEnv::new();
    let file = env.jwt_file();
    let r = env.run_with(&["credential", "anthropic"], |c| {
        federation(c, &fake.url, &file)
    });
    r.success();
    assert_eq!(r.stdout, token(0));
    let body = fake.last().json();
    assert_eq!(body["federation_rule_id"], RULE);
    assert_eq!(body["organization_id"], ORG);
    assert_eq!(body["service_account_id"], SA);
    assert_eq!(body["workspace_id"], WS);
    assert!(
        !env.config_dir().join("config.json").exists(),
        "nothing is saved"
    );
    // the cache covers the environment-built configuration: a hit
    env.run_with(&["credential", "anthropic"], |c| {
        federation(c, &fake.url, &file)
    })
    .success();
    assert_eq!(fake.count(), 1);
    // ...and another workspace is another configuration
    std::fs::write(&file, shaped_jwt(300)).unwrap();
    env.run_with(&["credential", "anthropic"], |c| {
        federation(c, &fake.url, &file);
        c.env("ANTHROPIC_WORKSPACE_ID", "default");
    })
    .success();
    assert_eq!(fake.count(), 2);
    // exec hands the child the token, and env works the same way
    let r = env.run_with(EXEC_PRINTING_THE_TOKEN, |c| federation(c, &fake.url, &file));
    r.success();
    assert!(r.stdout.starts_with("sk-ant-oat01-zero"), "{}", r.stdout);
}

#[test]
fn a_partial_set_names_the_missing_variables() {
    let env = TestEnv::new();
    let r = env.run_with(&["credential", "anthropic"], |c| {
        c.env("ANTHROPIC_FEDERATION_RULE_ID", RULE);
    });
    r.fails(6, "ANTHROPIC_ORGANIZATION_ID");
    let r = env.run_with(&["credential", "anthropic"], |c| {
        c.env("ANTHROPIC_FEDERATION_RULE_ID", RULE)
            .env("ANTHROPIC_ORGANIZATION_ID", ORG);
    });
    // no identity variable: `auto` looks, and says what it considered
    r.fails(3, "ANTHROPIC_IDENTITY_TOKEN_FILE");
    assert!(r.stderr.contains("KEYLESS_IDENTITY"), "{}", r.stderr);
    // every identifier gets setup's checks
    let r = env.run_with(&["credential", "anthropic"], |c| {
        c.env("ANTHROPIC_FEDERATION_RULE_ID", "rule_01x")
            .env("ANTHROPIC_ORGANIZATION_ID", ORG)
            .env("ANTHROPIC_IDENTITY_TOKEN", shaped_jwt(300));
    });
    r.fails(6, "ANTHROPIC_FEDERATION_RULE_ID");
    let r = env.run_with(&["credential", "anthropic"], |c| {
        c.env("ANTHROPIC_FEDERATION_RULE_ID", RULE)
            .env("ANTHROPIC_ORGANIZATION_ID", ORG)
            .env("ANTHROPIC_BASE_URL", "http://example.com")
            .env("ANTHROPIC_IDENTITY_TOKEN", shaped_jwt(300));
    });
    r.fails(6, "ANTHROPIC_BASE_URL");
}

#[test]
fn keyless_identity_chooses_any_source_and_a_profile_wins() {
    let fake = Fake::start(|n, _| Reply::token(&token(n), 600));
    let env = TestEnv::new();
    let file = env.jwt_file();
    let r = env.run_with(&["credential", "anthropic"], |c| {
        c.env("ANTHROPIC_FEDERATION_RULE_ID", RULE)
            .env("ANTHROPIC_ORGANIZATION_ID", ORG)
            .env("ANTHROPIC_BASE_URL", &fake.url)
            .env("KEYLESS_IDENTITY", format!("file:{}", file.display()));
    });
    r.success();
    // a saved profile's fields win over the variables...
    let other =
        Fake::start(|n, _| Reply::token(&format!("sk-ant-oat01-prof{n:04}_abcdefghijkl"), 600));
    let file2 = env.path("token2.jwt");
    std::fs::write(&file2, shaped_jwt(300)).unwrap();
    env.setup_anthropic(
        &other.url,
        &["--identity", &format!("file:{}", file2.display())],
    );
    let r = env.run_with(&["credential", "anthropic"], |c| {
        c.env("ANTHROPIC_FEDERATION_RULE_ID", "fdrl_01fromenv")
            .env("ANTHROPIC_ORGANIZATION_ID", ORG)
            .env("ANTHROPIC_WORKSPACE_ID", WS)
            .env("ANTHROPIC_BASE_URL", &fake.url);
    });
    r.success();
    assert!(r.stdout.starts_with("sk-ant-oat01-prof"), "{}", r.stdout);
    let body = other.last().json();
    assert_eq!(body["federation_rule_id"], RULE, "the profile's rule wins");
    // ...and the variables fill only what the profile lacks
    assert_eq!(body["workspace_id"], WS);
}

#[test]
fn auth_status_says_where_each_field_came_from() {
    let env = TestEnv::new();
    let file = env.jwt_file();
    let project = env.path("project");
    std::fs::create_dir_all(project.join(".git")).unwrap();
    let r = env.run_with(&["auth", "status", "--json"], |c| {
        federation(c, "http://127.0.0.1:9", &file);
        c.current_dir(&project);
    });
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    crate::status::validate(&r.stdout);
    let p = &v["keyless"]["providers"][0];
    assert_eq!(p["provider"], "anthropic", "{v:#}");
    assert_eq!(p["federation_rule_id"], RULE);
    assert_eq!(
        p["origins"]["federation_rule_id"],
        "ANTHROPIC_FEDERATION_RULE_ID"
    );
    assert_eq!(p["origins"]["workspace_id"], "ANTHROPIC_WORKSPACE_ID");
    assert_eq!(p["identity"]["available"], true, "{p:#}");
    let human = env.run_with(&["auth", "status"], |c| {
        federation(c, "http://127.0.0.1:9", &file);
        c.current_dir(&project);
    });
    assert!(
        human.stdout.contains("from ANTHROPIC_FEDERATION_RULE_ID"),
        "{}",
        human.stdout
    );
}

/// The child keeps the federation variables, but the SDK cannot exchange
/// again: ANTHROPIC_AUTH_TOKEN, which keyless sets, outranks them in the
/// SDK's credential order (shown with the real Python SDK).
#[test]
fn the_sdk_under_exec_uses_the_token_not_the_federation_variables() {
    let Some(python) = std::env::var_os("KEYLESS_TEST_PYTHON") else {
        assert!(require_tool(
            "the pinned Python SDKs (KEYLESS_TEST_PYTHON)",
            false
        ));
        return;
    };
    let sb = Sandbox::start(&[]);
    let env = TestEnv::new();
    let file = env.path("token.jwt");
    std::fs::write(&file, sb.mint_jwt(&[])).unwrap();
    let script = "import anthropic\nc = anthropic.Anthropic()\nm = c.messages.create(model='claude-sandbox-1', max_tokens=16, messages=[{'role':'user','content':'hi'}])\nprint(m.content[0].text)\n";
    let r = env.run_with(
        &["exec", "--", python.to_str().unwrap(), "-c", script],
        |c| federation(c, &sb.url, &file),
    );
    r.success();
    let h = sb.history();
    assert_eq!(
        h["events"].as_array().unwrap().len(),
        1,
        "only keyless exchanged: {h:#}"
    );
}

/// Review finding: with an issuer saved (a sign-in session, a client
/// secret) and no provider configuration, variables alone must not point
/// the session's JWTs at an endpoint of their choosing.
#[test]
fn the_environment_cannot_send_saved_credentials_anywhere() {
    let evil = Fake::start(|n, _| Reply::token(&token(n), 600));
    let env = TestEnv::new();
    env.setup_issuer_offline("keyless-cli");
    for source in ["login", "client-credentials"] {
        let r = env.run_with(&["credential", "openai", "--no-login"], |c| {
            c.env("OPENAI_IDENTITY_PROVIDER_ID", "wip_01evil")
                .env("OPENAI_SERVICE_ACCOUNT_ID", "sa_evil")
                .env("KEYLESS_IDENTITY", source)
                .env(
                    "KEYLESS_OPENAI_TOKEN_ENDPOINT",
                    format!("{}/oauth/token", evil.url),
                );
        });
        r.fails(6, "KEYLESS_IDENTITY");
        let r = env.run_with(&["credential", "anthropic", "--no-login"], |c| {
            c.env("ANTHROPIC_FEDERATION_RULE_ID", RULE)
                .env("ANTHROPIC_ORGANIZATION_ID", ORG)
                .env("KEYLESS_IDENTITY", source)
                .env("ANTHROPIC_BASE_URL", &evil.url);
        });
        r.fails(6, "KEYLESS_IDENTITY");
    }
    assert_eq!(evil.count(), 0);
}

/// Review: `env` and `exec` without --type serve every configured
/// provider; a stray, partial set of another provider's variables (a
/// LiteLLM user's OPENAI_SERVICE_ACCOUNT_ID) must not break them.
#[test]
fn a_partial_set_for_another_provider_does_not_break_exec() {
    let fake = Fake::start(|n, _| Reply::token(&token(n), 600));
    let (env, _) = env_with_file_source(&fake.url);
    let r = env.run_with(EXEC_PRINTING_THE_TOKEN, |c| {
        c.env("OPENAI_SERVICE_ACCOUNT_ID", "sa_litellm");
    });
    r.success();
    assert!(r.stdout.starts_with("sk-ant-oat01-zero"), "{}", r.stdout);
    // asked for explicitly, the partial set is named
    env.run_with(&["credential", "openai"], |c| {
        c.env("OPENAI_SERVICE_ACCOUNT_ID", "sa_litellm");
    })
    .fails(6, "OPENAI_IDENTITY_PROVIDER_ID");
    // and auth status agrees: a warning, not a reason to fail
    let project = env.path("project");
    std::fs::create_dir_all(project.join(".git")).unwrap();
    let r = env.run_with(&["auth", "status", "--json"], |c| {
        c.env("OPENAI_SERVICE_ACCOUNT_ID", "sa_litellm")
            .current_dir(&project);
    });
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["ok"], true, "{v:#}");
    assert!(
        v["keyless"]["warnings"]
            .to_string()
            .contains("only in part"),
        "{v:#}"
    );
}
