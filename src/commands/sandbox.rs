//! `keyless sandbox`: serve the stand-in on 127.0.0.1 until interrupted, or
//! (`sandbox identity-token`) fetch a workload JWT from a running one.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::error::{Error, Result};
use crate::output;
use crate::provider::anthropic::AUDIENCE as ANTHROPIC_AUDIENCE;
use crate::sandbox::platforms::{self, Platform};
use crate::sandbox::{self, Options, rules};
use crate::settings::MAX_LIFETIME_SECS;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SandboxArgs {
    #[command(subcommand)]
    pub command: Option<SandboxCommand>,
    #[command(flatten)]
    pub serve: SandboxServeArgs,
}

#[derive(Debug, Clone, Args)]
pub struct SandboxServeArgs {
    /// Port on 127.0.0.1 (0 picks a free one)
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// JSON file of trusted issuers and federation rules (see the README)
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Lifetime of tokens minted by the default rule, in seconds (1 to 86400)
    #[arg(long, default_value_t = 600, value_name = "SECS",
          value_parser = clap::value_parser!(u32).range(1..=MAX_LIFETIME_SECS))]
    pub token_lifetime: u32,
    /// Print, on stdout and only, the shell assignments (`export NAME=…`)
    /// that point a job at this platform's stand-in, with the federation
    /// variables of its default rule; the banner goes to stderr
    #[arg(long, value_name = "PLATFORM", value_enum)]
    pub print_env: Option<Platform>,
}

#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Print a fresh identity JWT from a running sandbox (an identity source for tests and demos)
    IdentityToken(IdentityTokenArgs),
}

#[derive(Debug, Args)]
pub struct IdentityTokenArgs {
    /// The sandbox's URL, as it printed it
    #[arg(long, value_name = "URL")]
    pub issuer: String,
    /// The token's subject
    #[arg(long, default_value = rules::SANDBOX_SUBJECT)]
    pub subject: String,
    /// The token's audience (repeatable: several make `aud` a list)
    #[arg(long, default_value = ANTHROPIC_AUDIENCE)]
    pub audience: Vec<String>,
    /// The token's lifetime in seconds (1 to 86400)
    #[arg(long, default_value_t = 300,
          value_parser = clap::value_parser!(u32).range(1..=MAX_LIFETIME_SECS))]
    pub lifetime: u32,
}

pub fn run(args: &SandboxArgs) -> Result<()> {
    match &args.command {
        Some(SandboxCommand::IdentityToken(a)) => identity_token(a),
        None => serve(&args.serve),
    }
}

