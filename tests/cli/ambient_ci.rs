//! Issue 11 §2, the CI request APIs: Buildkite's agent OIDC endpoint and
//! Azure DevOps' (whose audience the platform fixes), against independent
//! fakes. The exact request, one fetch per exchange, the error classes and
//! exit codes, the request tokens never on stderr at -vv, and `auth status`
//! naming the audience the federation rule must match.

use crate::ambient_azure::jwt_for;
use crate::common::*;
use crate::fake::{Fake, Reply};

const AGENT_TOKEN: &str = "bkua_AGENTTOKENsecret0123456789";
const ACCESS_TOKEN: &str = "ADO-SYSTEMACCESSTOKEN-secret0123456789";
const JOB: &str = "0190a1b2-c3d4-4e5f-8a9b-0c1d2e3f4a5b";
const ADO_AUD: &str = "api://AzureADTokenExchange";

fn token(n: usize) -> String {
    format!("sk-ant-oat01-ci{n:03}_abcdefghij")
}

fn buildkite(c: &mut std::process::Command, url: &str) {
    c.env("BUILDKITE", "true")
        .env("BUILDKITE_AGENT_ENDPOINT", format!("{url}/v3"))
        .env("BUILDKITE_AGENT_ACCESS_TOKEN", AGENT_TOKEN)
        .env("BUILDKITE_JOB_ID", JOB);
}

#[test]
fn buildkite_posts_the_audience_for_the_job_per_exchange() {
    let bk = Fake::start(|_, req| {
        if req.header("authorization") != Some(&format!("Token {AGENT_TOKEN}")) {
            return Reply::json(401, serde_json::json!({"message": "Unauthorized"}));
        }
        Reply::json(200, serde_json::json!({"token": shaped_jwt(300)}))
    });
    let api = Fake::start(|n, _| Reply::token(&token(n), 600));
    let env = TestEnv::new();
    env.setup(&api.url, "buildkite");
    let r = env.run_with(&["-vv", "credential", "anthropic"], |c| {
        buildkite(c, &bk.url)
    });
    r.success();
    assert!(!r.stderr.contains(AGENT_TOKEN), "{}", r.stderr);
    let req = bk.last();
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, format!("/v3/jobs/{JOB}/oidc/tokens"));
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(
        req.json(),
        serde_json::json!({"audience": "https://api.anthropic.com"})
    );
    env.run_with(&["credential", "anthropic", "--force-refresh"], |c| {
        buildkite(c, &bk.url)
    })
    .success();
    assert_eq!(bk.count(), 2);
    assert_eq!(api.count(), 2);
    let r = env.run_with(&["auth", "status", "--json"], |c| buildkite(c, &bk.url));
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let id = &v["keyless"]["providers"][0]["identity"];
    assert_eq!(id["source"], "buildkite");
    assert_eq!(id["available"], true);
    assert_eq!(id["audience"], "https://api.anthropic.com");
    assert_eq!(bk.count(), 2, "auth status asks no one");
}

#[test]
fn buildkite_errors_have_their_classes() {
    for (reply, code, needle, tries) in [
        (Reply::json(401, serde_json::json!({})), 5, "refused", 1),
        (Reply::json(422, serde_json::json!({})), 4, "422", 1),
        // retried as the agent does, then a platform problem
        (Reply::json(503, serde_json::json!({})), 4, "503", 3),
        (
            Reply::json(200, serde_json::json!({"jwt": "x"})),
            4,
            "no JWT",
            1,
        ),
    ] {
        let bk = Fake::start(move |_, _| reply.clone());
        let env = TestEnv::new();
        env.setup("http://127.0.0.1:9", "buildkite");
        let r = env.run_with(&["-vv", "credential", "anthropic"], |c| {
            buildkite(c, &bk.url)
        });
        r.fails(code, needle);
        assert!(!r.stderr.contains(AGENT_TOKEN), "{}", r.stderr);
        assert_eq!(bk.count(), tries, "{needle}");
    }
    let env = TestEnv::new();
    env.setup("http://127.0.0.1:9", "buildkite");
    env.run(&["credential", "anthropic"])
        .fails(3, "BUILDKITE_AGENT_ACCESS_TOKEN");
}

