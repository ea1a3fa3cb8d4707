//! What a request must show before `exec --proxy` forwards it: the
//! listener's own `Host` (a page whose DNS name was rebound to 127.0.0.1
//! sends its own), the run's capability, and a path of the provider's API.
//! Refusals answer in the provider's error shape, so SDKs show them as
//! they would the API's own.

use std::borrow::Cow;

use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::provider::Provider;
use crate::secret::Secret;

/// The per-run secret the child presents instead of a token.
pub struct Capability(Secret<String>);

/// Bytes of randomness in a capability (256 bits).
const CAPABILITY_BYTES: usize = 32;

impl Capability {
    /// A fresh capability from the OS's random source.
    pub fn random() -> Self {
        use base64::Engine;
        use rand::RngCore;
        let mut b = [0u8; CAPABILITY_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut b);
        let s = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        Capability(Secret::new(format!("keyless-proxy-{s}")))
    }

    /// One kept in a file (`keyless agent --capability-file`), checked there.
    pub fn kept(value: String) -> Self {
        Capability(Secret::new(value))
    }

    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// Constant-time: no timing tells how much of a guess was right.
    fn matches(&self, presented: &[u8]) -> bool {
        // Lengths are not secret (every capability has the same one).
        same_bytes(self.0.expose().as_bytes(), presented)
    }

    /// True when the request presents this capability, and nothing else,
    /// in `Authorization: Bearer` and/or `x-api-key`. Read as bytes: a
    /// value that is not visible ASCII cannot equal the capability, which
    /// is, so no text check is needed first (issue 21: this runs for every
    /// request).
    pub fn presented_in(&self, headers: &HeaderMap) -> bool {
        let mut seen = false;
        for v in headers.get_all(header::AUTHORIZATION) {
            let Some(token) = bearer(v.as_bytes()) else {
                return false;
            };
            if !self.matches(token) {
                return false;
            }
            seen = true;
        }
        // A constant: no name parsed per request.
        const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
        for v in headers.get_all(X_API_KEY) {
            if !self.matches(v.as_bytes().trim_ascii()) {
                return false;
            }
            seen = true;
        }
        seen
    }
}

/// The credentials of `Bearer CREDENTIALS` (any case), trimmed.
fn bearer(v: &[u8]) -> Option<&[u8]> {
    let v = v.trim_ascii();
    let space = v.iter().position(|&b| b == b' ')?;
    v[..space]
        .eq_ignore_ascii_case(b"bearer")
        .then(|| v[space + 1..].trim_ascii())
}

/// Equal, in time that depends only on the lengths: eight bytes at a time,
/// no early exit (subtle's per-byte comparison took 1,300 instructions of
/// every proxied request, issue 21).
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (wa, ra) = a.as_chunks::<8>();
    let (wb, rb) = b.as_chunks::<8>();
    let mut diff = 0u64;
    for (x, y) in wa.iter().zip(wb) {
        // Opaque to the optimiser: it cannot turn the loop into an early exit.
        diff = std::hint::black_box(diff | (u64::from_ne_bytes(*x) ^ u64::from_ne_bytes(*y)));
    }
    for (x, y) in ra.iter().zip(rb) {
        diff |= u64::from(x ^ y);
    }
    std::hint::black_box(diff) == 0
}

/// Is `Host` the listener itself (`127.0.0.1:PORT`, `[::1]:PORT` or
/// `localhost:PORT`)? Port 0 is a Unix socket (`keyless agent`), which
/// clients name `localhost`. HTTP/1.1 requires the header; a request
/// without one is refused too.
pub fn host_is_ours(headers: &HeaderMap, port: u16) -> bool {
    let mut hosts = headers.get_all(header::HOST).iter();
    let (Some(h), None) = (hosts.next(), hosts.next()) else {
        return false;
    };
    let Ok(h) = h.to_str() else { return false };
    if port == 0 {
        // A Unix socket (`keyless agent`): clients name it `localhost`.
        return h.eq_ignore_ascii_case("localhost");
    }
    let Some((name, p)) = h.rsplit_once(':') else {
        return false;
    };
    // The port exactly as the listener's URL spells it: digits, no sign,
    // no leading zero (no allocation: this runs for every request).
    let port_ok = !p.starts_with('0')
        && p.bytes().all(|b| b.is_ascii_digit())
        && p.parse::<u16>() == Ok(port);
    port_ok && (name == "127.0.0.1" || name == "[::1]" || name.eq_ignore_ascii_case("localhost"))
}

