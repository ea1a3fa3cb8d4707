//! `keyless agent --sink …`: keep sinks fresh for programs keyless does not
//! start (a Kubernetes sidecar, a systemd or launchd service, a compose
//! service, the steps of one CI job). The work is [`crate::agent`]'s.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::agent::{self, Options, Request, sink::Sink, write::Access};
use crate::error::Result;
use crate::output;
use crate::settings::{FreshnessArgs, Settings};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Lines for people
    Human,
    /// One JSON object a line, for log collectors
    Json,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Sinks (repeat --sink; one exchange per renewal feeds them all):
  anthropic-profile:DIR[:NAME]  the Anthropic SDKs' profile in DIR (point ANTHROPIC_CONFIG_DIR
                                at DIR; set ANTHROPIC_PROFILE=NAME unless NAME is default)
  file:[PROVIDER=]PATH          the raw token (no newline); PROVIDER is needed when the
                                profile configures both anthropic and openai
  template:IN:OUT               IN with {{ anthropic.token }}, {{ openai.token }},
                                {{ P.expires_at }}, {{ P.expires_rfc3339 }}, {{ P.base_url }}
                                replaced; any other name is refused at start
  proxy:PROVIDER=ADDR           the exec --proxy gate on ADDR: 127.0.0.1:PORT (loopback
                                only) or unix:PATH; its key is in --capability-file

Files are replaced atomically and created private (0600, or --sink-mode and --sink-group on
Unix; an owner-only access list on Windows); a sink through a symbolic link or in a directory
others can write is refused. A token is renewed before the Anthropic SDKs' own windows; when
none is valid any more, the file sinks (and --ready-file) are removed until a renewal succeeds.
SIGTERM/SIGINT (Windows: Ctrl-C, Ctrl-Break, closing the console) remove them and stop.
`keyless agent --reload` (or SIGHUP) with the same sinks re-reads the configuration;
`keyless agent --rejected` (or SIGUSR1) exchanges a new token at once."
)]
pub struct AgentArgs {
    /// Where to keep the token (repeatable; see below)
    #[arg(long = "sink", value_name = "SINK", value_parser = parse_sink)]
    pub sinks: Vec<Sink>,
    /// Mode of file and template sinks, octal [default: 0600] (Unix)
    #[arg(long, value_name = "MODE")]
    pub sink_mode: Option<String>,
    /// Group of file and template sinks (a name or a number), for a reader in another container (Unix)
    #[arg(long, value_name = "GROUP")]
    pub sink_group: Option<String>,
    /// Create this file once every sink holds a valid token (remove it when none does)
    #[arg(long, value_name = "PATH")]
    pub ready_file: Option<PathBuf>,
    /// The proxy sinks' key, kept in this file (created if missing, reused across restarts)
    #[arg(long, value_name = "PATH")]
    pub capability_file: Option<PathBuf>,
    /// Log lines for people or for log collectors
    #[arg(long, value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,
    /// Tell the agent running with these sinks that the API refused its token
    #[arg(long, conflicts_with = "reload")]
    pub rejected: bool,
    /// Tell the agent running with these sinks to re-read its configuration and templates
    #[arg(long)]
    pub reload: bool,
    #[command(flatten)]
    pub freshness: FreshnessArgs,
}

fn parse_sink(s: &str) -> std::result::Result<Sink, String> {
    Sink::parse(s).map_err(|e| e.to_string())
}

pub fn run(settings: &Settings, args: &AgentArgs) -> Result<()> {
    output::set_json_logs(args.log_format == LogFormat::Json);
    // An agent says what it does: renewals show without -v.
    if output::verbosity() == 0 {
        output::set_verbosity(false, 1);
    }
    let opts = Options {
        sinks: args.sinks.clone(),
        access: Access::parse(args.sink_mode.as_deref(), args.sink_group.as_deref())?,
        ready_file: args
            .ready_file
            .as_ref()
            .map(std::path::absolute)
            .transpose()
            .map_err(|e| crate::error::Error::usage(format!("--ready-file: {e}")))?,
        capability_file: args
            .capability_file
            .as_ref()
            .map(std::path::absolute)
            .transpose()
            .map_err(|e| crate::error::Error::usage(format!("--capability-file: {e}")))?,
        fresh: (&args.freshness).into(),
    };
    let ask = match (args.rejected, args.reload) {
        (true, _) => Some((Request::Rejected, "exchange a new token")),
        (_, true) => Some((Request::Reload, "re-read its configuration")),
        _ => None,
    };
    if let Some((r, what)) = ask {
        let pids = agent::ask(&opts, r)?;
        output::note(&format!(
            "asked the agent (pid {}) to {what}",
            pids.iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        return Ok(());
    }
    agent::run(settings, &opts)
}
