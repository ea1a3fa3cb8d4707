//! ID token validation (OIDC Core §3.1.3.7): signature against the provider's
//! JWKS, `iss`, `aud` = client id, `exp`, `iat` skew, and `nonce` when one was
//! sent. Access tokens used as assertions are only checked to be JWTs: their
//! audience is the API's business.

use serde_json::Value;

use super::Client;
use crate::clock;
use crate::error::{Error, Result};
use crate::jwt;

/// Clock skew allowed on `exp` and `iat`.
pub const SKEW_SECS: u64 = 60;

#[derive(Debug, Clone)]
pub struct IdClaims {
    pub sub: String,
    pub email: Option<String>,
    pub exp: i64,
}

fn refused(why: &str) -> Error {
    Error::denied(format!(
        "the identity provider's ID token was refused: {why}"
    ))
    .hint("sign in again with `keyless login`; if it persists, check the issuer and client id")
}

impl Client {
    fn jwks(&self) -> Result<Vec<jsonwebtoken::jwk::Jwk>> {
        let url = self.disc.jwks_uri.clone();
        let resp = self
            .block_on(crate::http::send(self.http().get(&url), &url))
            .map_err(|f| {
                Error::network(format!("cannot fetch the provider's keys: {}", f.message()))
            })?;
        let v: Value = serde_json::from_slice(&resp.body)
            .map_err(|_| Error::network(format!("{url} did not answer with a JSON key set")))?;
        serde_json::from_value(v.get("keys").cloned().unwrap_or(Value::Null))
            .map_err(|_| Error::network(format!("{url} did not answer with a JWKS")))
    }

    /// Validate an ID token; `nonce` is checked when given (login), not on refresh.
    pub fn validate_id_token(&self, token: &str, nonce: Option<&str>) -> Result<IdClaims> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| refused("it is not a JWT"))?;
        let keys = self.jwks()?;
        // Without a kid, only a provider publishing a single key is unambiguous.
        let jwk = match header.kid.as_deref() {
            Some(kid) => keys
                .iter()
                .find(|k| k.common.key_id.as_deref() == Some(kid)),
            None if keys.len() == 1 => keys.first(),
            None => {
                return Err(refused(
                    "its header has no kid and the provider publishes several keys",
                ));
            }
        }
        .ok_or_else(|| refused("it is signed with a key the provider does not publish"))?;
        let key = jsonwebtoken::DecodingKey::from_jwk(jwk)
            .map_err(|_| refused("the provider's key is unusable"))?;
        if matches!(
            header.alg,
            jsonwebtoken::Algorithm::HS256
                | jsonwebtoken::Algorithm::HS384
                | jsonwebtoken::Algorithm::HS512
        ) {
            return Err(refused("it uses a symmetric algorithm"));
        }
        let mut v = jsonwebtoken::Validation::new(header.alg);
        v.set_issuer(&[&self.disc.issuer]);
        v.set_audience(&[&self.cfg.client_id]);
        v.leeway = SKEW_SECS;
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub", "iat"]);
        let data = jsonwebtoken::decode::<Value>(token, &key, &v).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            refused(match e.kind() {
                K::InvalidSignature => "its signature does not verify",
                K::ExpiredSignature => "it has expired",
                K::InvalidIssuer => "its issuer is not the configured one",
                K::InvalidAudience => "its audience is not this client",
                K::MissingRequiredClaim(_) => "it lacks a required claim",
                _ => "it does not validate",
            })
        })?;
        let c = data.claims;
        let now = clock::now();
        let iat = c.get("iat").and_then(Value::as_i64).unwrap_or(0);
        if iat > now + SKEW_SECS as i64 {
            return Err(refused(
                "it was issued in the future (check this machine's clock)",
            ));
        }
        if let Some(n) = nonce
            && c.get("nonce").and_then(Value::as_str) != Some(n)
        {
            return Err(refused("its nonce does not match this sign-in"));
        }
        Ok(IdClaims {
            sub: c
                .get("sub")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            email: c.get("email").and_then(Value::as_str).map(str::to_string),
            exp: c.get("exp").and_then(Value::as_i64).unwrap_or(0),
        })
    }
}

/// An access token to be exchanged must be a JWT, not an opaque string.
pub fn require_jwt_access_token(token: &str, audience: Option<&str>) -> Result<()> {
    if jwt::inspect(token, "the access token").is_err() {
        return Err(Error::config(
            "the identity provider issued an opaque access token, which cannot be exchanged",
        )
        .hint(format!(
            "configure the authorization server to issue JWT access tokens for {}, or use --assertion id-token",
            audience.unwrap_or("the API's audience")
        )));
    }
    Ok(())
}
