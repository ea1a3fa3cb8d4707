//! The official `anthropic` and `openai` Python SDKs (pinned by the test
//! command) as real clients of `keyless sandbox`.

use std::process::Command;

use crate::common::*;

const SCRIPT: &str = r#"
import anthropic
client = anthropic.Anthropic()
msg = client.messages.create(
    model="claude-sandbox-1", max_tokens=32,
    messages=[{"role": "user", "content": "hello"}],
)
print(msg.content[0].text)
"#;

fn python() -> Option<String> {
    python_with("anthropic")
}

/// (a) The SDK's own federation env vars against the sandbox's token
/// endpoint: proof that the sandbox speaks the SDK's wire format.
#[test]
fn sdk_federation_exchanges_against_the_sandbox() {
    let Some(py) = python() else { return };
    let sb = Sandbox::start(&[]);
    let env = TestEnv::new();
    let jwt_file = env.path("identity.jwt");
    std::fs::write(&jwt_file, sb.mint_jwt(&[])).unwrap();
    let out = Command::new(&py)
        .args(["-c", SCRIPT])
        .env_clear()
        .env("HOME", env.home())
        .env("ANTHROPIC_CONFIG_DIR", env.path("anthropic-config"))
        .env("ANTHROPIC_BASE_URL", &sb.url)
        .env("ANTHROPIC_FEDERATION_RULE_ID", RULE)
        .env("ANTHROPIC_ORGANIZATION_ID", ORG)
        .env("ANTHROPIC_SERVICE_ACCOUNT_ID", SA)
        .env("ANTHROPIC_WORKSPACE_ID", WS)
        .env("ANTHROPIC_IDENTITY_TOKEN_FILE", &jwt_file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("Hello from the keyless sandbox"));
    let h = sb.history();
    assert_eq!(h["exchanges"], 1, "{h}");
    assert_eq!(h["events"][0]["outcome"], "success", "{h}");
}

/// (b) `keyless exec -- python …`: the SDK uses the token keyless put in its
/// environment, and a leftover static key does not shadow it.
#[test]
fn sdk_uses_the_token_from_keyless_exec() {
    let Some(py) = python() else { return };
    let sb = Sandbox::start(&[]);
    let env = TestEnv::new();
    env.setup(&sb.url, &sb.identity_command());
    let r = env.run_with(&["exec", "--", &py, "-c", SCRIPT], |c| {
        c.env("ANTHROPIC_API_KEY", "sk-ant-api03-FAKE")
            .env("ANTHROPIC_CONFIG_DIR", env.path("anthropic-config"));
    });
    r.success();
    assert!(
        r.stdout.contains("Hello from the keyless sandbox"),
        "{}",
        r.stdout
    );
    assert_eq!(sb.history()["exchanges"], 1);
}

/// Lists the models with `OPENAI_API_KEY` and `OPENAI_BASE_URL`, as any
/// OpenAI SDK app would.
const OPENAI_LIST: &str = r#"
import openai
client = openai.OpenAI()
print(",".join(m.id for m in client.models.list()))
"#;

/// The SDK's own workload identity: it reads the subject token from a file
/// (its Kubernetes provider) and exchanges it itself.
const OPENAI_WORKLOAD_IDENTITY: &str = r#"
import os, openai
from openai.auth import k8s_service_account_token_provider
client = openai.OpenAI(
    base_url=os.environ["SANDBOX_URL"] + "/v1",
    workload_identity={
        "identity_provider_id": os.environ["WIP"],
        "service_account_id": os.environ["SERVICE_ACCOUNT"],
        "provider": k8s_service_account_token_provider(os.environ["JWT_FILE"]),
    },
)
# 3.51.0 takes no exchange URL: the client builds its exchanger with
# https://auth.openai.com/oauth/token, so point that exchanger at the sandbox.
client._workload_identity_auth.token_exchange_url = os.environ["SANDBOX_URL"] + "/openai/oauth/token"
try:
    print(",".join(m.id for m in client.models.list()))
except openai.OAuthError as e:
    print("oauth-error", e.status_code, e.error)
"#;

/// (a) `keyless exec --type openai -- python …`: the SDK lists models with
/// the token keyless put in `OPENAI_API_KEY`, not the static key it replaced.
#[test]
fn openai_sdk_uses_the_token_from_keyless_exec() {
    let Some(py) = python_with("openai") else {
        return;
    };
    let sb = Sandbox::start(&[]);
    let env = TestEnv::new();
    env.setup_openai_on(&sb);
    let r = env.run_with(
        &["exec", "--type", "openai", "--", &py, "-c", OPENAI_LIST],
        |c| {
            c.env("OPENAI_API_KEY", "sk-proj-leftover-static-key")
                .env("OPENAI_BASE_URL", format!("{}/v1", sb.url));
        },
    );
    r.success();
    assert_eq!(r.stdout.trim(), "gpt-sandbox-1");
    assert!(
        r.stderr.contains("replacing the static OPENAI_API_KEY"),
        "{}",
        r.stderr
    );
    let h = sb.history();
    assert_eq!(h["exchanges"], 1, "{h}");
    assert_eq!(h["events"][0]["provider"], "openai", "{h}");
}

/// (b) The SDK's own `workload_identity=` exchange against the sandbox's
/// endpoint: proof that the sandbox speaks OpenAI's wire format, errors too.
#[test]
fn openai_sdk_workload_identity_exchanges_against_the_sandbox() {
    let Some(py) = python_with("openai") else {
        return;
    };
    let sb = Sandbox::start(&[]);
    let env = TestEnv::new();
    let run = |service_account: &str| {
        let jwt_file = env.path("identity.jwt");
        std::fs::write(&jwt_file, sb.mint_jwt(&["--audience", OPENAI_AUDIENCE])).unwrap();
        let out = Command::new(&py)
            .args(["-c", OPENAI_WORKLOAD_IDENTITY])
            .env_clear()
            .env("HOME", env.home())
            .env("SANDBOX_URL", &sb.url)
            .env("WIP", WIP)
            .env("SERVICE_ACCOUNT", service_account)
            .env("JWT_FILE", &jwt_file)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(run(OPENAI_SA), "gpt-sandbox-1");
    let h = sb.history();
    assert_eq!(h["exchanges"], 1, "{h}");
    assert_eq!(h["events"][0]["outcome"], "success", "{h}");
    assert_eq!(h["events"][0]["service_account_id"], OPENAI_SA, "{h}");
    // a denial reaches the SDK as its OAuthError, with OpenAI's error code
    assert_eq!(run("sa_01sandboxdenied"), "oauth-error 400 invalid_grant");
}
