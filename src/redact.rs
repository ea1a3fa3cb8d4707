//! Scrubbing of text that came from outside (server error bodies, child
//! process names) before it reaches a terminal: control characters go, anything
//! shaped like a token or a JWT is replaced, and the length is capped.

const MAX: usize = 256;

/// Token-shaped words: Anthropic keys and tokens, OpenAI keys, JWTs.
fn looks_secret(word: &str) -> bool {
    let w = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    w.starts_with("sk-")
        || (w.starts_with("eyJ") && w.len() > 20)
        || (w.len() >= 40
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
}

/// Make server-provided text safe to show: no control characters, no token-like
/// words, at most 256 characters.
pub fn server_text(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let words: Vec<&str> = cleaned.split(' ').collect();
    let mut out = words
        .iter()
        .map(|w| if looks_secret(w) { "[redacted]" } else { w })
        .collect::<Vec<_>>()
        .join(" ");
    if out.chars().count() > MAX {
        out = out.chars().take(MAX).collect::<String>() + "…";
    }
    out
}

/// `sk-ant-oat01-abcd…`: the first 12 characters and an ellipsis. A JWT
/// (OpenAI's access tokens may be one) shows only its last four: its head is
/// the same for every token and looks like a leak to anyone scanning logs.
pub fn mask_token(token: &str) -> String {
    if token.starts_with("eyJ") {
        let tail: String = token
            .chars()
            .skip(token.chars().count().saturating_sub(4))
            .collect();
        return format!("a JWT ending …{tail}");
    }
    let head: String = token.chars().take(12).collect();
    format!("{head}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubs_tokens_and_controls() {
        let s = server_text("bad assertion eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.sig\x1b[31m ok");
        assert!(!s.contains("eyJ"));
        assert!(!s.contains('\x1b'));
        assert!(server_text("token sk-ant-oat01-XYZ leaked").contains("[redacted]"));
        assert_eq!(
            server_text("Authentication failed"),
            "Authentication failed"
        );
    }

    #[test]
    fn masks_never_show_a_jwt_head() {
        assert_eq!(mask_token("sk-ant-oat01-abcdefgh"), "sk-ant-oat01…");
        let m = mask_token("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl");
        assert_eq!(m, "a JWT ending …dXJl");
    }

    #[test]
    fn caps_length() {
        let long = "a ".repeat(400);
        assert!(server_text(&long).chars().count() <= MAX + 1);
    }
}
