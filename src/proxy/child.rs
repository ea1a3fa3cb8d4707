//! The child of `exec --proxy`, supervised as `exec --refresh` supervises
//! its own: keyless stays the parent (it serves the child's API calls),
//! forwards INT, TERM, HUP, QUIT, USR1, USR2 and WINCH, and exits with the
//! child's status or dies by the child's signal.

use std::ffi::OsString;
use std::process::{Command, ExitStatus};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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

/// Start `cmd` (the program `argv0`), forward signals to it, and wait.
pub fn run(mut cmd: Command, argv0: &OsString) -> Result<ExitStatus> {
    // Handlers first, so a signal right after the spawn is not lost.
    let mut signals = signal_hook::iterator::Signals::new(FORWARDED)
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
    let exited = Arc::new(AtomicBool::new(false));
    let ex = exited.clone();
    std::thread::spawn(move || {
        for sig in signals.forever() {
            if ex.load(Ordering::SeqCst) {
                break;
            }
            // SAFETY: kill(2) on our own child, still unreaped (exited is false).
            unsafe {
                libc::kill(pid, sig);
            }
        }
    });
    let status = kid
        .wait()
        .map_err(|e| Error::failure(format!("cannot wait for the child: {e}")));
    exited.store(true, Ordering::SeqCst);
    handle.close();
    status
}

/// Exit as the child did: its code, or its terminating signal re-raised.
pub fn finish(status: ExitStatus) -> ! {
    use std::os::unix::process::ExitStatusExt;
    if let Some(sig) = status.signal() {
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
