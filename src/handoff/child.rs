//! Starting the program `exec` hands the token to: the one table that turns
//! a failure to start it into the shell's 126/127. Its environment is the
//! [`super::child_env`] policy's.

use std::ffi::OsString;

use crate::error::{Error, Kind};

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
