//! Error kinds and the exit codes they map to.
//!
//! An error carries a kind (which picks the exit code), a message naming what
//! was being done and to what, optional detail lines, and a separate hint. It
//! never carries a secret: callers pass only identifiers, paths and redacted
//! server text (see [`crate::redact`]).

use std::fmt;

/// Exit codes, documented in the README and in `keyless --help`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// 1: anything not covered below.
    Failure,
    /// 2: bad command-line usage (clap also exits 2).
    Usage,
    /// 3: no identity token can be had right now; sign in or fix the source.
    SignIn,
    /// 4: network failure, timeout, 5xx, or an endpoint that does not speak the protocol.
    Network,
    /// 5: the provider or identity provider denied the request.
    Denied,
    /// 6: configuration missing or invalid.
    Config,
    /// 141: stdout was closed before the payload was written (`| head -c0`),
    /// the status of a program that SIGPIPE ended; nothing is printed.
    BrokenPipe,
    /// A code chosen by convention, such as 126/127 when `exec` cannot start its child.
    Code(i32),
}

impl Kind {
    pub fn exit_code(self) -> i32 {
        match self {
            Kind::Failure => 1,
            Kind::Usage => 2,
            Kind::SignIn => 3,
            Kind::Network => 4,
            Kind::Denied => 5,
            Kind::Config => 6,
            Kind::BrokenPipe => 141,
            Kind::Code(c) => c,
        }
    }
}

#[derive(Debug)]
pub struct Error {
    pub kind: Kind,
    pub message: String,
    pub details: Vec<String>,
    pub hint: Option<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            details: Vec::new(),
            hint: None,
        }
    }
    pub fn failure(message: impl Into<String>) -> Self {
        Self::new(Kind::Failure, message)
    }
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(Kind::Config, message)
    }
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Kind::Usage, message)
    }
    pub fn network(message: impl Into<String>) -> Self {
        Self::new(Kind::Network, message)
    }
    pub fn denied(message: impl Into<String>) -> Self {
        Self::new(Kind::Denied, message)
    }
    pub fn sign_in(message: impl Into<String>) -> Self {
        Self::new(Kind::SignIn, message)
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    pub fn detail(mut self, line: impl Into<String>) -> Self {
        self.details.push(line.into());
        self
    }
    /// An I/O error on `path` while `doing` something, with the OS reason.
    pub fn io(doing: &str, path: &std::path::Path, err: &std::io::Error) -> Self {
        Self::failure(format!(
            "{doing} {}: {}",
            crate::redact::path(path),
            io_reason(err)
        ))
    }
}

/// The OS reason without Rust's "(os error N)" suffix.
pub fn io_reason(err: &std::io::Error) -> String {
    let s = err.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.message)?;
        for d in &self.details {
            write!(f, "\n  {d}")?;
        }
        if let Some(h) = &self.hint {
            write!(f, "\nhint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}