fn ado(c: &mut std::process::Command, url: &str) {
    c.env("TF_BUILD", "True")
        .env(
            "SYSTEM_OIDCREQUESTURI",
            format!("{url}/org/proj/_apis/distributedtask/hubs/build/plans/p1/jobs/j1/oidctoken"),
        )
        .env("SYSTEM_ACCESSTOKEN", ACCESS_TOKEN);
}

fn ado_fake() -> Fake {
    Fake::start(|_, req| {
        if req.header("authorization") != Some(&format!("Bearer {ACCESS_TOKEN}")) {
            return Reply::json(401, serde_json::json!({}));
        }
        Reply::json(200, serde_json::json!({"oidcToken": jwt_for(ADO_AUD)}))
    })
}

#[test]
fn azure_pipelines_posts_for_the_job_and_service_connection() {
    let dev = ado_fake();
    let api = Fake::start(|n, _| Reply::token(&token(n), 600));
    let env = TestEnv::new();
    env.setup(
        &api.url,
        "azure-pipelines:6b9e2a1c-0d4f-4c55-9a7e-1f2e3d4c5b6a",
    );
    let r = env.run_with(&["-vv", "credential", "anthropic"], |c| ado(c, &dev.url));
    r.success();
    assert!(!r.stderr.contains(ACCESS_TOKEN), "{}", r.stderr);
    let req = dev.last();
    assert_eq!(req.method, "POST");
    assert_eq!(
        req.path,
        "/org/proj/_apis/distributedtask/hubs/build/plans/p1/jobs/j1/oidctoken?api-version=7.1&serviceConnectionId=6b9e2a1c-0d4f-4c55-9a7e-1f2e3d4c5b6a"
    );
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(req.header("content-length"), Some("0"));
    let sent = api.last().json()["assertion"].as_str().unwrap().to_string();
    assert_eq!(jwt_claims(&sent)["aud"], ADO_AUD);
    env.run_with(&["credential", "anthropic", "--force-refresh"], |c| {
        ado(c, &dev.url)
    })
    .success();
    assert_eq!(dev.count(), 2);
    // auth status: the audience the rule must match is the platform's
    let r = env.run_with(&["auth", "status", "--json"], |c| ado(c, &dev.url));
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let id = &v["keyless"]["providers"][0]["identity"];
    assert_eq!(
        id["source"],
        "azure-pipelines:6b9e2a1c-0d4f-4c55-9a7e-1f2e3d4c5b6a"
    );
    assert_eq!(id["audience"], ADO_AUD);
    assert_eq!(id["available"], true);
    let r = env.run_with(&["auth", "status"], |c| ado(c, &dev.url));
    assert!(
        r.stdout
            .contains("the federation rule must match audience api://AzureADTokenExchange"),
        "{}",
        r.stdout
    );
}

/// Without an id in the source, the service connection is the one the
/// AzureCLI task exports, as Azure's own libraries are handed it; with
/// neither, the pipeline's own token is asked for.
#[test]
fn azure_pipelines_takes_the_service_connection_the_task_exports() {
    let dev = ado_fake();
    let api = Fake::start(|n, _| Reply::token(&token(n), 600));
    let env = TestEnv::new();
    env.setup(&api.url, "azure-pipelines");
    env.run_with(&["credential", "anthropic"], |c| {
        ado(c, &dev.url);
        c.env("AZURESUBSCRIPTION_SERVICE_CONNECTION_ID", "0f1e2d3c-task");
    })
    .success();
    assert!(
        dev.last()
            .path
            .ends_with("?api-version=7.1&serviceConnectionId=0f1e2d3c-task"),
        "{}",
        dev.last().path
    );
    env.run_with(&["credential", "anthropic", "--force-refresh"], |c| {
        ado(c, &dev.url)
    })
    .success();
    assert!(
        dev.last().path.ends_with("/oidctoken?api-version=7.1"),
        "{}",
        dev.last().path
    );
}

