//! `keyless env`: shell assignments that hand the token to programs.

use crate::cli::{EnvArgs, ShellKind};
use crate::env_vars;
use crate::error::{Error, Result};
use crate::handoff;
use crate::output;
use crate::settings::Settings;
use crate::shell;

pub fn run(settings: &Settings, args: &EnvArgs) -> Result<()> {
    let kind = args.shell.unwrap_or_else(shell::from_env);
    let assignments = handoff::assignments(
        settings,
        &args.types,
        args.keep_api_key,
        (&args.freshness).into(),
    )?;
    if kind == ShellKind::Dotenv
        && std::env::var_os(env_vars::ANTHROPIC_API_KEY).is_some()
        && !args.keep_api_key
    {
        output::warn(
            ".env files cannot unset ANTHROPIC_API_KEY; remove it from the environment yourself",
        );
    }
    let text = shell::render(kind, &assignments)?;
    output::payload(&text, false)
        .map_err(|e| Error::failure(format!("cannot write to stdout: {e}")))
}
