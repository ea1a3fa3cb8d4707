//! The proxies of the environment, as every client of keyless's reads
//! them: `HTTP(S)_PROXY`, `ALL_PROXY` and `NO_PROXY` (and their lower-case
//! forms), loopback always exempt.

/// Always reached directly: a proxy would see the assertion and refresh token
/// of a plain-http loopback endpoint in cleartext and could answer for it.
const LOOPBACK: &str = "localhost,localhost.,127.0.0.0/8,::1,::ffff:127.0.0.0/104";

/// The proxies of `HTTP(S)_PROXY`/`ALL_PROXY`/`NO_PROXY` and their lower-case
/// forms, as reqwest would read them, with loopback always exempt. Written
/// out because reqwest's own system proxy cannot be given extra exemptions.
pub(super) fn env_proxies() -> Vec<reqwest::Proxy> {
    let Some((http, https, exempt)) = proxy_vars() else {
        return Vec::new();
    };
    // An unparsable value is ignored, as reqwest ignores it.
    [
        http.and_then(|u| reqwest::Proxy::http(u).ok()),
        https.and_then(|u| reqwest::Proxy::https(u).ok()),
    ]
    .into_iter()
    .flatten()
    .map(|p| p.no_proxy(reqwest::NoProxy::from_string(&exempt)))
    .collect()
}

/// The proxy for http, the one for https, and the exemptions (None when
/// proxies are not read at all: a CGI request's `Proxy:` header).
fn proxy_vars() -> Option<(Option<String>, Option<String>, String)> {
    use crate::env_vars as ev;
    if std::env::var_os(ev::REQUEST_METHOD).is_some() {
        return None;
    }
    let var = |names: [&str; 2]| ev::non_blank(names.iter().find_map(|n| std::env::var(n).ok()));
    let exempt = match var([ev::NO_PROXY, ev::NO_PROXY_LOWER]) {
        Some(list) => format!("{list},{LOOPBACK}"),
        None => LOOPBACK.to_string(),
    };
    let all = var([ev::ALL_PROXY, ev::ALL_PROXY_LOWER]);
    let http = var([ev::HTTP_PROXY, ev::HTTP_PROXY_LOWER]).or_else(|| all.clone());
    let https = var([ev::HTTPS_PROXY, ev::HTTPS_PROXY_LOWER]).or(all);
    Some((http, https, exempt))
}

/// Can a request to `url` go through a proxy of the environment? False
/// for loopback (always exempt) and when no proxy is named for its scheme;
/// otherwise true (NO_PROXY may still exempt it: reqwest decides).
pub fn may_use_proxy(url: &url::Url) -> bool {
    let loopback = match url.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => true,
    };
    if loopback {
        return false;
    }
    match proxy_vars() {
        None => false,
        Some((http, https, _)) => {
            if url.scheme() == "https" {
                https.is_some()
            } else {
                http.is_some()
            }
        }
    }
}
