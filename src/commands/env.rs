//! `keyless env`: shell assignments that hand the token to programs.

use crate::cli::{EnvArgs, ShellKind};
use crate::error::{Error, Result};
use crate::handoff::{self, Assignment};
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
    if kind == ShellKind::Dotenv {
        for a in &assignments {
            if let Assignment::Unset(n) = a
                && std::env::var_os(n).is_some()
            {
                output::warn(&format!(
                    ".env files cannot unset {n}; remove it from the environment yourself"
                ));
            }
        }
    }
    let text = shell::render(kind, &assignments)?;
    output::payload(&text, false)
        .map_err(|e| Error::failure(format!("cannot write to stdout: {e}")))
}
