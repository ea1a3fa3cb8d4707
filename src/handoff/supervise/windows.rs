//! The Windows side of [`super`]: a job object that kills on close holds
//! keyless and (by inheritance) the child and everything it starts, so
//! none of them outlives keyless, however keyless ends (normal exit, panic,
//! `taskkill /F`): the kernel closes keyless's handle to the job and kills
//! its members. Ctrl-C and Ctrl-Break reach the child from the console it
//! shares; keyless's handler swallows them, so they reach it once.

use std::ffi::OsString;
use std::process::{Command, ExitStatus};
use std::sync::mpsc::{Receiver, channel};

use windows_sys::Win32::Foundation::{FALSE, HANDLE, TRUE};
use windows_sys::Win32::System::Console::SetConsoleCtrlHandler;
use windows_sys::Win32::System::JobObjects::{
    AssignProcessToJobObject, CreateJobObjectW, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JobObjectExtendedLimitInformation,
    SetInformationJobObject,
};
use windows_sys::Win32::System::Threading::GetCurrentProcess;
use windows_sys::core::BOOL;

use crate::error::{Error, Result};
use crate::handoff::child;

/// A running child: its exit status arrives on `exited`.
pub struct Supervised {
    pub exited: Receiver<ExitStatus>,
}

unsafe extern "system" fn on_console_event(event: u32) -> BOOL {
    if super::console_event_is_childs(event) {
        TRUE
    } else {
        FALSE
    }
}

/// Put keyless in a new kill-on-close job; the child inherits it. The
/// handle is never closed by keyless: the kernel closes it when keyless
/// ends, and then kills what is left of the job.
fn contain() -> Result<()> {
    let fail = |what: &str| {
        Error::failure(format!(
            "cannot keep the child from outliving keyless: {what} failed: {}",
            std::io::Error::last_os_error()
        ))
        .hint("keyless may run inside a job that forbids nested jobs; run the program without exec --refresh/--proxy")
    };
    // SAFETY: plain Win32 calls on a job handle this function owns and a
    // zero-initialised plain-data struct.
    unsafe {
        let job: HANDLE = CreateJobObjectW(std::ptr::null(), std::ptr::null());
        if job.is_null() {
            return Err(fail("CreateJobObjectW"));
        }
        let mut info: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = std::mem::zeroed();
        info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
        if SetInformationJobObject(
            job,
            JobObjectExtendedLimitInformation,
            (&raw const info).cast(),
            std::mem::size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
        ) == 0
        {
            return Err(fail("SetInformationJobObject"));
        }
        if AssignProcessToJobObject(job, GetCurrentProcess()) == 0 {
            return Err(fail("AssignProcessToJobObject"));
        }
    }
    Ok(())
}

/// Start `cmd` (the program `argv0`) inside keyless's job, with Ctrl-C and
/// Ctrl-Break left to it.
pub fn spawn(mut cmd: Command, argv0: &OsString) -> Result<Supervised> {
    contain()?;
    // SAFETY: registers a handler that only reads its argument.
    unsafe {
        SetConsoleCtrlHandler(Some(on_console_event), TRUE);
    }
    let mut kid = cmd.spawn().map_err(|e| child::spawn_error(argv0, &e))?;
    let (tx, exited) = channel();
    std::thread::spawn(move || {
        if let Ok(status) = kid.wait() {
            let _ = tx.send(status);
        }
    });
    Ok(Supervised { exited })
}

/// Exit as the child did: its exit code, all 32 bits of it.
pub fn finish(status: ExitStatus) -> ! {
    std::process::exit(status.code().unwrap_or(1));
}

/// The status to exit with when the waiter is gone without one.
pub fn lost() -> ExitStatus {
    std::os::windows::process::ExitStatusExt::from_raw(1)
}

/// Plain `exec`: Windows has no `execvp` that keeps the process, so keyless
/// starts the child in its job, waits, and exits with its code. Returns only
/// when the program cannot be started.
pub fn hand_over(cmd: Command, argv0: &OsString) -> Error {
    match spawn(cmd, argv0) {
        Ok(s) => finish(s.exited.recv().unwrap_or_else(|_| lost())),
        Err(e) => e,
    }
}
