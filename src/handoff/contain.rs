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
//!   is left, so keyless stays, forwarding, until then.
//! - [`drain`] reaps anything else re-parented to keyless (itself a
//!   subreaper).
//!
//! What stays open: a descendant that re-parents itself elsewhere (a double
//! fork under another subreaper, a process started through a system
//! service) is neither waited for nor killed, and the supervisor itself can
//! be killed by SIGKILL on its own (then its tree is re-parented to keyless,
//! which waits for it, but a later kill -9 of keyless leaves it). Without
//! `/proc/<pid>/task/<pid>/children` (a kernel built without
//! `CONFIG_PROC_CHILDREN`) only the program itself is killed.

use std::process::Command;

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
/// program's whole tree with it, and keyless the reaper of whatever escapes
/// it. Call once, before spawning `cmd`.
pub fn contain(cmd: &mut Command) -> Contained {
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
        // SAFETY: between fork and exec only async-signal-safe calls are
        // made (prctl, fork, sigprocmask, sigwaitinfo, waitpid, kill, open,
        // read, write, close); nothing allocates.
        unsafe {
            cmd.pre_exec(move || linux::supervise(parent, report));
        }
        Contained { pipe }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = cmd;
        Contained {}
    }
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

#[cfg(target_os = "linux")]
mod linux {
    use std::io;

