//! Starting the program `exec` hands the token to: its command with the
//! assignments applied and keyless's own secrets removed, and the one table
//! that turns a failure to start it into the shell's 126/127.

use std::ffi::OsString;
use std::process::Command;

use super::Assignment;
use crate::env_vars;
use crate::error::{Error, Kind};

/// `argv` as a command whose environment is the caller's with `assignments`
/// applied; keyless's own secrets are never the child's business.
pub fn command(argv: &[OsString], assignments: &[Assignment]) -> Command {
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]);
    cmd.env_remove(env_vars::KEYLESS_CLIENT_SECRET);
    for a in assignments {
        match a {
            Assignment::Set(n, v) => {
                cmd.env(n, v.expose());
            }
            Assignment::Unset(n) => {
                cmd.env_remove(n);
            }
        }
    }
    cmd
}

/// Why `program` could not be started, with the exit code a shell would
/// give: 127 when it is not found, 126 when it cannot be executed.
pub fn spawn_error(program: &OsString, e: &std::io::Error) -> Error {
    let (code, why) = match e.kind() {
        std::io::ErrorKind::NotFound => (127, "command not found"),
        std::io::ErrorKind::PermissionDenied => (126, "permission denied"),
        _ => (126, "cannot execute"),
    };
    Error::new(
        Kind::Code(code),
        format!(
            "cannot run `{}`: {why} ({})",
            crate::redact::terminal(&program.to_string_lossy()),
            crate::error::io_reason(e)
        ),
    )
}
