//! A scripted OpenID Provider for the failure cases a real one will not
//! produce: wrong nonce, wrong signature, expired ID tokens, device-flow
//! errors, refreshes without a new ID token. Built on the independent fake
//! server; it signs with its own P-256 key.

use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::EncodePrivateKey;
use serde_json::{Value, json};

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::common::{TestEnv, assert_no_secrets};
use crate::fake::{Fake, Reply, Request};

pub struct Key {
    der: Vec<u8>,
    pub jwk: Value,
}

impl Key {
    pub fn new(kid: &str) -> Self {
        let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
        let point = secret.public_key().to_encoded_point(false);
        Key {
            der: secret.to_pkcs8_der().unwrap().as_bytes().to_vec(),
            jwk: json!({"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig",
                "x": URL_SAFE_NO_PAD.encode(point.x().unwrap()), "y": URL_SAFE_NO_PAD.encode(point.y().unwrap())}),
        }
    }
    pub fn sign(&self, kid: &str, claims: &Value) -> String {
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        h.kid = Some(kid.into());
        jsonwebtoken::encode(
            &h,
            claims,
            &jsonwebtoken::EncodingKey::from_ec_der(&self.der),
        )
        .unwrap()
    }
}

/// A fake server's constructor, for [`FakeIdp`]'s variants.
type Server = fn(Box<dyn Fn(usize, &Request) -> Reply + Send + Sync>) -> Fake;

/// What the token endpoint does; the test sets it.
pub type TokenScript = Box<dyn Fn(&IdpCtx, &Request) -> Reply + Send + Sync>;

pub struct IdpCtx {
    pub issuer: String,
    pub key: Key,
    pub other_key: Key,
    /// Nonce of the last authorization request seen by the test (browser flow).
    pub nonce: Mutex<Option<String>>,
    pub token_calls: Mutex<Vec<(std::time::Instant, Request)>>,
    /// Fields that replace the scripted device authorization response's.
    pub device: Mutex<Value>,
    /// Fields that replace the discovery document's.
    pub discovery: Mutex<Value>,
}

impl IdpCtx {
    pub fn now() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }
    /// A well-formed ID token for client `keyless-cli`, claims overridable.
    pub fn id_token(&self, extra: Value) -> String {
        let now = Self::now();
        let mut c = json!({"iss": self.issuer, "sub": "alice", "aud": "keyless-cli", "iat": now, "exp": now + 300,
            "email": "alice@example.test", "jti": format!("id-{}", rand_hex())});
        if let Some(n) = self.nonce.lock().unwrap().clone() {
            c["nonce"] = n.into();
        }
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        self.key.sign("good", &c)
    }
    pub fn tokens(&self, id_token: Option<String>, refresh: Option<&str>) -> Reply {
        let mut v =
            json!({"access_token": "opaque-access", "token_type": "Bearer", "expires_in": 300});
        if let Some(i) = id_token {
            v["id_token"] = i.into();
        }
        if let Some(r) = refresh {
            v["refresh_token"] = r.into();
        }
        Reply::json(200, v)
    }
}

