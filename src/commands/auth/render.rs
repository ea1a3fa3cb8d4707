//! The human form of the `auth status` report. Masked tokens only; never a
//! value from the environment.

use std::fmt::Write as _;

use crate::clock::{human_duration, now};
use crate::provider::Provider;
use crate::status::{CheckResult, KeylessState, ProviderState, Report, SessionState, precedence};

fn tilde(p: &str, home: Option<&std::path::Path>) -> String {
    crate::clients::scan::tilde(std::path::Path::new(p), home)
}

/// The human report, one section after the other. Masked tokens only;
/// never a value from the environment.
pub fn render(r: &Report, home: Option<&std::path::Path>) -> String {
    let mut s = String::new();
    anthropic_section(&mut s, r);
    openai_section(&mut s, r);
    static_keys_section(&mut s, r);
    keyless_section(&mut s, &r.keyless, home);
    if let Some(checks) = &r.check {
        check_section(&mut s, checks);
    }
    let _ = writeln!(
        s,
        "\nResult: {}",
        if r.ok {
            "keyless can serve here, and nothing static shadows it"
        } else {
            "NOT ready (reasons on stderr)"
        }
    );
    s
}

/// "in 9m" or "3m ago".
fn relative(exp: i64) -> String {
    let left = exp - now();
    if left > 0 {
        format!("in {}", human_duration(left))
    } else {
        format!("{} ago", human_duration(-left))
    }
}

/// Which credential the Anthropic SDKs (and Claude Code) use.
fn anthropic_section(s: &mut String, r: &Report) {
    let _ = writeln!(s, "Which credential the Anthropic SDKs use here");
    for slot in &r.precedence {
        let mark = if slot.winner { "(wins) " } else { "       " };
        let _ = writeln!(s, "  {mark}{:<22} {}", slot.label, slot.detail);
    }
    if r.winner.is_none() {
        let _ = writeln!(
            s,
            "  nothing is configured: the SDKs find no credential unless keyless hands them one"
        );
    }
    if let Some(n) = &r.claude_code.note {
        let _ = writeln!(s, "  {n}");
    }
    let h = &r.claude_code.api_key_helper;
    if let (Some(p), Some(l)) = (&h.path, h.line) {
        let _ = writeln!(
            s,
            "  Claude Code apiKeyHelper at {p}:{l}{}",
            if h.is_keyless {
                " runs keyless"
            } else {
                " runs another program"
            }
        );
    }
}

/// `OPENAI_API_KEY`, where OpenAI is configured or the variable is set.
fn openai_section(s: &mut String, r: &Report) {
    if r.keyless
        .providers
        .iter()
        .any(|p| p.provider == Provider::Openai.name())
        || r.openai_api_key.state != precedence::SlotState::Unset
    {
        let _ = writeln!(s, "\nWhich credential the OpenAI SDKs use here");
        let _ = writeln!(
            s,
            "  {:<29} {}",
            r.openai_api_key.label, r.openai_api_key.detail
        );
    }
}

fn static_keys_section(s: &mut String, r: &Report) {
    let _ = writeln!(s, "\nStatic keys defined in files");
    if r.static_keys.is_empty() {
        let _ = writeln!(s, "  none found");
    }
    for f in &r.static_keys {
        // A registry key has no lines.
        if f.path.starts_with("HKEY_") {
            let _ = writeln!(s, "  {}  {}", f.path, f.what);
        } else {
            let _ = writeln!(s, "  {}:{}  {}", f.path, f.line, f.what);
        }
    }
}

/// keyless's own state: profile, config, providers, sign-in, secret store.
fn keyless_section(s: &mut String, k: &KeylessState, home: Option<&std::path::Path>) {
    let _ = writeln!(s, "\nkeyless (profile {:?})", k.profile);
    let _ = writeln!(s, "  profile from  {}", profile_rule(k, home));
    if let (Some(path), "honoured") = (&k.managed.path, k.managed.state) {
        let _ = writeln!(
            s,
            "  managed       {path}{}",
            if k.profile_managed {
                " (IT): this profile is defined there"
            } else {
                " (IT): its policy applies"
            }
        );
    }
    let _ = writeln!(
        s,
        "  config        {}{}",
        tilde(&k.config_path, home),
        if k.config_exists {
            ""
        } else {
            " (not created yet)"
        }
    );
    if let Some(e) = &k.config_error {
        let _ = writeln!(s, "                unusable: {e}");
    }
    if k.providers.is_empty() && k.config_error.is_none() {
        let _ = writeln!(
            s,
            "  providers     none configured (keyless setup anthropic …)"
        );
    }
    for p in &k.providers {
        provider_lines(s, p);
    }
    session_lines(s, k.session.as_ref());
    let _ = writeln!(
        s,
        "  secret store  {}",
        k.secret_store
            .as_deref()
            .unwrap_or("none in use (no secret to keep)")
    );
    for w in &k.warnings {
        let _ = writeln!(s, "  warning: {w}");
    }
}

