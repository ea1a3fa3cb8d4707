//! What keyless does to its own process before anything else: no core dump
//! may hold a refresh token, a client secret or a JWT.

/// Disable core dumps: RLIMIT_CORE 0, soft and hard (so nothing keyless
/// runs can raise it again, `exec`'s child included), and on Linux
/// PR_SET_DUMPABLE 0, which also keeps other processes of the same user from
/// attaching to keyless or reading its memory through /proc. Best effort: a
/// platform that refuses loses only this defence.
pub fn disable_core_dumps() {
    #[cfg(unix)]
    {
        let zero = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit reads the struct we pass; no memory is shared.
        unsafe {
            libc::setrlimit(libc::RLIMIT_CORE, &zero);
        }
    }
    #[cfg(target_os = "linux")]
    // SAFETY: prctl(PR_SET_DUMPABLE, 0) takes no pointers.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}
