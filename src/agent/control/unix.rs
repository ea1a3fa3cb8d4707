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
    if !holds_lock(h.pid, &h.lock) {
        return Err(Error::failure(format!(
            "the agent's pid file names pid {pid}, which does not hold its lock {}: \
             not signalling it",
            crate::redact::path(&h.lock)
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

/// Whether process `pid` holds the lock on the file `lock` (Linux: by
/// /proc/locks, readable by anyone; not /proc/PID/fd, which keyless's
/// PR_SET_DUMPABLE 0 closes to its own user). A pid file left by a killed
/// agent names a pid that may now be any process's. Elsewhere: assumed,
/// the lock being held.
#[cfg(target_os = "linux")]
fn holds_lock(pid: u32, lock: &std::path::Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let (Ok(m), Ok(locks)) = (
        std::fs::metadata(lock),
        std::fs::read_to_string("/proc/locks"),
    ) else {
        return false;
    };
    let file = format!(
        "{:02x}:{:02x}:{}",
        libc::major(m.dev()),
        libc::minor(m.dev()),
        m.ino()
    );
    locks
        .lines()
        .any(|l| lock_line_holder(l, &file) == Some(pid))
}

/// The holder's pid in a /proc/locks line (`1: FLOCK  ADVISORY  WRITE PID
/// MAJ:MIN:INODE 0 EOF`) about `file`; a waiter's (`1: -> FLOCK …`) is not one.
#[cfg(any(target_os = "linux", test))]
fn lock_line_holder(line: &str, file: &str) -> Option<u32> {
    let w: Vec<&str> = line.split_whitespace().collect();
    match w.as_slice() {
        [_, "FLOCK", _, _, pid, f, ..] if *f == file => pid.parse().ok(),
        _ => None,
    }
}

#[cfg(not(target_os = "linux"))]
fn holds_lock(_pid: u32, _lock: &std::path::Path) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::lock_line_holder;

    #[test]
    fn a_proc_locks_line_names_its_holder_not_its_waiters() {
        let f = "fe:00:10019146";
        let held = "1: FLOCK  ADVISORY  WRITE 15509 fe:00:10019146 0 EOF";
        assert_eq!(lock_line_holder(held, f), Some(15509));
        assert_eq!(lock_line_holder(held, "fe:00:1001914"), None);
        let waiting = "1: -> FLOCK  ADVISORY  WRITE 15600 fe:00:10019146 0 EOF";
        assert_eq!(lock_line_holder(waiting, f), None);
        let posix = "2: POSIX  ADVISORY  WRITE 15509 fe:00:10019146 0 EOF";
        assert_eq!(lock_line_holder(posix, f), None);
    }
}