/// The upstream path for a request path, or None when it is not one of
/// the provider's API paths. `base_path` is the upstream base's own path
/// ("" for Anthropic's host, "/v1" for OpenAI's `…/v1`). Borrowed when it
/// is the request's own (those two bases): nothing to build per request.
pub fn upstream_path<'a>(path: &'a str, base_path: &str) -> Option<Cow<'a, str>> {
    let rest = path.strip_prefix("/v1/")?;
    // No dot segments, encoded or not, and no empty segments: the path
    // must stay below /v1 whatever the upstream normalises.
    let safe = !rest.is_empty()
        && rest
            .split('/')
            .all(|seg| !seg.is_empty() && !dot_segment(seg) && !escaped_slash(seg))
        && !rest.contains('\\');
    if !safe {
        return None;
    }
    let base = base_path.trim_end_matches('/');
    Some(if base.is_empty() || base == "/v1" {
        Cow::Borrowed(path)
    } else if base.ends_with("/v1") {
        Cow::Owned(format!("{base}/{rest}"))
    } else {
        Cow::Owned(format!("{base}/v1/{rest}"))
    })
}

/// `.` or `..`, any dot spelled `%2e` (or `%2E`). No allocation: this
/// runs for every request.
fn dot_segment(seg: &str) -> bool {
    let mut b = seg.as_bytes();
    let mut dots = 0;
    while !b.is_empty() {
        if b[0] == b'.' {
            b = &b[1..];
        } else if b.len() >= 3 && b[0] == b'%' && b[1] == b'2' && b[2].eq_ignore_ascii_case(&b'e') {
            b = &b[3..];
        } else {
            return false;
        }
        dots += 1;
    }
    dots == 1 || dots == 2
}

/// `%2f` (or `%2F`): a slash the upstream may decode.
fn escaped_slash(seg: &str) -> bool {
    seg.as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1] == b'2' && w[2].eq_ignore_ascii_case(&b'f'))
}

/// Why a request was not forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Host,
    Capability,
    Path,
    /// keyless has no token to forward with (the message says why).
    NoToken,
    /// The upstream could not be reached (the message says why).
    Upstream,
}

impl Refusal {
    fn status(self) -> StatusCode {
        match self {
            Refusal::Host => StatusCode::FORBIDDEN,
            Refusal::Capability => StatusCode::UNAUTHORIZED,
            Refusal::Path => StatusCode::NOT_FOUND,
            Refusal::NoToken => StatusCode::SERVICE_UNAVAILABLE,
            Refusal::Upstream => StatusCode::BAD_GATEWAY,
        }
    }

    /// The error type names each provider's SDKs map to the same class.
    fn kind(self, provider: Provider) -> (&'static str, Option<&'static str>) {
        match (provider, self) {
            (Provider::Anthropic, Refusal::Host) => ("permission_error", None),
            (Provider::Anthropic, Refusal::Capability) => ("authentication_error", None),
            (Provider::Anthropic, Refusal::Path) => ("not_found_error", None),
            (Provider::Anthropic, _) => ("api_error", None),
            (Provider::Openai, Refusal::Host) => ("invalid_request_error", Some("forbidden")),
            (Provider::Openai, Refusal::Capability) => {
                ("invalid_request_error", Some("invalid_api_key"))
            }
            (Provider::Openai, Refusal::Path) => ("invalid_request_error", Some("unknown_url")),
            (Provider::Openai, _) => ("server_error", None),
        }
    }

