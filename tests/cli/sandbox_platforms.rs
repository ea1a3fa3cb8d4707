//! The sandbox's platform stand-ins speak the platforms' real wire formats:
//! the platforms' own client libraries (`@actions/core`, google-auth,
//! azure-identity) get JWTs from them, each refuses what its platform
//! refuses, and the sandbox's default rule for the platform accepts what it
//! mints.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use base64::Engine;

use crate::common::*;

/// `keyless sandbox --print-env PLATFORM`: the server and the variables it
/// printed.
pub struct PlatformSandbox {
    pub url: String,
    pub env: HashMap<String, String>,
    _sandbox: Sandbox,
}

impl PlatformSandbox {
    pub fn start(platform: &str) -> Self {
        let sandbox = Sandbox::start_until(&["--print-env", platform], "# listening on ");
        let env = sandbox
            .printed
            .iter()
            .filter(|l| !l.starts_with('#'))
            .map(|line| {
                let (k, v) = line
                    .strip_prefix("export ")
                    .and_then(|l| l.split_once('='))
                    .unwrap_or_else(|| panic!("not an export line: {line:?}"));
                (k.to_string(), v.trim_matches('\'').to_string())
            })
            .collect();
        PlatformSandbox {
            url: sandbox.url.clone(),
            env,
            _sandbox: sandbox,
        }
    }

    pub fn var(&self, k: &str) -> &str {
        self.env.get(k).unwrap_or_else(|| panic!("{k} not printed"))
    }

    /// Exchange `jwt` at the sandbox's Anthropic endpoint under the rule
    /// `--print-env` named: (status, body).
    pub fn exchange(&self, jwt: &str) -> (u16, String) {
        let body = serde_json::json!({
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": jwt,
            "federation_rule_id": self.var("ANTHROPIC_FEDERATION_RULE_ID"),
            "organization_id": self.var("ANTHROPIC_ORGANIZATION_ID"),
            "service_account_id": self.var("ANTHROPIC_SERVICE_ACCOUNT_ID"),
        });
        let r = raw(
            &self.url,
            "POST",
            "/v1/oauth/token",
            &[("content-type", "application/json")],
            &body.to_string(),
        );
        (r.status, r.body)
    }
}

// One HTTP/1.1 request to a loopback URL; `path` may carry a query.
use crate::common::http::call as raw;

/// The path and query of a URL the sandbox printed.
fn path_of(url: &str) -> String {
    let rest = url.strip_prefix("http://").unwrap();
    format!("/{}", rest.split_once('/').map(|x| x.1).unwrap_or(""))
}

/// A JWT's claims, unverified.
pub fn claims(jwt: &str) -> serde_json::Value {
    let payload = jwt.trim().split('.').nth(1).expect("a compact JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn platform_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/platform")
}

/// Run a Python snippet with only `env` (and PATH) set; (ok, stdout, stderr).
fn python(py: &str, code: &str, env: &[(&str, &str)]) -> (bool, String, String) {
    let mut c = Command::new(py);
    c.args(["-c", code])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_PROXY", "*");
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).trim().to_string(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

#[test]
fn actions_core_get_id_token_works_against_the_github_stand_in() {
    let sb = PlatformSandbox::start("github-actions");
    let request_url = sb.var("ACTIONS_ID_TOKEN_REQUEST_URL").to_string();
    let request_token = sb.var("ACTIONS_ID_TOKEN_REQUEST_TOKEN").to_string();
    assert_eq!(sb.var("GITHUB_ACTIONS"), "true");

    // The wire format, by hand: the bearer request token is required.
    let path = path_of(&request_url);
    let r = raw(&sb.url, "GET", &format!("{path}&audience=x"), &[], "");
    assert_eq!(r.status, 401, "{}", r.body);
    let r = raw(
        &sb.url,
        "GET",
        &format!("{path}&audience=x"),
        &[("authorization", "Bearer wrong")],
        "",
    );
    assert_eq!(r.status, 401, "{}", r.body);
    let bearer = format!("Bearer {request_token}");
    let r = raw(&sb.url, "GET", &path, &[("authorization", &bearer)], "");
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        claims(v["value"].as_str().unwrap())["aud"],
        "https://github.com/keyless-sandbox"
    );

    let node_modules = platform_dir().join("node_modules/@actions/core/package.json");
    if !require_tool(
        "tests/platform's npm packages (tests/platform/install.sh)",
        node_modules.exists(),
    ) {
        return;
    }
    let env = TestEnv::new();
    let out = env.path("jwt");
    let get = |url: &str, token: &str| {
        Command::new("node")
            .arg(platform_dir().join("get-id-token.mjs"))
            .arg("https://api.anthropic.com")
            .arg(&out)
            .current_dir(platform_dir())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("ACTIONS_ID_TOKEN_REQUEST_URL", url)
            .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", token)
            .output()
            .unwrap()
    };
    let o = get(&request_url, &request_token);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let jwt = std::fs::read_to_string(&out).unwrap();
    let c = claims(&jwt);
    assert_eq!(c["sub"], "repo:keyless-sandbox/demo:ref:refs/heads/main");
    assert_eq!(c["aud"], "https://api.anthropic.com");
    assert_eq!(c["repository_owner"], "keyless-sandbox");
    assert_eq!(c["iss"], sb.url.as_str());
    assert!(c["jti"].is_string());
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 300);
    let (s, body) = sb.exchange(&jwt);
    assert_eq!(s, 200, "the default GitHub rule must accept it: {body}");

    // @actions/core with a wrong request token gets the 401.
    std::fs::remove_file(&out).unwrap();
    let o = get(&request_url, "wrong");
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("401"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!out.exists());
}

