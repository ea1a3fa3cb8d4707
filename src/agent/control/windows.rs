//! The Windows side of [`super`]: a console control handler for stopping,
//! and two named events (`keyless agent --reload`, `--rejected`) waited on
//! by a thread. Handles live as long as the process.

use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use windows_sys::Win32::Foundation::{
    CloseHandle, ERROR_ALREADY_EXISTS, FALSE, GetLastError, HANDLE, TRUE, WAIT_OBJECT_0,
};
use windows_sys::Win32::System::Console::SetConsoleCtrlHandler;
use windows_sys::Win32::System::Threading::{
    CreateEventW, EVENT_MODIFY_STATE, INFINITE, OpenEventW, SetEvent, WaitForMultipleObjects,
};
use windows_sys::core::BOOL;

use super::{Event, Request, console_stop, event_name};
use crate::agent::instance::Holder;
use crate::error::{Error, Result};

/// Where the console handler sends; set once, by [`Control::start`].
static SINK: Mutex<Option<Sender<Event>>> = Mutex::new(None);
/// Set when the agent has removed its sinks after a stop.
static STOPPED: (Mutex<bool>, Condvar) = (Mutex::new(false), Condvar::new());
/// The longest a close/logoff/shutdown handler holds the process (Windows
/// allows 5 s for a console close before it ends the process itself).
const HOLD: Duration = Duration::from_millis(4500);

/// The agent's control: events arrive on `rx`.
pub struct Control {
    pub rx: Receiver<Event>,
}

fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(Some(0)).collect()
}

unsafe extern "system" fn on_console_event(event: u32) -> BOOL {
    let Some((why, hold)) = console_stop(event) else {
        return FALSE;
    };
    if let Some(tx) = SINK.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
        let _ = tx.send(Event::Stop(why));
    }
    if hold {
        let (m, cv) = &STOPPED;
        let g = m.lock().unwrap_or_else(|p| p.into_inner());
        let _ = cv.wait_timeout_while(g, HOLD, |done| !*done);
    }
    TRUE
}

/// Create the agent's named event for `r`, refusing one that exists (made
/// by another process, to be signalled by it or to squat the name).
fn create(key: &str, r: Request) -> Result<HANDLE> {
    let name = event_name(std::process::id(), key, r);
    // SAFETY: an auto-reset, unsignalled event with the default security
    // of the process's token; the name is NUL-terminated.
    unsafe {
        let h = CreateEventW(std::ptr::null(), FALSE, FALSE, wide(&name).as_ptr());
        if h.is_null() {
            return Err(Error::failure(format!(
                "cannot create the agent's event {name}: {}",
                std::io::Error::last_os_error()
            )));
        }
        if GetLastError() == ERROR_ALREADY_EXISTS {
            CloseHandle(h);
            return Err(Error::failure(format!(
                "the agent's event {name} already exists: another process made it"
            ))
            .hint("keyless agent --reload and --rejected need it; find and stop that process"));
        }
        Ok(h)
    }
}

impl Control {
    /// `key`: the agent's random key ([`Holder::key`]), part of its events' names.
    pub fn start(key: &str) -> Result<Control> {
        let (tx, rx) = std::sync::mpsc::channel();
        let events = [
            create(key, Request::Reload)?,
            create(key, Request::Rejected)?,
        ];
        let requests = [Request::Reload, Request::Rejected];
        // Handles as integers, to cross to the thread.
        let raw = events.map(|h| h as usize);
        let events_tx = tx.clone();
        std::thread::spawn(move || {
            let handles = raw.map(|h| h as HANDLE);
            loop {
                // SAFETY: two valid event handles, kept open for the process's life.
                let r = unsafe { WaitForMultipleObjects(2, handles.as_ptr(), FALSE, INFINITE) };
                let i = r.wrapping_sub(WAIT_OBJECT_0) as usize;
                let Some(req) = requests.get(i) else { break };
                if events_tx.send(req.event()).is_err() {
                    break;
                }
            }
        });
        *SINK.lock().unwrap_or_else(|p| p.into_inner()) = Some(tx);
        // SAFETY: registers a handler that only sends on a channel and waits.
        if unsafe { SetConsoleCtrlHandler(Some(on_console_event), TRUE) } == 0 {
            return Err(Error::failure(format!(
                "cannot handle console events: {}",
                std::io::Error::last_os_error()
            )));
        }
        Ok(Control { rx })
    }
}

impl Drop for Control {
    /// The agent is done (its sinks removed): a handler holding the
    /// process for a console close may let it end.
    fn drop(&mut self) {
        let (m, cv) = &STOPPED;
        *m.lock().unwrap_or_else(|p| p.into_inner()) = true;
        cv.notify_all();
    }
}

/// Ask the agent `h` for `r`: set its named event.
pub fn ask(h: &Holder, r: Request) -> Result<()> {
    let pid = h.pid;
    let name = event_name(pid, &h.key, r);
    // SAFETY: open, set and close an event handle this function owns.
    unsafe {
        let h = OpenEventW(EVENT_MODIFY_STATE, FALSE, wide(&name).as_ptr());
        if h.is_null() {
            return Err(Error::failure(format!(
                "cannot reach the agent (pid {pid}) through its event {name}: {}",
                std::io::Error::last_os_error()
            ))
            .hint("the agent must run as the same user, in the same logon session"));
        }
        let ok = SetEvent(h);
        let err = std::io::Error::last_os_error();
        CloseHandle(h);
        if ok == 0 {
            return Err(Error::failure(format!(
                "cannot signal the agent (pid {pid}): {err}"
            )));
        }
    }
    Ok(())
}
