//! The Unix side of [`super`]: a child started with INT, TERM, HUP, QUIT, USR1, USR2 and WINCH forwarded to it,
//! its exit reported on a channel, and keyless exiting as it did.
//!
//! Only signals a process sent keyless (kill(2): a CI runner's TERM, a
//! `kill -INT` of keyless's pid) are forwarded. The terminal's (Ctrl-C,
//! Ctrl-\, a resize) go to its whole foreground process group,
//! the child included, with si_code SI_KERNEL: forwarding them too would
//! deliver each twice. Where the cause is not recorded (macOS leaves
//! si_code 0) keyless forwards, as it always did.
//!
//! But a hang-up's SIGHUP goes to the session leader alone (and to the
//! foreground group only once the leader exits): when keyless leads its
//! session (`ssh -t host keyless exec …`, `tmux new 'keyless exec …'`,
//! `docker run -t`) the kernel's SIGHUP is forwarded, or the program would
//! never hear of the hang-up. When keyless does not lead it, a kernel SIGHUP
//! is the leader's exit, sent to the foreground group, so it is skipped.
//!
//! The pid is never signalled after it could have been reused: the waiter
//! waits for the exit without reaping (`WNOWAIT`), marks the child gone
//! under the lock the forwarder holds while it signals, and only then reaps.

use std::ffi::OsString;
use std::process::{Command, ExitStatus};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};

use signal_hook::iterator::SignalsInfo;
use signal_hook::iterator::exfiltrator::WithOrigin;
use signal_hook::low_level::siginfo::Cause;

use crate::error::{Error, Result};
use crate::handoff::child;

const FORWARDED: [i32; 7] = [
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGWINCH,
];

/// A running child: its exit status arrives on `exited`.
pub struct Supervised {
    pub exited: Receiver<ExitStatus>,
    handle: signal_hook::iterator::Handle,
}

impl Drop for Supervised {
    fn drop(&mut self) {
        self.handle.close();
    }
}

/// Start `cmd` (the program `argv0`) with signals forwarded to it.
pub fn spawn(mut cmd: Command, argv0: &OsString) -> Result<Supervised> {
    // Handlers first, so a signal right after the spawn is not lost.
    let mut signals = SignalsInfo::<WithOrigin>::new(FORWARDED)
        .map_err(|e| Error::failure(format!("cannot install signal handlers: {e}")))?;
    let handle = signals.handle();
    let mut kid = match cmd.spawn() {
        Ok(k) => k,
        Err(e) => {
            handle.close();
            return Err(child::spawn_error(argv0, &e));
        }
    };
    let pid = kid.id() as i32;
    // SAFETY: getsid(2) and getpid(2) on this process.
    let leader = unsafe { libc::getsid(0) == libc::getpid() };
    // True once the child has exited; held while signalling, so the waiter
    // cannot reap (and the pid be reused) between the check and the kill.
    let gone = Arc::new(Mutex::new(false));
    let g = gone.clone();
    std::thread::spawn(move || {
        for origin in signals.forever() {
            let gone = g.lock().unwrap_or_else(|p| p.into_inner());
            if *gone {
                break;
            }
            if !forwarded(origin.signal, origin.cause, leader) {
                continue;
            }
            // SAFETY: kill(2) on our own child, not yet reaped (see `gone`).
            unsafe {
                libc::kill(pid, origin.signal);
            }
        }
    });
    let (tx, exited) = channel();
    std::thread::spawn(move || {
        // SAFETY: waitid(2) on our own child with a zeroed siginfo_t.
        unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            while libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            ) == -1
                && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
            {
            }
        }
        *gone.lock().unwrap_or_else(|p| p.into_inner()) = true;
        if let Ok(status) = kid.wait() {
            let _ = tx.send(status);
        }
    });
    Ok(Supervised { exited, handle })
}

/// Whether keyless forwards `signal`, sent for `cause`, to its child
/// (module doc): the terminal's reached the child itself, but for a
/// hang-up's SIGHUP to keyless as the session leader.
fn forwarded(signal: i32, cause: Cause, leader: bool) -> bool {
    cause != Cause::Kernel || (signal == libc::SIGHUP && leader)
}

/// Exit as the child did: its code, or its terminating signal re-raised.
pub fn finish(status: ExitStatus) -> ! {
    use std::os::unix::process::ExitStatusExt;
    if let Some(sig) = status.signal() {
        // Restore the default action, then die by the same signal.
        let _ = signal_hook::low_level::emulate_default_handler(sig);
        // SAFETY: resetting a disposition and raising on ourselves.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            libc::raise(sig);
        }
        std::process::exit(128 + sig);
    }
    std::process::exit(status.code().unwrap_or(1));
}

/// The status to exit with when the waiter is gone without one.
pub fn lost() -> ExitStatus {
    std::os::unix::process::ExitStatusExt::from_raw(1 << 8)
}

/// Plain `exec`: keyless replaces itself with the child (execvp), so the
/// child gets signals directly and its exit status is the caller's. Returns
/// only when the program cannot be started.
pub fn hand_over(mut cmd: Command, argv0: &OsString) -> Error {
    use std::os::unix::process::CommandExt;
    let e = cmd.exec();
    child::spawn_error(argv0, &e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_terminals_signals_are_skipped_but_a_hang_up_to_the_leader() {
        for sig in FORWARDED {
            assert!(forwarded(
                sig,
                Cause::Sent(signal_hook::low_level::siginfo::Sent::User),
                false
            ));
            assert_eq!(
                forwarded(sig, Cause::Kernel, true),
                sig == libc::SIGHUP,
                "{sig}"
            );
            assert!(!forwarded(sig, Cause::Kernel, false), "{sig}");
        }
    }
}
