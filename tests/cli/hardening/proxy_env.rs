//! Defect 12: one rule for what `--proxy` removes, as fields of the one
//! child-environment policy: behind the proxy the child holds no way to get
//! an identity JWT keyless would exchange (the JWT, a file naming one, a
//! platform's OIDC request token); `--help` says plainly what a same-user
//! child can still do.

use crate::common::*;
use crate::exec_proxy::upstream::Upstream;

const REMOVED: [&str; 11] = [
    "ANTHROPIC_IDENTITY_TOKEN_FILE",
    "OPENAI_IDENTITY_TOKEN_FILE",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "SYSTEM_ACCESSTOKEN",
    "BUILDKITE_AGENT_ACCESS_TOKEN",
    "IDENTITY_HEADER",
    "ANTHROPIC_IDENTITY_TOKEN",
    // the CI identity JWTs (and AKS's file) the auto source exchanges
    "TFC_WORKLOAD_IDENTITY_TOKEN",
    "BITBUCKET_STEP_OIDC_TOKEN",
    "CIRCLE_OIDC_TOKEN_V2",
    "AZURE_FEDERATED_TOKEN_FILE",
];

#[test]
fn the_proxy_child_gets_no_way_to_an_identity_jwt() {
    let up = Upstream::start(600);
    let env = TestEnv::new();
    let file = env.jwt_file();
    env.setup(&up.url, &format!("file:{}", file.display()));
    let out = env.path("env.txt");
    let mut c = env.exec_proxy_sh("anthropic", r#"env > "$OUT""#, &out);
    for v in REMOVED {
        c.env(v, format!("value-of-{v}"));
    }
    let r = Run::from(c.output().unwrap());
    r.success();
    let vars = std::fs::read_to_string(&out).unwrap();
    for v in REMOVED {
        assert!(!vars.contains(&format!("{v}=")), "the child inherited {v}");
    }
    assert!(vars.contains("ANTHROPIC_AUTH_TOKEN=keyless-proxy-"));
}

/// An `env:NAME` source (GitLab's `id_tokens`, named by the job): the
/// variable the profile exchanges is not the child's behind the proxy.
#[test]
fn the_proxy_child_does_not_get_the_env_name_sources_jwt() {
    let up = Upstream::start(600);
    let env = TestEnv::new();
    env.setup(&up.url, "env:GITLAB_OIDC_TOKEN");
    let out = env.path("env.txt");
    let mut c = env.exec_proxy_sh("anthropic", r#"env > "$OUT""#, &out);
    c.env("GITLAB_OIDC_TOKEN", shaped_jwt(300))
        .env("UNRELATED_VAR", "stays");
    let r = Run::from(c.output().unwrap());
    r.success();
    let vars = std::fs::read_to_string(&out).unwrap();
    assert!(
        !vars.contains("GITLAB_OIDC_TOKEN="),
        "the child inherited the env:NAME source's variable"
    );
    assert!(vars.contains("UNRELATED_VAR=stays"), "{vars}");
    assert!(vars.contains("ANTHROPIC_AUTH_TOKEN=keyless-proxy-"));
}

#[test]
fn exec_help_says_what_a_same_user_child_can_still_do() {
    let env = TestEnv::new();
    let r = env.run(&["exec", "--help"]);
    r.success();
    let text = r.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        text.contains("does not contain a hostile program running as the same user"),
        "{text}"
    );
    assert!(text.contains("keyless credential"), "{text}");
}