pub fn rand_hex() -> String {
    use rand::RngCore;
    let mut b = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub struct FakeIdp {
    pub _fake: Fake,
    pub ctx: Arc<IdpCtx>,
}

/// `base` with `over`'s fields put in (a null removes the field).
fn merged(mut base: Value, over: &Value) -> Value {
    for (k, v) in over.as_object().into_iter().flatten() {
        match v {
            Value::Null => {
                base.as_object_mut().unwrap().remove(k);
            }
            v => base[k] = v.clone(),
        }
    }
    base
}

pub fn oauth_error(code: &str) -> Reply {
    Reply::json(400, json!({"error": code}))
}

impl FakeIdp {
    pub fn start(token: impl Fn(&IdpCtx, &Request) -> Reply + Send + Sync + 'static) -> Self {
        Self::start_on(Fake::start, token)
    }

    /// An issuer that keeps connections alive and drops a request that comes
    /// on a connection it already answered on ([`Fake::start_closing_reused`]).
    pub fn start_closing_reused(
        token: impl Fn(&IdpCtx, &Request) -> Reply + Send + Sync + 'static,
    ) -> Self {
        Self::start_on(Fake::start_closing_reused, token)
    }

    fn start_on(
        server: Server,
        token: impl Fn(&IdpCtx, &Request) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let cell: Arc<OnceLock<Arc<IdpCtx>>> = Arc::new(OnceLock::new());
        let c2 = cell.clone();
        let token: TokenScript = Box::new(token);
        let fake = server(Box::new(move |_, req| {
            let ctx = c2.get().expect("ctx set").clone();
            let base = ctx.issuer.clone();
            match (req.method.as_str(), req.path.split('?').next().unwrap()) {
                ("GET", "/.well-known/openid-configuration") => Reply::json(
                    200,
                    merged(
                        json!({
                            "issuer": base, "authorization_endpoint": format!("{base}/authorize"),
                            "token_endpoint": format!("{base}/token"), "device_authorization_endpoint": format!("{base}/device"),
                            "revocation_endpoint": format!("{base}/revoke"), "jwks_uri": format!("{base}/jwks"),
                        }),
                        &ctx.discovery.lock().unwrap(),
                    ),
                ),
                ("GET", "/jwks") => Reply::json(200, json!({"keys": [ctx.key.jwk]})),
                ("POST", "/device") => Reply::json(
                    200,
                    merged(
                        json!({
                            "device_code": "dev-code", "user_code": "ABCD-EFGH", "verification_uri": format!("{base}/activate"),
                            "verification_uri_complete": format!("{base}/activate?user_code=ABCD-EFGH"), "interval": 1, "expires_in": 60,
                        }),
                        &ctx.device.lock().unwrap(),
                    ),
                ),
                ("POST", "/revoke") => Reply::json(200, json!({})),
                ("POST", "/token") => {
                    ctx.token_calls
                        .lock()
                        .unwrap()
                        .push((std::time::Instant::now(), req.clone()));
                    token(&ctx, req)
                }
                _ => Reply::json(404, json!({"error": "not_found"})),
            }
        }));
        let ctx = Arc::new(IdpCtx {
            issuer: fake.url.clone(),
            key: Key::new("good"),
            other_key: Key::new("good"),
            nonce: Mutex::new(None),
            token_calls: Mutex::new(Vec::new()),
            device: Mutex::new(json!({})),
            discovery: Mutex::new(json!({})),
        });
        cell.set(ctx.clone()).ok();
        FakeIdp { _fake: fake, ctx }
    }

    pub fn form(req: &Request) -> std::collections::HashMap<String, String> {
        url::form_urlencoded::parse(&req.body)
            .into_owned()
            .collect()
    }
}

impl FakeIdp {
    /// `keyless setup issuer` for this provider, client `keyless-cli`, with
    /// `extra` flags: every sign-in test starts here.
    pub fn setup_issuer(&self, env: &crate::common::TestEnv, extra: &[&str]) {
        let mut args = vec![
            "setup",
            "issuer",
            "--issuer",
            &self.ctx.issuer,
            "--client-id",
            "keyless-cli",
        ];
        args.extend_from_slice(extra);
        env.run(&args).success();
    }
}

/// Start a browser login without a browser; return the child, the
/// authorization URL it printed, and the rest of its stderr when it ends.
pub fn browser_login(
    env: &TestEnv,
) -> (
    std::process::Child,
    url::Url,
    std::thread::JoinHandle<String>,
) {
    let mut child = env
        .cmd()
        .args(["login", "--browser", "--no-browser", "--timeout", "20"])
        .env("KEYLESS_SECRET_STORE", "file")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let url = loop {
        let mut line = String::new();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "keyless printed no URL"
        );
        if let Some(u) = line.trim().strip_prefix("http") {
            break url::Url::parse(&format!("http{u}")).unwrap();
        }
    };
    let rest = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut rest);
        assert_no_secrets(&rest);
        rest
    });
    (child, url, rest)
}

/// The value of `k` in `u`'s query, or "".
pub fn query(u: &url::Url, k: &str) -> String {
    u.query_pairs()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}
