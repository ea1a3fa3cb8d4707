//! `keyless auth status`: render the report from [`crate::status`], and with
//! `--check` prove it with a fresh exchange and a models call.

use std::fmt::Write as _;
use std::time::Instant;

use crate::acquire::{self, Freshness};
use crate::cli::StatusArgs;
use crate::error::{Error, Result};
use crate::jwt::{human_duration, now};
use crate::output;
use crate::settings::Settings;
use crate::status::{self, CheckError, CheckResult, Report, precedence};

pub fn status(settings: &Settings, args: &StatusArgs) -> Result<()> {
    let var = |n: &str| std::env::var(n).ok();
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let inputs = status::Inputs {
        settings,
        env: precedence::Env {
            var: &var,
            home: home.clone(),
        },
        cwd: std::env::current_dir().ok(),
        xdg_config: std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(std::path::PathBuf::from),
    };
    let mut report = status::gather(&inputs);
    if args.check {
        let results = check(settings);
        for r in results.iter().filter(|r| !r.ok) {
            let why = r
                .error
                .as_ref()
                .map(|e| e.message.clone())
                .unwrap_or_default();
            report
                .reasons
                .push(format!("--check failed for {}: {why}", r.provider));
        }
        report.ok = report.reasons.is_empty();
        report.check = Some(results);
    }
    let text = if args.json {
        let mut s = serde_json::to_string_pretty(&report)
            .map_err(|e| Error::failure(format!("cannot serialize the report: {e}")))?;
        s.push('\n');
        s
    } else {
        render(&report, home.as_deref())
    };
    output::payload(&text, false)
        .map_err(|e| Error::failure(format!("cannot write to stdout: {e}")))?;
    if report.ok {
        return Ok(());
    }
    let mut err = Error::failure("keyless cannot serve here, or something else takes precedence:");
    for r in &report.reasons {
        err = err.detail(format!("- {r}"));
    }
    Err(err)
}

/// A forced exchange and `GET …/models` per configured provider.
fn check(settings: &Settings) -> Vec<CheckResult> {
    let mut out = Vec::new();
    let Ok(loaded) = settings.load_config() else {
        return out;
    };
    let issuer = settings.issuer(&loaded);
    let profile = loaded.file.profiles.get(&settings.profile);
    let fresh = Freshness {
        min_ttl: 0,
        force_refresh: true,
        interactive: false,
    };
    if profile.is_some_and(|p| p.anthropic.is_some()) {
        out.push(match settings.anthropic(&loaded) {
            Err(e) => failed("anthropic", &e),
            Ok(cfg) => check_one(
                "anthropic",
                || acquire::anthropic_token(settings, &cfg, issuer.as_ref(), fresh),
                &format!("{}/v1/models", cfg.base_url().trim_end_matches('/')),
                &[
                    ("anthropic-version", "2023-06-01"),
                    ("anthropic-beta", "oauth-2025-04-20"),
                ],
            ),
        });
    }
    if profile.is_some_and(|p| p.openai.is_some()) {
        out.push(match settings.openai(&loaded) {
            Err(e) => failed("openai", &e),
            Ok(cfg) => {
                let var = |n: &str| std::env::var(n).ok();
                let env = precedence::Env {
                    var: &var,
                    home: None,
                };
                check_one(
                    "openai",
                    || acquire::openai_token(settings, &cfg, issuer.as_ref(), fresh),
                    &format!("{}/models", status::openai_api_base(&cfg, &env)),
                    &[],
                )
            }
        });
    }
    out
}

fn failed(provider: &'static str, e: &Error) -> CheckResult {
    CheckResult {
        provider,
        ok: false,
        exchange_ms: None,
        models_ms: None,
        models_status: None,
        workspace_id: None,
        organization_id: None,
        request_id: None,
        error: Some(CheckError::from(e)),
    }
}

