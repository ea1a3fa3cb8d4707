//! What the ambient sources share: one bounded request to the platform's
//! own token endpoint (the URL comes from the platform's variables or a
//! fixed metadata host), its failures classified the same way, retries only
//! where the platform documents them, and the request tokens it carries
//! never shown.
//!
//! Exit codes follow the table: the platform refused (401/403) → 5;
//! unreachable, 5xx, timed out or a body that is not what the platform sends
//! → 4. Every request has a total timeout (connect included) and the 1 MiB
//! body cap of [`crate::http`].

use std::time::Duration;

use crate::error::{Error, Result};
use crate::http;

/// The total time one request to a platform's token endpoint may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Which answers are retried, and after how long each retry waits.
#[derive(Clone, Copy)]
pub struct Retry {
    pub statuses: fn(u16) -> bool,
    pub delays: &'static [Duration],
}

impl Retry {
    pub const NEVER: Retry = Retry {
        statuses: |_| false,
        delays: &[],
    };
}

/// One request to a platform.
pub struct Call<'a> {
    pub post: bool,
    pub url: &'a url::Url,
    /// May carry a request token: never printed.
    pub headers: &'a [(&'a str, &'a str)],
    /// The body of a POST (sent as is; `None` sends an empty body).
    pub body: Option<Vec<u8>>,
    /// Names the platform in messages.
    pub what: &'a str,
    pub timeout: Duration,
    pub retry: Retry,
}

impl<'a> Call<'a> {
    pub fn get(url: &'a url::Url, headers: &'a [(&'a str, &'a str)], what: &'a str) -> Self {
        Call {
            post: false,
            url,
            headers,
            body: None,
            what,
            timeout: TIMEOUT,
            retry: Retry::NEVER,
        }
    }
}

/// The URL as messages show it: scheme, host and port, never the query
/// (which may name an identity) or the path (which may hold a job's ids).
pub fn shown(url: &url::Url) -> String {
    format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.port().map(|p| format!(":{p}")).unwrap_or_default()
    )
}

/// GET `url` with `headers`; anything but 200 is an error.
pub fn get(url: &url::Url, headers: &[(&str, &str)], what: &str) -> Result<http::Response> {
    let resp = send(&Call::get(url, headers, what))?;
    classify(resp, what, &shown(url))
}

/// Send `call`, retrying the statuses it names after its delays; the last
/// answer, whatever its status. A request that got no answer is an error
/// (exit 4), never retried: the platforms document retries for answers.
pub fn send(call: &Call) -> Result<http::Response> {
    let shown = shown(call.url);
    let what = call.what;
    crate::output::info(&format!(
        "requesting an identity token from {what} at {shown}"
    ));
    let rt = http::runtime()?;
    // Metadata servers and CI endpoints are reached directly, as the
    // platforms' own libraries do: a proxy must never see the request token.
    let client = http::client_direct()?;
    let mut attempt = 0;
    loop {
        let mut req = if call.post {
            client.post(call.url.as_str())
        } else {
            client.get(call.url.as_str())
        };
        req = req.timeout(call.timeout);
        for (k, v) in call.headers {
            req = req.header(*k, *v);
        }
        match (&call.post, &call.body) {
            (true, Some(b)) => req = req.body(b.clone()),
            // Some front ends want a length on every POST (411 otherwise),
            // and an empty body gets none by default.
            (true, None) => req = req.header("content-length", "0"),
            _ => {}
        }
        let resp = rt.block_on(http::send(req, &shown)).map_err(|f| {
            let m = f.message().replace(
                &format!("{}s", http::TIMEOUT.as_secs()),
                &format!("{}s", call.timeout.as_secs_f32()),
            );
            Error::network(format!("cannot get an identity token from {what}: {m}"))
        })?;
        let Some(delay) = call.retry.delays.get(attempt) else {
            return Ok(resp);
        };
        if !(call.retry.statuses)(resp.status) {
            return Ok(resp);
        }
        crate::output::info(&format!(
            "{what} answered {}; retrying in {:.1}s",
            resp.status,
            delay.as_secs_f32()
        ));
        std::thread::sleep(*delay);
        attempt += 1;
    }
}

/// 200 is the answer; 401/403 a refusal (exit 5); anything else a problem
/// at the platform (exit 4).
pub fn classify(resp: http::Response, what: &str, shown: &str) -> Result<http::Response> {
    match resp.status {
        200 => Ok(resp),
        401 | 403 => Err(Error::denied(format!(
            "{what} refused the identity token request ({}) at {shown}",
            resp.status
        ))
        .hint("check that this job or machine is allowed to request OIDC tokens")),
        s => Err(Error::network(format!(
            "{what} answered {s} to the identity token request at {shown}"
        ))
        .hint("a passing problem at the platform; retry later")),
    }
}

/// Only `https`, or plain http to a loopback or link-local metadata
/// address, may carry a request token.
pub fn check_endpoint(url: &url::Url, var: &str) -> Result<()> {
    let local = crate::config::checks::is_loopback(url)
        || matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_link_local());
    match url.scheme() {
        "https" => Ok(()),
        "http" if local => Ok(()),
        _ => Err(Error::config(format!(
            "{var} is not an https URL; keyless will not send a request token over it"
        ))),
    }
}

/// Parse the URL in the platform variable `var` and check it may carry a
/// request token.
pub fn endpoint(value: &str, var: &str) -> Result<url::Url> {
    let url =
        url::Url::parse(value).map_err(|e| Error::config(format!("{var} is not a URL: {e}")))?;
    check_endpoint(&url, var)?;
    Ok(url)
}

/// A string field of a JSON body, trimmed and non-empty.
pub fn json_field(body: &[u8], field: &str) -> Option<String> {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()?
        .get(field)?
        .as_str()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

pub use crate::env_vars::var;
