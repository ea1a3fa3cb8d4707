//! The `command:` source: a program that prints a JWT (`gcloud auth
//! print-identity-token …`, `aws sts get-web-identity-token … --output text`).
//!
//! It runs without a shell, with stdin closed, its stderr passed through and
//! none of the secrets keyless reads in its environment.
//! One deadline covers the whole run: output and exit. Its stdout is drained
//! to the end (so it never blocks on a full pipe) but only the first
//! [`MAX_OUTPUT`] bytes are kept.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{IdentityToken, Origin};
use crate::error::{Error, Kind, Result};
use crate::jwt::MAX_ASSERTION_BYTES;
use crate::provider::TokenKind;
use crate::secret::Secret;

/// The whole run of an identity command, output and exit.
pub const TIMEOUT: Duration = Duration::from_secs(30);
/// A JWT at the assertion limit, plus the newline and blanks a program may
/// print around it.
const MAX_OUTPUT: usize = MAX_ASSERTION_BYTES + 64;

/// The identity commands running now, by pid. keyless waits for each
/// itself, so whatever reaps keyless's other children
/// (`exec --proxy`'s last drain) must leave these alone: see [`running`].
static RUNNING: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// `f` with the pids of the identity commands running now; none is
/// spawned meanwhile, so a child not listed is not one of them.
pub fn running<T>(f: impl FnOnce(&[u32]) -> T) -> T {
    f(&RUNNING.lock().unwrap_or_else(|p| p.into_inner()))
}

/// An identity command's pid in [`RUNNING`] until dropped (once it has
/// been waited for).
struct Listed(u32);

impl Drop for Listed {
    fn drop(&mut self) {
        RUNNING
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|&p| p != self.0);
    }
}

pub fn run(argv: &[String]) -> Result<IdentityToken> {
    let program = &argv[0];
    crate::output::info(&format!("running identity command `{program}`"));
    let deadline = Instant::now() + TIMEOUT;
    let mut cmd = Command::new(program);
    crate::env_vars::without_secrets(&mut cmd)
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    // Its own process group, so a timeout stops helpers it started too
    // (a shell's `sleep` would otherwise outlive it holding our stderr).
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let spawned = {
        let mut running = RUNNING.lock().unwrap_or_else(|p| p.into_inner());
        let spawned = cmd.spawn();
        if let Ok(c) = &spawned {
            running.push(c.id());
        }
        spawned
    };
    let mut child = spawned.map_err(|e| {
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
    // Listed until this function returns, by when it has been waited for.
    let _listed = Listed(child.id());
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut total = 0usize;
        let mut buf = [0u8; 8192];
        let r = loop {
            match stdout.read(&mut buf) {
                Ok(0) => break Ok((kept, total)),
                Ok(n) => {
                    total += n;
                    let room = MAX_OUTPUT.saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                }
                Err(e) => break Err(e),
            }
        };
        let _ = tx.send(r);
    });
    let timed_out = |child: &mut Child| {
        #[cfg(unix)]
        // SAFETY: kill(2) on the process group we created for this child.
        unsafe {
            libc::kill(-(child.id() as i32), libc::SIGKILL);
        }
        let _ = child.kill();
        let _ = child.wait();
        Error::network(format!(
            "the identity command `{program}` did not finish within {}s and was stopped",
            TIMEOUT.as_secs()
        ))
    };
    let out = match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(r) => r,
        Err(_) => return Err(timed_out(&mut child)),
    };
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() >= deadline => return Err(timed_out(&mut child)),
            // stdout is closed, so it is usually exiting: poll briefly, up to the deadline.
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(Error::failure(format!("cannot wait for `{program}`: {e}"))),
        }
    };
    if !status.success() {
        return Err(Error::sign_in(format!(
            "the identity command `{program}` failed ({status})"
        ))
        .hint("its own message is above; it may need you to sign in to it first"));
    }
    let (out, total) =
        out.map_err(|e| Error::failure(format!("cannot read the output of `{program}`: {e}")))?;
    if total > MAX_OUTPUT {
        return Err(Error::config(format!(
            "the identity command `{program}` printed {total} bytes; an identity token is at most {} KiB",
            MAX_ASSERTION_BYTES / 1024
        ))
        .hint("make it print only the JWT"));
    }
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
