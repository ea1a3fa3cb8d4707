//! Unverified JWT inspection, for the checks keyless makes before it spends a
//! single-use assertion: shape, `alg`, `kid`, `exp`/`nbf`/`iat`, lifetime.
//!
//! Nothing here verifies a signature; the token endpoint does that. The sandbox
//! and the sign-in code verify with `jsonwebtoken` instead.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::clock::{human_duration, rfc3339};
use crate::error::{Error, Result};

/// Anthropic refuses assertions larger than this (16 KiB); keyless holds
/// OpenAI's subject tokens to the same limit.
pub const MAX_ASSERTION_BYTES: usize = 16 * 1024;
/// Clock skew Anthropic allows on `exp`, `nbf` and `iat`.
pub const SKEW_SECS: i64 = 30;
/// Lifetimes above this draw a warning (Anthropic's default issuer maximum).
pub const LONG_LIFETIME_SECS: i64 = 3600;

const ASYMMETRIC: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
];

/// The parts of a JWT keyless looks at. Claims are not secret; the token is.
#[derive(Debug, Clone)]
pub struct Inspected {
    pub alg: String,
    pub kid: Option<String>,
    pub iss: Option<String>,
    pub sub: Option<String>,
    pub aud: Vec<String>,
    pub exp: Option<i64>,
    pub nbf: Option<i64>,
    pub iat: Option<i64>,
    pub jti: Option<String>,
}

