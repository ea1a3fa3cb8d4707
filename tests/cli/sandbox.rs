//! The sandbox as a server: it validates assertions as the reference says the
//! real service does, and its API accepts only live tokens it minted.

use crate::common::*;

/// An HTTP/1.1 request to the sandbox; returns (status, JSON body or null).
pub fn request(
    url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, serde_json::Value) {
    let r = http::call(url, method, path, headers, body);
    (r.status, r.json())
}

fn exchange(
    sb: &Sandbox,
    rule: &str,
    assertion: &str,
    workspace: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut body = serde_json::json!({
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "assertion": assertion, "federation_rule_id": rule, "organization_id": ORG, "service_account_id": SA,
    });
    if let Some(w) = workspace {
        body["workspace_id"] = w.into();
    }
    request(
        &sb.url,
        "POST",
        "/v1/oauth/token",
        &[("content-type", "application/json")],
        &body.to_string(),
    )
}

fn last_reason(sb: &Sandbox) -> String {
    let h = sb.history();
    h["events"].as_array().unwrap().last().unwrap()["reason"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[test]
fn validates_like_the_real_service() {
    let sb = Sandbox::start(&[]);
    let good = sb.mint_jwt(&[]);
    let (s, v) = exchange(&sb, RULE, &good, Some(WS));
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["token_type"], "Bearer");
    assert!(
        v["access_token"]
            .as_str()
            .unwrap()
            .starts_with("sk-ant-oat01-")
    );
    let lifetime = v["expires_in"].as_i64().unwrap();
    // min(rule 600, 2 × ~300 s remaining)
    assert!((590..=600).contains(&lifetime), "{lifetime}");

    // single-use jti
    let (s, v) = exchange(&sb, RULE, &good, Some(WS));
    assert_eq!(
        (s, v["error"]["message"].as_str()),
        (401, Some("Authentication failed"))
    );
    assert_eq!(last_reason(&sb), "jti_reused");

    let cases: Vec<(String, &str, Option<&str>, &str)> = vec![
        (
            sb.mint_jwt(&["--subject", "intruder"]),
            RULE,
            Some(WS),
            "match_subject_prefix",
        ),
        (
            sb.mint_jwt(&["--audience", "https://elsewhere"]),
            RULE,
            Some(WS),
            "jwt_audience_mismatch",
        ),
        (
            sb.mint_jwt(&["--lifetime", "7200"]),
            RULE,
            Some(WS),
            "jwt_lifetime_too_long",
        ),
        (
            sb.mint_jwt(&[]),
            "fdrl_01unknown",
            Some(WS),
            "rule_not_found",
        ),
        (
            sb.mint_jwt(&[]),
            RULE,
            Some("wrkspc_01other"),
            "workspace_not_covered",
        ),
        (
            sb.mint_jwt(&[]),
            DENIED_RULE,
            Some(WS),
            "match_subject_prefix",
        ),
    ];
    for (jwt, rule, ws, reason) in cases {
        let (s, _) = exchange(&sb, rule, &jwt, ws);
        assert_eq!(s, 401, "{reason}");
        assert_eq!(last_reason(&sb), reason);
    }
    // a forged signature: take a real token and swap in other claims
    let real = sb.mint_jwt(&[]);
    let other = sb.mint_jwt(&["--subject", "sandbox-workload-2"]);
    let forged: Vec<&str> = real.split('.').collect();
    let other_parts: Vec<&str> = other.split('.').collect();
    let forged = format!("{}.{}.{}", forged[0], other_parts[1], forged[2]);
    exchange(&sb, RULE, &forged, Some(WS));
    assert_eq!(last_reason(&sb), "jwt_signature_invalid");

    // malformed requests are 400 invalid_request_error with the field named
    let (s, v) = exchange(&sb, "rule-1", &sb.mint_jwt(&[]), None);
    assert_eq!(s, 400);
    assert_eq!(v["error"]["type"], "invalid_request_error");
    assert_eq!(
        v["error"]["message"],
        "federation_rule_id is not a well-formed fdrl_ tagged ID"
    );
}

#[test]
fn api_accepts_only_live_minted_tokens() {
    let sb = Sandbox::start(&[]);
    let (_, v) = exchange(&sb, RULE, &sb.mint_jwt(&[]), Some(WS));
    let token = v["access_token"].as_str().unwrap().to_string();
    let bearer = format!("Bearer {token}");
    let (s, v) = request(
        &sb.url,
        "GET",
        "/v1/models",
        &[
            ("authorization", &bearer),
            ("anthropic-version", "2023-06-01"),
        ],
        "",
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"][0]["type"], "model");
    let (s, _) = request(
        &sb.url,
        "GET",
        "/v1/models",
        &[
            ("authorization", "Bearer sk-ant-oat01-made-up"),
            ("anthropic-version", "2023-06-01"),
        ],
        "",
    );
    assert_eq!(s, 401);
    let (s, _) = request(
        &sb.url,
        "GET",
        "/v1/models",
        &[("anthropic-version", "2023-06-01")],
        "",
    );
    assert_eq!(s, 401);
    let body = r#"{"model":"claude-sandbox-1","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}"#;
    let (s, v) = request(
        &sb.url,
        "POST",
        "/v1/messages",
        &[
            ("x-api-key", &token),
            ("anthropic-version", "2023-06-01"),
            ("content-type", "application/json"),
        ],
        body,
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["type"], "message");
}

#[test]
fn a_rules_file_points_the_sandbox_at_other_rules() {
    let env = TestEnv::new();
    let rules = env.path("rules.json");
    std::fs::write(
        &rules,
        serde_json::json!({
            "issuers": [{"issuer_url": "self", "max_jwt_lifetime_seconds": 600, "check_jti": false}],
            "rules": [{
                "id": "fdrl_01custom", "organization_id": ORG, "issuer_url": "self",
                "match": {"subject_prefix": "ci-*", "audience": "https://api.anthropic.com"},
                "service_account_id": SA, "workspace_ids": [WS, "wrkspc_01two"], "token_lifetime_seconds": 120,
            }],
        })
        .to_string(),
    )
    .unwrap();
    let sb = Sandbox::start(&["--rules", rules.to_str().unwrap()]);
    let jwt = sb.mint_jwt(&["--subject", "ci-runner"]);
    // two workspaces and none named: workspace_id_required
    let (s, _) = exchange(&sb, "fdrl_01custom", &jwt, None);
    assert_eq!(s, 401);
    assert_eq!(last_reason(&sb), "workspace_id_required");
    // check_jti off: the same JWT may be exchanged again
    let (s, v) = exchange(&sb, "fdrl_01custom", &jwt, Some("wrkspc_01two"));
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["expires_in"], 120);
}

#[test]
fn sandbox_prints_the_setup_command_and_binds_loopback() {
    let sb = Sandbox::start(&[]);
    assert!(sb.url.starts_with("http://127.0.0.1:"));
    let disc = http_get_json(&format!("{}/.well-known/openid-configuration", sb.url));
    assert_eq!(disc["issuer"], sb.url.as_str());
    let jwks = http_get_json(&format!("{}/jwks", sb.url));
    assert_eq!(jwks["keys"][0]["kty"], "EC");
    assert!(jwks["keys"][0]["kid"].is_string());
}

#[test]
fn the_printed_setup_command_works() {
    let sb = Sandbox::start(&[]);
    let env = TestEnv::new();
    env.setup(&sb.url, &sb.identity_command());
    let r = env.run(&["-vv", "credential", "anthropic"]);
    r.success();
    assert!(r.stdout.starts_with("sk-ant-oat01-sandbox-"));
    assert!(r.stderr.contains("identity token: iss="), "{}", r.stderr);
}

#[test]
fn a_denied_rule_end_to_end() {
    let (sb, env) = denied_rule_env();
    let r = env.run(&["credential", "anthropic"]);
    r.fails(5, DENIED_RULE);
    assert!(r.stderr.contains("request-id req_sandbox_"), "{}", r.stderr);
    // the reason is in the sandbox's history, not the Console (issue 23)
    let history = format!("{}/_sandbox/history", sb.url);
    assert!(r.stderr.contains(&history), "{}", r.stderr);
    assert!(!r.stderr.contains("platform.claude.com"), "{}", r.stderr);
    let h = sb.history();
    assert!(h.to_string().contains("denied"), "{h}");
}

#[test]
fn demo_runs_the_main_job() {
    let env = TestEnv::new();
    let r = env.run(&["demo"]);
    r.success();
    // its closing advice is the README's: setup claude-code, not a
    // hand-written apiKeyHelper (issue 23)
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for advice in [
        "keyless setup claude-code",
        "keyless auth status --check",
        "keyless exec -- ",
    ] {
        assert!(
            r.stderr.contains(advice) && readme.contains(advice),
            "{advice}: {}",
            r.stderr
        );
    }
    assert!(!r.stderr.contains("\"apiKeyHelper\":"), "{}", r.stderr);
    assert!(
        r.stdout.contains("Hello from the keyless sandbox"),
        "{}",
        r.stdout
    );
    for step in [
        "1. Started the sandbox",
        "2. keyless setup",
        "3. keyless credential",
        "served from the on-disk cache",
        "4. A Messages call",
        "stand-in",
    ] {
        assert!(r.stderr.contains(step), "{step}: {}", r.stderr);
    }
    assert!(
        !env.config_dir().exists(),
        "the demo uses a throwaway config dir"
    );
}

/// A sandbox whose rule trusts another issuer (here a second sandbox acting as
/// an identity provider), by each JWKS mode.
#[test]
fn trusts_other_issuers_by_discovery_explicit_url_and_inline_keys() {
    let idp = Sandbox::start(&[]);
    let jwks = http_get_json(&format!("{}/jwks", idp.url));
    let env = TestEnv::new();
    for (i, mode) in [
        serde_json::json!({"type": "discovery"}),
        serde_json::json!({"type": "explicit_url", "url": format!("{}/jwks", idp.url)}),
        serde_json::json!({"type": "inline", "keys": jwks["keys"]}),
    ]
    .into_iter()
    .enumerate()
    {
        let rules = env.path(&format!("rules{i}.json"));
        std::fs::write(
            &rules,
            serde_json::json!({
                "issuers": [{"issuer_url": idp.url, "jwks": mode}],
                "rules": [{
                    "id": RULE, "organization_id": ORG, "issuer_url": idp.url,
                    "match": {"subject_prefix": "sandbox-workload"},
                    "service_account_id": SA, "workspace_ids": [WS], "token_lifetime_seconds": 600,
                }],
            })
            .to_string(),
        )
        .unwrap();
        let api = Sandbox::start(&["--rules", rules.to_str().unwrap()]);
        let (s, v) = exchange(&api, RULE, &idp.mint_jwt(&[]), Some(WS));
        assert_eq!(s, 200, "mode {i}: {v} {}", api.history());
        // a JWT from the API sandbox's own issuer has the wrong iss for this rule
        let (s, _) = exchange(&api, RULE, &api.mint_jwt(&[]), Some(WS));
        assert_eq!(s, 401);
        assert_eq!(last_reason(&api), "iss_mismatch");
    }
}
