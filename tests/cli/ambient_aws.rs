//! Issue 11, the `aws` identity source: AWS credentials found as the AWS
//! SDKs find them (environment, web identity file, container endpoint,
//! IMDSv2), then `sts:GetWebIdentityToken` signed with SigV4. Each part is
//! tested against independent fakes; the fake STS verifies the SigV4
//! signature with the small independent implementation below (hmac +
//! sha2), so a request keyless signed wrongly is refused. The sandbox's
//! stand-in is checked with botocore, AWS's own Python core.

use crate::common::*;
use crate::fake::{Fake, Reply, Request};

const KEY_ID: &str = "AKIDKEYLESSTEST00001";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYsecretSECRET";
const SESSION: &str = "IQoJb3JpZ2luX2VjSESSIONTOKENsecret0123456789";
const CONTAINER_TOKEN: &str = "containerAUTHtokenSECRET0123456789";
const IMDS_TOKEN: &str = "imdsV2sessionTOKENsecret0123456789==";
const ROLE_KEY_ID: &str = "ASIAROLEKEYLESS00001";
const ROLE_SECRET: &str = "roleSECRETaccessKEYfromTHEplatform0123";
const ROLE_SESSION: &str = "roleSESSIONtokenFROMtheplatform0123456789";

fn token(n: usize) -> String {
    format!("sk-ant-oat01-aws{n:03}_abcdefghijklmn")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn sha256(b: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(b).to_vec()
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    use hmac::Mac;
    let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    m.update(data.as_bytes());
    m.finalize().into_bytes().to_vec()
}

/// SigV4 as AWS documents it, written apart from keyless: Ok(the
/// credential scope) when `req` is signed by `secret`, else why not.
fn sigv4(req: &Request, secret: &str) -> Result<String, String> {
    let auth = req.header("authorization").ok_or("no authorization")?;
    let rest = auth
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or("not AWS4-HMAC-SHA256")?;
    let part = |k: &str| {
        rest.split(", ")
            .find_map(|p| p.strip_prefix(k)?.strip_prefix('='))
            .ok_or(format!("no {k}"))
    };
    let (cred, signed, sig) = (
        part("Credential")?,
        part("SignedHeaders")?,
        part("Signature")?,
    );
    let scope = cred.split_once('/').ok_or("bad credential")?.1;
    let mut s = scope.split('/');
    let (day, region, service) = (s.next().unwrap(), s.next().unwrap(), s.next().unwrap());
    let date = req.header("x-amz-date").ok_or("no x-amz-date")?;
    let mut canonical_headers = String::new();
    for name in signed.split(';') {
        let v = req
            .header(name)
            .ok_or(format!("signed header {name} missing"))?;
        let v = v.split_whitespace().collect::<Vec<_>>().join(" ");
        canonical_headers.push_str(&format!("{name}:{v}\n"));
    }
    let path = req.path.split('?').next().unwrap();
    let creq = format!(
        "{}\n{path}\n\n{canonical_headers}\n{signed}\n{}",
        req.method,
        hex(&sha256(&req.body))
    );
    let sts = format!(
        "AWS4-HMAC-SHA256\n{date}\n{scope}\n{}",
        hex(&sha256(creq.as_bytes()))
    );
    let mut k = hmac(format!("AWS4{secret}").as_bytes(), day);
    for p in [region, service, "aws4_request"] {
        k = hmac(&k, p);
    }
    if hex(&hmac(&k, &sts)) == sig {
        Ok(cred.to_string())
    } else {
        Err(format!("signature mismatch for {creq:?}"))
    }
}

fn form(req: &Request) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&req.body)
        .into_owned()
        .collect()
}

fn sts_ok() -> Reply {
    Reply::raw(
        200,
        "text/xml",
        format!(
            "<GetWebIdentityTokenResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetWebIdentityTokenResult><WebIdentityToken>{}</WebIdentityToken><Expiration>2030-01-01T00:00:00Z</Expiration></GetWebIdentityTokenResult></GetWebIdentityTokenResponse>",
            shaped_jwt(300)
        ),
    )
}

fn sts_error(status: u16, code: &str, msg: &str) -> Reply {
    Reply::raw(
        status,
        "text/xml",
        format!(
            "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{msg}</Message></Error><RequestId>r1</RequestId></ErrorResponse>"
        ),
    )
}

