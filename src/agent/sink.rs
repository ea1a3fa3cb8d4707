//! The sinks of `keyless agent`, as written on its command line:
//!
//! | sink                          | what it holds                                      |
//! |-------------------------------|----------------------------------------------------|
//! | `anthropic-profile:DIR[:NAME]`| the Anthropic SDKs' profile files under `DIR`      |
//! | `file:[PROVIDER=]PATH`        | the raw token, nothing else (no newline)           |
//! | `template:IN:OUT`             | `IN` rendered with the current tokens ([`super::template`]) |
//! | `proxy:PROVIDER=ADDR`         | the `exec --proxy` gate on `HOST:PORT` (loopback) or `unix:PATH` |
//!
//! Parsing is pure: what the paths are and which provider each sink
//! needs. Whether the places are safe to write is [`super::write`]'s.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::provider::Provider;

/// The Anthropic SDKs' default profile: `ANTHROPIC_CONFIG_DIR` alone selects it.
pub const DEFAULT_PROFILE: &str = "default";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sink {
    AnthropicProfile {
        dir: PathBuf,
        name: String,
    },
    File {
        provider: Option<Provider>,
        path: PathBuf,
    },
    Template {
        input: PathBuf,
        output: PathBuf,
    },
    Proxy {
        provider: Provider,
        addr: ProxyAddr,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyAddr {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl std::fmt::Display for ProxyAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProxyAddr::Tcp(a) => write!(f, "{a}"),
            ProxyAddr::Unix(p) => write!(f, "unix:{}", crate::redact::path(p)),
        }
    }
}

const FORMS: &str =
    "anthropic-profile:DIR[:NAME], file:[PROVIDER=]PATH, template:IN:OUT or proxy:PROVIDER=ADDR";

impl Sink {
    /// Parse one `--sink` value. Relative paths are made absolute against
    /// the current directory, so a reload or a second agent sees the same place.
    pub fn parse(text: &str) -> Result<Sink> {
        let bad = |why: &str| {
            Error::usage(format!("the sink {text:?} {why}"))
                .hint(format!("a sink is one of {FORMS}"))
        };
        let (kind, rest) = text
            .split_once(':')
            .ok_or_else(|| bad("has no kind before ':'"))?;
        if rest.is_empty() {
            return Err(bad("names no place after the kind"));
        }
        match kind {
            "anthropic-profile" => {
                let (dir, name) = split_profile(rest);
                check_profile_name(name).map_err(|w| bad(&w))?;
                Ok(Sink::AnthropicProfile {
                    dir: absolute(dir).map_err(|w| bad(&w))?,
                    name: name.to_string(),
                })
            }
            "file" => {
                let (provider, path) = match rest.split_once('=') {
                    Some((p, path)) if provider_named(p).is_some() => (provider_named(p), path),
                    _ => (None, rest),
                };
                Ok(Sink::File {
                    provider,
                    path: absolute(path).map_err(|w| bad(&w))?,
                })
            }
            "template" => {
                let (input, output) = split_paths(rest)
                    .ok_or_else(|| bad("needs both IN and OUT: template:IN:OUT"))?;
                Ok(Sink::Template {
                    input: absolute(input).map_err(|w| bad(&w))?,
                    output: absolute(output).map_err(|w| bad(&w))?,
                })
            }
            "proxy" => {
                let (p, addr) = rest
                    .split_once('=')
                    .ok_or_else(|| bad("needs a provider: proxy:anthropic=127.0.0.1:8471"))?;
                let provider = provider_named(p)
                    .ok_or_else(|| bad(&format!("names {p:?}, not anthropic or openai")))?;
                Ok(Sink::Proxy {
                    provider,
                    addr: proxy_addr(addr).map_err(|w| bad(&w))?,
                })
            }
            other => Err(bad(&format!("has the unknown kind {other:?}"))),
        }
    }

    /// The files this sink writes (for the single-instance lock and the
    /// clean-up), each one place on disk.
    pub fn places(&self) -> Vec<PathBuf> {
        match self {
            Sink::AnthropicProfile { dir, name } => vec![
                dir.join("configs").join(format!("{name}.json")),
                dir.join("credentials").join(format!("{name}.json")),
            ],
            Sink::File { path, .. } => vec![path.clone()],
            Sink::Template { output, .. } => vec![output.clone()],
            Sink::Proxy { addr, .. } => match addr {
                ProxyAddr::Tcp(a) => vec![PathBuf::from(format!("tcp:{a}"))],
                ProxyAddr::Unix(p) => vec![p.clone()],
            },
        }
    }

