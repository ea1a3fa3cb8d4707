//! `keyless exec -- CMD ARGS…`: run a program with the token in its
//! environment only. On Unix keyless replaces itself (execvp), so the child
//! gets signals directly and its exit status is the one the caller sees; on
//! Windows it waits for the child and exits with its code
//! ([`supervise::hand_over`]).
//! `--refresh` keeps a long-running child signed in ([`refresh`]).

pub mod refresh;

use clap::Args;

use crate::error::Result;
use crate::handoff::child_env::{ChildEnv, Mode};
use crate::handoff::{self, supervise};
use crate::provider::Provider;
use crate::settings::{FreshnessArgs, Settings};

#[derive(Debug, Args)]
#[command(
    after_help = "For Anthropic the child gets ANTHROPIC_AUTH_TOKEN (and ANTHROPIC_BASE_URL when the \
profile sets one) and loses ANTHROPIC_API_KEY. For OpenAI it gets the token as OPENAI_API_KEY, the \
only variable OpenAI's SDKs read, replacing any static key there. On Unix keyless replaces itself \
with the child, so signals and the exit status are the child's own; on Windows it waits for the \
child (Ctrl-C and Ctrl-Break reach the child once) and exits with its exit code. A command that is not found \
exits 127; one that cannot be executed exits 126. With --proxy the child gets instead a \
127.0.0.1 base URL (ANTHROPIC_BASE_URL, OPENAI_BASE_URL) and a per-run key that only the \
local proxy accepts; keyless forwards its API calls with a token it renews. The child also loses \
the variables that hold, name or buy an identity JWT keyless would exchange \
(ANTHROPIC_IDENTITY_TOKEN[_FILE], OPENAI_IDENTITY_TOKEN[_FILE], the variable of an env:NAME source, \
TFC_WORKLOAD_IDENTITY_TOKEN, BITBUCKET_STEP_OIDC_TOKEN, CIRCLE_OIDC_TOKEN_V2, \
AZURE_FEDERATED_TOKEN_FILE, ACTIONS_ID_TOKEN_REQUEST_TOKEN, SYSTEM_ACCESSTOKEN, \
BUILDKITE_AGENT_ACCESS_TOKEN, IDENTITY_HEADER); its other credentials stay (AWS keys, cloud CLI \
logins), and so does the network: a metadata server or AWS STS can still mint a JWT for it. \
This keeps the token out of the child's environment and logs; it does not contain a hostile program \
running as the same user, which can still read keyless's cache, run `keyless credential`, or read an \
identity token file itself."
)]
pub struct ExecArgs {
    /// Provider to serve (repeatable) [default: every configured provider]
    #[arg(long = "type", value_enum, value_name = "PROVIDER")]
    pub types: Vec<Provider>,
    /// Leave ANTHROPIC_API_KEY alone (it outranks the token in every SDK)
    #[arg(long)]
    pub keep_api_key: bool,
    /// Stay as the parent and keep a long-running child signed in (Anthropic
    /// only: OpenAI's SDKs read only OPENAI_API_KEY, which cannot be refreshed
    /// inside a running process)
    #[arg(long, conflicts_with = "proxy")]
    pub refresh: bool,
    /// Stay as the parent and serve the child's API calls through a local
    /// proxy that adds a renewed token: the child gets only a per-run key
    /// and a 127.0.0.1 base URL (any SDK or tool; Anthropic and OpenAI)
    #[arg(long, conflicts_with = "keep_api_key")]
    pub proxy: bool,
    #[command(flatten)]
    pub freshness: FreshnessArgs,
    /// The program and its arguments
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<std::ffi::OsString>,
}

pub fn run(settings: &Settings, args: &ExecArgs) -> Result<()> {
    crate::config::managed::policy::refuse_keep_api_key(args.keep_api_key)?;
    if args.proxy {
        return crate::proxy::run(
            settings,
            &args.types,
            (&args.freshness).into(),
            &args.command,
        );
    }
    if args.refresh {
        return refresh::run(settings, args);
    }
    let (assignments, served) =
        handoff::assignments(settings, &args.types, true, (&args.freshness).into())?;
    let cmd =
        ChildEnv::new(Mode::Exec, &served, args.keep_api_key).command(&args.command, &assignments);
    Err(supervise::hand_over(cmd, &args.command[0]))
}
