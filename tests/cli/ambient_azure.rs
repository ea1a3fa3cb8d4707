//! Issue 11 §2, the `azure` source against independent fakes of Azure's
//! managed-identity endpoints: IMDS, App Service, Arc's challenge, and the
//! AKS workload identity file. The exact request, the resource asked for,
//! a fresh JWT per exchange, the documented retries, every error class and
//! the secrets never on stderr.

use crate::common::*;
use crate::fake::{Fake, Reply};

const APP: &str = "api://keyless-test-app";
const IDENTITY_HEADER: &str = "IDHDR-secret-0123456789abcdef";
const ARC_KEY: &str = "ARCKEY-secret-0123456789abcdef";

fn token(n: usize) -> String {
    format!("sk-ant-oat01-azure{n:03}_abcdefghij")
}

/// A JWT shaped like Entra's for `aud`, unique per call.
pub fn jwt_for(aud: &str) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let shaped = shaped_jwt(3600);
    let mut claims = jwt_claims(&shaped);
    claims["aud"] = aud.into();
    claims["iss"] = "https://login.microsoftonline.com/tid/v2.0".into();
    let parts: Vec<&str> = shaped.split('.').collect();
    format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        parts[2]
    )
}

fn query(path: &str) -> Vec<(String, String)> {
    let u = url::Url::parse(&format!("http://x{path}")).unwrap();
    u.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn mi_reply(aud: &str) -> Reply {
    Reply::json(
        200,
        serde_json::json!({
            "access_token": jwt_for(aud), "refresh_token": "", "expires_in": "3599",
            "expires_on": "1900000000", "not_before": "1899996400", "resource": aud,
            "token_type": "Bearer"
        }),
    )
}

/// IMDS as Microsoft documents it: `Metadata: true` or 400 bad_request_102.
fn imds() -> Fake {
    Fake::start(|_, req| {
        if req.header("metadata") != Some("true") {
            return Reply::json(
                400,
                serde_json::json!({"error": "invalid_request", "error_description": "Required metadata header not specified"}),
            );
        }
        mi_reply(APP)
    })
}

fn azure_env(api: &Fake, audience: Option<&str>) -> TestEnv {
    let env = TestEnv::new();
    env.setup_with_audience(&api.url, "azure", audience);
    env
}

#[test]
fn imds_is_asked_for_the_resource_with_its_header_per_exchange() {
    let md = imds();
    let api = Fake::start(|n, _| Reply::token(&token(n), 600));
    let env = azure_env(&api, Some(APP));
    let vars = |c: &mut std::process::Command| {
        c.env("KEYLESS_AZURE_IMDS_ENDPOINT", &md.url);
    };
    env.run_with(&["credential", "anthropic"], vars).success();
    let req = md.last();
    assert_eq!(req.method, "GET");
    assert!(
        req.path.starts_with("/metadata/identity/oauth2/token?"),
        "{}",
        req.path
    );
    assert_eq!(
        query(&req.path),
        vec![
            ("api-version".to_string(), "2018-02-01".to_string()),
            ("resource".to_string(), APP.to_string()),
        ]
    );
    assert_eq!(req.header("metadata"), Some("true"));
    let sent = api.last().json()["assertion"].as_str().unwrap().to_string();
    assert_eq!(jwt_claims(&sent)["aud"], APP);
    // a new exchange asks IMDS again, and a user-assigned identity is named
    env.run_with(&["credential", "anthropic", "--force-refresh"], |c| {
        vars(c);
        c.env("AZURE_CLIENT_ID", "11111111-2222-3333-4444-555555555555");
    })
    .success();
    assert_eq!(md.count(), 2);
    assert!(query(&md.last().path).contains(&(
        "client_id".into(),
        "11111111-2222-3333-4444-555555555555".into()
    )));
    // auth status names the source and the audience the rule must match
    let r = env.run(&["auth", "status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let id = &v["keyless"]["providers"][0]["identity"];
    assert_eq!(id["source"], "azure");
    assert_eq!(id["audience"], APP);
}

#[test]
fn the_resource_must_be_named_and_must_not_be_a_microsoft_api() {
    let md = imds();
    let api = Fake::start(|n, _| Reply::token(&token(n), 600));
    let env = azure_env(&api, None);
    let r = env.run_with(&["credential", "anthropic"], |c| {
        c.env("KEYLESS_AZURE_IMDS_ENDPOINT", &md.url);
    });
    r.fails(6, "--audience api://<app-id>");
    assert_eq!(md.count(), 0, "nothing is asked without a resource");
    // auth status says so too, without asking
    let r = env.run(&["auth", "status"]);
    assert!(
        r.stderr.contains("--audience api://<app-id>")
            || r.stdout.contains("--audience api://<app-id>"),
        "{}{}",
        r.stdout,
        r.stderr
    );
    let env = azure_env(&api, Some("https://management.azure.com/"));
    env.run_with(&["credential", "anthropic"], |c| {
        c.env("KEYLESS_AZURE_IMDS_ENDPOINT", &md.url);
    })
    .fails(6, "Microsoft API");
    assert_eq!(md.count(), 0);
}

#[test]
fn imds_retries_what_microsoft_documents_and_explains_the_rest() {
    // 429 and 503, then the token: retried with backoff
    let md = Fake::start(|n, _| match n {
        0 => Reply::json(429, serde_json::json!({"error": "throttled"})),
        1 => Reply::json(503, serde_json::json!({})),
        _ => mi_reply(APP),
    });
    let api = Fake::start(|n, _| Reply::token(&token(n), 600));
    let env = azure_env(&api, Some(APP));
    let r = env.run_with(&["-v", "credential", "anthropic"], |c| {
        c.env("KEYLESS_AZURE_IMDS_ENDPOINT", &md.url);
    });
    r.success();
    assert_eq!(md.count(), 3);
    assert!(r.stderr.contains("retrying"), "{}", r.stderr);
    // a design-time error is not retried: the resource is wrong (exit 6)
    for (reply, code, needle, tries) in [
        (
            Reply::json(
                400,
                serde_json::json!({"error": "invalid_resource", "error_description": "AADSTS50001: app not found"}),
            ),
            6,
            "invalid_resource",
            1,
        ),
        (
            Reply::json(401, serde_json::json!({"error": "unknown_source"})),
            5,
            "refused",
            1,
        ),
        // retried until the bound, then a platform problem
        (
            Reply::json(500, serde_json::json!({"error": "unknown"})),
            4,
            "500",
            4,
        ),
        (
            Reply::json(200, serde_json::json!({"x": 1})),
            4,
            "access_token",
            1,
        ),
    ] {
        let md = Fake::start(move |_, _| reply.clone());
        let r = env.run_with(&["credential", "anthropic", "--force-refresh"], |c| {
            c.env("KEYLESS_AZURE_IMDS_ENDPOINT", &md.url);
        });
        r.fails(code, needle);
        assert_eq!(md.count(), tries, "{needle}");
    }
    // unreachable: exit 4, naming it
    let port = closed_port();
    env.run_with(&["credential", "anthropic", "--force-refresh"], |c| {
        c.env(
            "KEYLESS_AZURE_IMDS_ENDPOINT",
            format!("http://127.0.0.1:{port}"),
        );
    })
    .fails(4, "Azure IMDS");
    // the override is a base URL on a local address, nothing else
    env.run_with(&["credential", "anthropic", "--force-refresh"], |c| {
        c.env("KEYLESS_AZURE_IMDS_ENDPOINT", "http://example.com:80");
    })
    .fails(6, "KEYLESS_AZURE_IMDS_ENDPOINT");
}

#[test]
fn app_service_sends_its_header_and_never_shows_it() {
    let ep = Fake::start(|_, req| {
        if req.header("x-identity-header") != Some(IDENTITY_HEADER) {
            return Reply::json(401, serde_json::json!({}));
        }
        mi_reply(APP)
    });
    let api = Fake::start(|n, _| Reply::token(&token(n), 600));
    let env = azure_env(&api, Some(APP));
    let vars = |c: &mut std::process::Command| {
        c.env("IDENTITY_ENDPOINT", format!("{}/msi/token", ep.url))
            .env("IDENTITY_HEADER", IDENTITY_HEADER);
    };
    let r = env.run_with(&["-vv", "credential", "anthropic"], vars);
    r.success();
    assert!(!r.stderr.contains(IDENTITY_HEADER), "{}", r.stderr);
    let req = ep.last();
    assert!(req.path.starts_with("/msi/token?"), "{}", req.path);
    assert_eq!(
        query(&req.path),
        vec![
            ("api-version".to_string(), "2019-08-01".to_string()),
            ("resource".to_string(), APP.to_string()),
        ]
    );
    // a wrong header is refused: exit 5, still not shown
    let r = env.run_with(
        &["-vv", "credential", "anthropic", "--force-refresh"],
        |c| {
            c.env("IDENTITY_ENDPOINT", format!("{}/msi/token", ep.url))
                .env("IDENTITY_HEADER", "IDHDR-wrong-secret-value");
        },
    );
    r.fails(5, "refused");
    assert!(
        !r.stderr.contains("IDHDR-wrong-secret-value"),
        "{}",
        r.stderr
    );
    // an endpoint that never answers: the total timeout bounds the wait
    // (exit 4); keyless ends by itself and hangs up
    let silent = Fake::start(|_, _| Reply::silent());
    env.run_ending(&["credential", "anthropic", "--force-refresh"], |c| {
        c.env("IDENTITY_ENDPOINT", format!("{}/msi/token", silent.url))
            .env("IDENTITY_HEADER", IDENTITY_HEADER);
    })
    .fails(4, "no answer");
    silent.assert_abandoned(1);
    // a request token never goes over plain http to a remote host
    env.run_with(&["credential", "anthropic", "--force-refresh"], |c| {
        c.env("IDENTITY_ENDPOINT", "http://example.com/msi/token")
            .env("IDENTITY_HEADER", IDENTITY_HEADER);
    })
    .fails(6, "not an https URL");
}

#[test]
fn arc_answers_its_challenge_from_the_key_directory_only() {
    let api = Fake::start(|n, _| Reply::token(&token(n), 600));
    let env = azure_env(&api, Some(APP));
    let dir = env.path("arc-tokens");
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("challenge.key");
    std::fs::write(&key, ARC_KEY).unwrap();
    let realm = key.display().to_string();
    let agent = Fake::start(move |_, req| {
        if req.header("metadata") != Some("true") {
            return Reply::json(400, serde_json::json!({"error": "bad_request_102"}));
        }
        match req.header("authorization") {
            Some(a) if a == format!("Basic {ARC_KEY}") => mi_reply(APP),
            _ => {
                let mut r = Reply::json(401, serde_json::json!({}));
                r.headers
                    .push(("www-authenticate".into(), format!("Basic realm={realm}")));
                r
            }
        }
    });
    let arc = |c: &mut std::process::Command, dir: &std::path::Path| {
        c.env(
            "IDENTITY_ENDPOINT",
            format!("{}/metadata/identity/oauth2/token", agent.url),
        )
        .env("IMDS_ENDPOINT", &agent.url)
        .env("KEYLESS_AZURE_ARC_KEY_DIR", dir);
    };
    let r = env.run_with(&["-vv", "credential", "anthropic"], |c| arc(c, &dir));
    r.success();
    assert!(!r.stderr.contains(ARC_KEY), "{}", r.stderr);
    assert_eq!(agent.count(), 2);
    let q = query(&agent.last().path);
    assert!(
        q.contains(&("api-version".into(), "2019-11-01".into())),
        "{q:?}"
    );
    assert!(q.contains(&("resource".into(), APP.into())), "{q:?}");
    // a challenge naming a file outside the key directory is not read
    let elsewhere = env.path("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let r = env.run_with(&["credential", "anthropic", "--force-refresh"], |c| {
        arc(c, &elsewhere)
    });
    r.fails(4, "not in the agent's key directory");
    assert_eq!(agent.count(), 3, "the key was never sent");
    // nor a file there that is not a .key
    let other = dir.join("passwd");
    std::fs::write(&other, "x").unwrap();
    let odd = Fake::start(move |_, _| {
        let mut r = Reply::json(401, serde_json::json!({}));
        r.headers.push((
            "www-authenticate".into(),
            format!("Basic realm={}", other.display()),
        ));
        r
    });
    env.run_with(&["credential", "anthropic", "--force-refresh"], |c| {
        c.env(
            "IDENTITY_ENDPOINT",
            format!("{}/metadata/identity/oauth2/token", odd.url),
        )
        .env("IMDS_ENDPOINT", &odd.url)
        .env("KEYLESS_AZURE_ARC_KEY_DIR", &dir);
    })
    .fails(4, ".key");
    assert_eq!(odd.count(), 1);
}

#[test]
fn aks_workload_identity_rereads_the_projected_file() {
    const EXCHANGE: &str = "api://AzureADTokenExchange";
    let api = Fake::start(|n, _| Reply::token(&token(n), 600));
    let env = azure_env(&api, Some(EXCHANGE));
    let file = env.path("azure-identity-token");
    let first = jwt_for(EXCHANGE);
    std::fs::write(&file, &first).unwrap();
    let vars = |c: &mut std::process::Command| {
        c.env("AZURE_FEDERATED_TOKEN_FILE", &file);
    };
    env.run_with(&["credential", "anthropic"], vars).success();
    assert_eq!(api.last().json()["assertion"], first.as_str());
    let second = jwt_for(EXCHANGE);
    std::fs::write(&file, &second).unwrap();
    env.run_with(&["credential", "anthropic", "--force-refresh"], vars)
        .success();
    assert_eq!(api.last().json()["assertion"], second.as_str());
    // a token projected for another audience than the profile's: exit 6
    let env2 = azure_env(&api, Some(APP));
    env2.run_with(&["credential", "anthropic"], vars)
        .fails(6, "api://AzureADTokenExchange");
    // the file missing: exit 3, naming it
    let env3 = azure_env(&api, Some(EXCHANGE));
    env3.run_with(&["credential", "anthropic"], |c| {
        c.env(
            "AZURE_FEDERATED_TOKEN_FILE",
            "/nonexistent/keyless/azure-token",
        );
    })
    .fails(3, "/nonexistent/keyless/azure-token");
}
