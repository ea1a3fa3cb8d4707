//! Stdout is for payload, stderr is for people.
//!
//! Every byte keyless writes to stdout or stderr goes through this module.
//! [`payload`] writes the command's result to stdout, and that result may be
//! a secret on purpose: the token `credential` prints, the assignments `env`
//! prints. [`warn`], [`info`] and [`debug`] write to stderr according to
//! `-q`/`-v`/`-vv`, and never receive a secret: callers pass masked or
//! redacted text.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicI8, Ordering};

/// -1 quiet, 0 default, 1 `-v`, 2 `-vv`.
static VERBOSITY: AtomicI8 = AtomicI8::new(0);

pub fn set_verbosity(quiet: bool, verbose: u8) {
    let v = if quiet { -1 } else { verbose.min(2) as i8 };
    VERBOSITY.store(v, Ordering::Relaxed);
}

pub fn verbosity() -> i8 {
    VERBOSITY.load(Ordering::Relaxed)
}

/// `keyless agent --log-format json`: every stderr line is one JSON object.
static JSON_LOGS: AtomicBool = AtomicBool::new(false);

pub fn set_json_logs(on: bool) {
    JSON_LOGS.store(on, Ordering::Relaxed);
}

fn stderr_line(prefix: &str, msg: &str) {
    let mut err = std::io::stderr().lock();
    if JSON_LOGS.load(Ordering::Relaxed) {
        let level = match prefix {
            "warning: " => "warn",
            "keyless: debug: " => "debug",
            "error: " => "error",
            _ => "info",
        };
        let line = serde_json::json!({
            "time": crate::clock::rfc3339(crate::clock::now()),
            "level": level,
            "message": msg,
        });
        let _ = writeln!(err, "{line}");
        return;
    }
    let _ = writeln!(err, "{prefix}{msg}");
}

/// A warning: shown unless `--quiet`.
pub fn warn(msg: &str) {
    if verbosity() >= 0 {
        stderr_line("warning: ", msg);
    }
}

/// Narration a person asked for (setup summaries, demo steps): shown unless `--quiet`.
pub fn note(msg: &str) {
    if verbosity() >= 0 {
        stderr_line("", msg);
    }
}

/// A log line of a server keyless runs (the sandbox): always shown.
pub fn server_log(msg: &str) {
    stderr_line("", msg);
}

/// Progress shown at `-v`.
pub fn info(msg: &str) {
    if verbosity() >= 1 {
        stderr_line("keyless: ", msg);
    }
}

/// Detail shown at `-vv`.
pub fn debug(msg: &str) {
    if verbosity() >= 2 {
        stderr_line("keyless: debug: ", msg);
    }
}

/// An error, always shown, except a closed stdout: whoever closed it is
/// not listening.
pub fn error(err: &crate::error::Error) {
    if err.kind != crate::error::Kind::BrokenPipe {
        // Human lines carry no prefix (the message says "error:" itself).
        let prefix = if JSON_LOGS.load(Ordering::Relaxed) {
            "error: "
        } else {
            ""
        };
        stderr_line(prefix, &err.to_string());
    }
}

/// Write the command's payload to stdout in one write. A trailing newline is
/// added only when asked (callers decide by the output mode). A reader that
/// went away is [`Kind::BrokenPipe`](crate::error::Kind::BrokenPipe): exit
/// 141 and no message, as a program ended by SIGPIPE.
pub fn payload(text: &str, newline: bool) -> crate::error::Result<()> {
    let write = || -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())?;
        if newline {
            out.write_all(b"\n")?;
        }
        out.flush()
    };
    write().map_err(|e| {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            crate::error::Error::new(crate::error::Kind::BrokenPipe, "stdout was closed")
        } else {
            crate::error::Error::failure(format!(
                "cannot write to stdout: {}",
                crate::error::io_reason(&e)
            ))
        }
    })
}

pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// Ask a yes/no question on stderr and read the answer from stdin (for a
/// person at a terminal; the caller checks that there is one). Only "y" or
/// "yes" is yes.
pub fn ask(question: &str) -> bool {
    let _ = write!(std::io::stderr(), "{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().read_line(&mut answer);
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

pub fn stdin_and_stderr_are_terminals() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// In a GitHub Actions job (`GITHUB_ACTIONS=true`), ask the runner to mask
/// `secret` in the job's log, as the toolkit's `core.setSecret` does with
/// `::add-mask::`. The runner reads workflow commands from stderr as from
/// stdout, and stdout is the command's payload (`credential`, `env`) or the
/// child's (`exec`), so the command goes to stderr; the runner takes the
/// line and never shows it. Escaped as the toolkit escapes command data.
pub fn mask_in_ci(secret: &str) {
    if std::env::var(crate::env_vars::GITHUB_ACTIONS).as_deref() != Ok("true") || secret.is_empty()
    {
        return;
    }
    let data = secret
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    let _ = writeln!(std::io::stderr(), "::add-mask::{data}");
}
