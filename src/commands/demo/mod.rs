//! `keyless demo`: setup, credential and an API call for both providers
//! against an in-process sandbox, in a throwaway config dir, narrated on
//! stderr. The Messages reply is the payload, on stdout. `--ci PLATFORM`
//! runs a zero-setup CI job instead (`ci`).

mod ci;

use super::setup::{self, SetupCommand, anthropic::SetupAnthropicArgs, openai::SetupOpenAiArgs};
use crate::acquire;
use crate::clock::{self, human_duration, rfc3339};
use crate::error::{Error, Result};
use crate::output;
use crate::provider::Provider;
use crate::redact::mask_token;
use crate::sandbox::{self, rules};
use crate::settings::{DEFAULT_MIN_TTL_SECS, Freshness, Settings};

/// `keyless demo` options.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Narrate a zero-setup CI run on this platform instead: only the federation
    /// variables and the platform's own set, then `keyless exec -- <a Messages call>`
    #[arg(long, value_name = "PLATFORM", value_enum)]
    pub ci: Option<sandbox::platforms::Platform>,
    /// (internal) the Messages call `demo --ci` runs under `keyless exec`
    #[arg(long, hide = true, conflicts_with = "ci")]
    pub messages_call: bool,
}

pub fn run(args: &DemoArgs) -> Result<()> {
    if args.messages_call {
        return ci::messages_call();
    }
    if let Some(p) = args.ci {
        return ci::run(p);
    }
    let say = |s: &str| output::note(s);
    let tmp = tempfile::Builder::new()
        .prefix("keyless-demo-")
        .tempdir()
        .map_err(|e| Error::failure(format!("cannot create a temporary directory: {e}")))?;
    say(
        "keyless demo: everything below runs against a local sandbox (a stand-in, not the Claude or OpenAI API),",
    );
    say(&format!(
        "with a throwaway config in {}.\n",
        tmp.path().display()
    ));

    let bg = sandbox::Background::start(&sandbox::Options {
        port: 0,
        rules: None,
        token_lifetime: 600,
    })?;
    let url = bg.state.url.clone();
    say(&format!(
        "1. Started the sandbox on {url}: an OIDC issuer and Anthropic- and OpenAI-compatible token endpoints."
    ));

    let settings = Settings::fixed(
        tmp.path().join("config"),
        tmp.path().join("cache"),
        "default",
    );
    let exe = std::env::current_exe()
        .map_err(|e| Error::failure(format!("cannot find the keyless executable: {e}")))?
        .display()
        .to_string();
    let setup_argv = sandbox::setup_command(&url, &exe);
    say("2. keyless setup: record the federation identifiers and where identity tokens come from:");
    say(&format!("   keyless {}", shell_words::join(&setup_argv)));
    let args = SetupAnthropicArgs {
        federation_rule_id: Some(rules::SANDBOX_RULE.into()),
        organization_id: Some(rules::SANDBOX_ORG.into()),
        service_account_id: Some(rules::SANDBOX_SA.into()),
        workspace_id: Some(rules::SANDBOX_WORKSPACE.into()),
        base_url: Some(url.clone()),
        audience: None,
        identity: Some(setup_argv.last().cloned().unwrap_or_default()),
        ca_file: None,
    };
    setup::run(&settings, &SetupCommand::Anthropic(args))?;

    let loaded = settings.load_config()?;
    let cfg = Provider::Anthropic.configured(&settings, &loaded)?;
    let fresh = Freshness {
        min_ttl: DEFAULT_MIN_TTL_SECS.into(),
        keep_for: 0,
        force_refresh: false,
        interactive: false,
    };
    say(
        "\n3. keyless credential anthropic: mint a fresh identity JWT, exchange it (RFC 7523 jwt-bearer), cache the result.",
    );
    let token = timed(|| acquire::token(&settings, &cfg, None, fresh))?;
    let started = std::time::Instant::now();
    let again = acquire::token(&settings, &cfg, None, fresh)?;
    say(&format!(
        "   asked again: served from the on-disk cache in {} µs, no network{}",
        started.elapsed().as_micros(),
        if again.access_token == token.access_token {
            ""
        } else {
            " (a new token?)"
        }
    ));

    say("\n4. A Messages call with the token as Authorization: Bearer, as the SDKs send it:");
    let reply = messages_call(&url, token.access_token.expose())?;
    say(&format!("   POST {url}/v1/messages → 200"));

    let openai_argv = sandbox::openai_setup_command(&url, &exe);
    say(
        "\n5. The same for OpenAI: keyless setup openai records the identity provider and service account:",
    );
    say(&format!("   keyless {}", shell_words::join(&openai_argv)));
    let args = SetupOpenAiArgs {
        identity_provider_id: Some(rules::OPENAI_WIP.into()),
        service_account_id: Some(rules::OPENAI_SA.into()),
        token_endpoint: Some(format!("{url}{}", sandbox::OPENAI_TOKEN_PATH)),
        identity: Some(openai_argv.last().cloned().unwrap_or_default()),
        audience: Some(rules::OPENAI_AUDIENCE.into()),
        ca_file: None,
    };
    setup::run(&settings, &SetupCommand::Openai(args))?;
    let loaded = settings.load_config()?;
    let cfg = Provider::Openai.configured(&settings, &loaded)?;
    say(
        "\n6. keyless credential openai: a fresh identity JWT, exchanged by RFC 8693 token exchange, cached apart from Anthropic's.",
    );
    let token = timed(|| acquire::token(&settings, &cfg, None, fresh))?;
    let models = openai_models(&url, token.access_token.expose())?;
    say(&format!(
        "   GET {url}/v1/models with it as OPENAI_API_KEY would send it → 200: {models}"
    ));

    // The same advice as the README's first screen and Everyday use.
    say(
        "\nIn real use: `keyless setup anthropic …` (or openai) once with your IDs, `keyless auth status --check`,",
    );
    say(
        "then `keyless exec -- your-program`, `eval \"$(keyless env)\"`, or `keyless setup claude-code` for Claude Code.",
    );
    output::payload(&reply, true)
}

