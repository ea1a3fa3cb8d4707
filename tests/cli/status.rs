//! `keyless auth status`: the precedence matrix (snapshots), the JSON schema,
//! the static-key scan, `--check`, exit status, and no network without it.

use std::path::PathBuf;

use crate::common::*;
use crate::fake::{Fake, Reply};

/// A configured profile whose identity file holds a fresh JWT, a project dir
/// (with .git so the upward scan stops there) to run in, and no network.
pub struct StatusEnv {
    pub env: TestEnv,
    pub project: PathBuf,
}

impl StatusEnv {
    pub fn new() -> Self {
        let env = TestEnv::new();
        let file = env.jwt_file();
        env.setup("http://127.0.0.1:9", &format!("file:{}", file.display()));
        let project = env.path("project");
        std::fs::create_dir_all(project.join(".git")).unwrap();
        StatusEnv { env, project }
    }

    fn status(&self, args: &[&str], vars: &[(&str, &str)]) -> Run {
        let mut full = vec!["auth", "status"];
        full.extend_from_slice(args);
        self.env.run_with(&full, |c| {
            c.current_dir(&self.project);
            for (k, v) in vars {
                c.env(k, v);
            }
        })
    }

    /// Put a token keyless minted into the cache (through a fake exchange).
    fn mint(&self) -> String {
        let fake = Fake::start(|_, _| Reply::token("sk-ant-oat01-mintedBYkeyless_0123456789", 600));
        self.env
            .run(&["setup", "anthropic", "--base-url", &fake.url])
            .success();
        let r = self.env.run(&["credential", "anthropic"]);
        r.success();
        r.stdout
    }
}

