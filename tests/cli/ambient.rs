//! Issue 11 §2: identity sources that fetch a fresh JWT per exchange from
//! the platform the job runs on, each tested against an independent fake
//! of the platform's endpoint: the exact request, the audience asked for,
//! one fetch per exchange, the error classes, and request tokens never on
//! stderr.

use crate::common::*;
use crate::fake::{Fake, Reply};

const REQUEST_TOKEN: &str = "ghs_REQUESTTOKENsecret0123456789";

fn token(n: usize) -> String {
    format!("sk-ant-oat01-ambient{n:03}_abcdefghij")
}

fn query(path: &str) -> Vec<(String, String)> {
    let u = url::Url::parse(&format!("http://x{path}")).unwrap();
    u.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[test]
fn github_actions_requests_a_fresh_jwt_with_the_audience_per_exchange() {
    // As GitHub does, the JWT names the audience asked for (keyless refuses
    // one for another audience than the profile records, issue 18 #5).
    let gh = Fake::start(|_, req| {
        let aud = query(&req.path)
            .into_iter()
            .find(|(k, _)| k == "audience")
            .map(|(_, v)| v)
            .unwrap_or_default();
        Reply::json(
            200,
            serde_json::json!({"value": crate::ambient_azure::jwt_for(&aud)}),
        )
    });
    let api = Fake::start(|n, _| Reply::token(&token(n), 600));
    let env = TestEnv::new();
    env.setup(&api.url, "github-actions");
    let vars = |c: &mut std::process::Command| {
        c.env("GITHUB_ACTIONS", "true")
            .env(
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                format!("{}/_apis/idtoken?api-version=2.0", gh.url),
            )
            .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN);
    };
    let r = env.run_with(&["-vv", "credential", "anthropic"], vars);
    r.success();
    assert!(!r.stderr.contains(REQUEST_TOKEN), "{}", r.stderr);
    let req = gh.last();
    assert_eq!(req.method, "GET");
    assert!(req.path.starts_with("/_apis/idtoken?"), "{}", req.path);
    assert_eq!(
        query(&req.path),
        vec![
            ("api-version".to_string(), "2.0".to_string()),
            (
                "audience".to_string(),
                "https://api.anthropic.com".to_string()
            )
        ]
    );
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bearer {REQUEST_TOKEN}").as_str())
    );
    // the JWT the platform handed out is the one exchanged
    let sent = api.last().json()["assertion"].as_str().unwrap().to_string();
    assert_eq!(sent.split('.').count(), 3);
    // a new exchange asks the platform again: never the same JWT twice
    env.run_with(&["credential", "anthropic", "--force-refresh"], vars)
        .success();
    assert_eq!(gh.count(), 2);
    assert_eq!(api.count(), 2);
    // --audience on setup changes what is asked for
    env.run(&[
        "setup",
        "anthropic",
        "--audience",
        "https://example.test/aud",
    ])
    .success();
    env.run_with(&["credential", "anthropic"], vars).success();
    assert!(
        query(&gh.last().path).contains(&("audience".into(), "https://example.test/aud".into())),
        "{}",
        gh.last().path
    );
}

#[test]
fn github_actions_without_the_permission_says_id_token_write() {
    let env = TestEnv::new();
    env.setup("http://127.0.0.1:9", "github-actions");
    let r = env.run_with(&["credential", "anthropic"], |c| {
        c.env("GITHUB_ACTIONS", "true");
    });
    r.fails(3, "id-token: write");
    assert!(r.stderr.contains("fork"), "{}", r.stderr);
    // outside GitHub Actions the message names the variables
    env.run(&["credential", "anthropic"])
        .fails(3, "ACTIONS_ID_TOKEN_REQUEST_URL");
}

#[test]
fn github_actions_errors_have_their_classes() {
    for (reply, code, needle) in [
        (
            Reply::json(401, serde_json::json!({"message": "Bad credentials"})),
            5,
            "refused",
        ),
        (Reply::json(500, serde_json::json!({})), 4, "500"),
        (
            Reply::json(200, serde_json::json!({"nothing": 1})),
            4,
            "no JWT",
        ),
    ] {
        let gh = Fake::start(move |_, _| reply.clone());
        let env = TestEnv::new();
        env.setup("http://127.0.0.1:9", "github-actions");
        let r = env.run_with(&["credential", "anthropic"], |c| {
            c.env("GITHUB_ACTIONS", "true")
                .env(
                    "ACTIONS_ID_TOKEN_REQUEST_URL",
                    format!("{}/idtoken?api-version=2.0", gh.url),
                )
                .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN);
        });
        r.fails(code, needle);
        assert!(!r.stderr.contains(REQUEST_TOKEN));
    }
}

