//! Scrubbing of text that came from outside (server error bodies, JWT and
//! ID-token claims, child process names) before it reaches a terminal:
//! [`terminal`] replaces every character that can move the cursor, start an
//! escape sequence, reorder or hide text, and caps the length;
//! [`server_text`] does the same and also replaces token-shaped words.

const MAX: usize = 256;

/// Characters a terminal acts on or that hide or reorder what is shown: C0
/// and C1 controls (ESC, BEL, CR, LF, DEL, CSI …), bidi embeddings,
/// overrides, isolates and marks, zero-width characters, and the line and
/// paragraph separators.
fn unsafe_for_terminal(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// A path as [`terminal`] text: its names may come from outside (a
/// repository's directories, a variable), so an escape in one is shown, not
/// obeyed. Not cut to 256 characters: a path's end is what names the file.
pub fn path(p: &std::path::Path) -> String {
    p.display()
        .to_string()
        .chars()
        .map(replace_unsafe)
        .collect()
}

fn replace_unsafe(c: char) -> char {
    if unsafe_for_terminal(c) {
        '\u{FFFD}'
    } else {
        c
    }
}

/// Make outside text (a claim, an email, a name) safe to print: each unsafe
/// character becomes U+FFFD, so that what was there stays visible without
/// acting, and at most 256 characters are kept. Token-shaped words are left
/// alone: use [`server_text`] for free text that may quote a credential.
pub fn terminal(text: &str) -> String {
    let mut out: String = text.chars().take(MAX + 1).map(replace_unsafe).collect();
    if out.chars().count() > MAX {
        out = out.chars().take(MAX).collect::<String>() + "…";
    }
    out
}

/// What stands in for a value keyless itself sent that a server echoed.
const REDACTED: &str = "[redacted]";

/// `text` with every occurrence of each of `sent` (the exact secret values
/// of the request it answers) replaced: shape rules miss a GUID or a short
/// key, this does not.
pub fn exact(text: &str, sent: &[crate::secret::Secret<String>]) -> String {
    let mut out = text.to_string();
    for s in sent.iter().map(|s| s.expose()).filter(|s| !s.is_empty()) {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), REDACTED);
        }
    }
    out
}

/// [`exact`] on a response body, before anything parses or shows it.
pub fn exact_bytes(body: Vec<u8>, sent: &[crate::secret::Secret<String>]) -> Vec<u8> {
    let mut body = body;
    for s in sent
        .iter()
        .map(|s| s.expose().as_bytes())
        .filter(|s| !s.is_empty())
    {
        let mut out = Vec::with_capacity(body.len());
        let mut i = 0;
        while i < body.len() {
            if body[i..].starts_with(s) {
                out.extend_from_slice(REDACTED.as_bytes());
                i += s.len();
            } else {
                out.push(body[i]);
                i += 1;
            }
        }
        body = out;
    }
    body
}

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
        .map(|c| if unsafe_for_terminal(c) { ' ' } else { c })
        .collect();
    // Judge every run of token characters, not only whole words: a server
    // may join a token to other text (`assertion=eyJ…`, `key="sk-…"`, a
    // URL's query).
    let mut out = String::with_capacity(cleaned.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if looks_secret(run) {
            out.push_str("[redacted]");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in cleaned.chars() {
        if c.is_ascii_alphanumeric() || "-._~+/".contains(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
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
    fn terminal_text_keeps_no_character_a_terminal_acts_on() {
        let hostile =
            "a\x1b]0;t\x07b\rc\nd\u{9b}e\u{202e}f\u{2066}g\u{200b}h\u{2028}i\u{2029}j\u{feff}k\x7f";
        for scrub in [terminal, server_text] {
            let s = scrub(hostile);
            assert!(s.chars().all(|c| !unsafe_for_terminal(c)), "{s:?}");
            assert!(s.contains('a') && s.contains('k'), "{s:?}");
        }
        assert_eq!(terminal("alice@example.test"), "alice@example.test");
        // not token-redacted: a 40-hex kid is not a secret
        let kid = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(terminal(kid), kid);
        assert!(terminal(&"x".repeat(10_000)).chars().count() <= MAX + 1);
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

    #[test]
    fn tokens_joined_to_other_text_are_redacted_too() {
        let jwt = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl";
        for text in [
            format!("bad assertion={jwt}"),
            format!("subject_token:{jwt}"),
            "key=\"sk-ant-api03-abcdefABCDEF0123\"".to_string(),
            "see https://x.example/?access_token=sk-ant-oat01-SECRETsecret_0123".to_string(),
        ] {
            let shown = server_text(&text);
            assert!(
                !shown.contains("eyJhbGci")
                    && !shown.contains("SECRET")
                    && !shown.contains("abcdefABCDEF"),
                "{text} -> {shown}"
            );
            assert!(shown.contains("[redacted]"), "{shown}");
        }
        assert_eq!(
            server_text("invalid_grant: the token expired"),
            "invalid_grant: the token expired"
        );
    }
}
