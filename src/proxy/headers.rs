//! What `exec --proxy` changes in the heads it forwards: the request's
//! credentials and hop-by-hop headers out, the token's `Authorization` and
//! the provider's OAuth headers in; the response's hop-by-hop headers out.

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};

/// Now as an HTTP date (RFC 9110 §5.6.7's IMF-fixdate), for an answer
/// that carries none: the listener's own, or one the API sent undated.
pub(super) fn date_now() -> Option<String> {
    let fixdate = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::OffsetDateTime::now_utc().format(fixdate).ok()
}

/// The token's `Authorization`, in place of whatever the head carries (a
/// kept head carries the rejected token's).
pub(super) fn set_auth(h: &mut HeaderMap, auth: Option<&HeaderValue>) {
    match auth {
        Some(auth) => h.insert(header::AUTHORIZATION, auth.clone()),
        None => h.remove(header::AUTHORIZATION),
    };
}

/// The request's headers minus its credentials, hop-by-hop headers, `Expect` and
/// `Host`, plus the provider's headers for OAuth tokens: `anthropic-beta`
/// values are merged into the client's, others are added when absent.
/// Changed in place (no copy of what stays).
pub(super) fn outgoing_headers(h: &mut HeaderMap, extra: &[(HeaderName, HeaderValue)]) {
    use axum::http::header::Entry;
    strip(h);
    for (name, value) in extra {
        let mut present = match h.entry(name.clone()) {
            Entry::Vacant(e) => {
                e.insert(value.clone());
                continue;
            }
            Entry::Occupied(e) => e,
        };
        if name != "anthropic-beta" {
            continue; // the client's own wins
        }
        let Ok(want) = value.to_str() else { continue };
        let mut values: Vec<String> = present
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
        if !values.iter().any(|v| v == want) {
            values.push(want.to_string());
        }
        if let Ok(v) = HeaderValue::from_str(&values.join(",")) {
            present.insert(v);
        }
    }
}

/// Remove what [`DROPPED`] names, and what the head's `Connection` names
/// (RFC 9110 §7.6.1): no allocation, no copy of a name (a parsed custom
/// name's first copy allocates), unless `Connection` names headers.
pub(super) fn strip(h: &mut HeaderMap) {
    let mut found = 0u16;
    let mut named = Vec::new();
    for (name, value) in h.iter() {
        if let Some(i) = dropped(name) {
            found |= 1 << i;
            if i == CONNECTION {
                connection_options(value, &mut named);
            }
        }
    }
    for name in named {
        h.remove(&name);
    }
    while found != 0 {
        h.remove(&DROPPED[found.trailing_zeros() as usize]);
        found &= found - 1;
    }
}