    /// How the sink is named in logs: its kind and place, never a token,
    /// and scrubbed for a terminal (a place may be an outside name).
    pub fn describe(&self) -> String {
        use crate::redact::path;
        match self {
            Sink::AnthropicProfile { dir, name } => {
                format!(
                    "anthropic-profile:{}:{}",
                    path(dir),
                    crate::redact::terminal(name)
                )
            }
            Sink::File { path: p, .. } => format!("file:{}", path(p)),
            Sink::Template { output, .. } => format!("template:{}", path(output)),
            Sink::Proxy { provider, addr } => format!("proxy:{}={addr}", provider.name()),
        }
    }
}

fn provider_named(name: &str) -> Option<Provider> {
    Provider::ALL.into_iter().find(|p| p.name() == name)
}

/// `DIR[:NAME]`: the text after the last ':' is a NAME when it could be one
/// (no '/', and not the path after a Windows drive's ':'), else it is all DIR.
fn split_profile(rest: &str) -> (&str, &str) {
    match rest.rsplit_once(':') {
        Some((dir, name))
            if !dir.is_empty() && !name.contains('/') && !is_drive(&rest[..=dir.len()]) =>
        {
            (dir, name)
        }
        _ => (rest, DEFAULT_PROFILE),
    }
}

/// `IN:OUT`: split at the first ':' that does not end a Windows drive
/// (`C:`), so `C:\in.toml:C:\out.toml` is two paths on Windows.
fn split_paths(text: &str) -> Option<(&str, &str)> {
    text.match_indices(':')
        .map(|(i, _)| i)
        .find(|&i| !is_drive(&text[..=i]))
        .map(|i| (&text[..i], &text[i + 1..]))
}

/// Is `text` (ending in ':') a drive and nothing else, as this platform's
/// paths read it? Only on Windows: a Unix path has no prefix.
fn is_drive(text: &str) -> bool {
    let mut c = Path::new(text).components();
    matches!(c.next(), Some(std::path::Component::Prefix(_))) && c.next().is_none()
}

/// The names every SDK accepts (the Go SDK's rule is the narrowest):
/// `[A-Za-z0-9_.-]+`, not starting with '.'.
fn check_profile_name(name: &str) -> std::result::Result<(), String> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "names the profile {name:?}: the SDKs accept only letters, digits, '_', '.' and '-', not starting with '.'"
        ))
    }
}

fn absolute(p: &str) -> std::result::Result<PathBuf, String> {
    if p.is_empty() {
        return Err("has an empty path".into());
    }
    let path = Path::new(p);
    if path.file_name().is_none() {
        return Err(format!("names {p:?}, which is not a file name"));
    }
    std::path::absolute(path).map_err(|e| format!("names {p:?}, which cannot be resolved: {e}"))
}