/// Get a token, and say what came back and how long it took.
fn timed(get: impl FnOnce() -> Result<acquire::Token>) -> Result<acquire::Token> {
    let started = std::time::Instant::now();
    let token = get()?;
    output::note(&format!(
        "   got {} (expires {}, in {}) in {} ms",
        mask_token(token.access_token.expose()),
        rfc3339(token.expires_at),
        human_duration(token.expires_at - clock::now()),
        started.elapsed().as_millis()
    ));
    Ok(token)
}

/// The model ids from the sandbox's OpenAI-shaped list.
fn openai_models(url: &str, token: &str) -> Result<String> {
    let endpoint = format!("{url}/v1/models");
    let v = send_json(
        crate::http::client()?.get(&endpoint).bearer_auth(token),
        &endpoint,
    )?;
    let ids: Vec<&str> = v["data"]
        .as_array()
        .map(|a| a.iter().filter_map(|m| m["id"].as_str()).collect())
        .unwrap_or_default();
    Ok(ids.join(", "))
}

fn send_json(req: reqwest::RequestBuilder, endpoint: &str) -> Result<serde_json::Value> {
    let resp = crate::http::runtime()?
        .block_on(crate::http::send(req, endpoint))
        .map_err(|f| Error::network(f.message().to_string()))?;
    if resp.status != 200 {
        return Err(Error::failure(format!(
            "the sandbox answered {} at {endpoint}",
            resp.status
        )));
    }
    serde_json::from_slice(&resp.body)
        .map_err(|_| Error::failure(format!("the sandbox's reply at {endpoint} is not JSON")))
}

fn messages_call(url: &str, token: &str) -> Result<String> {
    let endpoint = format!("{url}/v1/messages");
    let body = serde_json::json!({
        "model": "claude-sandbox-1",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "Hello from keyless demo"}],
    });
    let req = crate::http::client()?
        .post(&endpoint)
        .bearer_auth(token)
        .header("anthropic-version", crate::provider::anthropic::API_VERSION)
        .header("content-type", "application/json")
        .body(body.to_string());
    let v = send_json(req, &endpoint)?;
    Ok(v["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}
