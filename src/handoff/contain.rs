//! The proxy's port must not outlive the proxy (issue 18 #1): the child,
//! and everything it started, reaches `http://127.0.0.1:PORT`, which is
//! reserved only while keyless lives. Once keyless is gone another local
//! user could bind the port and receive the child's next request.
//!
//! The Unix side of that concern, in one place (the Windows side, a job
//! object, belongs beside it). On Linux:
//!
//! - [`contain`] marks keyless a child subreaper (`PR_SET_CHILD_SUBREAPER`)
//!   and has the child killed when keyless dies (`PR_SET_PDEATHSIG`,
//!   SIGKILL; also when keyless died between fork and exec): kill -9, the
//!   OOM killer, an aborting panic.
//! - [`drain`], after the direct child exited, waits for every descendant
//!   re-parented to keyless (`sh -c 'worker & exit 0'`, a notebook kernel, a
//!   language server), reaping them, while the proxy answers 503.
//!
//! What stays open: a grandchild is not killed with keyless (the death
//! signal is not inherited across fork), so after a kill -9 of keyless a
//! background job of the child's can outlive the port; and a descendant
//! that re-parents itself elsewhere (a double fork under another subreaper)
//! is neither waited for nor killed. Elsewhere than Linux both are no-ops.

use std::process::Command;

/// Make `cmd` die with keyless, and keyless the reaper of whatever it
/// leaves behind. Call once, before spawning `cmd`.
pub fn contain(cmd: &mut Command) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl(2) on this process with constant arguments.
        unsafe {
            libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        }
        // SAFETY: getpid(2) cannot fail.
        let parent = unsafe { libc::getpid() };
        // SAFETY: between fork and exec only async-signal-safe calls
        // (prctl, getppid, raise) are made.
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                // keyless died before the death signal was armed.
                if libc::getppid() != parent {
                    libc::raise(libc::SIGKILL);
                }
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cmd;
}

/// Wait until every descendant re-parented to keyless has exited, reaping
/// each. Returns at once when there is none (or off Linux).
pub fn drain() {
    #[cfg(target_os = "linux")]
    loop {
        // SAFETY: waitpid(2) on any child with a null status pointer.
        let r = unsafe { libc::waitpid(-1, std::ptr::null_mut(), 0) };
        if r == -1 && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return;
        }
    }
}
