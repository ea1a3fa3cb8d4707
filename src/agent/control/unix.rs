//! The Unix side of [`super`]: signals, read by signal-hook's thread.

use std::sync::mpsc::Receiver;

use super::{Event, Request};
use crate::agent::instance::Holder;
use crate::error::{Error, Result};

/// The agent's control: events arrive on `rx`.
pub struct Control {
    pub rx: Receiver<Event>,
    handle: signal_hook::iterator::Handle,
}

impl Control {
    /// `_key`: the agent's key, which only Windows's event names need.
    pub fn start(_key: &str) -> Result<Control> {
        let mut s = signal_hook::iterator::Signals::new([
            libc::SIGTERM,
            libc::SIGINT,
            libc::SIGHUP,
            libc::SIGUSR1,
        ])
        .map_err(|e| Error::failure(format!("cannot install signal handlers: {e}")))?;
        let handle = s.handle();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for sig in s.forever() {
                let ev = match sig {
                    libc::SIGHUP => Event::Reload,
                    libc::SIGUSR1 => Event::Rejected,
                    libc::SIGINT => Event::Stop("SIGINT"),
                    _ => Event::Stop("SIGTERM"),
                };
                if tx.send(ev).is_err() {
                    break;
                }
            }
        });
        Ok(Control { rx, handle })
    }
}

impl Drop for Control {
    fn drop(&mut self) {
        self.handle.close();
    }
}

/// Ask the agent `h` for `r`: SIGHUP or SIGUSR1, once its pid is seen to
/// hold the lock (Linux; elsewhere the lock being held is all there is).
pub fn ask(h: &Holder, r: Request) -> Result<()> {
    let sig = match r {
        Request::Reload => libc::SIGHUP,
        Request::Rejected => libc::SIGUSR1,
    };
    let pid = h.pid;
    let pid = i32::try_from(pid)
        .map_err(|_| Error::failure(format!("the agent's lock names no valid pid ({pid})")))?;
    if !holds_open(h.pid, &h.lock) {
        return Err(Error::failure(format!(
            "the agent's pid file names pid {pid}, which does not hold its lock {}: \
             not signalling it",
            h.lock.display()
        ))
        .hint("an agent that is just starting records its pid in a moment; try again"));
    }
    // SAFETY: kill(2); the pid holds the sinks' lock, so it is the agent.
    if unsafe { libc::kill(pid, sig) } != 0 {
        return Err(Error::failure(format!(
            "cannot signal the agent (pid {pid}): {}",
            std::io::Error::last_os_error()
        )));
    }
    Ok(())
}

/// Whether process `pid` has the file `lock` open (Linux: its descriptors
/// in /proc; a pid file left by a killed agent names a pid that may now be
/// any process's). Elsewhere: assumed, the lock being held.
#[cfg(target_os = "linux")]
fn holds_open(pid: u32, lock: &std::path::Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(want) = std::fs::metadata(lock) else {
        return false;
    };
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten().any(|fd| {
        std::fs::metadata(fd.path()).is_ok_and(|m| m.dev() == want.dev() && m.ino() == want.ino())
    })
}

#[cfg(not(target_os = "linux"))]
fn holds_open(_pid: u32, _lock: &std::path::Path) -> bool {
    true
}
