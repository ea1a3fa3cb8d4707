//! `auto`'s detection on simulated environments: a fake variable getter,
//! no network (detection never probes; it only plans the probes).

use super::*;
use crate::env_vars as ev;
use crate::jwt::tests::fake_jwt;

const ANTHROPIC_AUD: &str = "https://api.anthropic.com";

fn jwt(aud: &str) -> String {
    fake_jwt(
        r#"{"alg":"RS256"}"#,
        &format!(r#"{{"iss":"https://ci.example","sub":"s","aud":"{aud}","exp":4000000000}}"#),
    )
}

fn run(vars: &[(&str, &str)], audience: Option<&str>, explicit: bool) -> Detected {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let get = move |n: &str| vars.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let want = Want {
        provider: Provider::Anthropic,
        audience,
        explicit,
    };
    detect(&want, &get)
}

fn pick(vars: &[(&str, &str)]) -> Option<Pick> {
    run(vars, Some(ANTHROPIC_AUD), false).pick
}

#[test]
fn the_documented_order_decides() {
    let gh = [
        ("GITHUB_ACTIONS", "true"),
        ("ACTIONS_ID_TOKEN_REQUEST_URL", "https://gh.example/t?x=1"),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "t"),
    ];
    let ado = [("SYSTEM_OIDCREQUESTURI", "https://dev.azure.com/o/p/x")];
    let bk = [
        ("BUILDKITE", "true"),
        ("BUILDKITE_AGENT_ACCESS_TOKEN", "bkat"),
        ("BUILDKITE_JOB_ID", "0190-abc"),
    ];
    let tfc_jwt = jwt(ANTHROPIC_AUD);
    let tfc = [("TFC_WORKLOAD_IDENTITY_TOKEN", tfc_jwt.as_str())];
    let app = [
        ("IDENTITY_ENDPOINT", "http://localhost:4/msi/token"),
        ("IDENTITY_HEADER", "h"),
    ];
    let gce = [("GCE_METADATA_HOST", "127.0.0.1:1")];
    let own = [(ev::ANTHROPIC_IDENTITY_TOKEN, "x.y.z")];
    fn all<'a>(parts: &[&[(&'a str, &'a str)]]) -> Vec<(&'a str, &'a str)> {
        parts.iter().flat_map(|p| p.iter().copied()).collect()
    }
    // each alone
    assert_eq!(pick(&own), Some(Pick::Env(ev::ANTHROPIC_IDENTITY_TOKEN)));
    assert_eq!(pick(&gh), Some(Pick::GithubActions));
    assert_eq!(pick(&ado), Some(Pick::AzurePipelines));
    assert_eq!(pick(&bk), Some(Pick::Buildkite));
    assert_eq!(
        pick(&tfc),
        Some(Pick::TokenVar("TFC_WORKLOAD_IDENTITY_TOKEN"))
    );
    assert_eq!(
        pick(&app),
        Some(Pick::Azure(azure::Kind::AppService {
            endpoint: "http://localhost:4/msi/token".into()
        }))
    );
    assert_eq!(pick(&gce), Some(Pick::Gcp(None)));
    // and each earlier one beats every later one
    let order: [&[(&str, &str)]; 7] = [&own, &gh, &ado, &bk, &tfc, &app, &gce];
    for i in 0..order.len() {
        let alone = pick(order[i]);
        let with_later = pick(&all(&order[i..]));
        assert_eq!(alone, with_later, "step {i} must win over the later ones");
    }
    // explicit variables beat everything, even a GitHub job without permission
    assert_eq!(
        pick(&all(&[&own, &[("GITHUB_ACTIONS", "true")]])),
        Some(Pick::Env(ev::ANTHROPIC_IDENTITY_TOKEN))
    );
}

#[test]
fn a_github_job_without_the_permission_stops_there() {
    let d = run(
        &[
            ("GITHUB_ACTIONS", "true"),
            ("SYSTEM_OIDCREQUESTURI", "https://dev.azure.com/o/p/x"),
            ("GCE_METADATA_HOST", "127.0.0.1:1"),
        ],
        Some(ANTHROPIC_AUD),
        false,
    );
    assert_eq!(d.pick, Some(Pick::GithubWithoutPermission));
    assert!(!d.probes.any());
}

