//! What the ambient sources share: one bounded GET to the platform's own
//! token endpoint (the URL comes from the platform's variables or a fixed
//! metadata host), its failures classified the same way, and the request
//! tokens it carries never shown.
//!
//! Exit codes follow the table: the platform refused (401/403) → 5;
//! unreachable, 5xx or a body that is not what the platform sends → 4.

use crate::error::{Error, Result};
use crate::http;

/// GET `url` with `headers` (which may carry a request token: never
/// printed). `what` names the platform in messages; the URL is shown
/// without its query.
pub fn get(url: &url::Url, headers: &[(&str, &str)], what: &str) -> Result<http::Response> {
    let shown = format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.port().map(|p| format!(":{p}")).unwrap_or_default()
    );
    crate::output::info(&format!(
        "requesting an identity token from {what} at {shown}"
    ));
    let rt = http::runtime()?;
    // Metadata servers and CI endpoints are reached directly, as the
    // platforms' own libraries do: a proxy must never see the request token.
    let client = http::client_direct()?;
    let mut req = client.get(url.as_str());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = rt.block_on(http::send(req, &shown)).map_err(|f| {
        Error::network(format!(
            "cannot get an identity token from {what}: {}",
            f.message()
        ))
    })?;
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
