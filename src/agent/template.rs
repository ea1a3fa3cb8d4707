//! The `template:IN:OUT` sink's syntax: `IN` is any text in which
//! `{{ PROVIDER.FIELD }}` is replaced by the current value, where PROVIDER
//! is `anthropic` or `openai` and FIELD is one of [`FIELDS`]:
//!
//! | field          | value                                             |
//! |----------------|---------------------------------------------------|
//! | `token`        | the access token                                  |
//! | `expires_at`   | its expiry, Unix seconds                          |
//! | `expires_rfc3339` | its expiry, RFC 3339 UTC                       |
//! | `base_url`     | the API base the token is for                     |
//!
//! Spaces inside the braces are optional. Any other name, a provider that
//! is not configured, or a `{{` without its `}}` is refused when the agent
//! starts (and when SIGHUP re-reads the template), never rendered as-is.
//! There is no escape: a template cannot contain a literal `{{`.

use crate::error::{Error, Result};
use crate::provider::Provider;

pub const FIELDS: [&str; 4] = ["token", "expires_at", "expires_rfc3339", "base_url"];

/// The largest template read.
pub const MAX_TEMPLATE: u64 = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Token,
    ExpiresAt,
    ExpiresRfc3339,
    BaseUrl,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Value(Provider, Field),
}

/// A parsed template: literal text and the values to put between it.
#[derive(Debug, Clone)]
pub struct Template {
    pieces: Vec<Piece>,
}

impl Template {
    /// Parse `text`, refusing any placeholder that is not one of ours.
    /// `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Template> {
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            pieces.push(Piece::Text(rest[..start].to_string()));
            let after = &rest[start + 2..];
            let end = after.find("}}").ok_or_else(|| {
                Error::config(format!(
                    "the template {origin} has a '{{{{' without its '}}}}'"
                ))
                .hint("placeholders are written {{ anthropic.token }}")
            })?;
            let name = after[..end].trim();
            pieces.push(value(name, origin)?);
            rest = &after[end + 2..];
        }
        pieces.push(Piece::Text(rest.to_string()));
        Ok(Template { pieces })
    }

    /// The providers the template names.
    pub fn providers(&self) -> Vec<Provider> {
        let mut v: Vec<Provider> = self
            .pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Value(p, _) => Some(*p),
                Piece::Text(_) => None,
            })
            .collect();
        v.sort_by_key(|p| p.name());
        v.dedup();
        v
    }

    /// Render with `lookup`, which gives each value (None: not available,
    /// so nothing is rendered).
    pub fn render(&self, lookup: impl Fn(Provider, Field) -> Option<String>) -> Option<String> {
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Value(provider, field) => out.push_str(&lookup(*provider, *field)?),
            }
        }
        Some(out)
    }
}

fn value(name: &str, origin: &str) -> Result<Piece> {
    let unknown = || {
        let known: Vec<String> = Provider::ALL
            .iter()
            .flat_map(|p| FIELDS.iter().map(move |f| format!("{}.{f}", p.name())))
            .collect();
        Error::config(format!(
            "the template {origin} names {name:?}, which keyless does not know"
        ))
        .hint(format!("the names are {}", known.join(", ")))
    };
    let (p, f) = name.split_once('.').ok_or_else(unknown)?;
    let provider = Provider::ALL
        .into_iter()
        .find(|x| x.name() == p)
        .ok_or_else(unknown)?;
    let field = match f {
        "token" => Field::Token,
        "expires_at" => Field::ExpiresAt,
        "expires_rfc3339" => Field::ExpiresRfc3339,
        "base_url" => Field::BaseUrl,
        _ => return Err(unknown()),
    };
    Ok(Piece::Value(provider, field))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_field_and_keeps_the_text() {
        let t = Template::parse(
            "key = \"{{anthropic.token}}\"\nexp={{ anthropic.expires_at }} {{openai.base_url}}\n",
            "t",
        )
        .unwrap();
        assert_eq!(t.providers(), [Provider::Anthropic, Provider::Openai]);
        let out = t
            .render(|p, f| Some(format!("{}-{f:?}", p.name())))
            .unwrap();
        assert_eq!(
            out,
            "key = \"anthropic-Token\"\nexp=anthropic-ExpiresAt openai-BaseUrl\n"
        );
        assert_eq!(t.render(|_, _| None), None, "no half-rendered output");
    }

    #[test]
    fn unknown_names_and_open_braces_are_refused() {
        for (text, why) in [
            ("{{ anthropic.secret }}", "\"anthropic.secret\""),
            ("{{ gemini.token }}", "\"gemini.token\""),
            ("{{token}}", "\"token\""),
            ("a {{ anthropic.token", "without its"),
        ] {
            let e = Template::parse(text, "in.tmpl").unwrap_err();
            assert!(e.message.contains(why), "{text}: {}", e.message);
            assert!(e.message.contains("in.tmpl"));
        }
    }
}
