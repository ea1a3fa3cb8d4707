//! Issue 11 §2, `auto` end to end: variables decide without any network
//! probe (fakes count connections on the probe addresses), the metadata
//! probes come last and find Google's or Azure's server, and when nothing
//! is found the error lists every source with why it was skipped.

use crate::ambient_azure::jwt_for;
use crate::common::*;
use crate::fake::{Fake, Reply};
use std::sync::atomic::Ordering;

const APP: &str = "api://keyless-auto-app";

fn token(n: usize) -> String {
    format!("sk-ant-oat01-auto{n:03}_abcdefghij")
}

fn auto_env(api: &Fake, audience: Option<&str>) -> TestEnv {
    let env = TestEnv::new();
    env.setup_with_audience(&api.url, "auto", audience);
    env
}

/// Probes allowed, and aimed at `gcp` and `imds`.
fn probes(c: &mut std::process::Command, gcp: &Fake, imds: &Fake) {
    c.env_remove("KEYLESS_NO_METADATA_PROBE")
        .env("GCE_METADATA_IP", gcp.url.trim_start_matches("http://"))
        .env("KEYLESS_AZURE_IMDS_ENDPOINT", &imds.url);
}

fn conns(f: &Fake) -> usize {
    f.connections.load(Ordering::SeqCst)
}

/// Answers as nothing does (404): neither Google's nor Azure's.
fn nobody() -> Fake {
    Fake::start(|_, _| Reply::raw(404, "text/plain", "not here"))
}

/// Google's metadata server: `Metadata-Flavor: Google` both ways.
fn google() -> Fake {
    Fake::start(|_, req| {
        if req.header("metadata-flavor") != Some("Google") {
            return Reply::raw(403, "text/plain", "");
        }
        let mut r = Reply::raw(200, "application/text", "");
        r.headers.push(("metadata-flavor".into(), "Google".into()));
        if req.path.contains("/identity?") {
            r.body = shaped_jwt(300).into_bytes();
        }
        r
    })
}

#[test]
fn a_variable_that_decides_means_no_probe_connection() {
    let gcp = google();
    let imds = nobody();
    let api = Fake::start(|n, _| Reply::token(&token(n), 600));
    let env = auto_env(&api, Some("https://api.anthropic.com"));
    let jwt = shaped_jwt(300);
    let r = env.run_with(&["-v", "credential", "anthropic"], |c| {
        probes(c, &gcp, &imds);
        c.env("ANTHROPIC_IDENTITY_TOKEN", &jwt);
    });
    r.success();
    assert!(
        r.stderr.contains("auto: using ANTHROPIC_IDENTITY_TOKEN"),
        "{}",
        r.stderr
    );
    // a CI endpoint decides too
    let bk = Fake::start(|_, _| Reply::json(200, serde_json::json!({"token": shaped_jwt(300)})));
    let r = env.run_with(&["-v", "credential", "anthropic", "--force-refresh"], |c| {
        probes(c, &gcp, &imds);
        c.env("BUILDKITE_AGENT_ENDPOINT", format!("{}/v3", bk.url))
            .env("BUILDKITE_AGENT_ACCESS_TOKEN", "bkua_secret_agent_token")
            .env("BUILDKITE_JOB_ID", "job-1");
    });
    r.success();
    assert!(
        r.stderr.contains("auto: using the Buildkite agent"),
        "{}",
        r.stderr
    );
    // -v says why the earlier ones were skipped
    assert!(
        r.stderr.contains("auto: skipped GitHub Actions"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("bkua_secret_agent_token"));
    assert_eq!(bk.count(), 1);
    // a cache hit detects nothing and probes nothing
    env.run_with(&["credential", "anthropic"], |c| probes(c, &gcp, &imds))
        .success();
    // auth status reads variables only
    let r = env.run_with(&["auth", "status", "--json"], |c| probes(c, &gcp, &imds));
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let id = &v["keyless"]["providers"][0]["identity"];
    assert!(
        id["reason"]
            .as_str()
            .unwrap()
            .contains("probes Google's metadata server"),
        "{id}"
    );
    assert!(id["skipped"].as_array().unwrap().len() > 5, "{id}");
    assert_eq!(conns(&gcp), 0, "no probe of Google's metadata server");
    assert_eq!(conns(&imds), 0, "no probe of Azure IMDS");
}

#[test]
fn the_probes_find_googles_metadata_server_last() {
    let gcp = google();
    let imds = nobody();
    let api = Fake::start(|n, _| Reply::token(&token(n), 600));
    let env = auto_env(&api, None);
    let r = env.run_with(&["-v", "credential", "anthropic"], |c| {
        probes(c, &gcp, &imds)
    });
    r.success();
    assert!(r.stderr.contains("probing"), "{}", r.stderr);
    assert!(
        r.stderr.contains("auto: using the GCP metadata server"),
        "{}",
        r.stderr
    );
    // the ping, then the identity request on the same server
    let reqs = gcp.requests.lock().unwrap().clone();
    assert_eq!(reqs[0].path, "/");
    assert!(
        reqs[1].path.contains("/service-accounts/default/identity?"),
        "{}",
        reqs[1].path
    );
    // no audience named: Azure IMDS is not probed at all
    assert_eq!(conns(&imds), 0);
    // NO_GCE_CHECK turns the ping off: nothing is found then
    let r = env.run_with(&["credential", "anthropic", "--force-refresh"], |c| {
        probes(c, &gcp, &imds);
        c.env("NO_GCE_CHECK", "true");
    });
    r.fails(3, "no identity source was found");
    assert!(r.stderr.contains("NO_GCE_CHECK"), "{}", r.stderr);
    assert_eq!(gcp.count(), 2);
}

#[test]
fn the_probes_find_azure_imds_when_an_audience_is_named() {
    let gcp = nobody();
    let imds = Fake::start(|_, req| {
        if req.header("metadata") != Some("true") {
            return Reply::json(400, serde_json::json!({"error": "bad_request_102"}));
        }
        Reply::json(200, serde_json::json!({"access_token": jwt_for(APP)}))
    });
    let api = Fake::start(|n, _| Reply::token(&token(n), 600));
    let env = auto_env(&api, Some(APP));
    let r = env.run_with(&["-v", "credential", "anthropic"], |c| {
        probes(c, &gcp, &imds)
    });
    r.success();
    assert!(r.stderr.contains("auto: using Azure IMDS"), "{}", r.stderr);
    let reqs = imds.requests.lock().unwrap().clone();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[0].header("metadata"),
        None,
        "the probe carries nothing"
    );
    assert_eq!(reqs[1].header("metadata"), Some("true"));
    assert!(
        reqs[1]
            .path
            .contains("resource=api%3A%2F%2Fkeyless-auto-app"),
        "{}",
        reqs[1].path
    );
    assert_eq!(conns(&gcp), 1, "both probed at once");
}