/// The headers that never pass: the child's credentials, `Host`,
/// `Expect` (answered by the listener) and the hop-by-hop ones.
static DROPPED: [HeaderName; 13] = [
    header::HOST,
    header::AUTHORIZATION,
    HeaderName::from_static("x-api-key"),
    header::CONNECTION,
    header::EXPECT,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    HeaderName::from_static("proxy-connection"),
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// [`DROPPED`]'s index of `Connection`.
const CONNECTION: usize = 3;

/// The header names a `Connection` header's `value` lists, into `named`:
/// its options but `close` and `keep-alive` (which name no header that
/// passes anyway).
fn connection_options(value: &HeaderValue, named: &mut Vec<HeaderName>) {
    // As the APIs and SDKs send it: no split, no case folding.
    if matches!(value.as_bytes(), b"keep-alive" | b"close") {
        return;
    }
    for t in value.as_bytes().split(|&b| b == b',') {
        let t = t.trim_ascii();
        if t.is_empty() || t.eq_ignore_ascii_case(b"keep-alive") || t.eq_ignore_ascii_case(b"close")
        {
            continue;
        }
        if let Ok(name) = HeaderName::from_bytes(t) {
            named.push(name);
        }
    }
}

/// Where `name` is in [`DROPPED`].
fn dropped(name: &HeaderName) -> Option<usize> {
    // One match on the name (a jump on its length, then one comparison):
    // this runs for every header of every request and response.
    Some(match name.as_str() {
        "host" => 0,
        "authorization" => 1,
        "x-api-key" => 2,
        "connection" => 3,
        "expect" => 4,
        "keep-alive" => 5,
        "proxy-authenticate" => 6,
        "proxy-authorization" => 7,
        "proxy-connection" => 8,
        "te" => 9,
        "trailer" => 10,
        "transfer-encoding" => 11,
        "upgrade" => 12,
        _ => return None,
    })
}

/// `from`'s headers into `to` (empty), but those [`strip`] removes.
pub(super) fn copy_response_headers(from: &HeaderMap, to: &mut HeaderMap) {
    let mut named = Vec::new();
    for value in from.get_all(header::CONNECTION) {
        connection_options(value, &mut named);
    }
    for (name, value) in from {
        if dropped(name).is_none() {
            to.append(name.clone(), value.clone());
        }
    }
    // Removed after: one lookup a name (a hostile API's list of thousands
    // of names costs no search of the list per header).
    for name in named {
        to.remove(&name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A retry's head is the first try's, with the rejected token in it: a
    /// renewed token that cannot be a header value (so no `Authorization`
    /// is made of it) must not leave the rejected one there.
    #[test]
    fn a_retry_never_carries_the_rejected_token() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer rejected"),
        );
        set_auth(&mut h, Some(&HeaderValue::from_static("Bearer renewed")));
        assert_eq!(h[header::AUTHORIZATION], "Bearer renewed");
        set_auth(&mut h, None);
        assert!(h.get(header::AUTHORIZATION).is_none(), "{h:?}");
    }

    #[test]
    fn each_dropped_name_is_found_where_it_is_listed() {
        for (i, name) in DROPPED.iter().enumerate() {
            assert_eq!(dropped(name), Some(i), "{name}");
        }
        assert_eq!(dropped(&header::CONTENT_TYPE), None);
        assert_eq!(DROPPED[CONNECTION], header::CONNECTION);
        let mut h = HeaderMap::new();
        for name in &DROPPED {
            h.append(name.clone(), HeaderValue::from_static("x"));
        }
        h.append("x-kept", HeaderValue::from_static("y"));
        strip(&mut h);
        assert_eq!(h.len(), 1, "{h:?}");
    }

    #[test]
    fn credentials_are_replaced_and_the_oauth_beta_is_merged() {
        let mut h = HeaderMap::new();
        h.insert("authorization", HeaderValue::from_static("Bearer cap"));
        h.insert("x-api-key", HeaderValue::from_static("cap"));
        h.insert("host", HeaderValue::from_static("127.0.0.1:1"));
        h.insert("connection", HeaderValue::from_static("keep-alive"));
        h.insert(
            "anthropic-beta",
            HeaderValue::from_static("prompt-caching-2024-07-31, token-counting-2024-11-01"),
        );
        h.insert("anthropic-version", HeaderValue::from_static("2099-01-01"));
        h.insert("content-type", HeaderValue::from_static("application/json"));
        h.insert("expect", HeaderValue::from_static("100-continue"));
        let extra = [
            ("anthropic-version", "2023-06-01"),
            ("anthropic-beta", "oauth-2025-04-20"),
        ]
        .map(|(n, v)| (HeaderName::from_static(n), HeaderValue::from_static(v)));
        let mut out = h.clone();
        outgoing_headers(&mut out, &extra);
        // `expect`: the listener has answered the child's 100-continue and
        // the body follows the head at once; an API that answered without
        // a 100 and kept the connection would read the body as a request.
        for gone in ["authorization", "x-api-key", "host", "connection", "expect"] {
            assert!(!out.contains_key(gone), "{gone}");
        }
        assert_eq!(
            out["anthropic-beta"],
            "prompt-caching-2024-07-31,token-counting-2024-11-01,oauth-2025-04-20"
        );
        assert_eq!(
            out["anthropic-version"], "2099-01-01",
            "the client's own wins"
        );
        assert_eq!(out["content-type"], "application/json");
        // a client that names the beta already gets it once
        let mut h = HeaderMap::new();
        h.insert(
            "anthropic-beta",
            HeaderValue::from_static("oauth-2025-04-20"),
        );
        let mut out = h;
        outgoing_headers(&mut out, &extra);
        assert_eq!(out["anthropic-beta"], "oauth-2025-04-20");
        assert_eq!(out["anthropic-version"], "2023-06-01");
    }

    /// RFC 9110 §7.6.1: a proxy removes the headers its message's
    /// `Connection` names, both ways, and only those.
    #[test]
    fn headers_a_connection_header_names_do_not_pass() {
        let mut h = HeaderMap::new();
        h.append("connection", HeaderValue::from_static("close, X-Hop-One"));
        h.append("connection", HeaderValue::from_static(" x-hop-two ,,"));
        h.append("x-hop-one", HeaderValue::from_static("1"));
        h.append("x-hop-two", HeaderValue::from_static("2"));
        h.append("x-hop-two", HeaderValue::from_static("2b"));
        h.append("content-type", HeaderValue::from_static("application/json"));
        let mut out = h.clone();
        outgoing_headers(&mut out, &[]);
        assert_eq!(
            out.keys().map(|k| k.as_str()).collect::<Vec<_>>(),
            ["content-type"]
        );
        let mut answer = h.clone();
        strip(&mut answer);
        assert_eq!(answer.len(), 1, "{answer:?}");
        let mut copied = HeaderMap::new();
        copy_response_headers(&h, &mut copied);
        assert_eq!(copied.len(), 1, "{copied:?}");
        // A name that is not a header name, or names nothing here, changes nothing.
        let mut h = HeaderMap::new();
        h.append(
            "connection",
            HeaderValue::from_static("keep-alive, b@d, x-absent"),
        );
        h.append("x-kept", HeaderValue::from_static("y"));
        strip(&mut h);
        assert_eq!(h.keys().map(|k| k.as_str()).collect::<Vec<_>>(), ["x-kept"]);
    }
}