fn part(token: &str, i: usize) -> Option<Value> {
    let seg = token.split('.').nth(i)?;
    let bytes = URL_SAFE_NO_PAD.decode(seg.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn num(v: &Value, k: &str) -> Option<i64> {
    match v.get(k)? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        _ => None,
    }
}

fn string(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

/// Decode header and claims without verification. `what` names the token in
/// errors ("the identity token from file:/x").
pub fn inspect(token: &str, what: &str) -> Result<Inspected> {
    if token.split('.').count() != 3 {
        return Err(Error::config(format!(
            "{what} is not a JWT (expected three dot-separated parts)"
        ))
        .hint("the source must yield a compact signed OIDC token: three base64url parts joined by dots"));
    }
    let header = part(token, 0)
        .filter(Value::is_object)
        .ok_or_else(|| Error::config(format!("{what} has an unreadable JWT header")))?;
    let claims = part(token, 1)
        .filter(Value::is_object)
        .ok_or_else(|| Error::config(format!("{what} has unreadable JWT claims")))?;
    let aud = match claims.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    Ok(Inspected {
        alg: string(&header, "alg").unwrap_or_default(),
        kid: string(&header, "kid").filter(|k| !k.is_empty()),
        iss: string(&claims, "iss"),
        sub: string(&claims, "sub"),
        aud,
        exp: num(&claims, "exp"),
        nbf: num(&claims, "nbf"),
        iat: num(&claims, "iat"),
        jti: string(&claims, "jti"),
    })
}

/// The outcome of the local checks: fatal problems are errors; a long
/// lifetime is a warning returned to the caller.
pub fn check_assertion(token: &str, what: &str, now: i64) -> Result<(Inspected, Option<String>)> {
    if token.len() > MAX_ASSERTION_BYTES {
        return Err(Error::config(format!(
            "{what} is {} bytes, above the {} KiB limit of the token endpoint",
            token.len(),
            MAX_ASSERTION_BYTES / 1024
        ))
        .hint("check that the source yields the identity token, not a key or certificate"));
    }
    let t = inspect(token, what)?;
    if t.alg.is_empty() || t.alg == "none" || t.alg.starts_with("HS") {
        let alg = if t.alg.is_empty() { "no alg" } else { &t.alg };
        return Err(Error::config(format!(
            "{what} is signed with {alg}; token exchanges accept only asymmetric signatures (RS*, PS*, ES*)"
        ))
        .hint("configure the identity provider to sign with RS256 or ES256"));
    }
    if !ASYMMETRIC.contains(&t.alg.as_str()) {
        return Err(Error::config(format!(
            "{what} uses the unsupported algorithm {}",
            crate::redact::terminal(&t.alg)
        ))
        .hint("use RS256/384/512, PS256/384/512 or ES256/384/512"));
    }
    if t.kid.is_none() {
        return Err(Error::config(format!(
            "{what} has no `kid` in its header, so its signing key cannot be found in the issuer's JWKS"
        ))
        .hint("configure the identity provider to include the key id"));
    }
    let Some(exp) = t.exp else {
        return Err(Error::config(format!("{what} has no `exp` claim")));
    };
    if exp <= now {
        return Err(Error::sign_in(format!(
            "{what} expired {} ago (exp {})",
            human_duration(now - exp),
            rfc3339(exp)
        ))
        .hint("get a fresh identity token; a file source should be rotated by its writer"));
    }
    if let Some(nbf) = t.nbf
        && nbf > now + SKEW_SECS
    {
        return Err(Error::sign_in(format!(
            "{what} is not valid before {} (in {})",
            rfc3339(nbf),
            human_duration(nbf - now)
        ))
        .hint("check this machine's clock"));
    }
    if let Some(iat) = t.iat
        && iat > now + SKEW_SECS
    {
        return Err(Error::sign_in(format!(
            "{what} was issued in the future ({}, {} from now)",
            rfc3339(iat),
            human_duration(iat - now)
        ))
        .hint("check this machine's clock"));
    }
    let warning = match t.iat {
        Some(iat) if exp - iat > LONG_LIFETIME_SECS => Some(format!(
            "{what} lives {} (more than an hour); Anthropic's issuers refuse such tokens unless max_jwt_lifetime_seconds allows it",
            human_duration(exp - iat)
        )),
        _ => None,
    };
    Ok((t, warning))
}

#[cfg(test)]
pub mod tests {
    use super::*;

    pub fn fake_jwt(header: &str, claims: &str) -> String {
        format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        )
    }

    #[test]
    fn accepts_a_good_token() {
        let now = 1_000_000;
        let t = fake_jwt(
            r#"{"alg":"ES256","kid":"k1"}"#,
            &format!(
                r#"{{"iss":"i","sub":"s","aud":["a","b"],"iat":{now},"exp":{}}}"#,
                now + 300
            ),
        );
        let (i, warn) = check_assertion(&t, "the token", now).unwrap();
        assert_eq!(i.aud, vec!["a", "b"]);
        assert!(warn.is_none());
    }

    #[test]
    fn refuses_bad_tokens() {
        let now = 1_000_000;
        let cases = [
            (
                r#"{"alg":"HS256","kid":"k"}"#,
                format!(r#"{{"exp":{}}}"#, now + 60),
                "HS256",
            ),
            (
                r#"{"alg":"none","kid":"k"}"#,
                format!(r#"{{"exp":{}}}"#, now + 60),
                "none",
            ),
            (
                r#"{"alg":"RS256"}"#,
                format!(r#"{{"exp":{}}}"#, now + 60),
                "kid",
            ),
            (
                r#"{"alg":"RS256","kid":"k"}"#,
                format!(r#"{{"exp":{}}}"#, now - 5),
                "expired",
            ),
            (
                r#"{"alg":"RS256","kid":"k"}"#,
                format!(r#"{{"exp":{},"nbf":{}}}"#, now + 900, now + 600),
                "not valid before",
            ),
        ];
        for (h, c, needle) in cases {
            let err = check_assertion(&fake_jwt(h, &c), "the token", now).unwrap_err();
            assert!(err.message.contains(needle), "{needle}: {}", err.message);
        }
        assert!(check_assertion("abc", "x", now).is_err());
        assert!(
            check_assertion(&"a".repeat(17000), "x", now)
                .unwrap_err()
                .message
                .contains("16 KiB")
        );
    }

    #[test]
    fn warns_on_long_lifetime() {
        let now = 1_000_000;
        let t = fake_jwt(
            r#"{"alg":"RS256","kid":"k"}"#,
            &format!(r#"{{"iat":{now},"exp":{}}}"#, now + 7200),
        );
        assert!(check_assertion(&t, "x", now).unwrap().1.is_some());
    }
}
