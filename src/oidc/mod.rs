//! A small OpenID Connect client: discovery, the token endpoint, ID-token
//! validation, and the two interactive flows (browser with PKCE, device code).
//!
//! Hand-written on reqwest and jsonwebtoken rather than a framework crate so
//! that every request shares keyless's client (proxies, CA file, timeouts,
//! body cap) and every error body is reduced to OAuth `error` and
//! `error_description`, scrubbed. It never logs a token.

pub mod browser;
pub mod callback;
pub mod device;
pub mod id_token;
pub mod opener;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::config::IssuerConfig;
use crate::error::{Error, Result};
use crate::http;
use crate::redact;
use crate::secret::Secret;

/// The parts of the discovery document keyless uses.
#[derive(Debug, Clone)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: String,
    pub device_authorization_endpoint: Option<String>,
    pub revocation_endpoint: Option<String>,
    pub jwks_uri: String,
}

/// A token endpoint response. Every token is a [`Secret`].
#[derive(Debug, Default)]
pub struct Tokens {
    pub access_token: Option<Secret<String>>,
    pub id_token: Option<Secret<String>>,
    pub refresh_token: Option<Secret<String>>,
    pub expires_in: Option<i64>,
}

/// An OAuth error answer (`{"error": …}`) or any other failure.
pub enum Failure {
    OAuth {
        error: String,
        description: Option<String>,
        status: u16,
    },
    Other(Error),
}

impl Failure {
    pub fn into_error(self, doing: &str) -> Error {
        match self {
            Failure::Other(e) => e,
            Failure::OAuth {
                error,
                description,
                status,
            } => {
                let desc = description.map(|d| format!(": {d}")).unwrap_or_default();
                let msg = format!("{doing} was refused ({status} {error}{desc})");
                match error.as_str() {
                    "invalid_grant" if doing.contains("authorization code") => Error::denied(msg)
                        .hint("the code was refused (expired, reused, or a PKCE mismatch); run `keyless login` again"),
                    "invalid_grant" => {
                        Error::sign_in(msg).hint("the sign-in session ended; run `keyless login`")
                    }
                    "invalid_client"
                    | "unauthorized_client"
                    | "invalid_scope"
                    | "invalid_request"
                    | "invalid_target" => Error::config(msg)
                        .hint("check `keyless setup issuer` (client id, secret, scopes, audience)"),
                    _ => Error::denied(msg),
                }
            }
        }
    }
}

pub struct Client {
    pub cfg: IssuerConfig,
    pub disc: Discovery,
    /// Keeps no idle connection (see [`crate::http`]): a request after a
    /// person's wait opens a fresh one.
    http: reqwest::Client,
    rt: tokio::runtime::Runtime,
    secret: Option<Secret<String>>,
}

