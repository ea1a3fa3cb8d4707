//! How each platform opens a URL in the user's browser, never through a
//! command line the URL could inject into: `$BROWSER` (a ':'-separated list
//! of commands, the URL appended as one more argument), else on macOS
//! `open URL`, on Linux `wslview URL` or `xdg-open URL` when there is a
//! display, and on Windows `ShellExecuteW(…, "open", URL, …)`, which hands
//! the URL to the registered http handler (not `cmd /C start`, which would
//! split it at every `&`).
//!
//! Callers pass only a URL that [`super::browser::BrowserUrl`] checked:
//! http(s), printable ASCII without blanks or quotes.

use std::process::{Command, Stdio};

use crate::env_vars;

/// One way to open a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opener {
    /// A program, run with these arguments and then the URL.
    Program(Vec<String>),
    /// The Windows shell's `open` verb on the URL.
    #[cfg_attr(not(windows), allow(dead_code))]
    ShellExecute,
}

impl Opener {
    /// The program's full argv for `url` (None for the Windows shell).
    pub fn argv(&self, url: &str) -> Option<Vec<String>> {
        match self {
            Opener::Program(argv) => {
                let mut v = argv.clone();
                v.push(url.to_string());
                Some(v)
            }
            Opener::ShellExecute => None,
        }
    }

    /// Start it on `url` without waiting. True when started.
    fn start(&self, url: &str) -> bool {
        match self.argv(url) {
            Some(argv) => spawn(&argv),
            None => shell_execute(url),
        }
    }
}

/// Every opener to try, in order: `$BROWSER`'s, then the platform's.
pub fn candidates() -> Vec<Opener> {
    let mut v: Vec<Opener> = browser_commands(std::env::var(env_vars::BROWSER).ok().as_deref())
        .into_iter()
        .filter(|argv| exists(&argv[0]))
        .map(Opener::Program)
        .collect();
    v.extend(native());
    v
}

/// Start the first opener that starts. True when one did.
pub fn open(url: &str) -> bool {
    candidates().iter().any(|o| o.start(url))
}

/// `$BROWSER`'s commands: a ':'-separated list, each split into words.
pub fn browser_commands(browser: Option<&str>) -> Vec<Vec<String>> {
    let Some(b) = browser else {
        return Vec::new();
    };
    b.split(':')
        .filter(|s| !s.trim().is_empty())
        .filter_map(|s| shell_words::split(s).ok())
        .filter(|v| !v.is_empty())
        .collect()
}

fn exists(prog: &str) -> bool {
    if prog.contains('/') {
        std::path::Path::new(prog).is_file()
    } else {
        on_path(prog)
    }
}

fn on_path(prog: &str) -> bool {
    std::env::var_os(env_vars::PATH)
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(prog).is_file()))
}

/// macOS: `open`, unless over SSH, where nobody sits at this screen.
pub fn macos(ssh: bool) -> Option<Opener> {
    (!ssh).then(|| Opener::Program(vec!["open".into()]))
}

/// Linux and the BSDs: WSL's `wslview`, else `xdg-open` with a display.
pub fn freedesktop(display: bool, has: &dyn Fn(&str) -> bool) -> Option<Opener> {
    if has("wslview") {
        return Some(Opener::Program(vec!["wslview".into()]));
    }
    (display && has("xdg-open")).then(|| Opener::Program(vec!["xdg-open".into()]))
}

/// This platform's own opener, if it has one here.
fn native() -> Option<Opener> {
    #[cfg(target_os = "macos")]
    let o = macos(std::env::var_os(env_vars::SSH_CONNECTION).is_some());
    #[cfg(windows)]
    let o = Some(Opener::ShellExecute);
    #[cfg(all(unix, not(target_os = "macos")))]
    let o = freedesktop(
        std::env::var_os(env_vars::DISPLAY).is_some()
            || std::env::var_os(env_vars::WAYLAND_DISPLAY).is_some(),
        &on_path,
    );
    o
}

fn spawn(argv: &[String]) -> bool {
    let spawned = env_vars::without_any_credentials(&mut Command::new(&argv[0]))
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match spawned {
        Ok(mut child) => {
            // Reap it whenever it ends, without waiting here.
            std::thread::spawn(move || {
                let _ = child.wait();
            });
            true
        }
        Err(_) => false,
    }
}

/// `ShellExecuteW` with the `open` verb: the URL is the file argument, no
/// parameters, no command line built here.
#[cfg(windows)]
fn shell_execute(url: &str) -> bool {
    use windows_sys::Win32::UI::Shell::ShellExecuteW;
    use windows_sys::Win32::UI::WindowsAndMessaging::SW_SHOWNORMAL;
    let wide = |s: &str| s.encode_utf16().chain([0]).collect::<Vec<u16>>();
    let (verb, file) = (wide("open"), wide(url));
    // SAFETY: both strings are NUL-terminated and outlive the call; the
    // other pointers may be null.
    let r = unsafe {
        ShellExecuteW(
            std::ptr::null_mut(),
            verb.as_ptr(),
            file.as_ptr(),
            std::ptr::null(),
            std::ptr::null(),
            SW_SHOWNORMAL,
        )
    };
    // "If the function succeeds, it returns a value greater than 32."
    r as isize > 32
}

#[cfg(not(windows))]
fn shell_execute(_url: &str) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://idp.example/authorize?a=1&b=%22x%22";

    #[test]
    fn macos_opens_the_url_as_opens_one_argument() {
        let o = macos(false).unwrap();
        assert_eq!(o.argv(URL).unwrap(), ["open", URL]);
        assert_eq!(macos(true), None, "over SSH nobody is at this screen");
    }

    #[test]
    fn freedesktop_prefers_wslview_and_needs_a_display_for_xdg_open() {
        let all = |_: &str| true;
        let xdg = |p: &str| p == "xdg-open";
        assert_eq!(
            freedesktop(false, &all).unwrap().argv(URL).unwrap(),
            ["wslview", URL]
        );
        assert_eq!(
            freedesktop(true, &xdg).unwrap().argv(URL).unwrap(),
            ["xdg-open", URL]
        );
        assert_eq!(freedesktop(false, &xdg), None);
    }

    #[test]
    fn browser_variable_commands_take_the_url_as_their_last_argument() {
        let cmds = browser_commands(Some("firefox --new-tab:'/opt/my browser/b' -x::"));
        assert_eq!(
            cmds,
            [
                vec!["firefox".to_string(), "--new-tab".into()],
                vec!["/opt/my browser/b".into(), "-x".into()],
            ]
        );
        let argv = Opener::Program(cmds[0].clone()).argv(URL).unwrap();
        assert_eq!(argv, ["firefox", "--new-tab", URL]);
        assert!(browser_commands(None).is_empty());
        assert_eq!(Opener::ShellExecute.argv(URL), None, "no argv on Windows");
    }
}
