//! `keyless env`: shell assignments that hand the token to programs.

use clap::Args;

use crate::env_vars;
use crate::error::{Error, Result};
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
    /// Output syntax [default: from $SHELL, else powershell on Windows and bash elsewhere]; `github` appends to $GITHUB_ENV for a job's later steps
    #[arg(long, value_enum)]
    pub shell: Option<ShellKind>,
    /// Leave ANTHROPIC_API_KEY alone (it outranks the token in every SDK)
    #[arg(long)]
    pub keep_api_key: bool,
    #[command(flatten)]
    pub freshness: FreshnessArgs,
}

pub fn run(settings: &Settings, args: &EnvArgs) -> Result<()> {
    crate::config::managed::policy::refuse_keep_api_key(args.keep_api_key)?;
    let kind = args.shell.unwrap_or_else(shell::from_env);
    // .env files and $GITHUB_ENV cannot remove a variable
    let can_unset = !matches!(kind, ShellKind::Dotenv | ShellKind::Github);
    let (mut assignments, served) =
        handoff::assignments(settings, &args.types, can_unset, (&args.freshness).into())?;
    let policy = ChildEnv::new(Mode::Env, &served, args.keep_api_key);
    policy.announce(can_unset);
    if can_unset {
        assignments.extend(policy.unsets());
    }
    let text = shell::render(kind, &assignments)?;
    if kind == ShellKind::Github {
        return append_github_env(&text, &assignments);
    }
    output::payload(&text, false)
}

/// `--shell github`: append to the file `$GITHUB_ENV` names (the runner
/// creates it for each step); stdout stays empty. The token was masked when
/// it was acquired, so the later steps' logs show `***`.
fn append_github_env(text: &str, assignments: &[handoff::Assignment]) -> Result<()> {
    use std::io::Write;
    let Some(path) = env_vars::path(env_vars::GITHUB_ENV) else {
        return Err(Error::usage(format!(
            "--shell github needs {}, which GitHub Actions sets in every step",
            env_vars::GITHUB_ENV
        ))
        .hint("run it in a GitHub Actions step, or choose another --shell"));
    };
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| Error::io("cannot append to $GITHUB_ENV", &path, &e))?;
    let names: Vec<&str> = assignments
        .iter()
        .filter(|a| matches!(a, handoff::Assignment::Set(..)))
        .map(|a| a.name())
        .collect();
    output::note(&format!(
        "Set {} for the job's later steps (masked in its log).",
        names.join(", ")
    ));
    Ok(())
}