const GCP_PATH: &str = "/computeMetadata/v1/instance/service-accounts/default/identity";

#[test]
fn google_auth_fetches_an_id_token_from_the_metadata_stand_in() {
    let sb = PlatformSandbox::start("gcp");
    let host = sb.var("GCE_METADATA_HOST").to_string();
    assert_eq!(sb.var("GCE_METADATA_IP"), host);

    let q = format!("{GCP_PATH}?audience=https%3A%2F%2Fapi.anthropic.com&format=full");
    let r = raw(&sb.url, "GET", &q, &[], "");
    assert_eq!(r.status, 403, "no Metadata-Flavor header: {}", r.body);
    let r = raw(
        &sb.url,
        "GET",
        &q,
        &[
            ("metadata-flavor", "Google"),
            ("x-forwarded-for", "10.0.0.1"),
        ],
        "",
    );
    assert_eq!(r.status, 403, "through a proxy: {}", r.body);
    let r = raw(
        &sb.url,
        "GET",
        GCP_PATH,
        &[("metadata-flavor", "Google")],
        "",
    );
    assert_eq!(r.status, 400, "no audience: {}", r.body);
    let r = raw(&sb.url, "GET", &q, &[("metadata-flavor", "Google")], "");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.header("metadata-flavor")
            .is_some_and(|v| v.eq_ignore_ascii_case("google")),
        "{}",
        r.head
    );
    let c = claims(&r.body);
    assert_eq!(
        c["google"]["compute_engine"]["project_id"],
        "keyless-sandbox"
    );
    let standard = raw(
        &sb.url,
        "GET",
        &format!("{GCP_PATH}?audience=a"),
        &[("metadata-flavor", "Google")],
        "",
    );
    assert!(
        claims(&standard.body).get("google").is_none(),
        "format=standard has no google claim"
    );

    let Some(py) = python_with("google.oauth2.id_token") else {
        return;
    };
    let code = "import google.auth.transport.requests as r\nfrom google.oauth2 import id_token\nprint(id_token.fetch_id_token(r.Request(), 'https://api.anthropic.com'))";
    let (ok, jwt, err) = python(
        &py,
        code,
        &[("GCE_METADATA_HOST", &host), ("GCE_METADATA_IP", &host)],
    );
    assert!(ok, "{err}");
    let c = claims(&jwt);
    assert_eq!(c["sub"], "104729384756102938475");
    assert_eq!(
        c["email"],
        "keyless-sandbox@keyless-sandbox.iam.gserviceaccount.com"
    );
    assert_eq!(c["aud"], "https://api.anthropic.com");
    assert!(
        c["google"]["compute_engine"].is_object(),
        "google-auth asks for format=full"
    );
    let (s, body) = sb.exchange(&jwt);
    assert_eq!(s, 200, "the default GCP rule must accept it: {body}");
}

