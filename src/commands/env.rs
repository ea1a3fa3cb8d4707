//! `keyless env`: shell assignments that hand the token to programs.

use crate::cli::{EnvArgs, ShellKind};
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
        kind != ShellKind::Dotenv,
        (&args.freshness).into(),
    )?;
    let text = shell::render(kind, &assignments)?;
    output::payload(&text, false)
        .map_err(|e| Error::failure(format!("cannot write to stdout: {e}")))
}