#[test]
fn gcp_asks_the_metadata_server_with_its_header_and_full_format() {
    let mds = Fake::start(|_, req| {
        if req.header("metadata-flavor") != Some("Google") {
            return Reply::json(403, serde_json::json!({}));
        }
        let mut r = Reply::json(200, serde_json::json!({}));
        r.headers = vec![
            ("content-type".into(), "application/text".into()),
            ("metadata-flavor".into(), "Google".into()),
        ];
        r.body = shaped_jwt(300).into_bytes();
        r
    });
    let api = Fake::start(|n, _| Reply::token(&token(n), 600));
    let env = TestEnv::new();
    env.setup(&api.url, "gcp");
    let host = mds.url.trim_start_matches("http://").to_string();
    env.run_with(&["credential", "anthropic"], |c| {
        c.env("GCE_METADATA_HOST", &host);
    })
    .success();
    let req = mds.last();
    assert!(
        req.path
            .starts_with("/computeMetadata/v1/instance/service-accounts/default/identity?"),
        "{}",
        req.path
    );
    let q = query(&req.path);
    assert!(
        q.contains(&("audience".into(), "https://api.anthropic.com".into())),
        "{q:?}"
    );
    assert!(q.contains(&("format".into(), "full".into())), "{q:?}");
    assert_eq!(api.count(), 1);
    // a metadata server that does not answer as Google's is refused
    let other = Fake::start(|_, _| Reply::json(200, serde_json::json!({"x": 1})));
    let env2 = TestEnv::new();
    env2.setup(&api.url, "gcp");
    env2.run_with(&["credential", "anthropic"], |c| {
        c.env("GCE_METADATA_HOST", other.url.trim_start_matches("http://"));
    })
    .fails(4, "Metadata-Flavor");
}

#[test]
fn env_name_reads_the_named_variable_per_exchange() {
    let api = Fake::start(|n, _| Reply::token(&token(n), 600));
    let env = TestEnv::new();
    env.setup(&api.url, "env:GITLAB_ID_TOKEN");
    env.run(&["credential", "anthropic"])
        .fails(3, "GITLAB_ID_TOKEN");
    let jwt = shaped_jwt(300);
    env.run_with(&["credential", "anthropic"], |c| {
        c.env("GITLAB_ID_TOKEN", &jwt);
    })
    .success();
    assert_eq!(api.last().json()["assertion"], jwt.as_str());
    // one token per job: a second exchange of the same JWT is refused, saying why
    let r = env.run_with(&["credential", "anthropic", "--force-refresh"], |c| {
        c.env("GITLAB_ID_TOKEN", &jwt);
    });
    r.fails(3, "already exchanged");
    assert!(r.stderr.contains("GITLAB_ID_TOKEN"), "{}", r.stderr);
    env.run(&["setup", "anthropic", "--identity", "env:lower-case"])
        .fails(2, "variable name");
}

#[test]
fn auto_picks_the_platform_from_its_variables_and_explains_itself() {
    let gh = Fake::start(|_, _| Reply::json(200, serde_json::json!({"value": shaped_jwt(300)})));
    let api = Fake::start(|n, _| Reply::token(&token(n), 600));
    let env = TestEnv::new();
    env.setup(&api.url, "auto");
    // the provider's own variables come first, and decide without a request
    let jwt = shaped_jwt(300);
    let r = env.run_with(&["-v", "credential", "anthropic"], |c| {
        c.env("ANTHROPIC_IDENTITY_TOKEN", &jwt)
            .env("ACTIONS_ID_TOKEN_REQUEST_URL", format!("{}/t?x=1", gh.url))
            .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN);
    });
    r.success();
    assert_eq!(gh.count(), 0, "a variable decided: no request");
    assert!(
        r.stderr.contains("auto: using ANTHROPIC_IDENTITY_TOKEN"),
        "{}",
        r.stderr
    );
    // then GitHub Actions' request variables
    let r = env.run_with(&["-v", "credential", "anthropic", "--force-refresh"], |c| {
        c.env("GITHUB_ACTIONS", "true")
            .env("ACTIONS_ID_TOKEN_REQUEST_URL", format!("{}/t?x=1", gh.url))
            .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN);
    });
    r.success();
    assert_eq!(gh.count(), 1);
    assert!(
        r.stderr.contains("auto: using GitHub Actions"),
        "{}",
        r.stderr
    );
    // on a runner without the permission it stops there, with the hint
    env.run_with(&["credential", "anthropic", "--force-refresh"], |c| {
        c.env("GITHUB_ACTIONS", "true");
    })
    .fails(3, "id-token: write");
    // nothing found: every source considered, and why it was skipped
    let r = env.run(&["credential", "anthropic", "--force-refresh"]);
    r.fails(3, "no identity source was found");
    for needle in [
        "ANTHROPIC_IDENTITY_TOKEN_FILE",
        "GitHub Actions",
        "GCE_METADATA_HOST",
    ] {
        assert!(r.stderr.contains(needle), "{needle}: {}", r.stderr);
    }
    // auth status says what it would pick, without asking anyone
    let r = env.run_with(&["auth", "status", "--json"], |c| {
        c.env("ACTIONS_ID_TOKEN_REQUEST_URL", format!("{}/t?x=1", gh.url))
            .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN);
    });
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let reason = v["keyless"]["providers"][0]["identity"]["reason"]
        .as_str()
        .unwrap_or("");
    assert!(reason.contains("GitHub Actions"), "{v:#}");
    assert_eq!(gh.count(), 1, "status made no request");
}
