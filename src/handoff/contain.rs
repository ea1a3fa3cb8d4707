//! The proxy's port must not outlive the proxy (issue 18 #1): the child,
//! and everything it started, reaches `http://127.0.0.1:PORT`, which is
//! reserved only while keyless lives. Once keyless is gone another local
//! user could bind the port and receive the child's next request.
//!
//! The Unix side of that concern, in one place (on Windows keyless and its
//! children share a job object that kills every member when keyless's
//! handle closes: `supervise/windows.rs`). On Linux [`contain`] puts a
//! small supervisor between keyless and the program:
//!
//! - the supervisor is a fork of keyless that never execs: a child
//!   subreaper (`PR_SET_CHILD_SUBREAPER`), so everything the program leaves
//!   behind (`sh -c 'worker & exit 0'`, a notebook kernel, a language
//!   server) is re-parented to it, not to init; it gets a death signal when
//!   keyless dies (kill -9, the OOM killer, an aborting panic) and then
//!   kills its whole tree with SIGKILL, adopted orphans included, until it
//!   has no child left. A death signal alone reaches only the direct child
//!   (it is not inherited across fork), hence the supervisor; a cgroup
//!   would need a delegated, writable hierarchy, which CI containers and
//!   many desktops lack, so the supervisor is the arrangement that works
//!   wherever keyless runs.
//! - the program gets `PR_SET_PDEATHSIG` (SIGKILL) from the supervisor.
//! - the supervisor forwards the signals keyless forwards to it (INT,
//!   TERM, HUP…, sent by keyless: the terminal's reach the program
//!   directly) to the program while it runs, then to every process it left
//!   behind; it reports the program's exit on a pipe ([`Contained::on_exit`]:
//!   the proxy then answers 503), and exits as the program did once nothing
//!   is left, so keyless stays, forwarding, until then, but not for ever:
//!   what is left [`grace`] after the program's exit (a detached daemon:
//!   gradle, sccache, ssh-agent, which would hold a CI step for hours)
//!   gets SIGTERM, and [`KILL_AFTER`] later SIGKILL.
//! - [`drain`] reaps anything else re-parented to keyless (itself a
//!   subreaper), and only that: not keyless's own identity commands.
//!
//! What stays open: a descendant that re-parents itself elsewhere (a double
//! fork under another subreaper, a process started through a system
//! service) is neither waited for nor killed, and the supervisor itself can
//! be killed by SIGKILL on its own (then its tree is re-parented to keyless,
//! which waits for it with no grace period, but a later kill -9 of keyless
//! leaves it). Without
//! `/proc/<pid>/task/<pid>/children` (a kernel built without
//! `CONFIG_PROC_CHILDREN`) only the program itself is killed.

use std::process::Command;
use std::time::Duration;

use crate::env_vars;
use crate::error::{Error, Result};

/// How long what the program left running may go on once the program has
/// exited, unless `KEYLESS_PROXY_GRACE` says otherwise: long enough for a
/// worker to finish its last request, short enough that a daemon does not
/// hold a CI step.
pub const GRACE: Duration = Duration::from_secs(10);
/// After the grace period's SIGTERM, how long before SIGKILL.
pub const KILL_AFTER: Duration = Duration::from_secs(3);

/// The grace period: `KEYLESS_PROXY_GRACE` (whole seconds), else [`GRACE`].
pub fn grace() -> Result<Duration> {
    let Some(v) = env_vars::var(env_vars::KEYLESS_PROXY_GRACE) else {
        return Ok(GRACE);
    };
    v.trim()
        .parse::<u32>()
        .map(|s| Duration::from_secs(s.into()))
        .map_err(|_| {
            Error::config(format!(
                "{} must be a whole number of seconds, not `{}`",
                env_vars::KEYLESS_PROXY_GRACE,
                crate::redact::terminal(&v)
            ))
        })
}

/// What [`contain`] set up: on Linux, the pipe on which the supervisor
/// reports the program's exit.
pub struct Contained {
    #[cfg(target_os = "linux")]
    pipe: Option<(std::fs::File, std::os::fd::OwnedFd)>,
}

impl Contained {
    /// Once the program is started: call `exited` (on a thread) when the
    /// program itself has exited, while what it left behind may still run.
    /// Off Linux nothing calls it (keyless's own wait is the program's).
    pub fn on_exit(self, exited: impl FnOnce() + Send + 'static) {
        #[cfg(target_os = "linux")]
        if let Some((mut read, write)) = self.pipe {
            // keyless's copy of the write end: the supervisor holds the other.
            drop(write);
            std::thread::spawn(move || {
                let mut status = [0u8; 4];
                let _ = std::io::Read::read(&mut read, &mut status);
                exited();
            });
        }
        #[cfg(not(target_os = "linux"))]
        let _ = exited;
    }
}

/// Make `cmd` run under a supervisor that dies with keyless and takes the
/// program's whole tree with it, stopping what the program leaves running
/// `grace` after its exit, and keyless the reaper of whatever escapes it.
/// Call once, before spawning `cmd`.
pub fn contain(cmd: &mut Command, grace: Duration) -> Contained {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::{FromRawFd, OwnedFd};
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl(2) on this process with constant arguments.
        unsafe {
            libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        }
        // SAFETY: getpid(2) cannot fail.
        let parent = unsafe { libc::getpid() };
        let mut fds = [-1; 2];
        // SAFETY: pipe2(2) into a two-element array.
        let pipe = if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } == 0 {
            // SAFETY: two fresh descriptors this process owns.
            Some(unsafe {
                (
                    std::fs::File::from_raw_fd(fds[0]),
                    OwnedFd::from_raw_fd(fds[1]),
                )
            })
        } else {
            None
        };
        let report = fds[1];
        let after = linux::After {
            grace: nanos(grace),
            kill: nanos(KILL_AFTER),
        };
        // SAFETY: between fork and exec only async-signal-safe calls are
        // made (prctl, fork, sigprocmask, sigwaitinfo, sigtimedwait,
        // clock_gettime, waitpid, kill, open, read, write, close); nothing
        // allocates.
        unsafe {
            cmd.pre_exec(move || linux::supervise(parent, report, after));
        }
        Contained { pipe }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (cmd, grace);
        Contained {}
    }
}

#[cfg(target_os = "linux")]
fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// Wait until every descendant re-parented to keyless has exited, reaping
/// each. Returns at once when there is none (or off Linux, or without
/// `/proc/self/task/<tid>/children`). The identity `command:` a renewal
/// may be running is left to the renewal, which waits for it (reaped here,
/// its own wait failed with ECHILD; waited for here, keyless stayed up to
/// its 30 s limit).
pub fn drain() {
    #[cfg(target_os = "linux")]
    loop {
        let others = crate::source::command::running(|own| {
            linux::children().map(|all| {
                all.into_iter()
                    .filter(|&pid| !own.contains(&(pid as u32)))
                    .collect::<Vec<_>>()
            })
        });
        let Some(others) = others.filter(|o| !o.is_empty()) else {
            return;
        };
        for pid in others {
            // SAFETY: waitpid(2) on one child with a null status pointer.
            while unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) } == -1
                && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
            {
            }
        }
    }
}

#[cfg(target_os = "linux")]
mod linux;