/// `unix:PATH`, an absolute path, or `HOST:PORT` on a loopback address.
fn proxy_addr(addr: &str) -> std::result::Result<ProxyAddr, String> {
    if let Some(p) = addr.strip_prefix("unix:") {
        return absolute(p).map(ProxyAddr::Unix);
    }
    if addr.starts_with('/') {
        return absolute(addr).map(ProxyAddr::Unix);
    }
    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| format!("names {addr:?}: give HOST:PORT or unix:PATH"))?;
    let port: u16 = port
        .parse()
        .map_err(|_| format!("names the port {port:?}, not a number up to 65535"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = match host {
        "localhost" => IpAddr::from([127, 0, 0, 1]),
        h => h.parse().map_err(|_| {
            format!("names the host {h:?}: give a loopback address such as 127.0.0.1")
        })?,
    };
    if !ip.is_loopback() {
        return Err(format!(
            "would listen on {ip}, which is not loopback: the proxy's capability is its only lock, so it serves this machine only (use a Unix socket to share it with other containers)"
        ));
    }
    Ok(ProxyAddr::Tcp(SocketAddr::new(ip, port)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink's place comes from the command line or a unit file that may
    /// name an outside directory: an escape in it is shown, not obeyed,
    /// wherever the agent names the sink (its logs and refusals).
    #[cfg(unix)]
    #[test]
    fn a_sinks_place_is_named_scrubbed() {
        let evil = "/tmp/a\u{1b}]0;owned\u{7}b";
        for text in [
            format!("file:{evil}/token"),
            format!("anthropic-profile:{evil}"),
            format!("template:/tmp/in:{evil}/out"),
            format!("proxy:anthropic=unix:{evil}/sock"),
        ] {
            let sink = Sink::parse(&text).unwrap();
            let shown = sink.describe();
            assert!(
                !shown.contains('\u{1b}') && !shown.contains('\u{7}'),
                "{shown:?}"
            );
            assert!(
                shown.contains("/tmp/a\u{FFFD}]0;owned\u{FFFD}b"),
                "{shown:?}"
            );
        }
        // A refusal names the place the same way.
        let base = std::env::temp_dir().join(format!("keyless-sink-{}", std::process::id()));
        let odd = base.join("a\u{1b}]0;owned\u{7}b");
        std::fs::create_dir_all(odd.join("token")).unwrap();
        let refusal = super::super::write::check_place(&odd.join("token"), Default::default());
        let _ = std::fs::remove_dir_all(&base);
        let shown = refusal.unwrap_err().message;
        assert!(shown.contains("is not a regular file"), "{shown:?}");
        assert!(
            !shown.contains('\u{1b}') && !shown.contains('\u{7}'),
            "{shown:?}"
        );
    }

    #[test]
    fn every_form_parses() {
        assert_eq!(
            Sink::parse("anthropic-profile:/run/a").unwrap(),
            Sink::AnthropicProfile {
                dir: "/run/a".into(),
                name: "default".into()
            }
        );
        assert_eq!(
            Sink::parse("anthropic-profile:/run/a:ci").unwrap(),
            Sink::AnthropicProfile {
                dir: "/run/a".into(),
                name: "ci".into()
            }
        );
        assert_eq!(
            Sink::parse("file:openai=/run/t").unwrap(),
            Sink::File {
                provider: Some(Provider::Openai),
                path: "/run/t".into()
            }
        );
        assert_eq!(
            Sink::parse("file:/run/a=b").unwrap(),
            Sink::File {
                provider: None,
                path: "/run/a=b".into()
            }
        );
        assert_eq!(
            Sink::parse("template:/a/in:/b/out").unwrap(),
            Sink::Template {
                input: "/a/in".into(),
                output: "/b/out".into()
            }
        );
        assert_eq!(
            Sink::parse("proxy:anthropic=127.0.0.1:8471").unwrap(),
            Sink::Proxy {
                provider: Provider::Anthropic,
                addr: ProxyAddr::Tcp("127.0.0.1:8471".parse().unwrap())
            }
        );
        assert_eq!(
            Sink::parse("proxy:openai=unix:/run/o.sock").unwrap(),
            Sink::Proxy {
                provider: Provider::Openai,
                addr: ProxyAddr::Unix("/run/o.sock".into())
            }
        );
    }

    /// A ':' is a separator on Unix wherever it is (Windows drives are
    /// the Wine scenario's: `windows::agent_*`).
    #[test]
    fn colons_split_unix_paths() {
        assert_eq!(split_paths("a:b:c"), Some(("a", "b:c")));
        assert_eq!(split_profile("a:b"), ("a", "b"));
        assert_eq!(split_profile("/x/y:z/w"), ("/x/y:z/w", DEFAULT_PROFILE));
        assert!(!is_drive("C:"));
    }

    #[test]
    fn bad_sinks_say_what_is_wrong() {
        for (s, why) in [
            ("nothing", "no kind"),
            ("socket:/x", "unknown kind"),
            ("file:", "no place"),
            ("template:/only", "both IN and OUT"),
            ("proxy:/x", "needs a provider"),
            ("proxy:gemini=127.0.0.1:1", "not anthropic or openai"),
            ("proxy:openai=0.0.0.0:8000", "not loopback"),
            ("proxy:openai=10.0.0.1:8000", "not loopback"),
            ("proxy:openai=127.0.0.1:http", "not a number"),
            ("anthropic-profile:/a:.hidden", "not starting with '.'"),
        ] {
            let e = Sink::parse(s).unwrap_err();
            assert!(e.message.contains(why), "{s}: {}", e.message);
        }
    }
}
