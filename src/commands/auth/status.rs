//! `keyless auth status`: gather the report from [`crate::status`], and
//! with `--check` prove it with a fresh exchange and a models call.

use std::time::Instant;

use clap::Args;

use crate::acquire;
use crate::env_vars;
use crate::error::{Error, Result};
use crate::output;
use crate::provider::{Configured, choice};
use crate::settings::{Freshness, Settings};
use crate::status::{self, CheckError, CheckResult, precedence};

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Also exchange a fresh token and call GET /v1/models with it
    #[arg(long)]
    pub check: bool,
    /// Print the report as JSON (schema: share/keyless/auth-status.schema.json under the install prefix; docs/ in the source)
    #[arg(long)]
    pub json: bool,
}

pub fn run(settings: &Settings, args: &StatusArgs) -> Result<()> {
    if let Ok(loaded) = settings.load_config() {
        settings.require_known(&loaded)?;
    }
    let var = |n: &str| std::env::var(n).ok();
    let home = crate::clients::places::home();
    let inputs = status::Inputs {
        settings,
        env: precedence::Env {
            var: &var,
            home: home.clone(),
        },
        cwd: std::env::current_dir().ok(),
        xdg_config: env_vars::path(env_vars::XDG_CONFIG_HOME),
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
        super::render::render(&report, home.as_deref())
    };
    output::payload(&text, false)?;
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
    let Ok(loaded) = settings.load_config() else {
        return Vec::new();
    };
    let issuer = settings.issuer(&loaded);
    let fresh = Freshness {
        min_ttl: 0,
        keep_for: 0,
        force_refresh: true,
        interactive: false,
    };
    // Checked before anything is minted: a fresh token never goes to a
    // cleartext base URL a hostile `.envrc` set.
    let openai_base = crate::provider::openai::env_base_url(
        std::env::var(env_vars::OPENAI_BASE_URL).ok().as_deref(),
    );
    choice::choose(settings, &loaded, &[], &|n| std::env::var(n).ok())
        .into_iter()
        .map(|c| match (c.resolved, &openai_base) {
            (Err(e), _) => failed(c.provider.name(), &e),
            (Ok((Configured::OpenAi(_), _)), Err(e)) => failed(c.provider.name(), e),
            (Ok((target, _)), base) => check_one(
                &target,
                || acquire::token(settings, &target, issuer.as_ref(), fresh),
                base.as_ref().ok().and_then(|b| b.as_deref()),
            ),
        })
        .collect()
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
    target: &Configured,
    token: impl FnOnce() -> Result<acquire::Token>,
    openai_base: Option<&str>,
) -> CheckResult {
    let provider = target.provider().name();
    let url = &target.models_url(openai_base);
    let headers = target.api_headers();
    let started = Instant::now();
    let token = match token() {
        Ok(t) => t,
        Err(e) => return failed(provider, &e),
    };
    let mut r = failed(provider, &Error::failure(""));
    r.error = None;
    r.exchange_ms = Some(started.elapsed().as_millis() as u64);
    let result = crate::http::runtime().and_then(|rt| {
        let client = crate::http::client_with_ca(target.ca_file())?;
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
