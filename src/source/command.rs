//! The `command:` source: a program that prints a JWT (`gcloud auth
//! print-identity-token …`, `aws sts get-web-identity-token … --output text`).
//!
//! It runs without a shell, with stdin closed, its stderr passed through, and
//! under a timeout after which it is killed.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::{IdentityToken, Origin, TokenKind};
use crate::error::{Error, Kind, Result};
use crate::secret::Secret;

pub const TIMEOUT: Duration = Duration::from_secs(30);

pub fn run(argv: &[String]) -> Result<IdentityToken> {
    let program = &argv[0];
    crate::output::info(&format!("running identity command `{program}`"));
    let mut child = Command::new(program)
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| {
            let kind = match e.kind() {
                std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => Kind::Config,
                _ => Kind::Failure,
            };
            Error::new(
                kind,
                format!(
                    "cannot run the identity command `{program}`: {}",
                    crate::error::io_reason(&e)
                ),
            )
            .hint("check the program named in the profile's `--identity command:…`")
        })?;
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let r = (&mut stdout)
            .take(1 << 20)
            .read_to_end(&mut buf)
            .map(|_| buf);
        let _ = tx.send(r);
    });
    let out = match rx.recv_timeout(TIMEOUT) {
        Ok(r) => r,
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::network(format!(
                "the identity command `{program}` did not finish within {}s and was stopped",
                TIMEOUT.as_secs()
            )));
        }
    };
    let status = child
        .wait()
        .map_err(|e| Error::failure(format!("cannot wait for `{program}`: {e}")))?;
    if !status.success() {
        return Err(Error::sign_in(format!(
            "the identity command `{program}` failed ({status})"
        ))
        .hint("its own message is above; it may need you to sign in to it first"));
    }
    let out =
        out.map_err(|e| Error::failure(format!("cannot read the output of `{program}`: {e}")))?;
    let text = String::from_utf8(out).map_err(|_| {
        Error::config(format!(
            "the identity command `{program}` printed non-UTF-8 output"
        ))
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(Error::sign_in(format!(
            "the identity command `{program}` printed nothing"
        )));
    }
    Ok(IdentityToken {
        token: Secret::new(token.to_string()),
        origin: Origin::Command(program.clone()),
        kind: TokenKind::Jwt,
    })
}
