//! Defect 10: the exact secret values keyless sent in a request (here App
//! Service's `X-IDENTITY-HEADER`, a GUID no shape rule catches) are
//! redacted from any server text shown about the answer.

use crate::common::*;
use crate::fake::{Fake, Reply};

const GUID: &str = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";

#[test]
fn a_request_secret_echoed_by_the_server_is_not_shown() {
    let ep = Fake::start(|_, req| {
        let echoed = req
            .header("x-identity-header")
            .unwrap_or("none")
            .to_string();
        Reply::json(
            400,
            serde_json::json!({
                "error": "invalid_request",
                "error_description": format!("unexpected X-IDENTITY-HEADER {echoed} for this resource")
            }),
        )
    });
    let api = Fake::start(|_, _| Reply::json(500, serde_json::json!({})));
    let env = TestEnv::new();
    env.setup_anthropic(
        &api.url,
        &[
            "--service-account-id",
            SA,
            "--workspace-id",
            WS,
            "--audience",
            "api://app",
            "--identity",
            "azure",
        ],
    );
    let r = env.run_with(&["-vv", "credential", "anthropic"], |c| {
        c.env("IDENTITY_ENDPOINT", format!("{}/msi/token", ep.url))
            .env("IDENTITY_HEADER", GUID);
    });
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("unexpected X-IDENTITY-HEADER"),
        "the server text is shown: {}",
        r.stderr
    );
    assert!(!r.stderr.contains(GUID), "{}", r.stderr);
}