fn string(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

impl Client {
    /// Fetch discovery and check that it names the configured issuer exactly.
    pub fn discover(cfg: &IssuerConfig, secret: Option<Secret<String>>) -> Result<Self> {
        let rt = http::runtime()?;
        let http = http::client_with_ca(cfg.ca_file.as_deref().map(std::path::Path::new))?;
        let url = format!(
            "{}/.well-known/openid-configuration",
            cfg.issuer.trim_end_matches('/')
        );
        crate::output::info(&format!("fetching {url}"));
        let resp = rt
            .block_on(http::send(
                http.get(&url).header("accept", "application/json"),
                &url,
            ))
            .map_err(|f| {
                Error::network(format!(
                    "cannot fetch the issuer's discovery document: {}",
                    f.message()
                ))
                .hint(http::no_answer_hint("the issuer URL"))
            })?;
        if resp.status != 200 {
            return Err(Error::config(format!(
                "{url} answered {}; is {} an OpenID Connect issuer?",
                resp.status, cfg.issuer
            )));
        }
        let v: Value = serde_json::from_slice(&resp.body)
            .map_err(|_| Error::config(format!("{url} did not answer with JSON")))?;
        let issuer = string(&v, "issuer").unwrap_or_default();
        if issuer != cfg.issuer {
            return Err(Error::config(format!(
                "the discovery document names issuer {:?}, not {:?}",
                redact::server_text(&issuer),
                cfg.issuer
            ))
            .hint("use the issuer URL exactly as the provider publishes it (scheme, port, trailing slash)"));
        }
        let need = |k: &str| {
            string(&v, k)
                .ok_or_else(|| Error::config(format!("the discovery document at {url} has no {k}")))
        };
        // Every endpoint passes the URL rule (the refresh token and client
        // secret travel to the device and revocation endpoints as well) and
        // is kept re-serialized: what is printed at -v or by `setup issuer`
        // is percent-encoded, never the server's raw bytes.
        let endpoint = |u: String| -> Result<String> {
            crate::config::checks::check_url("an endpoint in the discovery document", &u)?;
            Ok(url::Url::parse(&u)
                .map_err(|_| Error::config("an endpoint in the discovery document is not a URL"))?
                .to_string())
        };
        let optional = |k: &str| string(&v, k).map(endpoint).transpose();
        let disc = Discovery {
            issuer,
            authorization_endpoint: optional("authorization_endpoint")?,
            token_endpoint: endpoint(need("token_endpoint")?)?,
            device_authorization_endpoint: optional("device_authorization_endpoint")?,
            revocation_endpoint: optional("revocation_endpoint")?,
            jwks_uri: endpoint(need("jwks_uri")?)?,
        };
        Ok(Client {
            cfg: cfg.clone(),
            disc,
            http,
            rt,
            secret,
        })
    }

    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// POST a form to an endpoint with client authentication: the client id
    /// in the body for a public client, HTTP Basic for a confidential one.
    pub fn post_form(
        &self,
        url: &str,
        params: &[(&str, &str)],
    ) -> std::result::Result<Value, Failure> {
        let mut form: Vec<(&str, &str)> = params.to_vec();
        let mut req = self.http().post(url).header("accept", "application/json");
        match &self.secret {
            Some(s) => {
                // RFC 6749 §2.3.1: form-urlencode, then Basic.
                let enc = |x: &str| {
                    url::form_urlencoded::byte_serialize(x.as_bytes()).collect::<String>()
                };
                let basic = base64::engine::general_purpose::STANDARD.encode(format!(
                    "{}:{}",
                    enc(&self.cfg.client_id),
                    enc(s.expose())
                ));
                req = req.header("authorization", format!("Basic {basic}"));
            }
            None => form.push(("client_id", &self.cfg.client_id)),
        }
        let resp = self
            .rt
            .block_on(http::send(req.form(&form), url))
            .map_err(|f| {
                Failure::Other(Error::network(format!(
                    "request to the identity provider failed: {}",
                    f.message()
                )))
            })?;
        // RFC 7009 §2.2: a revocation answers 200 with an empty body.
        if (200..300).contains(&resp.status) && resp.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        let v: Value = serde_json::from_slice(&resp.body).map_err(|_| {
            Failure::Other(Error::network(format!(
                "{url} answered {} with a body that is not JSON",
                resp.status
            )))
        })?;
        if (200..300).contains(&resp.status) {
            return Ok(v);
        }
        match string(&v, "error") {
            Some(error) => Err(Failure::OAuth {
                error: redact::server_text(&error),
                description: string(&v, "error_description").map(|d| redact::server_text(&d)),
                status: resp.status,
            }),
            None => Err(Failure::Other(Error::network(format!(
                "{url} answered {}",
                resp.status
            )))),
        }
    }

    /// A token endpoint request, parsed.
    pub fn token_request(&self, params: &[(&str, &str)]) -> std::result::Result<Tokens, Failure> {
        let v = self.post_form(&self.disc.token_endpoint.clone(), params)?;
        let s = |k: &str| string(&v, k).filter(|x| !x.is_empty()).map(Secret::new);
        Ok(Tokens {
            access_token: s("access_token"),
            id_token: s("id_token"),
            refresh_token: s("refresh_token"),
            expires_in: v.get("expires_in").and_then(Value::as_i64),
        })
    }

    /// The `resource` parameter (RFC 8707) when JWT access tokens are wanted.
    pub fn resource(&self) -> Option<String> {
        match self.cfg.assertion {
            crate::config::AssertionKind::AccessToken => Some(
                self.cfg
                    .audience
                    .clone()
                    .unwrap_or_else(|| crate::provider::anthropic::AUDIENCE.to_string()),
            ),
            crate::config::AssertionKind::IdToken => None,
        }
    }
}

/// `timeout` from now, refused rather than overflowing (the command line
/// bounds it; this is for every other caller).
pub fn deadline(timeout: std::time::Duration) -> Result<std::time::Instant> {
    std::time::Instant::now()
        .checked_add(timeout)
        .ok_or_else(|| Error::usage("the sign-in timeout is out of range"))
}

/// 32 random bytes, base64url: PKCE verifiers, state and nonce values.
pub fn random_token() -> String {
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// RFC 7636 S256: base64url(SHA-256(verifier)).
pub fn pkce_challenge(verifier: &str) -> String {
    use sha2::{Digest, Sha256};
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn pkce_s256_matches_rfc7636_appendix_b() {
        assert_eq!(
            super::pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