fn snapshot(name: &str, r: &Run, root: &std::path::Path) {
    let root = root.display().to_string();
    insta::with_settings!({filters => vec![
        (root.as_str(), "[ROOT]"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[TIME]"),
        (r"\(in \d+[smhd]\)", "(in [DUR])"),
        (r"jti-\d+-\d+", "[JTI]"),
    ]}, {
        insta::assert_snapshot!(name, format!("exit {}\n--- stdout\n{}--- stderr\n{}", r.code, r.stdout, r.stderr));
    });
}

#[test]
fn matrix_clean() {
    let s = StatusEnv::new();
    let r = s.status(&[], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    snapshot("clean", &r, s.env.root.path());
}

#[test]
fn matrix_api_key_set() {
    let s = StatusEnv::new();
    let r = s.status(
        &[],
        &[("ANTHROPIC_API_KEY", "sk-ant-api03-SECRETVALUE-abcdef")],
    );
    assert_eq!(r.code, 1);
    assert!(!r.stdout.contains("SECRETVALUE") && !r.stderr.contains("SECRETVALUE"));
    snapshot("api_key_set", &r, s.env.root.path());
}

#[test]
fn matrix_api_key_and_auth_token_set() {
    let s = StatusEnv::new();
    let r = s.status(
        &[],
        &[
            ("ANTHROPIC_API_KEY", "sk-ant-api03-SECRETVALUE-abcdef"),
            ("ANTHROPIC_AUTH_TOKEN", "some-gateway-token"),
        ],
    );
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("Claude Code differs"), "{}", r.stdout);
    snapshot("api_key_and_auth_token", &r, s.env.root.path());
}

#[test]
fn matrix_keyless_minted_auth_token() {
    let s = StatusEnv::new();
    let token = s.mint();
    let r = s.status(&[], &[("ANTHROPIC_AUTH_TOKEN", &token)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("a token keyless minted; expires"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains(&token));
    snapshot("keyless_minted_auth_token", &r, s.env.root.path());
}

#[test]
fn matrix_foreign_auth_token() {
    let s = StatusEnv::new();
    let r = s.status(
        &[],
        &[("ANTHROPIC_AUTH_TOKEN", "sk-ant-oat01-NOTOURS-0123456789")],
    );
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("did not mint (foreign)"));
    snapshot("foreign_auth_token", &r, s.env.root.path());
}

#[test]
fn matrix_empty_string_key() {
    let s = StatusEnv::new();
    let r = s.status(&[], &[("ANTHROPIC_API_KEY", "")]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains("exported as an empty string: it still claims its slot")
    );
    snapshot("empty_string_key", &r, s.env.root.path());
}

#[test]
fn matrix_profile_pointing_to_a_missing_profile() {
    let s = StatusEnv::new();
    let r = s.status(&[], &[("ANTHROPIC_PROFILE", "ci")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("(wins) ANTHROPIC_PROFILE"),
        "{}",
        r.stdout
    );
    snapshot("missing_named_profile", &r, s.env.root.path());
}

#[test]
fn matrix_partial_federation_env() {
    let s = StatusEnv::new();
    let r = s.status(
        &[],
        &[
            ("ANTHROPIC_FEDERATION_RULE_ID", "fdrl_01x"),
            ("ANTHROPIC_IDENTITY_TOKEN_FILE", "/x"),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("partial, ignored by the SDKs: missing ANTHROPIC_ORGANIZATION_ID"),
        "{}",
        r.stdout
    );
    snapshot("partial_federation_env", &r, s.env.root.path());
}

#[test]
fn matrix_active_sdk_profile_on_disk() {
    let s = StatusEnv::new();
    let dir = s.env.home().join(".config/anthropic");
    std::fs::create_dir_all(dir.join("configs")).unwrap();
    std::fs::write(dir.join("active_config"), "work\n").unwrap();
    std::fs::write(
        dir.join("configs/work.json"),
        r#"{"version":"1.0","authentication":{"type":"oidc_federation","federation_rule_id":"fdrl_01x"}}"#,
    )
    .unwrap();
    let r = s.status(&[], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("(wins) active SDK profile"),
        "{}",
        r.stdout
    );
    snapshot("active_sdk_profile", &r, s.env.root.path());
}

pub fn validate(json: &str) {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/docs/auth-status.schema.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let value: serde_json::Value =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {json}"));
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "schema violations: {errors:#?}\n{json}");
}

#[test]
fn json_matches_the_documented_schema() {
    let s = StatusEnv::new();
    let r = s.status(&["--json"], &[]);
    assert_eq!(r.code, 0);
    validate(&r.stdout);
    let r = s.status(
        &["--json"],
        &[("ANTHROPIC_API_KEY", ""), ("ANTHROPIC_PROFILE", "nope")],
    );
    assert_eq!(r.code, 1);
    validate(&r.stdout);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["winner"], "ANTHROPIC_API_KEY");
    assert!(v["reasons"][0].as_str().unwrap().contains("empty string"));
    let token = s.mint();
    let r = s.status(&["--json"], &[("ANTHROPIC_AUTH_TOKEN", &token)]);
    validate(&r.stdout);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["keyless"]["providers"][0]["cache"]["state"], "fresh");
    assert_eq!(
        v["keyless"]["providers"][0]["cache"]["masked_token"],
        "sk-ant-oat01…"
    );
    assert!(v["precedence"][1]["keyless_expires_at"].is_i64());
    // no configuration at all is still a valid report
    let empty = TestEnv::new();
    let r = empty.run(&["auth", "status", "--json"]);
    assert_eq!(r.code, 1);
    validate(&r.stdout);
}

#[test]
fn without_check_there_is_no_network_and_no_identity_command() {
    let fake = Fake::start(|_, _| Reply::token("sk-ant-oat01-x_0123456789", 600));
    let env = TestEnv::new();
    let marker = env.path("ran");
    env.setup(&fake.url, &format!("command:touch {}", marker.display()));
    let r = env.run(&["auth", "status"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("`touch` found (not run without --check)"));
    assert_eq!(fake.count(), 0);
    assert!(!marker.exists());
}

#[test]
fn unavailable_identity_means_exit_1_with_the_reason() {
    let env = TestEnv::new();
    env.setup("http://127.0.0.1:9", "file:/nonexistent/token");
    let r = env.run(&["auth", "status"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains("NOT available: cannot read /nonexistent/token"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains("keyless cannot serve anthropic now"),
        "{}",
        r.stderr
    );
}

#[test]
fn check_against_the_sandbox_succeeds() {
    let sb = Sandbox::start(&[]);
    let env = TestEnv::new();
    env.setup(&sb.url, &sb.identity_command());
    let r = env.run(&["auth", "status", "--check", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    validate(&r.stdout);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let c = &v["check"][0];
    assert_eq!(c["ok"], true);
    assert_eq!(c["models_status"], 200);
    assert_eq!(c["workspace_id"], WS);
    assert_eq!(c["organization_id"], ORG);
    assert!(c["exchange_ms"].is_u64());
    let r = env.run(&["auth", "status", "--check"]);
    assert!(r.stdout.contains("ok: exchange"), "{}", r.stdout);
    assert_eq!(
        sb.history()["exchanges"],
        2,
        "--check always exchanges anew"
    );
}

#[test]
fn check_reports_a_denied_rule_with_its_hints() {
    let (_sb, env) = denied_rule_env();
    let r = env.run(&["auth", "status", "--check", "--json"]);
    assert_eq!(r.code, 1);
    validate(&r.stdout);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let e = &v["check"][0]["error"];
    assert_eq!(e["exit_code"], 5);
    assert!(e["message"].as_str().unwrap().contains(DENIED_RULE));
    assert!(
        e["hint"].as_str().unwrap().contains("/_sandbox/history"),
        "a sandbox denial points to the sandbox's history (issue 23)"
    );
    let r = env.run(&["auth", "status", "--check"]);
    assert!(r.stdout.contains("FAILED (exit 5)"), "{}", r.stdout);
    assert!(r.stdout.contains("likely causes"), "{}", r.stdout);
    assert!(
        r.stderr.contains("--check failed for anthropic"),
        "{}",
        r.stderr
    );
}

#[test]
fn openai_is_covered_static_key_minted_token_and_check() {
    let sb = Sandbox::start(&[]);
    let env = TestEnv::new();
    env.setup(&sb.url, &sb.identity_command());
    env.setup_openai(
        &sb.openai_token_endpoint(),
        &sb.identity_command_for(&["https://api.openai.com/v1"]),
    );
    // a static OpenAI key shadows keyless for the OpenAI SDKs
    let r = env.run_with(&["auth", "status", "--json"], |c| {
        c.env("OPENAI_API_KEY", "sk-proj-STATICSECRET-0123456789");
    });
    assert_eq!(r.code, 1);
    validate(&r.stdout);
    assert!(!r.stdout.contains("STATICSECRET") && !r.stderr.contains("STATICSECRET"));
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["openai_api_key"]["detail"], "a static API key (sk-…)");
    assert!(
        v["reasons"][0]
            .as_str()
            .unwrap()
            .starts_with("OPENAI_API_KEY is set"),
        "{v}"
    );
    let p = &v["keyless"]["providers"][1];
    assert_eq!(p["provider"], "openai");
    assert_eq!(p["identity_provider_id"], "wip_01sandbox");
    assert_eq!(p["cache"]["state"], "missing");
    // a token keyless minted is recognised, and does not count as shadowing
    let token = env.run(&["credential", "openai"]);
    token.success();
    let r = env.run_with(&["auth", "status"], |c| {
        c.env("OPENAI_API_KEY", &token.stdout);
    });
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("OPENAI_API_KEY                a token keyless minted"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("identity provider wip_01sandbox"),
        "{}",
        r.stdout
    );
    // --check exchanges for both providers and lists models with each token
    let r = env.run(&["auth", "status", "--check", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    validate(&r.stdout);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let checks = v["check"].as_array().unwrap();
    assert_eq!(checks.len(), 2);
    assert_eq!(checks[1]["provider"], "openai");
    assert_eq!(checks[1]["ok"], true, "{v}");
    assert_eq!(checks[1]["models_status"], 200);
    // the human report omits what does not apply: OpenAI names no
    // workspace or organization (issue 23)
    let r = env.run(&["auth", "status", "--check"]);
    let line = r
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("openai") && l.contains("ok: exchange"))
        .unwrap_or_else(|| panic!("{}", r.stdout));
    assert!(!line.contains('?') && !line.contains("workspace"), "{line}");
}

/// Issue 9: status re-implemented the `env` source with Anthropic's variables
/// hard-coded, so for an OpenAI profile it read the wrong pair: the answer
/// must be the one `credential openai` acts on.
#[test]
fn env_source_of_openai_reads_the_openai_variables() {
    let env = TestEnv::new();
    env.setup_openai("http://127.0.0.1:9/oauth/token", "env");
    let project = env.path("project");
    std::fs::create_dir_all(project.join(".git")).unwrap();
    let status = |vars: &[(&str, &str)]| {
        let r = env.run_with(&["auth", "status", "--json"], |c| {
            c.current_dir(&project);
            for (k, v) in vars {
                c.env(k, v);
            }
        });
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        let p = v["keyless"]["providers"][0].clone();
        assert_eq!(p["provider"], "openai", "{v:#}");
        p["identity"].clone()
    };
    let jwt = shaped_jwt(300);
    let i = status(&[("OPENAI_IDENTITY_TOKEN", &jwt)]);
    assert_eq!(i["available"], true, "{i:#}");
    let file = env.path("openai.jwt");
    std::fs::write(&file, &jwt).unwrap();
    let i = status(&[("OPENAI_IDENTITY_TOKEN_FILE", file.to_str().unwrap())]);
    assert_eq!(i["available"], true, "{i:#}");
    // Anthropic's variables are not the OpenAI profile's source.
    let i = status(&[("ANTHROPIC_IDENTITY_TOKEN", &jwt)]);
    assert_eq!(i["available"], false, "{i:#}");
    let reason = i["reason"].as_str().unwrap();
    assert!(
        reason.contains("OPENAI_IDENTITY_TOKEN_FILE") && reason.contains("OPENAI_IDENTITY_TOKEN"),
        "{reason}"
    );
    // and credential agrees: with only Anthropic's variable it cannot serve
    env.run_with(&["credential", "openai"], |c| {
        c.env("ANTHROPIC_IDENTITY_TOKEN", &jwt);
    })
    .fails(3, "OPENAI_IDENTITY_TOKEN");
}

/// Issue 17: `auth status` computed the audience without the profile's
/// issuer while `credential` asks with it: with an issuer audience set and
/// none on the provider, status named Anthropic's default. Both now ask
/// `Configured::audience` with the issuer.
#[test]
fn status_reports_the_audience_credential_asks_for() {
    let env = TestEnv::new();
    env.setup("http://127.0.0.1:9", "github-actions");
    let path = env.config_dir().join("config.json");
    let mut cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    cfg["profiles"]["default"]["issuer"] = serde_json::json!({
        "issuer": "https://idp.example",
        "client_id": "keyless-cli",
        "audience": "https://issuer.example/aud",
    });
    std::fs::write(&path, serde_json::to_vec_pretty(&cfg).unwrap()).unwrap();
    let r = env.run_with(&["auth", "status", "--json"], |c| {
        c.env("GITHUB_ACTIONS", "true")
            .env("ACTIONS_ID_TOKEN_REQUEST_URL", "http://127.0.0.1:9/token")
            .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "request-token");
    });
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}\n{}", r.stdout, r.stderr);
    });
    let identity = &v["keyless"]["providers"][0]["identity"];
    assert_eq!(
        identity["audience"], "https://issuer.example/aud",
        "{identity:#}"
    );
}

/// `auth status --json` gives absolute paths, also for relative
/// `--config-dir`/`--cache-dir` and `KEYLESS_CONFIG_DIR` (issue 23): a
/// consumer reads them from another directory.
#[test]
fn json_paths_are_absolute_for_relative_directories() {
    let env = TestEnv::new();
    let home = env.home();
    for (args, var) in [
        (
            &["--config-dir", "rel-cfg", "--cache-dir", "rel-cache"][..],
            None,
        ),
        (&[][..], Some("rel-var")),
    ] {
        let mut all = args.to_vec();
        all.extend(["auth", "status", "--json"]);
        let r = env.run_with(&all, |c| {
            c.current_dir(&home);
            if let Some(v) = var {
                c.env("KEYLESS_CONFIG_DIR", v).env("KEYLESS_CACHE_DIR", v);
            }
        });
        let v: serde_json::Value =
            serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stderr));
        for key in ["config_path", "cache_dir"] {
            let p = v["keyless"][key]
                .as_str()
                .unwrap_or_else(|| panic!("{key}: {v}"));
            assert!(
                std::path::Path::new(p).is_absolute() && p.starts_with(home.to_str().unwrap()),
                "{key}: {p}"
            );
        }
    }
}
