//! How a running agent is told to stop, to re-read its configuration, or
//! that the API refused its token: one side per platform, one API.
//!
//! | | Unix ([`unix`]) | Windows ([`windows`]) |
//! |---|---|---|
//! | stop (remove the file sinks, exit 0) | SIGTERM, SIGINT | Ctrl-C, Ctrl-Break, closing the console, logoff, shutdown |
//! | re-read the configuration | SIGHUP, or `keyless agent --reload` | `keyless agent --reload` |
//! | the token was refused | SIGUSR1, or `keyless agent --rejected` | `keyless agent --rejected` |
//!
//! `--reload` and `--rejected` find the agent serving the same sinks by its
//! instance lock ([`super::instance`], which records its pid) and ask it
//! through [`ask`]: a signal on Unix, sent only once the pid is seen to hold
//! the lock (Linux, by /proc/locks; a pid file left by a killed agent
//! names a pid the system may have given to anyone); on Windows, which has
//! no signals to a process, one of the agent's two named events,
//! `keyless-agent-PID-KEY-reload` and `keyless-agent-PID-KEY-rejected`
//! ([`event_name`]; KEY is 128 random bits from the agent's owner-only pid
//! file, so no other process can make them first), created by the agent
//! at start (refused if someone made one first) and waited on by a thread.
//! Their default access list is the creating user's (and SYSTEM's and the
//! Administrators'), as a signal can come only from the same user or root.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::{Control, ask};

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::{Control, ask};

/// What the agent is told, in the order its main loop reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Stop: remove the file sinks and the ready file, exit 0. Says why.
    Stop(&'static str),
    /// Re-read the configuration and the templates.
    Reload,
    /// The API refused the token: exchange a new one now.
    Rejected,
}

/// What `keyless agent --reload` / `--rejected` asks of a running agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    Reload,
    Rejected,
}

impl Request {
    pub fn event(self) -> Event {
        match self {
            Request::Reload => Event::Reload,
            Request::Rejected => Event::Rejected,
        }
    }
}

/// The name of agent `pid`'s Windows event for `r` (in the session's
/// namespace: the agent and its callers run in the same logon session).
/// `key` is the agent's random key from its owner-only pid file: without
/// it a process of the session could guess the name and make the event
/// first, denying the agent its start.
pub fn event_name(pid: u32, key: &str, r: Request) -> String {
    let what = match r {
        Request::Reload => "reload",
        Request::Rejected => "rejected",
    };
    format!("Local\\keyless-agent-{pid}-{key}-{what}")
}

/// A console control event that stops the agent (Windows; wincon.h's
/// numbers): its name for the log, and whether the handler must hold the
/// process until the sinks are removed (for close, logoff and shutdown,
/// Windows ends the process as soon as the handler returns). Portable, so
/// the decision is unit-tested on Linux: Wine cannot raise these events.
pub fn console_stop(event: u32) -> Option<(&'static str, bool)> {
    match event {
        0 => Some(("Ctrl-C", false)),
        1 => Some(("Ctrl-Break", false)),
        2 => Some(("the console closing", true)),
        5 => Some(("logoff", true)),
        6 => Some(("shutdown", true)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Wine cannot raise console control events, so the Windows handler's
    /// decision is tested here: Ctrl-C and Ctrl-Break stop the agent (the
    /// main loop removes the sinks, then the process exits); close, logoff
    /// and shutdown stop it with the handler waiting for that removal,
    /// since Windows ends the process when the handler returns.
    #[test]
    fn every_console_event_that_ends_a_session_stops_the_agent() {
        assert_eq!(console_stop(0), Some(("Ctrl-C", false)));
        assert_eq!(console_stop(1), Some(("Ctrl-Break", false)));
        for e in [2, 5, 6] {
            assert!(console_stop(e).is_some_and(|(_, wait)| wait), "{e}");
        }
        for e in [3, 4, 7, 100] {
            assert_eq!(console_stop(e), None, "{e}");
        }
    }

    #[test]
    fn each_agent_has_its_own_two_event_names() {
        assert_eq!(
            event_name(42, "00ff", Request::Rejected),
            "Local\\keyless-agent-42-00ff-rejected"
        );
        assert_ne!(
            event_name(42, "k", Request::Reload),
            event_name(42, "k", Request::Rejected)
        );
        assert_ne!(
            event_name(42, "k", Request::Reload),
            event_name(43, "k", Request::Reload)
        );
        assert_ne!(
            event_name(42, "k", Request::Reload),
            event_name(42, "j", Request::Reload),
            "the key is part of the name"
        );
    }
}
