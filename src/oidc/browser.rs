//! Authorization code with PKCE (RFC 7636) through the user's browser and a
//! loopback redirect (RFC 8252 §7.3, the listener is [`super::callback`]):
//! an ephemeral port unless one is configured, `state` and `nonce`.
//! The URL is always printed on stderr; opening a browser is best effort.

use std::process::{Command, Stdio};
use std::time::Duration;

use super::{Client, Tokens, pkce_challenge, random_token};
use crate::env_vars;
use crate::error::{Error, Result};
use crate::output;

/// Can a browser be opened here? `$BROWSER`, else a platform opener that has
/// a display to open on.
pub fn can_open() -> bool {
    !browser_commands().is_empty() || opener().is_some()
}

/// `$BROWSER`'s commands (a ':'-separated list) whose program exists.
fn browser_commands() -> Vec<Vec<String>> {
    let Ok(b) = std::env::var(env_vars::BROWSER) else {
        return Vec::new();
    };
    b.split(':')
        .filter(|s| !s.trim().is_empty())
        .filter_map(|s| shell_words::split(s).ok())
        .filter(|v| !v.is_empty())
        .filter(|v| {
            let p = std::path::Path::new(&v[0]);
            if v[0].contains('/') {
                p.is_file()
            } else {
                on_path(&v[0])
            }
        })
        .collect()
}

fn on_path(prog: &str) -> bool {
    std::env::var_os(env_vars::PATH)
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(prog).is_file()))
}

fn opener() -> Option<Vec<String>> {
    #[cfg(target_os = "macos")]
    {
        // Over SSH there is nobody at this screen.
        if std::env::var_os(env_vars::SSH_CONNECTION).is_some() {
            return None;
        }
        return Some(vec!["open".into()]);
    }
    #[cfg(windows)]
    {
        // Not `cmd /C start`: cmd would split the URL at every `&`.
        return Some(vec![
            "rundll32".into(),
            "url.dll,FileProtocolHandler".into(),
        ]);
    }
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        let display = std::env::var_os(env_vars::DISPLAY).is_some()
            || std::env::var_os(env_vars::WAYLAND_DISPLAY).is_some();
        if on_path("wslview") {
            return Some(vec!["wslview".into()]);
        }
        if display && on_path("xdg-open") {
            return Some(vec!["xdg-open".into()]);
        }
        None
    }
}

/// A URL that passed [`crate::config::checks::check_browser_url`]: the only
/// kind [`open`] takes, so that no opener path can skip the check.
pub struct BrowserUrl(url::Url);

impl BrowserUrl {
    /// `what` names the value in the refusal ("the verification_uri …").
    pub fn parse(what: &str, raw: &str) -> Result<Self> {
        crate::config::checks::check_browser_url(what, raw).map(BrowserUrl)
    }
}

impl std::fmt::Display for BrowserUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.as_str())
    }
}

/// Start the browser on `url` without waiting for it. True when started.
pub fn open(url: &BrowserUrl) -> bool {
    // $BROWSER first, then the platform opener.
    let mut candidates = browser_commands();
    candidates.extend(opener());
    for argv in candidates {
        let spawned = env_vars::without_any_credentials(&mut Command::new(&argv[0]))
            .args(&argv[1..])
            .arg(url.0.as_str())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        if let Ok(mut child) = spawned {
            // Reap it whenever it ends, without waiting here.
            std::thread::spawn(move || {
                let _ = child.wait();
            });
            return true;
        }
    }
    false
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