#[test]
fn nothing_found_lists_every_source_and_why() {
    let gcp = nobody();
    let imds = nobody();
    let api = Fake::start(|n, _| Reply::token(&token(n), 600));
    let env = auto_env(&api, Some(APP));
    let r = env.run_with(&["credential", "anthropic"], |c| {
        probes(c, &gcp, &imds);
        c.env("GITLAB_CI", "true");
    });
    r.fails(3, "no identity source was found");
    for needle in [
        "ANTHROPIC_IDENTITY_TOKEN_FILE",
        "GitHub Actions",
        "Azure DevOps",
        "Buildkite",
        "HCP Terraform",
        "Bitbucket",
        "CircleCI",
        "GitLab CI: a GitLab job",
        "AKS workload identity",
        "Azure App Service and Arc",
        "GCE_METADATA_HOST",
        "Google Cloud metadata server: answered 404",
        "Azure IMDS: answered 404",
    ] {
        assert!(r.stderr.contains(needle), "{needle}: {}", r.stderr);
    }
    assert_eq!(api.count(), 0);
    // a silent metadata address (it never answers) is given up on: both
    // probes reached it, keyless ended by itself and hung up on both
    let silent = Fake::start(|_, _| Reply::silent());
    let r = env.run_ending(&["credential", "anthropic"], |c| {
        probes(c, &silent, &silent);
    });
    r.fails(3, "no identity source was found");
    assert!(
        r.stderr.contains("Google Cloud metadata server: no answer"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("Azure IMDS: no answer"), "{}", r.stderr);
    // the time it names is the probe's own limit, not the general one
    assert!(
        r.stderr.contains("no answer from") && r.stderr.contains("within 1s"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("within 30s"), "{}", r.stderr);
    assert_eq!(silent.count(), 2, "both probes were sent");
    silent.assert_abandoned(2);
}

#[test]
fn auto_picks_azure_devops_from_its_variables_and_saves() {
    let dev = Fake::start(|_, _| {
        Reply::json(
            200,
            serde_json::json!({"oidcToken": jwt_for("api://AzureADTokenExchange")}),
        )
    });
    let api = Fake::start(|n, _| Reply::token(&token(n), 600));
    let env = auto_env(&api, None);
    let vars = |c: &mut std::process::Command| {
        c.env("SYSTEM_OIDCREQUESTURI", format!("{}/oidctoken", dev.url))
            .env("SYSTEM_ACCESSTOKEN", "ado-access-token-secret");
    };
    let r = env.run_with(&["-vv", "credential", "anthropic"], vars);
    r.success();
    assert!(
        r.stderr.contains("auto: using Azure DevOps"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("ado-access-token-secret"));
    let r = env.run_with(&["auth", "status", "--json"], vars);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let id = &v["keyless"]["providers"][0]["identity"];
    assert_eq!(id["source"], "auto");
    assert_eq!(id["audience"], "api://AzureADTokenExchange");
}
