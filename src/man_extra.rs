//! The sections of keyless(1) that clap does not write: ENVIRONMENT (every
//! variable, from `env_vars.rs` through [`crate::env_doc`]), FILES, EXIT
//! STATUS and EXAMPLES.

/// roff for a line of text: backslashes doubled, and a leading `.` or `'`
/// (a request) or `-` made literal.
fn roff(text: &str) -> String {
    let t = text.replace('\\', "\\\\").replace('-', "\\-");
    if t.starts_with('.') || t.starts_with('\'') {
        format!("\\&{t}")
    } else {
        t
    }
}

fn tagged(out: &mut String, tag: &str, body: &str) {
    out.push_str(&format!(".TP\n\\fB{}\\fR\n{}\n", roff(tag), roff(body)));
}

const EXAMPLES: &[(&str, &str)] = &[
    (
        "keyless demo",
        "Setup, a token exchange and an API call against a local sandbox; no account needed.",
    ),
    (
        "keyless setup anthropic --federation-rule-id fdrl_… --organization-id ORG-UUID --service-account-id svac_… --identity file:/var/run/secrets/anthropic.com/token",
        "Record a profile's federation identifiers and where its identity JWT comes from.",
    ),
    (
        "keyless auth status --check",
        "Which credential wins here, and a real exchange and models call.",
    ),
    (
        "keyless exec -- python app.py",
        "Run a program with a short-lived token in its environment.",
    ),
    (
        "eval \"$(keyless env)\"",
        "Put the token in the current shell.",
    ),
    (
        "keyless setup claude-code",
        "Make Claude Code ask keyless for its key.",
    ),
    (
        "keyless profile list",
        "Every profile, its providers, identity source and cached tokens.",
    ),
];

const FILES: &[(&str, &str)] = &[
    (
        "~/.config/keyless/config.json",
        "Profiles and the active profile (Linux; the platform's config directory elsewhere; --config-dir, KEYLESS_CONFIG_DIR). Non-secret identifiers only, 0600.",
    ),
    (
        "~/.config/keyless/secrets.json",
        "Refresh tokens and client secrets where no OS keyring is usable (0600).",
    ),
    (
        "~/.cache/keyless/",
        "Cached tokens, served-token records, the single-use ledger (exchanged/) and sign-in sessions (--cache-dir, KEYLESS_CACHE_DIR).",
    ),
    (
        ".keyless-profile",
        "In the working directory or one above it, up to the home directory: the name of the profile to use there (it cannot define one).",
    ),
    (
        "/etc/keyless/config.json",
        "The managed configuration IT places (macOS: /Library/Application Support/keyless/config.json; Windows: %ProgramData%\\keyless\\config.json): profiles every user has and setup cannot change, and a policy. Honoured only when root owns it and no one else can change it (else ignored with a warning); an invalid one fails every command. No variable or flag moves or disables it.",
    ),
    (
        "share/keyless/auth-status.schema.json",
        "The JSON schema of auth status --json, under the installation prefix.",
    ),
];

/// The extra sections, as roff.
pub fn sections() -> String {
    let mut s = String::from(
        ".SH ENVIRONMENT\nEvery variable keyless reads or writes. Variables holding secrets are never printed or logged.\n",
    );
    for g in crate::env_doc::groups() {
        s.push_str(&format!(".SS \"{}\"\n", roff(&g.title).replace('"', "")));
        for (name, what) in &g.vars {
            tagged(
                &mut s,
                name,
                if what.is_empty() {
                    "(see the heading)"
                } else {
                    what
                },
            );
        }
    }
    s.push_str(".SH FILES\n");
    for (f, what) in FILES {
        tagged(&mut s, f, what);
    }
    s.push_str(".SH \"EXIT STATUS\"\n");
    for line in crate::cli::EXIT_CODES.lines().skip(1) {
        let line = line.trim();
        match line.split_once("  ") {
            Some((code, what)) if code.chars().all(|c| c.is_ascii_digit()) => {
                tagged(&mut s, code, what.trim())
            }
            _ => s.push_str(&format!(".PP\n{}\n", roff(line))),
        }
    }
    s.push_str(".SH EXAMPLES\n");
    for (cmd, what) in EXAMPLES {
        s.push_str(&format!(".TP\n\\fB{}\\fR\n{}\n", roff(cmd), roff(what)));
    }
    s.push_str(".SH \"SEE ALSO\"\nThe README and docs/ in the source, and \\fBkeyless COMMAND \\-\\-help\\fR.\n");
    s
}
