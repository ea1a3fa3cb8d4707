//! `keyless env`: shell assignments that hand the token to programs.

use clap::Args;

use crate::error::Result;
use crate::handoff::child_env::{ChildEnv, Mode};
use crate::handoff::{self, shell, shell::ShellKind};
use crate::output;
use crate::provider::Provider;
use crate::settings::{FreshnessArgs, Settings};

#[derive(Debug, Args)]
pub struct EnvArgs {
    /// Provider to serve (repeatable) [default: every configured provider]
    #[arg(long = "type", value_enum, value_name = "PROVIDER")]
    pub types: Vec<Provider>,
    /// Output syntax [default: from $SHELL, else bash]
    #[arg(long, value_enum)]
    pub shell: Option<ShellKind>,
    /// Leave ANTHROPIC_API_KEY alone (it outranks the token in every SDK)
    #[arg(long)]
    pub keep_api_key: bool,
    #[command(flatten)]
    pub freshness: FreshnessArgs,
}

pub fn run(settings: &Settings, args: &EnvArgs) -> Result<()> {
    let kind = args.shell.unwrap_or_else(shell::from_env);
    let can_unset = kind != ShellKind::Dotenv;
    let (mut assignments, served) =
        handoff::assignments(settings, &args.types, can_unset, (&args.freshness).into())?;
    let policy = ChildEnv::new(Mode::Env, &served, args.keep_api_key);
    policy.announce(can_unset);
    if can_unset {
        assignments.extend(policy.unsets());
    }
    let text = shell::render(kind, &assignments)?;
    output::payload(&text, false)
}