/// Exchange anew, then list models with the fresh token.
fn check_one(
    provider: &'static str,
    token: impl FnOnce() -> Result<acquire::Token>,
    url: &str,
    headers: &[(&str, &str)],
) -> CheckResult {
    let started = Instant::now();
    let token = match token() {
        Ok(t) => t,
        Err(e) => return failed(provider, &e),
    };
    let mut r = failed(provider, &Error::failure(""));
    r.error = None;
    r.exchange_ms = Some(started.elapsed().as_millis() as u64);
    let result = crate::http::runtime().and_then(|rt| {
        let client = crate::http::client()?;
        let mut req = client.get(url).bearer_auth(token.access_token.expose());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let started = Instant::now();
        let resp = rt
            .block_on(crate::http::send(req, url))
            .map_err(|f| Error::network(f.message().to_string()))?;
        Ok((resp, started.elapsed().as_millis() as u64))
    });
    match result {
        Err(e) => r.error = Some(CheckError::from(&e)),
        Ok((resp, ms)) => {
            r.models_ms = Some(ms);
            r.models_status = Some(resp.status);
            r.workspace_id = resp.header("anthropic-workspace-id");
            r.organization_id = resp
                .header("anthropic-organization-id")
                .or_else(|| resp.header("openai-organization"));
            r.request_id = resp
                .request_id
                .clone()
                .or_else(|| resp.header("x-request-id"));
            if resp.status == 200 {
                r.ok = true;
            } else {
                let e = Error::denied(format!(
                    "GET {url} answered {} with the fresh token",
                    resp.status
                ))
                .hint("a 403 means the token's scope does not include the models API");
                r.error = Some(CheckError::from(&e));
            }
        }
    }
    r
}

fn tilde(p: &str, home: Option<&std::path::Path>) -> String {
    status::scan::tilde(std::path::Path::new(p), home)
}

/// The human report. Masked tokens only; never a value from the environment.
pub fn render(r: &Report, home: Option<&std::path::Path>) -> String {
    let mut s = String::new();
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

    if r.keyless.providers.iter().any(|p| p.provider == "openai")
        || r.openai_api_key.state != precedence::SlotState::Unset
    {
        let _ = writeln!(s, "\nWhich credential the OpenAI SDKs use here");
        let _ = writeln!(
            s,
            "  {:<29} {}",
            r.openai_api_key.label, r.openai_api_key.detail
        );
    }

    let _ = writeln!(s, "\nStatic keys defined in files");
    if r.static_keys.is_empty() {
        let _ = writeln!(s, "  none found");
    }
    for f in &r.static_keys {
        let _ = writeln!(s, "  {}:{}  {}", f.path, f.line, f.what);
    }

    let k = &r.keyless;
    let _ = writeln!(s, "\nkeyless (profile {:?})", k.profile);
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
        let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "(not set)".into());
        if p.provider == "openai" {
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
        let c = &p.cache;
        match (c.state, c.expires_at, &c.masked_token) {
            (_, Some(exp), Some(m)) => {
                let left = exp - now();
                let rel = if left > 0 {
                    format!("in {}", human_duration(left))
                } else {
                    format!("{} ago", human_duration(-left))
                };
                let _ = writeln!(
                    s,
                    "                cached token {m} expires {} ({rel}) [{}]",
                    c.expiration.clone().unwrap_or_default(),
                    c.state.replace('_', " ")
                );
            }
            _ => {
                let _ = writeln!(s, "                cached token none [{}]", c.state);
            }
        }
        let _ = writeln!(
            s,
            "                can serve: {}",
            if p.can_serve { "yes" } else { "no" }
        );
    }
    match &k.session {
        None => {
            let _ = writeln!(
                s,
                "  sign-in       none configured (keyless setup issuer …)"
            );
        }
        Some(sess) => {
            let who = match (&sess.subject, &sess.email) {
                (Some(sub), Some(e)) => format!("signed in as {sub} ({e})"),
                (Some(sub), None) => format!("signed in as {sub}"),
                _ => "not signed in (keyless login)".to_string(),
            };
            let _ = writeln!(
                s,
                "  sign-in       {} · client {} · {who}",
                sess.issuer, sess.client_id
            );
            if let (Some(exp), Some(at)) = (sess.id_token_expires_at, &sess.id_token_expiration) {
                let left = exp - now();
                let rel = if left > 0 {
                    format!("in {}", human_duration(left))
                } else {
                    format!("{} ago", human_duration(-left))
                };
                let _ = writeln!(s, "                ID token expires {at} ({rel})");
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
    }
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

    if let Some(checks) = &r.check {
        let _ = writeln!(s, "\nCheck (a fresh exchange and GET /v1/models)");
        for c in checks {
            if c.ok {
                let _ = writeln!(
                    s,
                    "  {:<13} ok: exchange {} ms, models {} ms, workspace {}, organization {}{}",
                    c.provider,
                    c.exchange_ms.unwrap_or(0),
                    c.models_ms.unwrap_or(0),
                    c.workspace_id.as_deref().unwrap_or("?"),
                    c.organization_id.as_deref().unwrap_or("?"),
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