#[test]
fn azure_identity_gets_tokens_from_the_imds_and_app_service_stand_ins() {
    let sb = PlatformSandbox::start("azure");
    let imds = sb.var("KEYLESS_AZURE_IMDS_ENDPOINT").to_string();
    assert_eq!(sb.var("AZURE_POD_IDENTITY_AUTHORITY_HOST"), imds);
    let app = "api://7f3c9a1e-2b4d-4c6e-8a0f-1d2e3f4a5b6c";
    let q = format!("/metadata/identity/oauth2/token?api-version=2018-02-01&resource={app}");
    let r = raw(&sb.url, "GET", &q, &[], "");
    assert_eq!(r.status, 400);
    assert!(r.body.contains("bad_request_102"), "{}", r.body);
    let r = raw(
        &sb.url,
        "GET",
        "/metadata/identity/oauth2/token?api-version=2018-02-01",
        &[("metadata", "true")],
        "",
    );
    assert_eq!(r.status, 400, "no resource: {}", r.body);
    let r = raw(&sb.url, "GET", &q, &[("metadata", "true")], "");
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert!(
        v["expires_in"].is_string() && v["expires_on"].is_string(),
        "Azure sends numbers as strings: {v}"
    );
    let c = claims(v["access_token"].as_str().unwrap());
    assert_eq!(
        (&c["aud"], &c["tid"], &c["oid"]),
        (
            &app.into(),
            &"6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b".into(),
            &c["sub"]
        )
    );
    assert!(c["appid"].is_string());
    let (s, body) = sb.exchange(v["access_token"].as_str().unwrap());
    assert_eq!(s, 200, "the default Azure rule must accept it: {body}");

    let apps = PlatformSandbox::start("azure-app-service");
    let endpoint = apps.var("IDENTITY_ENDPOINT").to_string();
    let header = apps.var("IDENTITY_HEADER").to_string();
    let q = format!(
        "{}?api-version=2019-08-01&resource={app}",
        path_of(&endpoint)
    );
    assert_eq!(raw(&apps.url, "GET", &q, &[], "").status, 400);
    assert_eq!(
        raw(&apps.url, "GET", &q, &[("x-identity-header", "wrong")], "").status,
        401
    );
    let r = raw(&apps.url, "GET", &q, &[("x-identity-header", &header)], "");
    assert_eq!(r.status, 200, "{}", r.body);

    let Some(py) = python_with("azure.identity") else {
        return;
    };
    let code = format!(
        "from azure.identity import ManagedIdentityCredential\nprint(ManagedIdentityCredential().get_token('{app}/.default').token)"
    );
    let (ok, jwt, err) = python(&py, &code, &[("AZURE_POD_IDENTITY_AUTHORITY_HOST", &imds)]);
    assert!(ok, "IMDS: {err}");
    assert_eq!(claims(&jwt)["aud"], app);
    assert_eq!(sb.exchange(&jwt).0, 200);
    let (ok, jwt, err) = python(
        &py,
        &code,
        &[
            ("IDENTITY_ENDPOINT", &endpoint),
            ("IDENTITY_HEADER", &header),
        ],
    );
    assert!(ok, "App Service: {err}");
    assert_eq!(claims(&jwt)["oid"], "2d3e4f50-6172-4834-95a6-b7c8d9e0f1a2");
    assert_eq!(apps.exchange(&jwt).0, 200);
    let (ok, _, err) = python(
        &py,
        &code,
        &[
            ("IDENTITY_ENDPOINT", &endpoint),
            ("IDENTITY_HEADER", "wrong"),
        ],
    );
    assert!(!ok, "a wrong IDENTITY_HEADER must fail: {err}");
}