#[test]
fn token_variables_and_files_count_only_when_their_audience_fits() {
    let other = jwt("ari:cloud:bitbucket::workspace/x");
    let d = run(
        &[("BITBUCKET_STEP_OIDC_TOKEN", other.as_str())],
        Some(ANTHROPIC_AUD),
        false,
    );
    assert_eq!(d.pick, None);
    let why = d
        .skipped
        .iter()
        .find(|s| s.starts_with("Bitbucket"))
        .unwrap();
    assert!(
        why.contains("ari:cloud:bitbucket::workspace/x") && why.contains(ANTHROPIC_AUD),
        "{why}"
    );
    // the same token fits a rule that names its audience
    let d = run(
        &[("BITBUCKET_STEP_OIDC_TOKEN", other.as_str())],
        Some("ari:cloud:bitbucket::workspace/x"),
        true,
    );
    assert_eq!(d.pick, Some(Pick::TokenVar("BITBUCKET_STEP_OIDC_TOKEN")));
    // not a JWT: skipped, saying so
    let d = run(
        &[("CIRCLE_OIDC_TOKEN_V2", "nope")],
        Some(ANTHROPIC_AUD),
        false,
    );
    assert!(
        d.skipped
            .iter()
            .any(|s| s.contains("CircleCI") && s.contains("not a JWT")),
        "{:?}",
        d.skipped
    );

    let dir = std::env::temp_dir().join(format!("keyless-auto-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("azure-identity-token");
    std::fs::write(&file, jwt("api://AzureADTokenExchange")).unwrap();
    let path = file.to_str().unwrap();
    // an AKS token is for Entra's exchange, not for the default audience
    let d = run(
        &[("AZURE_FEDERATED_TOKEN_FILE", path)],
        Some(ANTHROPIC_AUD),
        false,
    );
    assert_eq!(d.pick, None);
    assert!(
        d.skipped
            .iter()
            .any(|s| s.starts_with("AKS") && s.contains("api://AzureADTokenExchange")),
        "{:?}",
        d.skipped
    );
    let d = run(
        &[("AZURE_FEDERATED_TOKEN_FILE", path)],
        Some("api://AzureADTokenExchange"),
        true,
    );
    assert_eq!(d.pick, Some(Pick::AzureFile(path.to_string())));
    // a missing file is skipped with the reason
    let d = run(
        &[("AZURE_FEDERATED_TOKEN_FILE", "/nonexistent/keyless/token")],
        Some(ANTHROPIC_AUD),
        false,
    );
    assert!(
        d.skipped
            .iter()
            .any(|s| s.contains("/nonexistent/keyless/token")),
        "{:?}",
        d.skipped
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn azure_endpoints_and_arc_are_told_apart() {
    assert_eq!(
        pick(&[
            (
                "IDENTITY_ENDPOINT",
                "http://localhost:40342/metadata/identity/oauth2/token"
            ),
            ("IMDS_ENDPOINT", "http://localhost:40342"),
        ]),
        Some(Pick::Azure(azure::Kind::Arc {
            endpoint: "http://localhost:40342/metadata/identity/oauth2/token".into()
        }))
    );
    // IDENTITY_ENDPOINT alone names neither
    assert_eq!(pick(&[("IDENTITY_ENDPOINT", "http://localhost:1/x")]), None);
}

#[test]
fn nothing_found_lists_every_source_and_plans_the_probes() {
    let d = run(
        &[
            ("BUILDKITE", "true"),
            ("GITLAB_CI", "true"),
            ("TF_BUILD", "True"),
        ],
        Some(ANTHROPIC_AUD),
        false,
    );
    assert_eq!(d.pick, None);
    let all = d.skipped.join("\n");
    for needle in [
        ev::ANTHROPIC_IDENTITY_TOKEN_FILE,
        "GitHub Actions",
        "Azure DevOps: a pipeline job, but SYSTEM_OIDCREQUESTURI",
        "Buildkite: a Buildkite job, but BUILDKITE_AGENT_ACCESS_TOKEN",
        "HCP Terraform",
        "Bitbucket",
        "CircleCI",
        "GitLab CI: a GitLab job",
        "env:NAME",
        "AKS workload identity",
        "Azure App Service and Arc",
        "GCE_METADATA_HOST",
        // no audience named: Azure IMDS is not even probed
        "Azure IMDS: not probed",
    ] {
        assert!(all.contains(needle), "{needle}: {all}");
    }
    assert_eq!(
        d.probes.gcp.as_ref().map(|u| u.as_str()),
        Some("http://169.254.169.254/")
    );
    assert!(d.probes.azure.is_none());
    assert!(
        d.describe().contains("probes Google's metadata server"),
        "{}",
        d.describe()
    );

    // with an audience named, Azure IMDS is probed too, at the override
    let d = run(
        &[
            ("GCE_METADATA_IP", "127.0.0.1:7"),
            (ev::KEYLESS_AZURE_IMDS_ENDPOINT, "http://127.0.0.1:8"),
        ],
        Some("api://app"),
        true,
    );
    assert_eq!(d.probes.gcp.unwrap().as_str(), "http://127.0.0.1:7/");
    assert_eq!(
        d.probes.azure.unwrap().as_str(),
        "http://127.0.0.1:8/metadata/identity/oauth2/token"
    );

    // probes can be turned off
    let d = run(
        &[(ev::KEYLESS_NO_METADATA_PROBE, "true")],
        Some("api://app"),
        true,
    );
    assert!(!d.probes.any());
    assert!(
        d.skipped
            .iter()
            .any(|s| s.contains(ev::KEYLESS_NO_METADATA_PROBE))
    );
    assert_eq!(d.describe(), "auto: no identity source was found");
    let d = run(&[("NO_GCE_CHECK", "true")], Some("api://app"), true);
    assert!(d.probes.gcp.is_none() && d.probes.azure.is_some());
}

#[test]
fn a_variable_that_decides_plans_no_probe() {
    for vars in [
        vec![(ev::ANTHROPIC_IDENTITY_TOKEN_FILE, "/x")],
        vec![("SYSTEM_OIDCREQUESTURI", "https://dev.azure.com/x")],
        vec![("GCE_METADATA_HOST", "127.0.0.1:1")],
    ] {
        let d = run(&vars, Some("api://app"), true);
        assert!(d.pick.is_some());
        assert!(!d.probes.any(), "{vars:?}");
    }
}
