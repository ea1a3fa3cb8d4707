//! Verification of an identity JWT, shared by the sandbox's Anthropic and
//! OpenAI token endpoints: `alg`, `kid`, `iss`, the signature against the
//! issuer's keys, `sub`, `exp`/`iat`/`nbf` with 30 s skew, an optional
//! maximum lifetime and single-use `jti`. What the provider then matches
//! (rules, audiences, mappings) stays with each endpoint.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

use super::State;
use super::rules::{Issuer, Jwks};
use crate::jwt::SKEW_SECS;

/// Why an exchange was denied: the reason the history and stderr show.
pub struct Denial(pub &'static str);

/// Where an issuer's signing keys come from.
pub enum KeySource<'a> {
    /// `<issuer>/.well-known/openid-configuration`, or this discovery URL.
    Discovery(Option<&'a str>),
    JwksUrl(&'a str),
    Inline(Value),
}

/// What the provider trusts about one issuer.
pub struct Trust<'a> {
    pub issuer_url: String,
    pub keys: KeySource<'a>,
    pub max_lifetime: Option<i64>,
    pub check_jti: bool,
}

impl<'a> Trust<'a> {
    /// The trust Anthropic's issuer objects describe.
    pub fn anthropic(st: &State, issuer: &'a Issuer) -> Self {
        Trust {
            issuer_url: st.issuer_url(&issuer.issuer_url).to_string(),
            keys: match &issuer.jwks {
                Jwks::Discovery => KeySource::Discovery(None),
                Jwks::ExplicitUrl { url } => KeySource::JwksUrl(url),
                Jwks::Inline { keys } => KeySource::Inline(json!({ "keys": keys })),
            },
            max_lifetime: Some(issuer.max_jwt_lifetime_seconds),
            check_jti: issuer.check_jti,
        }
    }
}

/// The issuer's entry in the rules file, or Anthropic's defaults for it.
pub fn issuer_config(st: &State, url: &str) -> Issuer {
    st.rules
        .issuers
        .iter()
        .find(|i| st.issuer_url(&i.issuer_url) == url)
        .cloned()
        .unwrap_or(Issuer {
            issuer_url: url.to_string(),
            jwks: Jwks::Discovery,
            max_jwt_lifetime_seconds: 3600,
            check_jti: true,
        })
}

/// Verify `assertion` as issued by `trust.issuer_url`, and return its claims.
/// `provider` scopes single-use `jti`s: each provider remembers its own.
pub async fn verify(
    st: &State,
    provider: &str,
    trust: &Trust<'_>,
    assertion: &str,
) -> Result<Value, Denial> {
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| Denial("jwt_malformed"))?;
    let alg = header.alg;
    if matches!(
        alg,
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 | Algorithm::EdDSA
    ) {
        return Err(Denial("jwt_alg_not_allowed"));
    }
    let kid = header.kid.ok_or(Denial("jwt_kid_missing"))?;
    let unverified =
        crate::jwt::inspect(assertion, "assertion").map_err(|_| Denial("jwt_malformed"))?;
    if unverified.iss.as_deref() != Some(trust.issuer_url.as_str()) {
        return Err(Denial("iss_mismatch"));
    }
    let jwk = find_key(st, trust, &kid)
        .await
        .ok_or(Denial("jwt_kid_not_in_jwks"))?;
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| Denial("jwks_unusable"))?;
    let mut v = Validation::new(alg);
    v.validate_exp = false;
    v.validate_aud = false;
    v.validate_nbf = false;
    v.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Value>(assertion, &key, &v)
        .map_err(|_| Denial("jwt_signature_invalid"))?
        .claims;
    let num = |k: &str| claims.get(k).and_then(Value::as_i64);
    let now = crate::clock::now();
    claims
        .get("sub")
        .and_then(Value::as_str)
        .ok_or(Denial("jwt_sub_missing"))?;
    let iat = num("iat").ok_or(Denial("jwt_iat_missing"))?;
    let exp = num("exp").ok_or(Denial("jwt_exp_missing"))?;
    if iat > now + SKEW_SECS {
        return Err(Denial("jwt_iat_in_future"));
    }
    if exp + SKEW_SECS < now {
        return Err(Denial("jwt_expired"));
    }
    if let Some(nbf) = num("nbf")
        && nbf > now + SKEW_SECS
    {
        return Err(Denial("jwt_not_yet_valid"));
    }
    if trust.max_lifetime.is_some_and(|max| exp - iat > max) {
        return Err(Denial("jwt_lifetime_too_long"));
    }
    if trust.check_jti
        && let Some(jti) = claims.get("jti").and_then(Value::as_str)
        && !st.used_jti.lock().unwrap().insert((
            provider.to_string(),
            trust.issuer_url.clone(),
            jti.to_string(),
        ))
    {
        return Err(Denial("jti_reused"));
    }
    Ok(claims)
}

/// The claim's audiences: `aud` as a string or a list.
pub fn audiences(claims: &Value) -> Vec<&str> {
    match claims.get("aud") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}

/// The JWK with `kid` from the issuer's key set: the sandbox's own, inline, or
/// fetched (and cached) from a JWKS URL or via discovery.
async fn find_key(st: &State, trust: &Trust<'_>, kid: &str) -> Option<jsonwebtoken::jwk::Jwk> {
    let set: Value = if trust.issuer_url == st.url {
        st.key.jwks()
    } else {
        match &trust.keys {
            KeySource::Inline(set) => set.clone(),
            KeySource::JwksUrl(url) => fetch_jwks(st, url, kid).await?,
            KeySource::Discovery(url) => {
                let disc = match url {
                    Some(u) => u.to_string(),
                    None => format!(
                        "{}/.well-known/openid-configuration",
                        trust.issuer_url.trim_end_matches('/')
                    ),
                };
                let client = crate::http::client().ok()?;
                let d: Value = client.get(&disc).send().await.ok()?.json().await.ok()?;
                let uri = d.get("jwks_uri")?.as_str()?.to_string();
                fetch_jwks(st, &uri, kid).await?
            }
        }
    };
    let keys: Vec<jsonwebtoken::jwk::Jwk> =
        serde_json::from_value(set.get("keys")?.clone()).ok()?;
    keys.into_iter()
        .find(|k| k.common.key_id.as_deref() == Some(kid))
}

/// Fetch a JWKS, reusing a cached copy unless it lacks the wanted `kid`.
async fn fetch_jwks(st: &State, url: &str, kid: &str) -> Option<Value> {
    let has_kid = |v: &Value| {
        v.get("keys").and_then(Value::as_array).is_some_and(|ks| {
            ks.iter()
                .any(|k| k.get("kid").and_then(Value::as_str) == Some(kid))
        })
    };
    if let Some(v) = st.jwks_cache.lock().unwrap().get(url).cloned()
        && has_kid(&v)
    {
        return Some(v);
    }
    let client = crate::http::client().ok()?;
    let v: Value = client.get(url).send().await.ok()?.json().await.ok()?;
    st.jwks_cache
        .lock()
        .unwrap()
        .insert(url.to_string(), v.clone());
    Some(v)
}