#[test]
fn buildkite_stand_in_speaks_the_agent_oidc_api() {
    let sb = PlatformSandbox::start("buildkite");
    assert_eq!(sb.var("BUILDKITE"), "true");
    let base = path_of(sb.var("BUILDKITE_AGENT_ENDPOINT"));
    let job = sb.var("BUILDKITE_JOB_ID").to_string();
    let auth = format!("Token {}", sb.var("BUILDKITE_AGENT_ACCESS_TOKEN"));
    let path = format!("{base}/jobs/{job}/oidc/tokens");
    let json = ("content-type", "application/json");
    let body = r#"{"audience":"https://api.anthropic.com","lifetime":300}"#;
    assert_eq!(raw(&sb.url, "POST", &path, &[json], body).status, 401);
    assert_eq!(
        raw(
            &sb.url,
            "POST",
            &path,
            &[json, ("authorization", "Token wrong")],
            body
        )
        .status,
        401
    );
    let other = format!("{base}/jobs/0190a1b2-ffff-4e5f-8a9b-0c1d2e3f4a5b/oidc/tokens");
    assert_eq!(
        raw(
            &sb.url,
            "POST",
            &other,
            &[json, ("authorization", &auth)],
            body
        )
        .status,
        404
    );
    let long = r#"{"audience":"a","lifetime":99999}"#;
    assert_eq!(
        raw(
            &sb.url,
            "POST",
            &path,
            &[json, ("authorization", &auth)],
            long
        )
        .status,
        422
    );
    let r = raw(
        &sb.url,
        "POST",
        &path,
        &[json, ("authorization", &auth)],
        body,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let jwt = v["token"].as_str().unwrap();
    let c = claims(jwt);
    assert!(
        c["sub"]
            .as_str()
            .unwrap()
            .starts_with("organization:keyless-sandbox:pipeline:demo:ref:refs/heads/main:commit:"),
        "{c}"
    );
    assert_eq!(c["aud"], "https://api.anthropic.com");
    assert_eq!(c["job_id"], job.as_str());
    assert_eq!(
        sb.exchange(jwt).0,
        200,
        "the default Buildkite rule must accept it"
    );
}

#[test]
fn azure_devops_stand_in_speaks_the_oidc_request_uri() {
    let sb = PlatformSandbox::start("azure-pipelines");
    let path = path_of(sb.var("SYSTEM_OIDCREQUESTURI"));
    let auth = format!("Bearer {}", sb.var("SYSTEM_ACCESSTOKEN"));
    let conn = sb
        .var("AZURESUBSCRIPTION_SERVICE_CONNECTION_ID")
        .to_string();
    let json = ("content-type", "application/json");
    let q = format!("{path}?api-version=7.1&serviceConnectionId={conn}");
    assert_eq!(raw(&sb.url, "POST", &q, &[json], "").status, 401);
    assert_eq!(
        raw(
            &sb.url,
            "POST",
            &path,
            &[json, ("authorization", &auth)],
            ""
        )
        .status,
        400
    );
    let unknown =
        format!("{path}?api-version=7.1&serviceConnectionId=00000000-0000-4000-8000-000000000000");
    assert_eq!(
        raw(
            &sb.url,
            "POST",
            &unknown,
            &[json, ("authorization", &auth)],
            ""
        )
        .status,
        404
    );
    let r = raw(&sb.url, "POST", &q, &[json, ("authorization", &auth)], "");
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let jwt = v["oidcToken"].as_str().unwrap();
    let c = claims(jwt);
    assert_eq!(c["sub"], "sc://keyless-sandbox/demo/anthropic");
    assert_eq!(c["aud"], "api://AzureADTokenExchange");
    assert_eq!(
        sb.var("ANTHROPIC_OIDC_AUDIENCE"),
        "api://AzureADTokenExchange"
    );
    assert_eq!(
        sb.exchange(jwt).0,
        200,
        "the default Azure Pipelines rule must accept it"
    );
    let r = raw(
        &sb.url,
        "POST",
        &format!("{path}?api-version=7.1"),
        &[json, ("authorization", &auth)],
        "",
    );
    assert_eq!(
        claims(
            serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["oidcToken"]
                .as_str()
                .unwrap()
        )["sub"],
        "p://keyless-sandbox/demo/demo-pipeline"
    );
}

#[test]
fn print_env_prints_the_aws_test_credentials_and_only_assignments() {
    let sb = PlatformSandbox::start("aws");
    assert_eq!(sb.var("AWS_ENDPOINT_URL_STS"), sb.url);
    assert_eq!(sb.var("AWS_ACCESS_KEY_ID"), "AKIAKEYLESSSANDBOX01");
    assert_eq!(
        sb.var("AWS_SECRET_ACCESS_KEY"),
        "keyless-sandbox-secret-access-key-not-a-secret"
    );
    assert_eq!(sb.var("AWS_REGION"), "us-east-1");
    assert_eq!(sb.var("KEYLESS_IDENTITY"), "aws");
    assert_eq!(sb.var("ANTHROPIC_BASE_URL"), sb.url);
    // Each run has request tokens of its own.
    let a = PlatformSandbox::start("github-actions");
    let b = PlatformSandbox::start("github-actions");
    assert_ne!(
        a.var("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
        b.var("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
    );
}

/// `demo --ci PLATFORM`: the zero-setup run it narrates, for real. It
/// succeeds, prints the sandbox's reply, reaches the Messages API, and says
/// each of `needles` on stderr.
fn demo_ci(platform: &str, needles: &[&str]) -> Run {
    let r = TestEnv::new().run(&["demo", "--ci", platform]);
    r.success();
    assert!(
        r.stdout.starts_with("Hello from the keyless sandbox"),
        "{platform}: {}",
        r.stdout
    );
    for needle in needles.iter().chain(&["/v1/messages → 200"]) {
        assert!(
            r.stderr.contains(needle),
            "{platform}: {needle:?} missing from:\n{}",
            r.stderr
        );
    }
    r
}

/// The value `demo` shows for `var` (masked, it must be).
fn shown<'a>(r: &'a Run, var: &str) -> &'a str {
    let prefix = format!("{var}=");
    r.stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("{var} not shown:\n{}", r.stderr))
}

