//! Authorization code with PKCE (RFC 7636) through the user's browser and a
//! loopback redirect (RFC 8252 §7.3, the listener is [`super::callback`]):
//! an ephemeral port unless one is configured, `state` and `nonce`.
//! The URL is always printed on stderr; opening a browser is best effort.

use std::time::Duration;

use super::{Client, Tokens, pkce_challenge, random_token};
use crate::error::{Error, Result};
use crate::output;

/// Can a browser be opened here? `$BROWSER`, else a platform opener that has
/// a display to open on ([`super::opener`]).
pub fn can_open() -> bool {
    !super::opener::candidates().is_empty()
}

/// A URL that passed [`crate::config::checks::check_browser_url`] and is
/// printable ASCII without blanks or quotes as serialized: the only kind
/// [`open`] takes, so that no opener path can skip the check, and a
/// handler's command line (`"browser.exe" "%1"` on Windows) cannot be
/// broken out of.
pub struct BrowserUrl(url::Url);

impl BrowserUrl {
    /// `what` names the value in the refusal ("the verification_uri …").
    pub fn parse(what: &str, raw: &str) -> Result<Self> {
        let url = crate::config::checks::check_browser_url(what, raw)?;
        if !plain(url.as_str()) {
            return Err(Error::network(format!(
                "{what} holds characters no URL given to a browser should; keyless does not open it"
            ))
            .hint("the identity provider sent something no browser should be given; report it to its administrator"));
        }
        Ok(BrowserUrl(url))
    }
}

/// Printable ASCII, no blank, no `"`.
fn plain(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_graphic() && b != b'"')
}

impl std::fmt::Display for BrowserUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.as_str())
    }
}

/// Start the browser on `url` without waiting for it. True when started.
pub fn open(url: &BrowserUrl) -> bool {
    super::opener::open(url.0.as_str())
}

pub struct Options {
    pub no_browser: bool,
    pub timeout: Duration,
}

/// Tokens plus the nonce they must carry.
pub struct Outcome {
    pub tokens: Tokens,
    pub nonce: String,
}

pub fn login(client: &Client, opts: &Options) -> Result<Outcome> {
    let auth_endpoint = client.disc.authorization_endpoint.clone().ok_or_else(|| {
        Error::config("the issuer has no authorization endpoint")
            .hint("use `keyless login --device`")
    })?;
    let host = client
        .cfg
        .redirect_host
        .clone()
        .unwrap_or_else(|| "127.0.0.1".into());
    let listeners = super::callback::bind(&host, client.cfg.redirect_port.unwrap_or(0))?;
    let port = listeners[0]
        .local_addr()
        .map_err(|e| Error::failure(format!("cannot read the callback port: {e}")))?
        .port();
    let redirect_uri = format!("http://{host}:{port}/callback");
    let verifier = random_token();
    let state = random_token();
    let nonce = random_token();
    let mut url = url::Url::parse(&auth_endpoint)
        .map_err(|_| Error::config("the issuer's authorization endpoint is not a URL"))?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", &client.cfg.client_id)
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("scope", &client.cfg.scopes())
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &pkce_challenge(&verifier))
            .append_pair("code_challenge_method", "S256");
        if let Some(r) = client.resource() {
            q.append_pair("resource", &r);
        }
        // Providers (oidc-provider, Google) need this to issue refresh tokens.
        if client
            .cfg
            .scopes()
            .split(' ')
            .any(|s| s == "offline_access")
        {
            q.append_pair("prompt", "consent");
        }
    }
    let url = BrowserUrl::parse("the issuer's authorization endpoint", url.as_str())?;
    let deadline = super::deadline(opts.timeout)?;
    let opened = !opts.no_browser && open(&url);
    output::note(&format!(
        "{} to sign in at {}. If it does not open, visit:\n  {url}",
        if opened {
            "Opened your browser"
        } else {
            "Open this URL in a browser"
        },
        client.cfg.issuer
    ));
    let code = super::callback::await_callback(listeners, state, deadline)?;
    let tokens = client
        .token_request(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &redirect_uri),
            ("code_verifier", &verifier),
        ])
        .map_err(|f| f.into_error("redeeming the authorization code"))?;
    Ok(Outcome { tokens, nonce })
}

#[cfg(test)]
mod tests {
    use super::BrowserUrl;

    #[test]
    fn only_plain_http_urls_reach_an_opener() {
        let good = BrowserUrl::parse("u", "https://idp.example/a?x=\"1 2\"&y=%0A").unwrap();
        assert_eq!(
            good.to_string(),
            "https://idp.example/a?x=%221%202%22&y=%0A",
            "quotes, blanks and control characters are escaped by serializing"
        );
        for bad in [
            "file:///C:/Windows/System32/calc.exe",
            "javascript:alert(1)",
            "ms-settings:",
            "\\\\evil\\share\\x.exe",
            "-https://idp.example/",
            "http://evil.example/",
        ] {
            assert!(BrowserUrl::parse("u", bad).is_err(), "{bad}");
        }
        assert!(super::plain("https://a/b?c=d&e=%22"));
        assert!(!super::plain("https://a/\"x"));
        assert!(!super::plain("https://a/\u{7f}"));
        assert!(!super::plain("https://a/é"));
    }
}