/// A fake STS that answers GetWebIdentityToken when signed by `secret`.
fn fake_sts(secret: &'static str) -> Fake {
    Fake::start(move |_, req| match sigv4(req, secret) {
        Ok(_) => sts_ok(),
        Err(e) => sts_error(403, "SignatureDoesNotMatch", &e),
    })
}

/// No secret at -vv, and no JWT.
fn assert_quiet(stderr: &str) {
    for s in [
        SECRET,
        SESSION,
        CONTAINER_TOKEN,
        IMDS_TOKEN,
        ROLE_SECRET,
        ROLE_SESSION,
    ] {
        assert!(!stderr.contains(s), "a secret reached stderr: {stderr}");
    }
    assert_no_secrets(stderr);
}

/// A closed loopback IMDS: no test may reach 169.254.169.254.
fn no_imds(c: &mut std::process::Command) -> &mut std::process::Command {
    c.env(
        "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        format!("http://127.0.0.1:{}", closed_port()),
    )
}

#[test]
fn aws_signs_get_web_identity_token_with_env_credentials_per_exchange() {
    let sts = fake_sts(SECRET);
    let api = Fake::start(|n, _| Reply::token(&token(n), 600));
    let env = TestEnv::new();
    env.setup(&api.url, "aws");
    let vars = |c: &mut std::process::Command| {
        no_imds(c)
            .env("AWS_ACCESS_KEY_ID", KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("AWS_SESSION_TOKEN", SESSION)
            .env("AWS_REGION", "eu-west-2")
            .env("AWS_ENDPOINT_URL_STS", &sts.url);
    };
    let r = env.run_with(&["-vv", "credential", "anthropic"], vars);
    r.success();
    assert_quiet(&r.stderr);
    let req = sts.last();
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/");
    assert!(
        req.header("content-type")
            .unwrap()
            .starts_with("application/x-www-form-urlencoded"),
        "{req:?}"
    );
    assert_eq!(
        form(&req),
        [
            ("Action", "GetWebIdentityToken"),
            ("Version", "2011-06-15"),
            ("Audience.member.1", "https://api.anthropic.com"),
            ("SigningAlgorithm", "RS256"),
            ("DurationSeconds", "300"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    // signed for STS in the region, by these credentials, session token sent
    let scope = sigv4(&req, SECRET).unwrap();
    assert!(scope.starts_with(&format!("{KEY_ID}/")), "{scope}");
    assert!(scope.ends_with("/eu-west-2/sts/aws4_request"), "{scope}");
    assert_eq!(req.header("x-amz-security-token"), Some(SESSION));
    let signed = req.header("authorization").unwrap();
    assert!(signed.contains("x-amz-security-token"), "{signed}");
    // the JWT STS minted is the one exchanged
    let sent = api.last().json()["assertion"].as_str().unwrap().to_string();
    assert!(sts.requests.lock().unwrap().len() == 1 && sent.split('.').count() == 3);
    // a new exchange asks STS again, for a new JWT
    env.run_with(&["credential", "anthropic", "--force-refresh"], vars)
        .success();
    assert_eq!(sts.count(), 2);
    assert_ne!(api.last().json()["assertion"].as_str().unwrap(), sent);
    // the fake really checks: a wrong secret is refused, exit 5
    let r = env.run_with(&["credential", "anthropic", "--force-refresh"], |c| {
        vars(c);
        c.env("AWS_SECRET_ACCESS_KEY", "not-the-secret");
    });
    r.fails(5, "SignatureDoesNotMatch");
    // AWS_ENDPOINT_URL redirects too, when the STS one is unset
    env.run_with(&["credential", "anthropic", "--force-refresh"], |c| {
        vars(c);
        c.env_remove("AWS_ENDPOINT_URL_STS")
            .env("AWS_ENDPOINT_URL", &sts.url);
    })
    .success();
    assert_eq!(sts.count(), 4);
}

#[test]
fn aws_web_identity_file_assumes_the_role_unsigned_then_signs_with_its_credentials() {
    let sts = Fake::start(|_, req| {
        let f = form(req);
        let get = |k: &str| f.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        match get("Action").as_deref() {
            Some("AssumeRoleWithWebIdentity") if req.header("authorization").is_none() => {
                Reply::raw(
                    200,
                    "text/xml",
                    format!(
                        "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>{ROLE_KEY_ID}</AccessKeyId><SecretAccessKey>{ROLE_SECRET}</SecretAccessKey><SessionToken>{ROLE_SESSION}</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>"
                    ),
                )
            }
            Some("GetWebIdentityToken")
                if sigv4(req, ROLE_SECRET).is_ok()
                    && req.header("x-amz-security-token") == Some(ROLE_SESSION) =>
            {
                sts_ok()
            }
            _ => sts_error(403, "AccessDenied", "unexpected request"),
        }
    });
    let api = Fake::start(|n, _| Reply::token(&token(n), 600));
    let env = TestEnv::new();
    env.setup(&api.url, "aws");
    let irsa = shaped_jwt(3600);
    let file = env.path("irsa-token");
    std::fs::write(&file, &irsa).unwrap();
    let r = env.run_with(&["-vv", "credential", "anthropic"], |c| {
        no_imds(c)
            .env("AWS_WEB_IDENTITY_TOKEN_FILE", &file)
            .env("AWS_ROLE_ARN", "arn:aws:iam::111122223333:role/app")
            .env("AWS_ROLE_SESSION_NAME", "ci-session")
            .env("AWS_DEFAULT_REGION", "us-west-2")
            .env("AWS_ENDPOINT_URL_STS", &sts.url);
    });
    r.success();
    assert_quiet(&r.stderr);
    assert_eq!(sts.count(), 2);
    let first = sts.requests.lock().unwrap()[0].clone();
    let f = form(&first);
    for (k, v) in [
        ("Action", "AssumeRoleWithWebIdentity"),
        ("RoleArn", "arn:aws:iam::111122223333:role/app"),
        ("RoleSessionName", "ci-session"),
        ("WebIdentityToken", irsa.as_str()),
    ] {
        assert!(f.contains(&(k.into(), v.into())), "{k}: {f:?}");
    }
    assert!(first.header("authorization").is_none());
    let second = sts.last();
    assert!(
        sigv4(&second, ROLE_SECRET)
            .unwrap()
            .contains("/us-west-2/sts/")
    );
    // the IRSA token itself is not what is exchanged
    assert_ne!(api.last().json()["assertion"].as_str().unwrap(), irsa);
}

#[test]
fn aws_container_credentials_send_the_authorization_token_file() {
    let container = Fake::start(|_, req| {
        if req.header("authorization") != Some(CONTAINER_TOKEN) {
            return Reply::json(401, serde_json::json!({"message": "no"}));
        }
        Reply::json(
            200,
            serde_json::json!({"AccessKeyId": ROLE_KEY_ID, "SecretAccessKey": ROLE_SECRET,
                "Token": ROLE_SESSION, "Expiration": "2030-01-01T00:00:00Z"}),
        )
    });
    let sts = fake_sts(ROLE_SECRET);
    let api = Fake::start(|n, _| Reply::token(&token(n), 600));
    let env = TestEnv::new();
    env.setup(&api.url, "aws");
    let tok = env.path("pod-identity-token");
    std::fs::write(&tok, format!("{CONTAINER_TOKEN}\n")).unwrap();
    let full = format!("{}/v1/credentials", container.url);
    let vars = |c: &mut std::process::Command| {
        no_imds(c)
            .env("AWS_CONTAINER_CREDENTIALS_FULL_URI", &full)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL_STS", &sts.url);
    };
    let r = env.run_with(&["-vv", "credential", "anthropic"], |c| {
        vars(c);
        c.env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", &tok)
            .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", "the-file-wins");
    });
    r.success();
    assert_quiet(&r.stderr);
    let req = container.last();
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("GET", "/v1/credentials")
    );
    assert_eq!(
        sts.last().header("x-amz-security-token"),
        Some(ROLE_SESSION)
    );
    // the variable, when there is no file
    let r = env.run_with(
        &["-vv", "credential", "anthropic", "--force-refresh"],
        |c| {
            vars(c);
            c.env("AWS_CONTAINER_AUTHORIZATION_TOKEN", CONTAINER_TOKEN);
        },
    );
    r.success();
    assert_quiet(&r.stderr);
    // a wrong token is refused by the endpoint: exit 5, and it decided (no fall-through)
    env.run_with(&["credential", "anthropic", "--force-refresh"], |c| {
        vars(c);
        c.env("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong");
    })
    .fails(5, "container endpoint");
    // plain http to a host the SDKs do not allow: exit 6, nothing sent
    let before = container.count();
    env.run_with(&["credential", "anthropic", "--force-refresh"], |c| {
        vars(c);
        c.env(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "http://creds.example/v1",
        );
    })
    .fails(6, "169.254.170.2");
    assert_eq!(container.count(), before);
}

/// A fake IMDS: IMDSv2 only, the session token required on every GET.
fn fake_imds(stall_credentials: bool) -> Fake {
    Fake::start(
        move |_, req| match (req.method.as_str(), req.path.as_str()) {
            ("PUT", "/latest/api/token") => {
                match req.header("x-aws-ec2-metadata-token-ttl-seconds") {
                    Some("21600") => Reply::raw(200, "text/plain", IMDS_TOKEN),
                    _ => Reply::raw(400, "text/plain", "ttl missing"),
                }
            }
            _ if req.header("x-aws-ec2-metadata-token") != Some(IMDS_TOKEN) => {
                Reply::raw(401, "text/plain", "")
            }
            ("GET", "/latest/meta-data/iam/security-credentials/") => {
                Reply::raw(200, "text/plain", "app-role")
            }
            ("GET", "/latest/meta-data/iam/security-credentials/app-role") => {
                let mut r = Reply::json(
                    200,
                    serde_json::json!({"Code": "Success", "AccessKeyId": ROLE_KEY_ID,
                        "SecretAccessKey": ROLE_SECRET, "Token": ROLE_SESSION,
                        "Expiration": "2030-01-01T00:00:00Z"}),
                );
                if stall_credentials {
                    r = Reply::silent();
                }
                r
            }
            _ => Reply::raw(404, "text/plain", ""),
        },
    )
}

#[test]
fn aws_imds_v2_gets_a_session_token_then_the_role_credentials() {
    let imds = fake_imds(false);
    let sts = fake_sts(ROLE_SECRET);
    let api = Fake::start(|n, _| Reply::token(&token(n), 600));
    let env = TestEnv::new();
    env.setup(&api.url, "aws");
    let vars = |c: &mut std::process::Command| {
        c.env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds.url)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL_STS", &sts.url);
    };
    let r = env.run_with(&["-vv", "credential", "anthropic"], vars);
    r.success();
    assert_quiet(&r.stderr);
    let seen: Vec<(String, String)> = imds
        .requests
        .lock()
        .unwrap()
        .iter()
        .map(|r| (r.method.clone(), r.path.clone()))
        .collect();
    assert_eq!(
        seen,
        [
            ("PUT", "/latest/api/token"),
            ("GET", "/latest/meta-data/iam/security-credentials/"),
            ("GET", "/latest/meta-data/iam/security-credentials/app-role"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert_eq!(
        sts.last().header("x-amz-security-token"),
        Some(ROLE_SESSION)
    );
    // AWS_EC2_METADATA_DISABLED: not asked, and the error lists what was tried
    let before = imds.count();
    let r = env.run_with(&["credential", "anthropic", "--force-refresh"], |c| {
        vars(c);
        c.env("AWS_EC2_METADATA_DISABLED", "true");
    });
    r.fails(3, "found no AWS credentials");
    assert!(
        r.stderr.contains("AWS_EC2_METADATA_DISABLED"),
        "{}",
        r.stderr
    );
    assert_eq!(imds.count(), before);
}

#[test]
fn aws_without_credentials_lists_what_was_tried() {
    let env = TestEnv::new();
    env.setup("http://127.0.0.1:9", "aws");
    let r = env.run_with(&["credential", "anthropic"], |c| {
        no_imds(c).env("AWS_REGION", "us-east-1");
    });
    r.fails(3, "found no AWS credentials");
    for needle in [
        "AWS_ACCESS_KEY_ID",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "EC2 instance metadata",
        "command:aws sts get-web-identity-token --audience https://api.anthropic.com",
    ] {
        assert!(r.stderr.contains(needle), "{needle}: {}", r.stderr);
    }
    assert!(r.stdout.is_empty());
    // no region: exit 6 before any request, with the variable to set
    let r = env.run_with(&["credential", "anthropic"], |c| {
        no_imds(c)
            .env("AWS_ACCESS_KEY_ID", KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", SECRET);
    });
    r.fails(6, "region");
    assert!(r.stderr.contains("AWS_REGION"), "{}", r.stderr);
}

#[test]
fn aws_sts_errors_have_their_classes_and_fixes() {
    let cases = [
        (
            sts_error(
                403,
                "AccessDenied",
                "User: arn:aws:iam::1:role/x is not authorized to perform: sts:GetWebIdentityToken",
            ),
            5,
            "sts:GetWebIdentityToken",
        ),
        (
            sts_error(403, "OutboundWebIdentityFederationDisabled", "disabled"),
            5,
            "aws iam enable-outbound-web-identity-federation",
        ),
        (sts_error(403, "ExpiredToken", "expired"), 5, "not valid"),
        (sts_error(503, "ServiceUnavailable", "busy"), 4, "503"),
        (
            Reply::raw(200, "text/xml", "<x/>"),
            4,
            "without a WebIdentityToken",
        ),
    ];
    for (reply, code, needle) in cases {
        let sts = Fake::start(move |_, _| reply.clone());
        let env = TestEnv::new();
        env.setup("http://127.0.0.1:9", "aws");
        let r = env.run_with(&["-vv", "credential", "anthropic"], |c| {
            no_imds(c)
                .env("AWS_ACCESS_KEY_ID", KEY_ID)
                .env("AWS_SECRET_ACCESS_KEY", SECRET)
                .env("AWS_SESSION_TOKEN", SESSION)
                .env("AWS_REGION", "us-east-1")
                .env("AWS_ENDPOINT_URL_STS", &sts.url);
        });
        r.fails(code, needle);
        assert_quiet(&r.stderr);
    }
    // unreachable: exit 4
    let env = TestEnv::new();
    env.setup("http://127.0.0.1:9", "aws");
    env.run_with(&["credential", "anthropic"], |c| {
        no_imds(c)
            .env("AWS_ACCESS_KEY_ID", KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("AWS_REGION", "us-east-1")
            .env(
                "AWS_ENDPOINT_URL_STS",
                format!("http://127.0.0.1:{}", closed_port()),
            );
    })
    .fails(4, "cannot get an identity token from AWS STS");
    // a signed request never goes over plain http to a remote host
    env.run_with(&["credential", "anthropic"], |c| {
        no_imds(c)
            .env("AWS_ACCESS_KEY_ID", KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL_STS", "http://sts.example/");
    })
    .fails(6, "https");
}

#[test]
fn aws_credential_endpoints_that_stall_time_out_with_exit_4() {
    let imds = fake_imds(true);
    let env = TestEnv::new();
    env.setup("http://127.0.0.1:9", "aws");
    // both never answer: keyless gives up by itself, and says after what
    let r = env.run_ending(&["-vv", "credential", "anthropic"], |c| {
        c.env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds.url)
            .env("AWS_REGION", "us-east-1");
    });
    r.fails(4, "within 2s");
    assert_quiet(&r.stderr);
    imds.assert_abandoned(1);
    let container = Fake::start(|_, _| Reply::silent());
    env.run_ending(&["credential", "anthropic"], |c| {
        no_imds(c)
            .env(
                "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                format!("{}/creds", container.url),
            )
            .env("AWS_REGION", "us-east-1");
    })
    .fails(4, "within 5s");
}

#[test]
fn setup_saves_aws_and_auth_status_says_what_it_needs() {
    let env = TestEnv::new();
    env.setup("http://127.0.0.1:9", "aws");
    let cfg = std::fs::read_to_string(env.config_dir().join("config.json")).unwrap();
    assert!(
        cfg.contains(r#""type": "aws""#) || cfg.contains(r#""type":"aws""#),
        "{cfg}"
    );
    let status = |region: Option<&str>| {
        let r = env.run_with(&["auth", "status", "--json"], |c| {
            if let Some(rg) = region {
                c.env("AWS_REGION", rg);
            }
        });
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        v["keyless"]["providers"][0]["identity"].clone()
    };
    let id = status(Some("eu-central-1"));
    assert_eq!(id["source"], "aws", "{id:#}");
    assert_eq!(id["available"], true, "{id:#}");
    assert!(
        id["reason"].as_str().unwrap().contains("eu-central-1"),
        "{id:#}"
    );
    let id = status(None);
    assert_eq!(id["available"], false, "{id:#}");
    assert!(
        id["reason"].as_str().unwrap().contains("AWS_REGION"),
        "{id:#}"
    );
}

#[test]
fn auto_never_picks_aws_even_with_aws_credentials_at_hand() {
    let sts = fake_sts(SECRET);
    let env = TestEnv::new();
    env.setup("http://127.0.0.1:9", "auto");
    let r = env.run_with(&["-v", "credential", "anthropic"], |c| {
        no_imds(c)
            .env("AWS_ACCESS_KEY_ID", KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL_STS", &sts.url);
    });
    r.fails(3, "no identity source was found");
    assert_eq!(sts.count(), 0);
}