fn serve(a: &SandboxServeArgs) -> Result<()> {
    let opts = Options {
        port: a.port,
        rules: a.rules.clone(),
        token_lifetime: a.token_lifetime as i64,
    };
    let (listener, state) = sandbox::prepare(&opts)?;
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "keyless".into());
    let url = state.url.clone();
    let setup = sandbox::setup_command(&url, &exe);
    let setup_openai = sandbox::openai_setup_command(&url, &exe);
    let anthropic_rules = match &opts.rules {
        Some(p) => p.display().to_string(),
        None => format!(
            "{} (subject {}*, audience {ANTHROPIC_AUDIENCE}), {} (denies everything), and one per platform: {}",
            rules::SANDBOX_RULE,
            rules::SANDBOX_SUBJECT,
            rules::SANDBOX_DENY_RULE,
            platforms::rules(0)
                .iter()
                .map(|r| r.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let openai_rules = match &opts.rules {
        Some(p) => p.display().to_string(),
        None => format!(
            "{} (issuer {url}, audience {}), mapping subject sandbox-workload to {}; {} denies everything",
            rules::OPENAI_WIP,
            rules::OPENAI_AUDIENCE,
            rules::OPENAI_SA,
            rules::OPENAI_DENY_SA
        ),
    };
    // One line per entry: a `\` continuation would eat the indentation.
    let banner = [
        "keyless sandbox: a local stand-in for an identity provider and for Anthropic's and OpenAI's token endpoints.".to_string(),
        "It is neither the Claude API nor the OpenAI API: its tokens work only against it, and it binds loopback only.".to_string(),
        "It is open to every local user: anyone on this machine can mint its JWTs, read its history and revoke its tokens. It holds nothing real.".to_string(),
        format!("listening on {url}"),
        String::new(),
        format!("  OIDC issuer        {url}  (discovery, /jwks, client_credentials at /oauth2/token)"),
        format!("  Anthropic          token exchange {url}/v1/oauth/token; API {url}/v1/models, {url}/v1/messages"),
        format!("  organization       {}", rules::SANDBOX_ORG),
        format!("  rules              {anthropic_rules}"),
        format!("  OpenAI             token exchange {url}{}; API {url}/v1/models", sandbox::OPENAI_TOKEN_PATH),
        format!("  identity provider  {openai_rules}"),
        format!("  platforms          {}", platform_lines(&url)),
        "                     `keyless sandbox --print-env PLATFORM` prints a platform's variables and its rule".to_string(),
        String::new(),
        "Point keyless at it:".to_string(),
        format!("  keyless {}", shell_words::join(&setup)),
        "  keyless credential anthropic".to_string(),
        format!("  keyless {}", shell_words::join(&setup_openai)),
        "  keyless credential openai".to_string(),
        format!("  OPENAI_BASE_URL={url}/v1 keyless exec --type openai -- YOUR-OPENAI-PROGRAM"),
        String::new(),
        "Press Ctrl-C to stop.\n".to_string(),
    ]
    .join("\n");
    // A platform that hands the job a file (Kubernetes) gets it here, for
    // as long as the sandbox runs.
    let scratch = crate::private_fs::private_tempdir("keyless-sandbox-")
        .map_err(|e| Error::failure(format!("cannot create a temporary directory: {e}")))?;
    match a.print_env {
        Some(p) => {
            output::note(&banner);
            output::payload(&env_block(&state, p, scratch.path())?, false)?;
        }
        None => output::payload(&banner, false)?,
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::failure(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(sandbox::serve(listener, state, shutdown_signal()))
}

/// Where each platform's stand-in answers, for the banner.
fn platform_lines(url: &str) -> String {
    [
        format!(
            "GitHub Actions {url}{} (immutable sub: {url}{})",
            platforms::GITHUB_PATH,
            platforms::GITHUB_IMMUTABLE_PATH
        ),
        format!("GCP metadata {url}{}", platforms::GCP_IDENTITY_PATH),
        format!("Azure IMDS {url}{}", platforms::AZURE_IMDS_PATH),
        format!("App Service {url}{}", platforms::APP_SERVICE_PATH),
        format!("Buildkite {url}{}", platforms::BUILDKITE_BASE),
        format!("Azure DevOps {url}{}", platforms::AZURE_DEVOPS_PATH),
        format!("AWS STS {url}/"),
    ]
    .join(",\n                     ")
}

/// `--print-env`: the platform's variables, then the federation variables
/// of the zero-setup path for its default rule, as `export` lines a shell
/// can source; the last line says the server is listening.
pub fn env_block(state: &sandbox::State, p: Platform, scratch: &std::path::Path) -> Result<String> {
    let line = |(k, v): &(&str, String)| format!("export {k}={}", shell_words::quote(v));
    let mut out = vec![format!(
        "# keyless sandbox: {} stand-in; rule {} matches {}",
        p.title(),
        p.rule_id(),
        p.describe_match()
    )];
    let vars = p
        .env(state, scratch)
        .map_err(|e| Error::failure(format!("cannot write the platform's token file: {e}")))?;
    out.extend(vars.iter().map(line));
    out.extend(platforms::federation_env(state, p).iter().map(line));
    out.push(line(&(
        crate::env_vars::KEYLESS_IDENTITY,
        p.identity().into(),
    )));
    out.push(format!("# listening on {}\n", state.url));
    Ok(out.join("\n"))
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

fn identity_token(a: &IdentityTokenArgs) -> Result<()> {
    let url = format!("{}/oauth2/token", a.issuer.trim_end_matches('/'));
    let rt = crate::http::runtime()?;
    let client = crate::http::client()?;
    let form = [
        ("grant_type", "client_credentials".to_string()),
        ("client_id", a.subject.clone()),
        ("audience", a.audience.join(" ")),
        ("lifetime", a.lifetime.to_string()),
    ];
    let resp = rt
        .block_on(crate::http::send(client.post(&url).form(&form), &url))
        .map_err(|f| {
            Error::network(format!("cannot get an identity token: {}", f.message()))
                .hint("is `keyless sandbox` running at that URL?")
        })?;
    if resp.status != 200 {
        return Err(Error::denied(format!(
            "the sandbox issuer at {url} answered {}",
            resp.status
        )));
    }
    let v: serde_json::Value = serde_json::from_slice(&resp.body)
        .map_err(|_| Error::network(format!("{url} did not answer with JSON")))?;
    let jwt = v
        .get("access_token")
        .and_then(|t| t.as_str())
        .ok_or_else(|| Error::network(format!("{url} returned no access_token")))?;
    output::payload(jwt, output::stdout_is_terminal())
}
