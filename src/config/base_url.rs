//! An API base URL, decided in one place: what a `--base-url` flag,
//! `ANTHROPIC_BASE_URL`, `OPENAI_BASE_URL` or the config file's `base_url`
//! may be, and its one spelling.
//!
//! [`BaseUrl::parse`] holds it to the rule every URL keyless sends a token to
//! passes ([`checks::check_url`]: https, or http to this machine; a host; no
//! user:password, query or fragment). Either way it is kept without a
//! trailing slash, so `{base}/v1/...` joins and two spellings of one base
//! compare equal.

use std::fmt;

use super::checks;
use crate::error::Result;

/// Anthropic's own API.
pub const DEFAULT_ANTHROPIC: &str = "https://api.anthropic.com";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl(String);

impl BaseUrl {
    /// Parse and check `v`; `what` names the flag, variable or setting in
    /// the message when it is refused.
    pub fn parse(what: &str, v: &str) -> Result<BaseUrl> {
        checks::check_url(what, v).map(BaseUrl)
    }

    /// A value checked where it came in: the config file's, written by
    /// `setup` through [`BaseUrl::parse`] and held to the same rule again
    /// when a profile is resolved ([`crate::settings::Settings::recheck_url`]),
    /// before any token is sent. Only the spelling rule applies here.
    pub fn checked(v: &str) -> BaseUrl {
        BaseUrl(v.trim_end_matches('/').to_string())
    }

    pub fn anthropic_default() -> BaseUrl {
        BaseUrl(DEFAULT_ANTHROPIC.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// `path` (starting with `/`) below this base.
    pub fn join(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }

    /// Does `raw` (an inherited variable, unchecked) name this base?
    pub fn is(&self, raw: &str) -> bool {
        raw.trim_end_matches('/') == self.0
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_spelling_without_a_trailing_slash() {
        let a = BaseUrl::parse("--base-url", "https://api.anthropic.com/").unwrap();
        assert_eq!(a, BaseUrl::anthropic_default());
        assert_eq!(a.join("/v1/models"), "https://api.anthropic.com/v1/models");
        assert_eq!(
            BaseUrl::checked("https://gw.example/x/"),
            BaseUrl::checked("https://gw.example/x")
        );
        assert!(a.is("https://api.anthropic.com/"));
        assert!(!a.is("https://api.anthropic.com.evil"));
    }

    #[test]
    fn refused_where_a_token_must_not_go() {
        for bad in [
            "http://example.com",
            "http://127.0.0.2",
            "ftp://x",
            "https://u:p@x",
            "https://x/?q=1",
            "https://x/#f",
            "not a url",
        ] {
            assert!(BaseUrl::parse("--base-url", bad).is_err(), "{bad}");
        }
        for good in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:1",
        ] {
            assert!(BaseUrl::parse("--base-url", good).is_ok(), "{good}");
        }
    }
}
