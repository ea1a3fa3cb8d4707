//! The Linux supervisor of [`super`]: forked from keyless before the
//! program's exec, never exec'ing itself.

use std::io;

/// What the supervisor does once the program has exited, in
/// nanoseconds: SIGTERM to what is left after `grace`, SIGKILL `kill`
/// later.
#[derive(Clone, Copy)]
pub struct After {
    pub grace: i64,
    pub kill: i64,
}

/// Runs in the forked child before exec. It forks again: the new child
/// returns to exec the program; this process stays as the supervisor
/// and never returns.
pub unsafe fn supervise(keyless: libc::pid_t, report: libc::c_int, after: After) -> io::Result<()> {
    // SAFETY (whole function): system calls on this process and its
    // children, with stack buffers only, all async-signal-safe but one:
    // fork(3), which POSIX no longer lists as such because it runs the
    // pthread_atfork handlers. The only ones that can be registered here
    // are libc's own (which reset its locks) and, once a dependency has
    // made a ThreadRng, rand's (one atomic add); keyless registers none.
    // After the fork, both processes make only async-signal-safe calls
    // until the program's exec or the supervisor's _exit.
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
        run(keyless, program, report, &all, after)
    }
}

/// The supervisor's loop: never returns.
unsafe fn run(
    keyless: libc::pid_t,
    program: libc::pid_t,
    mut report: libc::c_int,
    all: &libc::sigset_t,
    after: After,
) -> ! {
    // SAFETY (whole function): as in `supervise`.
    unsafe {
        let mut status: Option<libc::c_int> = None;
        // Once the program has exited: when the next step is due, and
        // whether the SIGTERM was sent.
        let mut due: Option<i64> = None;
        let mut termed = false;
        loop {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let sig = next_signal(all, &mut info, due);
            if libc::getppid() != keyless {
                // keyless is gone: so is everything under it.
                kill_all();
                libc::_exit(137);
            }
            if sig == -1 {
                if due.is_some_and(|d| now() >= d) {
                    if termed {
                        kill_all();
                        exit_as(status.unwrap_or(0));
                    }
                    signal_children(libc::SIGTERM);
                    termed = true;
                    due = Some(now().saturating_add(after.kill));
                }
                continue;
            }
            if sig == libc::SIGCHLD {
                if reap(program, &mut report, &mut status) {
                    exit_as(status.unwrap_or(0));
                }
                if status.is_some() && due.is_none() {
                    due = Some(now().saturating_add(after.grace));
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

/// The next signal (sigwaitinfo), or -1 once `due` (monotonic
/// nanoseconds) has come, or on an interruption.
unsafe fn next_signal(
    all: &libc::sigset_t,
    info: &mut libc::siginfo_t,
    due: Option<i64>,
) -> libc::c_int {
    // SAFETY: sigwaitinfo/sigtimedwait with a stack siginfo_t and timespec.
    unsafe {
        let Some(due) = due else {
            return libc::sigwaitinfo(all, info);
        };
        let left = due.saturating_sub(now());
        if left <= 0 {
            return -1;
        }
        libc::sigtimedwait(all, info, &timeout(left))
    }
}

/// The longest single wait: a grace of more than 2^31 seconds would
/// overflow a 32-bit `time_t`; the loop waits again until `due`.
const LONGEST: i64 = 86_400 * 1_000_000_000;

/// A wait of `left` nanoseconds, at most [`LONGEST`].
// time_t and c_long are 32 bits on 32-bit targets; the seconds' type is
// the field's (`as _`): libc deprecates naming `time_t` on musl.
#[allow(clippy::unnecessary_cast)]
fn timeout(left: i64) -> libc::timespec {
    let left = left.min(LONGEST);
    libc::timespec {
        tv_sec: (left / 1_000_000_000) as _,
        tv_nsec: (left % 1_000_000_000) as libc::c_long,
    }
}

/// The monotonic clock, in nanoseconds.
// time_t and c_long are 32 bits on 32-bit targets.
#[allow(clippy::unnecessary_cast)]
fn now() -> i64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime(2) into a stack timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t) };
    (t.tv_sec as i64)
        .saturating_mul(1_000_000_000)
        .saturating_add(t.tv_nsec as i64)
}

/// Reap every child that has exited; the program's status is kept and
/// reported on `report` (then closed). True once no child is left.
unsafe fn reap(
    program: libc::pid_t,
    report: &mut libc::c_int,
    status: &mut Option<libc::c_int>,
) -> bool {
    // SAFETY: waitpid(2) on our children, write/close on our pipe.
    unsafe {
        loop {
            let mut st = 0;
            let r = libc::waitpid(-1, &mut st, libc::WNOHANG);
            if r == program {
                *status = Some(st);
                if *report >= 0 {
                    libc::write(*report, (&raw const st).cast(), 4);
                    libc::close(*report);
                    *report = -1;
                }
            } else if r == 0 {
                return false;
            } else if r == -1 && *libc::__errno_location() != libc::EINTR {
                return true;
            }
        }
    }
}

/// SIGKILL every child, adopted orphans included, until none is left.
unsafe fn kill_all() {
    // SAFETY: kill(2) and waitpid(2) on our children.
    unsafe {
        loop {
            signal_children(libc::SIGKILL);
            if libc::waitpid(-1, std::ptr::null_mut(), 0) == -1
                && *libc::__errno_location() != libc::EINTR
            {
                return;
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

/// keyless's children (the supervisor's tree, if it was killed on its own,
/// re-parented to keyless; keyless's own children), from
/// `/proc/self/task/<tid>/children` of each thread; `None` without it.
/// A thread that exits between the listing and the read (the waiter of
/// `supervise`, as `drain` starts) is skipped, and the threads listed again,
/// as its children went to another thread, maybe one already read.
pub fn children() -> Option<Vec<libc::pid_t>> {
    let main = std::process::id().to_string();
    let mut tries = 0;
    loop {
        let reads = std::fs::read_dir("/proc/self/task")
            .ok()?
            .flatten()
            .map(|t| {
                let is_main = t.file_name().to_str() == Some(main.as_str());
                (is_main, std::fs::read_to_string(t.path().join("children")))
            });
        let (all, whole) = gather(reads)?;
        tries += 1;
        if whole || tries >= 100 {
            return Some(all);
        }
    }
}

/// The pids in each thread's `children` file, given as (whether it is the
/// main thread's, what reading it gave), and whether every file was read.
/// `None` when the main thread's cannot be read (no `CONFIG_PROC_CHILDREN`);
/// another thread's that cannot (it has exited: ENOENT, ESRCH) is skipped.
fn gather(
    reads: impl IntoIterator<Item = (bool, io::Result<String>)>,
) -> Option<(Vec<libc::pid_t>, bool)> {
    let mut all = Vec::new();
    let mut whole = true;
    for (is_main, read) in reads {
        match read {
            Ok(list) => all.extend(
                list.split_whitespace()
                    .filter_map(|p| p.parse::<libc::pid_t>().ok()),
            ),
            Err(_) if is_main => return None,
            Err(_) => whole = false,
        }
    }
    Some((all, whole))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gone() -> io::Result<String> {
        Err(io::Error::from_raw_os_error(libc::ESRCH))
    }

    #[test]
    fn a_thread_that_exited_is_skipped_and_the_rest_read() {
        let reads = [
            (true, Ok("12 13 ".to_string())),
            (false, gone()),
            (false, Err(io::Error::from(io::ErrorKind::NotFound))),
            (false, Ok("14\n".to_string())),
        ];
        assert_eq!(gather(reads), Some((vec![12, 13, 14], false)));
    }

    #[test]
    fn every_file_read_is_whole() {
        let reads = [(true, Ok(String::new())), (false, Ok("7 ".to_string()))];
        assert_eq!(gather(reads), Some((vec![7], true)));
    }

    #[test]
    fn without_the_main_threads_file_there_is_no_answer() {
        let reads = [(false, Ok("7".to_string())), (true, gone())];
        assert_eq!(gather(reads), None);
    }

    #[test]
    #[allow(clippy::unnecessary_cast)]
    fn a_wait_is_at_most_a_day() {
        let t = timeout(i64::MAX);
        assert_eq!((t.tv_sec as i64, t.tv_nsec as i64), (86_400, 0));
        let t = timeout(1_500_000_000);
        assert_eq!((t.tv_sec as i64, t.tv_nsec as i64), (1, 500_000_000));
    }

    #[test]
    fn this_process_lists_its_child() {
        let mut kid = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let found = children().map(|c| c.contains(&(kid.id() as libc::pid_t)));
        kid.kill().unwrap();
        kid.wait().unwrap();
        // None only on a kernel without CONFIG_PROC_CHILDREN.
        assert_ne!(found, Some(false));
    }
}