#[test]
fn azure_pipelines_accepts_only_its_fixed_audience() {
    let dev = ado_fake();
    let api = Fake::start(|n, _| Reply::token(&token(n), 600));
    let env = TestEnv::new();
    env.setup(&api.url, "azure-pipelines");
    // another audience recorded: refused before anything is asked (exit 6)
    env.run(&[
        "setup",
        "anthropic",
        "--audience",
        "https://api.anthropic.com",
    ])
    .success();
    let r = env.run_with(&["credential", "anthropic"], |c| ado(c, &dev.url));
    r.fails(6, "always for audience api://AzureADTokenExchange");
    assert_eq!(dev.count(), 0);
    let r = env.run_with(&["auth", "status", "--json"], |c| ado(c, &dev.url));
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["keyless"]["providers"][0]["identity"]["available"], false);
    // the fixed one recorded: accepted
    env.run(&["setup", "anthropic", "--audience", ADO_AUD])
        .success();
    env.run_with(&["credential", "anthropic"], |c| ado(c, &dev.url))
        .success();
    assert_eq!(dev.count(), 1);
    // the access token not mapped into the step: exit 3, with the mapping
    let r = env.run_with(&["credential", "anthropic", "--force-refresh"], |c| {
        ado(c, &dev.url);
        c.env_remove("SYSTEM_ACCESSTOKEN");
    });
    r.fails(3, "SYSTEM_ACCESSTOKEN: $(System.AccessToken)");
    // refused (a wrong token) → 5; a server error → 4
    env.run_with(
        &["-vv", "credential", "anthropic", "--force-refresh"],
        |c| {
            ado(c, &dev.url);
            c.env("SYSTEM_ACCESSTOKEN", "wrong");
        },
    )
    .fails(5, "refused");
    let broken = Fake::start(|_, _| Reply::json(500, serde_json::json!({})));
    env.run_with(&["credential", "anthropic", "--force-refresh"], |c| {
        ado(c, &broken.url)
    })
    .fails(4, "500");
    // outside Azure Pipelines: exit 3 naming the variable
    env.run(&["credential", "anthropic", "--force-refresh"])
        .fails(3, "SYSTEM_OIDCREQUESTURI");
}

#[test]
fn every_source_reports_the_audience_the_rule_must_match() {
    let env = TestEnv::new();
    env.setup("http://127.0.0.1:9", "github-actions");
    let aud = |env: &TestEnv| -> serde_json::Value {
        let r = env.run(&["auth", "status", "--json"]);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        v["keyless"]["providers"][0]["identity"]["audience"].clone()
    };
    assert_eq!(aud(&env), "https://api.anthropic.com");
    env.run(&[
        "setup",
        "anthropic",
        "--audience",
        "https://example.test/aud",
    ])
    .success();
    assert_eq!(aud(&env), "https://example.test/aud");
    // a file source: the audience in the JWT at hand
    let file = env.path("t.jwt");
    std::fs::write(&file, jwt_for("api://from-the-token")).unwrap();
    env.run(&[
        "setup",
        "anthropic",
        "--identity",
        &format!("file:{}", file.display()),
    ])
    .success();
    assert_eq!(aud(&env), "api://from-the-token");
}

#[test]
fn a_one_token_per_job_variable_says_so_when_spent() {
    // auto picks HCP Terraform's token (its aud fits); a second exchange of
    // the same token is refused, saying the platform hands out one per job
    let api = Fake::start(|n, _| Reply::token(&token(n), 600));
    let env = TestEnv::new();
    env.setup(&api.url, "auto");
    let jwt = shaped_jwt(300);
    let vars = |c: &mut std::process::Command| {
        c.env("TFC_WORKLOAD_IDENTITY_TOKEN", &jwt);
    };
    let r = env.run_with(&["-v", "credential", "anthropic"], vars);
    r.success();
    assert!(
        r.stderr.contains("auto: using TFC_WORKLOAD_IDENTITY_TOKEN"),
        "{}",
        r.stderr
    );
    let r = env.run_with(&["credential", "anthropic", "--force-refresh"], vars);
    r.fails(3, "already exchanged");
    for needle in [
        "one token per job",
        "lifetime",
        "TFC_WORKLOAD_IDENTITY_TOKEN",
    ] {
        assert!(r.stderr.contains(needle), "{needle}: {}", r.stderr);
    }
    assert_eq!(api.count(), 1);
}