#[test]
fn demo_ci_github_actions_runs_a_zero_setup_job() {
    let r = demo_ci(
        "github-actions",
        &[
            "ANTHROPIC_FEDERATION_RULE_ID=fdrl_01sandboxgithub",
            "GITHUB_ACTIONS=true",
            "no config file",
            // the child exec found the source by itself, and asked GitHub's stand-in
            "auto: using GitHub Actions' OIDC endpoint",
            "requesting an identity token from GitHub Actions",
        ],
    );
    assert!(
        !r.stderr.contains("KEYLESS_IDENTITY="),
        "auto decides on GitHub: {}",
        r.stderr
    );
    // The request token is shown masked only.
    let shown = shown(&r, "ACTIONS_ID_TOKEN_REQUEST_TOKEN");
    assert!(shown.ends_with('…') && shown.len() < 20, "{shown}");
}

#[test]
fn demo_ci_gcp_runs_a_zero_setup_job() {
    demo_ci(
        "gcp",
        &[
            "ANTHROPIC_FEDERATION_RULE_ID=fdrl_01sandboxgcp",
            "GCE_METADATA_HOST=127.0.0.1:",
            "auto: using the GCP metadata server",
        ],
    );
}

/// Every other platform of the table runs a zero-setup job, each with the
/// identity source named where `auto` would not pick it.
#[test]
fn demo_ci_other_platforms_run_a_zero_setup_job() {
    for (platform, source, named) in [
        ("azure", "azure", true),
        ("azure-app-service", "azure", false),
        ("buildkite", "buildkite", false),
        ("azure-pipelines", "azure-pipelines", false),
        ("aws", "aws", true),
        // the job's token variable, and the projected token file
        ("gitlab", "env", false),
        ("kubernetes", "env", false),
    ] {
        let r = demo_ci(platform, &[]);
        assert_eq!(
            r.stderr.contains(&format!("KEYLESS_IDENTITY={source}")),
            named,
            "{platform}: {}",
            r.stderr
        );
    }
}

/// The README's recipe, verbatim in sh: source `--print-env`'s output, then
/// `keyless exec` runs as in the job, with no setup.
#[test]
fn print_env_sourced_by_sh_gives_exec_a_zero_setup_job() {
    let env = TestEnv::new();
    let script = format!(
        r#"set -e
cd "$1"
{BIN} sandbox --print-env github-actions > sandbox.env 2>/dev/null &
pid=$!
trap 'kill $pid' EXIT
until grep -q '^# listening on' sandbox.env 2>/dev/null; do sleep 0.1; done
. ./sandbox.env
{BIN} exec -- sh -c 'test "${{ANTHROPIC_AUTH_TOKEN#sk-ant-oat01-}}" != "$ANTHROPIC_AUTH_TOKEN" && echo handed-a-token'
"#
    );
    let o = env
        .external("sh")
        .args(["-c", &script, "sh"])
        .arg(env.root.path())
        .output()
        .unwrap();
    let r = Run::from(o);
    r.success();
    assert_eq!(r.stdout.trim(), "handed-a-token");
    assert!(
        !env.config_dir().join("config.json").exists(),
        "no config file was written"
    );
}

