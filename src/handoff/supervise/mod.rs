//! A child keyless stays the parent of (`exec --refresh`, `exec --proxy`),
//! and plain `exec`'s hand-over, one side per platform:
//!
//! | | Unix ([`unix`]) | Windows ([`windows`]) |
//! |---|---|---|
//! | plain `exec` | keyless replaces itself (`execvp`) | the child is started and waited for; keyless exits with its code |
//! | Ctrl-C, Ctrl-Break / signals | INT, TERM, HUP, QUIT, USR1, USR2, WINCH sent to keyless (kill(2)) forwarded once; the terminal's reach the child directly, once, but a hang-up's SIGHUP to keyless as session leader, forwarded | the console delivers Ctrl-C and Ctrl-Break to the child; keyless ignores them, so they reach it once |
//! | exit status | the child's code, or its signal re-raised | the child's exit code (32 bits) |
//! | the child never outlives keyless | `exec --proxy` on Linux: a supervisor that takes the child's tree with it ([`crate::handoff::contain`]) | keyless and its children share a job object that kills every member when keyless's handle closes (exit, crash, kill) |
//!
//! The commands see one API: [`spawn`], [`finish`], [`lost`], [`hand_over`].

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::{Supervised, finish, hand_over, lost, spawn};

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::{Supervised, finish, hand_over, lost, spawn};

/// The console control events keyless lets pass to the child alone on
/// Windows (it shares the console, so it receives them itself): Ctrl-C and
/// Ctrl-Break. Closing the console, logoff and shutdown end keyless, and
/// with it (its job object) the child. Portable, so the decision is
/// unit-tested on Linux: Wine cannot deliver console control events.
pub fn console_event_is_childs(event: u32) -> bool {
    // CTRL_C_EVENT = 0, CTRL_BREAK_EVENT = 1 (wincon.h).
    matches!(event, 0 | 1)
}

#[cfg(test)]
mod tests {
    /// Wine cannot raise console control events, so the Windows handler's
    /// decision is tested here: Ctrl-C and Ctrl-Break go to the child only
    /// (keyless survives them, and does not forward them a second time);
    /// close (2), logoff (5) and shutdown (6) end keyless.
    #[test]
    fn only_ctrl_c_and_ctrl_break_are_left_to_the_child() {
        assert!(super::console_event_is_childs(0));
        assert!(super::console_event_is_childs(1));
        for other in [2, 5, 6] {
            assert!(!super::console_event_is_childs(other));
        }
    }
}
