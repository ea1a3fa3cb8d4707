//! A Ctrl-C at the terminal reaches the program of `exec --proxy` and
//! `exec --refresh` once. The terminal's line discipline signals its whole
//! foreground process group, keyless and the program alike, with si_code
//! SI_KERNEL; keyless forwarded its own copy too, so the program saw two
//! (a REPL or a `trap` that counts them acts twice). keyless now forwards
//! only what a process sent it with kill(2).
//!
//! A hang-up is the exception: the kernel sends SIGHUP (SI_KERNEL) to the
//! session leader alone, not to the foreground group, so when keyless leads
//! the session it must forward it, or the program never hears of it.
//!
//! Faithful to a terminal: keyless runs as the session leader of a pty the
//! test holds, and the Ctrl-C is the byte 0x03 written to the pty's master
//! (a kill(2) of the process group from the test would be SI_USER, not the
//! terminal's signal).

use std::io::Write;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;

use super::port_lifetime::{ready, wait_for};
use crate::common::*;
use crate::exec_proxy::upstream::Upstream;

/// The program: takes `$SIG` (INT or HUP) and USR1 with sigwaitinfo,
/// records each `$SIG`'s si_code (`$OUT/intN` as each arrives); on USR1
/// writes them all to `$OUT/ints` and exits.
const COUNTER: &str = r#"
import os, signal
out = os.environ["OUT"]
counted = getattr(signal, "SIG" + os.environ["SIG"])
def put(name, text):
    with open(os.path.join(out, name + ".tmp"), "w") as f:
        f.write(text + "\n")
    os.rename(os.path.join(out, name + ".tmp"), os.path.join(out, name))
wanted = {counted, signal.SIGUSR1}
signal.pthread_sigmask(signal.SIG_BLOCK, wanted)
put("ready", str(os.getpid()))
codes = []
while True:
    info = signal.sigwaitinfo(wanted)
    if info.si_signo == signal.SIGUSR1:
        break
    codes.append(str(info.si_code))
    put("int%d" % len(codes), "")
put("ints", " ".join(codes))
"#;

/// The kernel's si_code for a signal it sends itself, the tty's included.
const SI_KERNEL: &str = "128";

/// kill(2)'s si_code: what keyless (or its supervisor) forwards.
const SI_USER: &str = "0";

/// A new pty: (master, slave).
fn pty() -> (std::fs::File, OwnedFd) {
    // SAFETY: posix_openpt/grantpt/unlockpt/ptsname_r/open on descriptors
    // this test owns, with a stack buffer for the name.
    unsafe {
        let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
        assert!(m >= 0, "posix_openpt: {}", std::io::Error::last_os_error());
        let master = std::fs::File::from_raw_fd(m);
        assert_eq!(libc::grantpt(m), 0);
        assert_eq!(libc::unlockpt(m), 0);
        let mut name = [0 as libc::c_char; 128];
        assert_eq!(libc::ptsname_r(m, name.as_mut_ptr(), name.len()), 0);
        let s = libc::open(
            name.as_ptr(),
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        );
        assert!(s >= 0, "open the pty: {}", std::io::Error::last_os_error());
        (master, OwnedFd::from_raw_fd(s))
    }
}

/// keyless leading a pty's session, its program ready.
struct Led {
    keyless: std::process::Child,
    master: std::fs::File,
    out: std::path::PathBuf,
    _up: Upstream,
    _env: TestEnv,
}

/// `keyless exec MODE -- COUNTER` (counting `sig`) as the session leader
/// of a pty.
fn lead_a_pty(mode: &str, sig: &str) -> Option<Led> {
    let python = python_with("signal")?;
    let (up, env, out) = ready();
    let (master, slave) = pty();
    let mut cmd = env.cmd();
    cmd.args(["exec", mode, "--", &python, "-c", COUNTER])
        .env("OUT", &out)
        .env("SIG", sig)
        .stdin(std::process::Stdio::from(slave))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // SAFETY: setsid(2) and ioctl(2) on the child's own stdin, before exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() == -1 || libc::ioctl(0, libc::TIOCSCTTY, 0) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let keyless = cmd.spawn().unwrap();
    drop(cmd);
    wait_for(&out.join("ready"));
    Some(Led {
        keyless,
        master,
        out,
        _up: up,
        _env: env,
    })
}

/// USR1 to keyless (forwarded: the program's cue to stop): the si_codes
/// the program saw, once keyless has exited 0.
fn stop(mut keyless: std::process::Child, out: &std::path::Path) -> String {
    // SAFETY: kill(2) on the keyless this test started.
    unsafe { libc::kill(keyless.id() as i32, libc::SIGUSR1) };
    let ints = wait_for(&out.join("ints"));
    let status = wait_bounded(&mut keyless, HANG);
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
    ints.trim().to_string()
}

/// Ctrl-C typed once: the si_codes of the INTs the program saw.
fn ints_after_one_ctrl_c(mode: &str) -> Option<String> {
    let mut led = lead_a_pty(mode, "INT")?;
    // Ctrl-C: the line discipline (isig, VINTR = ^C) signals the pty's
    // foreground process group, keyless's.
    led.master.write_all(b"\x03").unwrap();
    wait_for(&led.out.join("int1"));
    Some(stop(led.keyless, &led.out))
}

/// The terminal hangs up (its master closed): the si_codes of the HUPs
/// the program saw. The kernel sends SIGHUP to keyless, the session
/// leader, alone.
fn hups_after_a_hang_up(mode: &str) -> Option<String> {
    let led = lead_a_pty(mode, "HUP")?;
    drop(led.master);
    wait_for(&led.out.join("int1"));
    Some(stop(led.keyless, &led.out))
}

#[test]
fn ctrl_c_reaches_an_exec_proxy_program_once() {
    if let Some(ints) = ints_after_one_ctrl_c("--proxy") {
        assert_eq!(ints, SI_KERNEL, "the program's SIGINTs, by si_code");
    }
}

#[test]
fn ctrl_c_reaches_an_exec_refresh_program_once() {
    if let Some(ints) = ints_after_one_ctrl_c("--refresh") {
        assert_eq!(ints, SI_KERNEL, "the program's SIGINTs, by si_code");
    }
}

#[test]
fn a_hang_up_reaches_an_exec_proxy_program_once() {
    if let Some(hups) = hups_after_a_hang_up("--proxy") {
        assert_eq!(hups, SI_USER, "the program's SIGHUPs, by si_code");
    }
}

#[test]
fn a_hang_up_reaches_an_exec_refresh_program_once() {
    if let Some(hups) = hups_after_a_hang_up("--refresh") {
        assert_eq!(hups, SI_USER, "the program's SIGHUPs, by si_code");
    }
}