/// One provider: its configuration, identity source, cached token.
fn provider_lines(s: &mut String, p: &ProviderState) {
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "(not set)".into());
    if p.provider == Provider::Openai.name() {
        let _ = writeln!(
            s,
            "  {:<13} identity provider {} · service account {}",
            p.provider,
            opt(&p.identity_provider_id),
            opt(&p.service_account_id)
        );
        let _ = writeln!(s, "                token endpoint {}", p.token_endpoint);
    } else {
        let _ = writeln!(
            s,
            "  {:<13} rule {} · organization {} · service account {} · workspace {}",
            p.provider,
            opt(&p.federation_rule_id),
            opt(&p.organization_id),
            opt(&p.service_account_id),
            opt(&p.workspace_id)
        );
    }
    let _ = writeln!(s, "                base URL {}", p.base_url);
    if !p.origins.is_empty() {
        let from: Vec<String> = p
            .origins
            .iter()
            .map(|(field, var)| format!("{field} from {var}"))
            .collect();
        let _ = writeln!(
            s,
            "                from the environment: {}",
            from.join(", ")
        );
    }
    let avail = if p.identity.available {
        "available"
    } else {
        "NOT available"
    };
    let _ = writeln!(
        s,
        "                identity {} — {avail}{}",
        p.identity.source,
        p.identity
            .reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default()
    );
    if let Some(a) = &p.identity.audience {
        let _ = writeln!(
            s,
            "                the federation rule must match audience {a}"
        );
    }
    for k in &p.identity.skipped {
        let _ = writeln!(s, "                auto skipped {k}");
    }
    let c = &p.cache;
    match (c.expires_at, &c.masked_token) {
        (Some(exp), Some(m)) => {
            let _ = writeln!(
                s,
                "                cached token {m} expires {} ({}) [{}]",
                c.expiration.clone().unwrap_or_default(),
                relative(exp),
                c.state.words()
            );
        }
        _ => {
            let _ = writeln!(s, "                cached token none [{}]", c.state.words());
        }
    }
    let _ = writeln!(
        s,
        "                can serve: {}",
        if p.can_serve { "yes" } else { "no" }
    );
}

fn session_lines(s: &mut String, session: Option<&SessionState>) {
    let Some(sess) = session else {
        let _ = writeln!(
            s,
            "  sign-in       none configured (keyless setup issuer …)"
        );
        return;
    };
    let who = match (&sess.subject, &sess.email) {
        (Some(sub), Some(e)) => format!(
            "signed in as {} ({})",
            crate::redact::terminal(sub),
            crate::redact::terminal(e)
        ),
        (Some(sub), None) => format!("signed in as {}", crate::redact::terminal(sub)),
        _ => "not signed in (keyless login)".to_string(),
    };
    let _ = writeln!(
        s,
        "  sign-in       {} · client {} · {who}",
        sess.issuer, sess.client_id
    );
    if let (Some(exp), Some(at)) = (sess.id_token_expires_at, &sess.id_token_expiration) {
        let _ = writeln!(
            s,
            "                ID token expires {at} ({})",
            relative(exp)
        );
    }
    let present = match sess.refresh_token_present {
        Some(true) => " (present)",
        Some(false) => " (none stored)",
        None => "",
    };
    let _ = writeln!(
        s,
        "                refresh token in {}{present}",
        sess.refresh_token_store
    );
}

/// `--check`: per provider, the exchange and the models call, or the error.
fn check_section(s: &mut String, checks: &[CheckResult]) {
    let _ = writeln!(s, "\nCheck (a fresh exchange and GET /v1/models)");
    for c in checks {
        if c.ok {
            // Only what the response said: OpenAI's names no workspace
            // or organization, and a "?" there would read as a fault.
            let said: String = [
                ("workspace", &c.workspace_id),
                ("organization", &c.organization_id),
            ]
            .iter()
            .filter_map(|(k, v)| v.as_deref().map(|v| format!(", {k} {v}")))
            .collect();
            let _ = writeln!(
                s,
                "  {:<13} ok: exchange {} ms, models {} ms{said}{}",
                c.provider,
                c.exchange_ms.unwrap_or(0),
                c.models_ms.unwrap_or(0),
                c.request_id
                    .as_deref()
                    .map(|r| format!(" (request-id {r})"))
                    .unwrap_or_default()
            );
        } else if let Some(e) = &c.error {
            let _ = writeln!(
                s,
                "  {:<13} FAILED (exit {}): {}",
                c.provider, e.exit_code, e.message
            );
            for d in &e.details {
                let _ = writeln!(s, "                {d}");
            }
            if let Some(h) = &e.hint {
                let _ = writeln!(s, "                hint: {h}");
            }
        }
    }
}

/// Which rule chose the profile, and from which file.
fn profile_rule(k: &KeylessState, home: Option<&std::path::Path>) -> String {
    let file = k.profile_file.as_deref().map(|f| tilde(f, home));
    k.profile_rule.explain(file.as_deref())
}
