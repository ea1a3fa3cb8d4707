//! The Unix side of [`super`]: signals, read by signal-hook's thread.

use std::sync::mpsc::Receiver;

use super::{Event, Request};
use crate::error::{Error, Result};

/// The agent's control: events arrive on `rx`.
pub struct Control {
    pub rx: Receiver<Event>,
    handle: signal_hook::iterator::Handle,
}

impl Control {
    pub fn start() -> Result<Control> {
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

/// Ask the agent `pid` for `r`: SIGHUP or SIGUSR1.
pub fn ask(pid: u32, r: Request) -> Result<()> {
    let sig = match r {
        Request::Reload => libc::SIGHUP,
        Request::Rejected => libc::SIGUSR1,
    };
    let pid = i32::try_from(pid)
        .map_err(|_| Error::failure(format!("the agent's lock names no valid pid ({pid})")))?;
    // SAFETY: kill(2); the pid holds the sinks' lock, so it is the agent.
    if unsafe { libc::kill(pid, sig) } != 0 {
        return Err(Error::failure(format!(
            "cannot signal the agent (pid {pid}): {}",
            std::io::Error::last_os_error()
        )));
    }
    Ok(())
}
