//! Issue 11 §3, the sandbox's AWS STS stand-in: botocore (AWS's own Python
//! core, pinned in scripts/test) calls `GetWebIdentityToken` against it with
//! its own SigV4 signer and gets a JWT from the sandbox issuer, so the
//! stand-in speaks the real wire format; a wrong secret is refused; and
//! keyless's `aws` source exchanges the stand-in's JWT end to end.

use std::process::Command;

use crate::common::*;

const KEY_ID: &str = "AKIAKEYLESSSANDBOX01";
const SECRET: &str = "keyless-sandbox-secret-access-key-not-a-secret";
const REGION: &str = "us-east-1";

const BOTOCORE: &str = r#"
import sys, botocore.session, botocore.exceptions
url, secret = sys.argv[1], sys.argv[2]
s = botocore.session.get_session()
sts = s.create_client("sts", region_name="us-east-1", endpoint_url=url,
    aws_access_key_id="AKIAKEYLESSSANDBOX01", aws_secret_access_key=secret)
try:
    r = sts.get_web_identity_token(Audience=["https://api.anthropic.com", "aud-two"],
        SigningAlgorithm="RS256", DurationSeconds=600)
    print("token", r["WebIdentityToken"])
except botocore.exceptions.ClientError as e:
    print("error", e.response["Error"]["Code"])
"#;

/// The test Python, when it has botocore.
fn python() -> Option<String> {
    let p = std::env::var("KEYLESS_TEST_PYTHON")
        .ok()
        .filter(|p| !p.is_empty());
    let ok = p.as_deref().is_some_and(|p| {
        Command::new(p)
            .args(["-c", "import botocore"])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    require_tool("KEYLESS_TEST_PYTHON with botocore", ok).then(|| p.unwrap_or_default())
}

fn botocore(python: &str, sb: &Sandbox, secret: &str) -> String {
    let home = tempfile::tempdir().unwrap();
    let o = Command::new(python)
        .args(["-c", BOTOCORE, &sb.url, secret])
        .env_clear()
        .env("HOME", home.path())
        .env("AWS_CONFIG_FILE", home.path().join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.path().join("none"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap().trim().to_string()
}

#[test]
fn botocore_gets_a_jwt_from_the_sandbox_sts_and_a_wrong_secret_is_refused() {
    let Some(py) = python() else { return };
    let sb = Sandbox::start(&[]);
    let out = botocore(&py, &sb, SECRET);
    let jwt = out
        .strip_prefix("token ")
        .unwrap_or_else(|| panic!("{out}"));
    let c = jwt_claims(jwt);
    assert_eq!(c["iss"], sb.url.as_str(), "{c:#}");
    assert_eq!(c["sub"], "arn:aws:iam::000000000000:role/keyless-sandbox");
    assert_eq!(
        c["aud"],
        serde_json::json!(["https://api.anthropic.com", "aud-two"])
    );
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 600);
    assert_eq!(
        c["https://sts.amazonaws.com/"]["aws_account"],
        "000000000000"
    );
    // the stand-in verifies the signature: botocore with another secret is refused
    assert_eq!(
        botocore(&py, &sb, "wrong-secret"),
        "error SignatureDoesNotMatch"
    );
}

#[test]
fn keyless_aws_source_exchanges_the_sandbox_sts_jwt() {
    let env = TestEnv::new();
    let rules = env.path("rules.json");
    std::fs::write(
        &rules,
        serde_json::json!({
            "rules": [{
                "id": RULE, "organization_id": ORG, "issuer_url": "self",
                "match": {"subject_prefix": "arn:aws:iam::000000000000:role/*", "audience": "https://api.anthropic.com"},
                "service_account_id": SA, "workspace_ids": [WS], "token_lifetime_seconds": 600,
            }],
        })
        .to_string(),
    )
    .unwrap();
    let sb = Sandbox::start(&["--rules", rules.to_str().unwrap()]);
    env.setup(&sb.url, "aws");
    let vars = |secret: &'static str| {
        let url = sb.url.clone();
        move |c: &mut Command| {
            c.env("AWS_ACCESS_KEY_ID", KEY_ID)
                .env("AWS_SECRET_ACCESS_KEY", secret)
                .env("AWS_REGION", REGION)
                .env("AWS_ENDPOINT_URL_STS", url);
        }
    };
    let r = env.run_with(&["-vv", "credential", "anthropic"], vars(SECRET));
    r.success();
    assert!(
        r.stdout.starts_with("sk-ant-oat01-sandbox-"),
        "{}",
        r.stdout
    );
    assert!(!r.stderr.contains(SECRET), "{}", r.stderr);
    let h = sb.history();
    let last = h["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        last["subject"], "arn:aws:iam::000000000000:role/keyless-sandbox",
        "{h:#}"
    );
    // keyless signing with a wrong secret is refused by the stand-in: exit 5
    env.run_with(
        &["credential", "anthropic", "--force-refresh"],
        vars("not-the-sandbox-secret"),
    )
    .fails(5, "SignatureDoesNotMatch");
}