    /// Runs in the forked child before exec. It forks again: the new child
    /// returns to exec the program; this process stays as the supervisor
    /// and never returns.
    pub unsafe fn supervise(keyless: libc::pid_t, report: libc::c_int) -> io::Result<()> {
        // SAFETY (whole function): async-signal-safe system calls on this
        // process and its children, with stack buffers only.
        unsafe {
            if libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1 {
                return Err(io::Error::last_os_error());
            }
            // Every signal is taken with sigwaitinfo, the death signal included.
            let mut all: libc::sigset_t = std::mem::zeroed();
            let mut before: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut all);
            libc::sigprocmask(libc::SIG_BLOCK, &all, &mut before);
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGHUP, 0, 0, 0) == -1 {
                return Err(io::Error::last_os_error());
            }
            if libc::getppid() != keyless {
                // keyless died before the death signal was armed.
                libc::_exit(137);
            }
            let me = libc::getpid();
            let program = libc::fork();
            if program == -1 {
                return Err(io::Error::last_os_error());
            }
            if program == 0 {
                // The program: dies with the supervisor, then execs.
                libc::sigprocmask(libc::SIG_SETMASK, &before, std::ptr::null_mut());
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) == -1 {
                    return Err(io::Error::last_os_error());
                }
                if libc::getppid() != me {
                    libc::raise(libc::SIGKILL);
                }
                return Ok(());
            }
            // The supervisor holds no descriptor but the report pipe (std's
            // exec-error pipe must close for keyless's spawn to return).
            close_from(3, report);
            run(keyless, program, report, &all)
        }
    }

    /// The supervisor's loop: never returns.
    unsafe fn run(
        keyless: libc::pid_t,
        program: libc::pid_t,
        report: libc::c_int,
        all: &libc::sigset_t,
    ) -> ! {
        // SAFETY (whole function): as in `supervise`.
        unsafe {
            let mut status: Option<libc::c_int> = None;
            loop {
                let mut info: libc::siginfo_t = std::mem::zeroed();
                let sig = libc::sigwaitinfo(all, &mut info);
                if sig == -1 {
                    continue;
                }
                if libc::getppid() != keyless {
                    // keyless is gone: so is everything under it.
                    loop {
                        signal_children(libc::SIGKILL);
                        if libc::waitpid(-1, std::ptr::null_mut(), 0) == -1
                            && *libc::__errno_location() != libc::EINTR
                        {
                            libc::_exit(137);
                        }
                    }
                }
                if sig == libc::SIGCHLD {
                    loop {
                        let mut st = 0;
                        let r = libc::waitpid(-1, &mut st, libc::WNOHANG);
                        if r == program {
                            status = Some(st);
                            if report >= 0 {
                                libc::write(report, (&raw const st).cast(), 4);
                                libc::close(report);
                            }
                        } else if r == 0 {
                            break;
                        } else if r == -1 && *libc::__errno_location() != libc::EINTR {
                            exit_as(status.unwrap_or(0));
                        }
                    }
                    continue;
                }
                // Only what keyless forwards: the terminal's signals
                // reached the program's process group already.
                if info.si_pid() != keyless {
                    continue;
                }
                match status {
                    None => {
                        libc::kill(program, sig);
                    }
                    Some(_) => signal_children(sig),
                }
            }
        }
    }

    /// Exit as the program did: its code, or its signal re-raised.
    unsafe fn exit_as(st: libc::c_int) -> ! {
        // SAFETY: resetting a disposition, unblocking and raising on ourselves.
        unsafe {
            if libc::WIFSIGNALED(st) {
                let sig = libc::WTERMSIG(st);
                libc::signal(sig, libc::SIG_DFL);
                let mut one: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut one);
                libc::sigaddset(&mut one, sig);
                libc::sigprocmask(libc::SIG_UNBLOCK, &one, std::ptr::null_mut());
                libc::raise(sig);
                libc::_exit(128 + sig);
            }
            libc::_exit(libc::WEXITSTATUS(st));
        }
    }

    /// Close every descriptor from `low` up, but `keep`.
    unsafe fn close_from(low: libc::c_int, keep: libc::c_int) {
        // SAFETY: close_range(2), else close(2), on this process's descriptors.
        unsafe {
            let range = |a: libc::c_int, b: libc::c_uint| {
                libc::syscall(libc::SYS_close_range, a as libc::c_uint, b, 0) == 0
            };
            let ok = if keep >= low {
                (keep == low || range(low, (keep - 1) as libc::c_uint))
                    && range(keep + 1, libc::c_uint::MAX)
            } else {
                range(low, libc::c_uint::MAX)
            };
            if !ok {
                let mut lim: libc::rlimit = std::mem::zeroed();
                libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
                let top = lim.rlim_cur.min(1 << 20) as libc::c_int;
                for fd in low..top {
                    if fd != keep {
                        libc::close(fd);
                    }
                }
            }
        }
    }

    /// Send `sig` to every child of this process, as listed in
    /// `/proc/self/task/<pid>/children` (orphans it adopted included).
    unsafe fn signal_children(sig: libc::c_int) {
        // SAFETY: open/read/close on a /proc file, kill(2) on our children.
        unsafe {
            let mut path = [0u8; 64];
            let head = b"/proc/self/task/";
            path[..head.len()].copy_from_slice(head);
            let mut n = head.len();
            n += digits(libc::getpid() as u64, &mut path[n..]);
            let tail = b"/children\0";
            path[n..n + tail.len()].copy_from_slice(tail);
            let fd = libc::open(path.as_ptr().cast(), libc::O_RDONLY | libc::O_CLOEXEC);
            if fd < 0 {
                return;
            }
            let mut buf = [0u8; 512];
            let mut pid: i64 = 0;
            let mut in_number = false;
            loop {
                let got = libc::read(fd, buf.as_mut_ptr().cast(), buf.len());
                if got <= 0 {
                    break;
                }
                for &b in &buf[..got as usize] {
                    if b.is_ascii_digit() {
                        pid = pid * 10 + i64::from(b - b'0');
                        in_number = true;
                    } else if in_number {
                        libc::kill(pid as libc::pid_t, sig);
                        pid = 0;
                        in_number = false;
                    }
                }
            }
            if in_number {
                libc::kill(pid as libc::pid_t, sig);
            }
            libc::close(fd);
        }
    }

    /// `v` in decimal into `out`; the number of bytes written.
    fn digits(mut v: u64, out: &mut [u8]) -> usize {
        let mut tmp = [0u8; 20];
        let mut i = 0;
        loop {
            tmp[i] = b'0' + (v % 10) as u8;
            i += 1;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        for j in 0..i {
            out[j] = tmp[i - 1 - j];
        }
        i
    }
}
