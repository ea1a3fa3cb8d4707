//! `keyless exec -- CMD ARGS…`: run a program with the token in its
//! environment only. On Unix keyless replaces itself (execvp), so the child
//! gets signals directly and its exit status is the one the caller sees.

use std::process::Command;

use crate::cli::ExecArgs;
use crate::error::{Error, Kind, Result};
use crate::handoff::{self, Assignment};
use crate::settings::Settings;

pub fn run(settings: &Settings, args: &ExecArgs) -> Result<()> {
    if args.refresh {
        #[cfg(unix)]
        return super::exec_refresh::run(settings, args);
        #[cfg(not(unix))]
        return Err(Error::usage(
            "--refresh is not available on this platform yet",
        ));
    }
    let assignments = handoff::assignments(
        settings,
        &args.types,
        args.keep_api_key,
        true,
        (&args.freshness).into(),
    )?;
    let program = &args.command[0];
    let mut cmd = Command::new(program);
    cmd.args(&args.command[1..]);
    // keyless's own secret is never the child's business.
    cmd.env_remove(crate::env_vars::KEYLESS_CLIENT_SECRET);
    for a in &assignments {
        match a {
            Assignment::Set(n, v) => {
                cmd.env(n, v.expose());
            }
            Assignment::Unset(n) => {
                cmd.env_remove(n);
            }
        }
    }
    let shown = program.to_string_lossy().into_owned();
    let fail = |e: std::io::Error| {
        let (code, why) = match e.kind() {
            std::io::ErrorKind::NotFound => (127, "command not found"),
            std::io::ErrorKind::PermissionDenied => (126, "permission denied"),
            _ => (126, "cannot execute"),
        };
        Error::new(
            Kind::Code(code),
            format!(
                "cannot run `{shown}`: {why} ({})",
                crate::error::io_reason(&e)
            ),
        )
    };
    run_child(cmd, fail)
}

#[cfg(unix)]
fn run_child(mut cmd: Command, fail: impl Fn(std::io::Error) -> Error) -> Result<()> {
    use std::os::unix::process::CommandExt;
    // exec only returns on failure.
    let e = cmd.exec();
    Err(fail(e))
}

#[cfg(not(unix))]
fn run_child(mut cmd: Command, fail: impl Fn(std::io::Error) -> Error) -> Result<()> {
    let status = cmd.status().map_err(fail)?;
    std::process::exit(status.code().unwrap_or(1));
}