    fn default_message(self) -> &'static str {
        match self {
            Refusal::Host => "keyless proxy: the Host header is not this listener's",
            Refusal::Capability => {
                "keyless proxy: missing or wrong capability (use the key keyless gave this program)"
            }
            Refusal::Path => "keyless proxy: not an API path of this provider",
            Refusal::NoToken => "keyless proxy: no token available",
            Refusal::Upstream => "keyless proxy: the API could not be reached",
        }
    }

    /// The refusal as the provider's API would word an error.
    pub fn respond(self, provider: Provider, message: Option<&str>) -> Response {
        let message = crate::redact::server_text(message.unwrap_or(self.default_message()));
        let (kind, code) = self.kind(provider);
        let body = match provider {
            Provider::Anthropic => serde_json::json!({
                "type": "error",
                "error": {"type": kind, "message": message},
            }),
            Provider::Openai => serde_json::json!({
                "error": {"message": message, "type": kind, "param": null, "code": code},
            }),
        };
        (self.status(), axum::Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn capabilities_are_random_and_long() {
        let a = Capability::random();
        let b = Capability::random();
        assert_ne!(a.expose(), b.expose());
        assert!(a.expose().len() >= "keyless-proxy-".len() + 43);
    }

    #[test]
    fn same_bytes_compares_every_byte_of_equal_lengths() {
        let a = b"keyless-proxy-0123456789abcdefghijklmnopqrstuvwxyz-_ABCDEFGHIJ";
        assert!(same_bytes(a, a));
        assert!(same_bytes(b"", b""));
        for i in 0..a.len() {
            let mut b = *a;
            b[i] ^= 1;
            assert!(!same_bytes(a, &b), "byte {i}");
        }
        assert!(!same_bytes(a, &a[..a.len() - 1]));
        assert!(!same_bytes(b"abc", b"abd"));
    }

    #[test]
    fn only_the_capability_and_nothing_else_passes() {
        let c = Capability::random();
        let good = format!("Bearer {}", c.expose());
        assert!(c.presented_in(&headers(&[("authorization", &good)])));
        assert!(c.presented_in(&headers(&[("x-api-key", c.expose())])));
        assert!(c.presented_in(&headers(&[
            ("authorization", &good),
            ("x-api-key", c.expose())
        ])));
        assert!(!c.presented_in(&headers(&[])));
        assert!(!c.presented_in(&headers(&[("authorization", "Bearer nope")])));
        assert!(!c.presented_in(&headers(&[("authorization", c.expose())])));
        // the right one beside a wrong one is still refused
        assert!(!c.presented_in(&headers(&[
            ("authorization", &good),
            ("x-api-key", "sk-ant-api03-other")
        ])));
        // any case of the scheme, spaces and tabs around the value
        let spaced = format!(" \tbEaReR {}\t ", c.expose());
        assert!(c.presented_in(&headers(&[("authorization", &spaced)])));
        assert!(c.presented_in(&headers(&[("x-api-key", &format!(" {} ", c.expose()))])));
        assert!(!c.presented_in(&headers(&[(
            "authorization",
            &format!("Basic {}", c.expose())
        )])));
        assert!(!c.presented_in(&headers(&[("authorization", "Bearer")])));
        let mut almost = c.expose().to_string();
        almost.pop();
        assert!(!c.presented_in(&headers(&[("x-api-key", &almost)])));
    }

    #[test]
    fn host_must_be_the_listener() {
        assert!(host_is_ours(&headers(&[("host", "127.0.0.1:4000")]), 4000));
        assert!(host_is_ours(&headers(&[("host", "LocalHost:4000")]), 4000));
        // keyless agent may listen on [::1] (an IP literal: no DNS rebinding).
        assert!(host_is_ours(&headers(&[("host", "[::1]:4000")]), 4000));
        assert!(!host_is_ours(&headers(&[("host", "127.0.0.1:4001")]), 4000));
        assert!(!host_is_ours(
            &headers(&[("host", "evil.example:4000")]),
            4000
        ));
        assert!(!host_is_ours(&headers(&[]), 4000));
        for bad in [
            "127.0.0.1:04000",
            "127.0.0.1:+4000",
            "127.0.0.1",
            "127.0.0.1:4000:4000",
            "[::1]:4001",
            "[::2]:4000",
            "127.0.0.2:4000",
            "localhost.:4000",
        ] {
            assert!(!host_is_ours(&headers(&[("host", bad)]), 4000), "{bad}");
        }
        assert!(!host_is_ours(
            &headers(&[("host", "127.0.0.1:4000"), ("host", "evil.example")]),
            4000
        ));
    }

    #[test]
    fn only_api_paths_below_v1_are_forwarded() {
        assert_eq!(
            upstream_path("/v1/messages", "").as_deref(),
            Some("/v1/messages")
        );
        assert_eq!(
            upstream_path("/v1/chat/completions", "/v1").as_deref(),
            Some("/v1/chat/completions")
        );
        assert_eq!(
            upstream_path("/v1/responses", "/openai/v1/").as_deref(),
            Some("/openai/v1/responses")
        );
        assert_eq!(
            upstream_path("/v1/models", "/gw").as_deref(),
            Some("/gw/v1/models")
        );
        for bad in [
            "/",
            "/v1",
            "/v1/",
            "/v2/messages",
            "/admin",
            "/v1/../admin",
            "/v1/%2e%2E/admin",
            "/v1/.%2e/admin",
            "/v1/%2E",
            "/v1/a//b",
            "/v1/a%2Fb",
            "/v1/a\\..\\b",
            "/_sandbox/history",
        ] {
            assert_eq!(upstream_path(bad, ""), None, "{bad}");
        }
    }
}
