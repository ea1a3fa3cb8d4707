//! The official `anthropic` Python SDK (pinned by the test command) as a real
//! client of `keyless sandbox`.

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
    let p = std::env::var("KEYLESS_TEST_PYTHON")
        .ok()
        .filter(|p| !p.is_empty());
    let ok = p.as_deref().is_some_and(|p| {
        Command::new(p)
            .args(["-c", "import anthropic"])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if require_tool("KEYLESS_TEST_PYTHON with the anthropic SDK", ok) {
        p
    } else {
        None
    }
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
        c.env("ANTHROPIC_API_KEY", "sk-ant-api03-leftover-static-key")
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