/// A repository created after 2026-07-15 gets GitHub's immutable `sub`: a
/// rule written for the old form denies it, one written for the new form
/// accepts it.
#[test]
fn github_immutable_subject_needs_a_rule_written_for_it() {
    let sb = PlatformSandbox::start("github-actions-immutable");
    let path = path_of(sb.var("ACTIONS_ID_TOKEN_REQUEST_URL"));
    let bearer = format!("Bearer {}", sb.var("ACTIONS_ID_TOKEN_REQUEST_TOKEN"));
    let mint = || {
        let r = raw(
            &sb.url,
            "GET",
            &format!("{path}&audience=https%3A%2F%2Fapi.anthropic.com"),
            &[("authorization", &bearer)],
            "",
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        v["value"].as_str().unwrap().to_string()
    };
    let jwt = mint();
    assert_eq!(
        claims(&jwt)["sub"],
        "repo:keyless-sandbox@190011111/demo@870022222:ref:refs/heads/main"
    );
    assert_eq!(
        sb.var("ANTHROPIC_FEDERATION_RULE_ID"),
        "fdrl_01sandboxgithubimmutable"
    );
    assert_eq!(sb.exchange(&jwt).0, 200);

    let old_rule = serde_json::json!({
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "assertion": mint(),
        "federation_rule_id": "fdrl_01sandboxgithub",
        "organization_id": sb.var("ANTHROPIC_ORGANIZATION_ID"),
    });
    let r = raw(
        &sb.url,
        "POST",
        "/v1/oauth/token",
        &[("content-type", "application/json")],
        &old_rule.to_string(),
    );
    assert_eq!(
        r.status, 401,
        "the old-form rule must not match: {}",
        r.body
    );
    let h = raw(&sb.url, "GET", "/_sandbox/history", &[], "");
    assert!(h.body.contains("match_subject_prefix"), "{}", h.body);

    demo_ci(
        "github-actions-immutable",
        &["fdrl_01sandboxgithubimmutable"],
    );
}

/// GitLab and Kubernetes hand the job its JWT (a variable, a file): the
/// sandbox mints them in the platform's claim shape, the README's rule for
/// each (subject, and GitLab's project ID) accepts them, and one from a
/// fork (another project ID, same path shape) is denied.
#[test]
fn gitlab_and_kubernetes_hand_over_jwts_their_rules_accept() {
    let gl = PlatformSandbox::start("gitlab");
    assert_eq!(gl.var("GITLAB_CI"), "true");
    assert_eq!(gl.var("KEYLESS_IDENTITY"), "env");
    let jwt = gl.var("ANTHROPIC_IDENTITY_TOKEN").to_string();
    let claims = jwt_claims(&jwt);
    assert_eq!(
        claims["sub"],
        "project_path:keyless-sandbox/demo:ref_type:branch:ref:main"
    );
    assert_eq!(claims["aud"], "https://api.anthropic.com");
    assert_eq!(claims["iss"], gl.url.as_str());
    let (status, body) = gl.exchange(&jwt);
    assert_eq!(status, 200, "{body}");

    let k8s = PlatformSandbox::start("kubernetes");
    let file = std::path::PathBuf::from(k8s.var("ANTHROPIC_IDENTITY_TOKEN_FILE"));
    let jwt = std::fs::read_to_string(&file).unwrap();
    let claims = jwt_claims(&jwt);
    assert_eq!(claims["sub"], "system:serviceaccount:keyless-sandbox:app");
    assert_eq!(claims["kubernetes.io"]["namespace"], "keyless-sandbox");
    assert_eq!(claims["aud"][0], "https://api.anthropic.com");
    let (status, body) = k8s.exchange(&jwt);
    assert_eq!(status, 200, "{body}");
}

#[test]
fn demo_ci_gitlab_and_kubernetes_narrate_what_the_job_is_handed() {
    let r = demo_ci(
        "gitlab",
        &[
            "GitLab CI (id_tokens)",
            "GITLAB_CI=true",
            "ANTHROPIC_FEDERATION_RULE_ID=fdrl_01sandboxgitlab",
            "project_id 42000001",
        ],
    );
    // The JWT itself is shown masked only.
    let shown = shown(&r, "ANTHROPIC_IDENTITY_TOKEN");
    assert!(
        shown.starts_with("a JWT ending …") && shown.len() < 24,
        "{shown}"
    );

    demo_ci(
        "kubernetes",
        &[
            "ANTHROPIC_IDENTITY_TOKEN_FILE=",
            "sub system:serviceaccount:keyless-sandbox:app",
        ],
    );
}
